"""RPC over a taskflow jobboard: conductors run the creates.

Selected by :func:`volflow.wiring.get_rpcapis` when ``[taskflow]
jobboard_enabled`` is true. The rpc apis keep Cinder's signatures; what a
cast does depends on where it is made:

* ``SchedulerAPI.create_volume`` made by the API (outside any job) posts
  a job on the jobboard: a logbook, saved in the shared persistence,
  holding the scheduler step (:mod:`volflow.flows.jobs`), and job details
  naming that step's flow detail and carrying its store and request
  context (a dict, without the token). Any conductor (``volflow
  conductor``, :mod:`volflow.conductor`) claims and runs it.
* The same casts made *inside* a job a conductor runs - the scheduler's
  cast to the volume manager, a manager's reschedule - add the next step
  to that job instead (:func:`running` tells them which job), so that one
  job carries a create from scheduling to ``available`` or ``error``.
* ``delete_volume`` and ``create_snapshot`` are calls the API waits for,
  not jobs: they go to the rpc apis the configuration selects otherwise
  (oslo.messaging with ``transport_url``, else in process).

The jobboard is taskflow's Redis board (``[taskflow] jobboard_backend_*``;
the password is handed to the Redis client only, never logged), on one
Redis server or, with ``jobboard_redis_sentinel``, on the master a group
of Redis Sentinels names (:func:`board_conf`). The
logbooks, and the flows' progress, are in the persistence backend of
:func:`volflow.persistence.get_backend` - ``[taskflow]
persistence_connection``, by default the volflow database: PostgreSQL
when conductors run on several hosts, a SQLite file on one.
"""

import atexit
import contextlib
import json
import threading

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import netutils
from oslo_utils import strutils
from taskflow import exceptions as taskflow_exceptions
from taskflow.jobs import backends as job_backends
from taskflow.persistence import models

from volflow import exception
from volflow.flows import jobs
from volflow import persistence

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

#: Name of the board (taskflow's, informational).
BOARD_NAME = 'volflow'

_LOCK = threading.Lock()
_BOARDS = {}
_CURRENT = threading.local()


# The board -----------------------------------------------------------------
def _hosts(options):
    """``[(host, port)]`` of ``jobboard_backend_hosts``."""
    hosts = []
    for entry in options.jobboard_backend_hosts:
        host, port = netutils.parse_host_port(
            entry, default_port=options.jobboard_backend_port)
        hosts.append((host, port))
    return hosts


def _ssl_options(options):
    """TLS options as taskflow passes them on (``ssl`` a real bool)."""
    options = dict(options)
    if 'ssl' in options:
        options['ssl'] = strutils.bool_from_string(options['ssl'])
    return options


def board_conf(conf):
    """taskflow's configuration of the Redis jobboard, as Octavia's.

    Without ``jobboard_redis_sentinel`` the first of
    ``jobboard_backend_hosts`` is the Redis server. With it, taskflow's
    board connects through Redis Sentinel (``redis.sentinel``): the hosts
    are the Sentinels - the first one ``host``/``port``, the others
    ``sentinel_fallbacks`` - and every command goes to the master they
    name, found again after a failover. The passwords and TLS options
    go to the Redis client only, never to a log.
    """
    options = conf.taskflow
    hosts = _hosts(options)
    board = {
        'board': options.jobboard_backend_driver,
        'host': hosts[0][0],
        'port': hosts[0][1],
        'namespace': options.jobboard_backend_namespace,
    }
    if options.jobboard_backend_username:
        board['username'] = options.jobboard_backend_username
    if options.jobboard_backend_password:
        board['password'] = options.jobboard_backend_password
    board.update(_ssl_options(options.jobboard_redis_backend_ssl_options))
    if options.jobboard_redis_sentinel:
        board['sentinel'] = options.jobboard_redis_sentinel
        board['sentinel_fallbacks'] = [
            netutils.escape_ipv6(host) + f':{port}'
            for host, port in hosts[1:]]
        sentinel_kwargs = _ssl_options(
            options.jobboard_redis_sentinel_ssl_options)
        if options.jobboard_redis_sentinel_username:
            sentinel_kwargs['username'] = (
                options.jobboard_redis_sentinel_username)
        if options.jobboard_redis_sentinel_password:
            sentinel_kwargs['password'] = (
                options.jobboard_redis_sentinel_password)
        board['sentinel_kwargs'] = sentinel_kwargs
    return board


def describe(conf):
    """Where the board is, for a log line (no secrets)."""
    options = conf.taskflow
    hosts = ', '.join(f'{netutils.escape_ipv6(host)}:{port}'
                      for host, port in _hosts(options))
    if options.jobboard_redis_sentinel:
        return (f'Redis Sentinel master {options.jobboard_redis_sentinel} '
                f'via {hosts}')
    return f'Redis {hosts.split(", ")[0]}'


def get_board(conf, backend):
    """The process's jobboard, connected on first use.

    :param backend: the persistence backend the jobs' logbooks are in
        (:func:`volflow.persistence.get_backend`).
    """
    conf = conf or CONF
    settings = board_conf(conf)
    key = (json.dumps(settings, sort_keys=True), id(backend))
    with _LOCK:
        board = _BOARDS.get(key)
        if board is None:
            if (len(conf.taskflow.jobboard_backend_hosts) > 1 and
                    not conf.taskflow.jobboard_redis_sentinel):
                LOG.warning('jobboard_backend_hosts lists %d hosts and '
                            'jobboard_redis_sentinel is not set; only the '
                            'first, %s, is used.',
                            len(conf.taskflow.jobboard_backend_hosts),
                            settings['host'])
            try:
                board = job_backends.fetch(BOARD_NAME, settings,
                                           persistence=backend)
            except ModuleNotFoundError as exc:
                raise exception.MissingDependency.of(
                    f"The {settings['board']} jobboard", exc) from None
            board.connect()
            _BOARDS[key] = board
        return board


