"""Which services are alive: what they report, read back.

As Cinder's services do, every long-running process of a multi-process
deployment - ``volflow scheduler``, ``volflow volume --backend NAME``,
``volflow conductor`` - keeps a record in the ``services`` table (one per
host and binary) and reports to it every ``report_interval`` seconds
(:class:`Reporter`): ``report_count`` goes up by one, ``updated_at`` is
the time of the report. A service is *up* while its last report is at
most ``service_down_time`` seconds old (:func:`is_up`); a service that
stopped, crashed or lost the database simply stops reporting and is down
once that time has passed.

A backend is alive while one of its volume services or conductors is up
and enabled: a volume service's host is ``HOST@BACKEND``, and a conductor
reports one record per backend it creates volumes on
(``NAME@BACKEND``; a conductor without ``--backend`` serves, and reports
for, every configured backend). The scheduler of a multi-process
deployment places volumes only on alive backends
(:func:`backends_down`); in one process every backend is served by the
process itself, and its scheduler reads no record. ``volflow api`` in one
process still reports what it runs (:func:`in_process_records`) so that
``os-services`` lists it; the one-shot command line reports nothing.

The binaries are Cinder's names, ``cinder-scheduler`` and
``cinder-volume``, which clients and Tempest look for; a conductor is
``volflow-conductor``.
"""

import socket
import threading

from oslo_log import log as logging
from oslo_utils import timeutils

from volflow import context as volflow_context
from volflow import exception
from volflow.volume import backends

LOG = logging.getLogger(__name__)

#: Cinder's binary names, which clients and Tempest look for.
SCHEDULER = 'cinder-scheduler'
VOLUME = 'cinder-volume'
#: volflow's own: Cinder has no conductor.
CONDUCTOR = 'volflow-conductor'
#: The binaries whose live record keeps a backend alive.
BACKEND_BINARIES = (VOLUME, CONDUCTOR)


def host_matches(host, value):
    """Whether ``host`` is what the ``host`` filter ``value`` asks for.

    Cinder's rule: a bare host ``H`` matches ``H``, ``H@backend`` and
    ``H@backend#pool``; ``H@backend`` matches itself and its pools;
    ``H@backend#pool`` only itself.
    """
    if host == value:
        return True
    if '#' in value:
        return False
    if host.startswith(value + '#'):
        return True
    return '@' not in value and host.startswith(value + '@')


def in_process_records(conf):
    """The services of one process running the whole pipeline.

    The scheduler on this machine's host name, and one volume service per
    configured backend on ``HOST@BACKEND`` - the host part of the
    ``HOST@BACKEND#POOL`` volumes show.
    """
    host = socket.gethostname()
    records = [{'host': host, 'binary': SCHEDULER,
                'topic': 'volflow-scheduler',
                'availability_zone': conf.storage_availability_zone}]
    for backend in backends.get_backends(conf):
        records.append({'host': f"{host}@{backend['name']}",
                        'binary': VOLUME, 'topic': 'volflow-volume',
                        'availability_zone': backend['availability_zone']})
    return records


def last_report(service):
    """When the service last reported (its creation, before any report)."""
    return service['updated_at'] or service['created_at']


def is_up(service, conf, now=None):
    """Whether the service reported within ``service_down_time``.

    Cinder's rule: the absolute age, so that a clock a little ahead on
    the reporting host does not make a service look down.
    """
    now = now or timeutils.utcnow()
    age = (now - last_report(service)).total_seconds()
    return abs(age) <= conf.service_down_time


def backends_down(db_api, context, conf, names):
    """``{backend: reason}`` for each of ``names`` that is not alive."""
    now = timeutils.utcnow()
    found = {}
    for service in db_api.service_get_all(context):
        if service['binary'] in BACKEND_BINARIES:
            found.setdefault(backends.backend_of_host(service['host']),
                             []).append(service)
    down = {}
    for name in names:
        services = found.get(name, [])
        up = [s for s in services if is_up(s, conf, now)]
        if any(not s['disabled'] for s in up):
            continue
        if up:
            reasons = sorted({s['disabled_reason'] or 'no reason given'
                              for s in up})
            down[name] = (f"the volume service of backend '{name}' is "
                          f"disabled ({'; '.join(reasons)})")
        elif services:
            last = max(last_report(s) for s in services)
            down[name] = (f"the volume service of backend '{name}' is "
                          f"down (last report at {last.isoformat()}, more "
                          f"than service_down_time {conf.service_down_time}"
                          f" s ago)")
        else:
            down[name] = (f"the volume service of backend '{name}' is "
                          f"down (no volume service or conductor of it has "
                          f"ever reported)")
    return down


class Reporter:
    """Reports services every ``report_interval``, in a thread of its own.

    :param records: the services this process runs, each a dict of
        ``host``, ``binary``, ``topic`` and ``availability_zone``.

    A report that fails (the database out of reach) is logged and tried
    again at the next interval; meanwhile the services age towards down,
    which is what the scheduler should see.
    """

    def __init__(self, db_api, records, conf):
        self.db = db_api
        self.records = [dict(r) for r in records]
        self.conf = conf
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        """Report once now, then every ``report_interval`` until stopped."""
        self.report()
        self._thread = threading.Thread(target=self._loop,
                                        name='volflow-service-report',
                                        daemon=True)
        self._thread.start()

    def stop(self):
        """Report no more (the records then age to down, as Cinder's)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self):
        while not self._stop.wait(self.conf.report_interval):
            self.report()

    def report(self):
        """One report of every record: ``report_count`` + 1, now."""
        admin = volflow_context.get_admin_context()
        for record in self.records:
            key = (record['host'], record['binary'])
            try:
                self._report(admin, key, record)
            except Exception as exc:
                LOG.warning('Could not report service %(binary)s on host '
                            '%(host)s: %(exc)s',
                            {'binary': record['binary'],
                             'host': record['host'], 'exc': exc})

    def _report(self, admin, key, record):
        try:
            service = self.db.service_get_by_host_and_binary(admin, *key)
        except exception.ServiceNotFound:
            try:
                self.db.service_create(admin, record)
            except exception.ServiceExists:
                return  # another process of the same name, just now
            LOG.info('Service %(binary)s on host %(host)s registered.',
                     record)
            return
        self.db.service_update(admin, service['id'], {
            'topic': record['topic'],
            'availability_zone': record['availability_zone'],
            'report_count': (service['report_count'] or 0) + 1,
            'updated_at': timeutils.utcnow()})


def service_view(service, conf, now=None):
    """A service as ``service-list`` and ``os-services`` show it.

    Cinder's fields: ``status`` is ``enabled`` or ``disabled``, ``state``
    ``up`` or ``down`` (:func:`is_up`), ``updated_at`` the last report.
    """
    return {
        'binary': service['binary'],
        'host': service['host'],
        'zone': service['availability_zone'] or '',
        'status': 'disabled' if service['disabled'] else 'enabled',
        'state': 'up' if is_up(service, conf, now) else 'down',
        'updated_at': last_report(service).isoformat(timespec='microseconds'),
        'disabled_reason': service['disabled_reason'],
    }


def service_views(db_api, conf, filters=None):
    """Every service (``filters``: ``binary``, ``host``) as shown.

    ``binary`` matches exactly, ``host`` as :func:`host_matches`.
    """
    filters = dict(filters or {})
    host = filters.pop('host', None)
    now = timeutils.utcnow()
    return [service_view(s, conf, now) for s in db_api.service_get_all(
        volflow_context.get_admin_context(), filters)
        if host is None or host_matches(s['host'], host)]