def close_boards():
    """Close the process's boards (at exit; tests)."""
    with _LOCK:
        boards = list(_BOARDS.values())
        _BOARDS.clear()
    for board in boards:
        board.close()


atexit.register(close_boards)


def job_name(volume_id):
    return f'volume-create-{volume_id}'


def _posted(board, book):
    """Whether a job of ``book`` is on the board."""
    return any(job.book_uuid == book.uuid for job in board.iterjobs())


def post(step, db_api, conf):
    """Post a job whose first step is ``step``; return it (None: posted).

    The logbook is saved before the job is posted, so that a conductor
    that claims the job always finds it. A manager step's job names its
    backend in its details (``backend``), for the conductors of that
    backend (``volflow conductor --backend``). Its uuid is the step's
    (:attr:`~volflow.flows.jobs.Step.book_uuid`): a cast sent again - by
    an API flow resumed after a crash - finds the logbook and, if its job
    is on the board, is dropped; if the crash came between saving and
    posting, the job is posted now.
    """
    if getattr(db_api, 'engine', None) is None:
        raise exception.ConfigError(
            reason='[taskflow] jobboard_enabled needs a database the '
                   'conductors share: set [database] connection to a SQL '
                   'URL (PostgreSQL across hosts), not an in-memory one')
    backend = persistence.get_backend(db_api, conf)
    board = get_board(conf, backend)
    conn = backend.get_connection()
    try:
        book = conn.get_logbook(step.book_uuid, lazy=True)
    except taskflow_exceptions.NotFound:
        book = None
    if book is None:
        book = models.LogBook(job_name(step.volume_id), uuid=step.book_uuid)
        book.add(step.flow_detail(0))
        conn.save_logbook(book)
    elif _posted(board, book):
        LOG.info('Volume %(id)s: the job for %(key)s is posted already; '
                 'not posting it again.', {'id': step.volume_id,
                                           'key': step.key})
        return None
    else:
        book = conn.get_logbook(step.book_uuid)
    first = jobs.steps(book)[0]
    job = board.post(job_name(step.volume_id), book=book,
                     details={'flow_uuid': first.uuid,
                              'store': first.meta[jobs.META]['store'],
                              'context': first.meta[jobs.META]['context'],
                              'volume_id': step.volume_id,
                              'backend': step.backend})
    LOG.debug('Volume %(id)s: posted job %(job)s.',
              {'id': step.volume_id, 'job': job.uuid})
    return job


# The job a conductor's thread runs ------------------------------------------
@contextlib.contextmanager
def running(job_run):
    """Casts made in this thread meanwhile add steps to ``job_run``.

    ``job_run.add_step(step)`` is called instead of posting a job.
    """
    previous = getattr(_CURRENT, 'job', None)
    _CURRENT.job = job_run
    try:
        yield job_run
    finally:
        _CURRENT.job = previous


def _submit(step, db_api, conf):
    job_run = getattr(_CURRENT, 'job', None)
    if job_run is not None:
        job_run.add_step(step)
    else:
        post(step, db_api, conf)


class SchedulerAPI:
    """Cinder's scheduler rpcapi, as jobs."""

    def __init__(self, db_api, conf=None):
        self.db = db_api
        self.conf = conf or CONF

    def create_volume(self, ctxt, volume, snapshot_id=None, image_id=None,
                      request_spec=None, filter_properties=None,
                      backup_id=None):
        """Post a job, or schedule again as the next step of this one."""
        _submit(jobs.scheduler_step(ctxt, volume, snapshot_id, image_id,
                                    request_spec, filter_properties),
                self.db, self.conf)


class VolumeAPI:
    """Cinder's volume rpcapi: creates as jobs, calls as configured.

    :param calls: the volume rpcapi that deletes, extends and snapshots.
    """

    def __init__(self, db_api, calls, conf=None):
        self.db = db_api
        self.conf = conf or CONF
        self._calls = calls

    def create_volume(self, ctxt, volume, request_spec, filter_properties,
                      allow_reschedule=True):
        """Create on the volume's host as the next step of this job."""
        _submit(jobs.manager_step(ctxt, volume, request_spec,
                                  filter_properties, allow_reschedule),
                self.db, self.conf)

    def delete_volume(self, ctxt, volume):
        return self._calls.delete_volume(ctxt, volume)

    def create_snapshot(self, ctxt, volume, snapshot):
        return self._calls.create_snapshot(ctxt, volume, snapshot)

    def delete_snapshot(self, ctxt, volume, snapshot):
        return self._calls.delete_snapshot(ctxt, volume, snapshot)

    def extend_volume(self, ctxt, volume, new_size, reservations):
        return self._calls.extend_volume(ctxt, volume, new_size,
                                         reservations)


def get_rpcapis(db_api, image_service, conf, calls_rpcapis):
    """Return ``(scheduler_rpcapi, volume_rpcapi)`` posting jobs.

    :param calls_rpcapis: the pair that takes the calls (delete, snapshot).
    """
    return (SchedulerAPI(db_api, conf),
            VolumeAPI(db_api, calls_rpcapis[1], conf))
