"""The in-process rpc: the embedded default when no transport is set.

The scheduler and the volume managers live in the calling process,
built once per process, lazily: one driver per configured backend (set up
with ``do_setup()`` once) and, per database api, one scheduler manager and
one volume manager per backend.

Messages keep the semantics they have over a real transport:

* **casts** (``SchedulerAPI.create_volume``, ``VolumeAPI.create_volume``)
  submit the receiving manager's work to the process-wide executor
  (:func:`volflow.executor.get_executor`, never an executor of their own)
  and return at once, so ``API.create`` returns while the volume is still
  ``creating``. Arguments are deep-copied, as serialising them would.
  Exceptions are logged, as an rpc server logs them. The receiving flow
  is loaded - and so recorded (:mod:`volflow.persistence`) - before the
  cast returns: a crash after it cannot lose the request, which ``volflow
  resume`` then runs; a failure to record it fails the cast. The
  receiving flow runs once the sending flow's run has ended - its final
  state recorded, its claim dropped - as a message leaves once its
  sender's transaction commits: a flow this rpc runs is the volume's
  previous message (below); the API flow, run in the caller's thread,
  is waited for by its flow uuid (:func:`volflow.engines.wait_ended`).
  The rpc asks the engines; nothing in them calls back into the rpc.
* **calls** (``VolumeAPI.delete_volume``, ``VolumeAPI.create_snapshot``)
  run in the caller's thread and return or raise like a local call; the
  API marks the snapshot ``available`` only once it returned.
* Messages about one volume run in the order they were sent: a cast is
  handed to the executor once the volume's previous message has run, so
  a flow cast by a flow of this rpc - the scheduler's cast to a manager,
  a manager's reschedule - starts once its sender's run has ended, and
  no worker thread is kept waiting for it. A call first waits until every
  message sent about the volume so far - including the casts those sent
  on, such as the scheduler's cast to a manager or a reschedule - has
  run. A delete never races the creation it follows.

:func:`reset` waits for outstanding work and forgets every manager and
driver (tests that change configuration or databases). At exit the
process waits for the messages still outstanding - including those they
send on, such as reschedules - before the executor is shut down, so a
``create --no-wait`` still ends with its volume out of ``creating``.
"""

import atexit
import concurrent.futures
import copy
import functools
import threading

from oslo_config import cfg
from oslo_log import log as logging

from volflow import engines
from volflow import exception
from volflow import executor
from volflow import notifier
from volflow import persistence
from volflow.scheduler import filter_scheduler
from volflow.scheduler import manager as scheduler_manager
from volflow.volume import backends
from volflow.volume import drivers
from volflow.volume import manager as volume_manager

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


class _Sequencer:
    """Runs the messages about one volume in order, on the executor."""

    def __init__(self):
        self._lock = threading.Lock()
        self._last = {}
        self._pending = set()

    def cast(self, key, what, func, *args, **kwargs):
        """Run ``func`` once the previous message about ``key`` has run.

        :returns: a future done when ``func`` has run.
        """
        done = concurrent.futures.Future()
        start = functools.partial(self._start, done, what, key, func, args,
                                  kwargs)
        with self._lock:
            previous = self._last.get(key)
            self._last[key] = done
            self._pending.add(done)
        done.add_done_callback(functools.partial(self._forget, key))
        if previous is None:
            start()
        else:
            previous.add_done_callback(lambda _previous: start())
        return done

    def _start(self, done, what, key, func, args, kwargs):
        try:
            executor.get_executor().submit(self._run, done, what, key, func,
                                           args, kwargs)
        except RuntimeError as exc:  # the executor is shut down
            LOG.error('%(what)s for volume %(id)s not run: %(exc)s',
                      {'what': what, 'id': key, 'exc': exc})
            done.set_result(None)

    @staticmethod
    def _run(done, what, key, func, args, kwargs):
        try:
            func(*args, **kwargs)
        except Exception as exc:
            # The flow's listener already logged the failure in full.
            LOG.error('%(what)s for volume %(id)s failed: %(exc)s',
                      {'what': what, 'id': key, 'exc': exc})
            LOG.debug('%s failed', what, exc_info=True)
        finally:
            done.set_result(None)

    def _forget(self, key, future):
        with self._lock:
            self._pending.discard(future)
            if self._last.get(key) is future:
                del self._last[key]

    def call(self, key, func, *args, **kwargs):
        self.wait(key)
        return func(*args, **kwargs)

    def wait(self, key):
        """Return once every message sent about ``key`` so far has run."""
        while True:
            with self._lock:
                future = self._last.get(key)
            if future is None:
                return
            concurrent.futures.wait([future])
            with self._lock:
                if self._last.get(key) in (None, future):
                    return

    def wait_all(self, timeout=None):
        """Wait for every outstanding message; whether all finished."""
        while True:
            with self._lock:
                pending = [f for f in self._pending if not f.done()]
            if not pending:
                return True
            _done, not_done = concurrent.futures.wait(pending, timeout)
            if not_done:
                return False


_SEQUENCER = _Sequencer()
_LOCK = threading.RLock()
_DRIVERS = {}
_SERVICES = {}


def get_driver(backend_name, conf=None):
    """The process's driver of one backend, set up on first use.

    Drivers are kept per backend configuration: a backend whose options
    changed (tests, an embedding service reconfiguring) gets a driver of
    its own. A driver whose ``do_setup()`` fails stays uninitialized:
    creations placed on its backend fail and are rescheduled, as in
    Cinder.
    """
    backend = backends.get_backend(backend_name, conf or CONF)
    key = tuple(sorted(backend.items()))
    with _LOCK:
        driver = _DRIVERS.get(key)
        if driver is None:
            driver = drivers.load_driver(backend)
            try:
                driver.do_setup()
                driver.set_initialized()
            except Exception:
                LOG.exception('Backend %s: driver setup failed.',
                              backend_name)
            _DRIVERS[key] = driver
        return driver


class _Services:
    """The managers of this process for one database api."""

    def __init__(self, db_api, image_service, conf):
        self.db = db_api
        self.image_service = image_service
        self.conf = conf
        self.scheduler_rpcapi = SchedulerAPI(self)
        self.volume_rpcapi = VolumeAPI(self)
        self._scheduler = None
        self._volume_managers = {}

    def scheduler_manager(self):
        with _LOCK:
            if self._scheduler is None:
                driver = filter_scheduler.FilterScheduler(
                    self.db, self.volume_rpcapi, self.conf)
                self._scheduler = scheduler_manager.SchedulerManager(
                    self.db, driver, conf=self.conf)
            return self._scheduler

    def volume_manager(self, host):
        if not host:
            raise exception.BackendNotFound(backend=host)
        name = backends.backend_of_host(host)
        with _LOCK:
            manager = self._volume_managers.get(name)
            if manager is None:
                manager = volume_manager.VolumeManager(
                    name, self.db, get_driver(name, self.conf),
                    self.image_service, self.scheduler_rpcapi,
                    conf=self.conf)
                self._volume_managers[name] = manager
            return manager


class SchedulerAPI:
    """Cinder's scheduler rpcapi, in process."""

    def __init__(self, services):
        self._services = services

    def create_volume(self, ctxt, volume, snapshot_id=None, image_id=None,
                      request_spec=None, filter_properties=None,
                      backup_id=None):
        """Cast: record the scheduler flow, run it on the executor."""
        manager = self._services.scheduler_manager()
        run = manager.prepare_create_volume(
            ctxt, copy.deepcopy(volume), snapshot_id=snapshot_id,
            image_id=image_id, request_spec=copy.deepcopy(request_spec),
            filter_properties=copy.deepcopy(filter_properties))
        # Sent by the API flow (else by a manager's reschedule, which the
        # sequencer runs before): it runs once the API flow has ended.
        _SEQUENCER.cast(volume['id'], 'scheduler create_volume',
                        _after, persistence.flow_uuid(volume['id'], 'api'),
                        run)


def _after(sender, run):
    """Run ``run`` once flow ``sender`` has ended in this process."""
    engines.wait_ended(sender)
    run()


class VolumeAPI:
    """Cinder's volume rpcapi, in process: the manager of the volume's host.

    :raises BackendNotFound: when the volume's host is no configured
        backend (raised to the sender, which errors the volume out).
    """

    def __init__(self, services):
        self._services = services

    def create_volume(self, ctxt, volume, request_spec, filter_properties,
                      allow_reschedule=True):
        """Cast: record the manager flow, run it on the executor."""
        manager = self._services.volume_manager(volume['host'])
        run = manager.prepare_create_volume(
            ctxt, copy.deepcopy(volume),
            request_spec=copy.deepcopy(request_spec),
            filter_properties=copy.deepcopy(filter_properties),
            allow_reschedule=allow_reschedule)
        _SEQUENCER.cast(volume['id'],
                        f'volume create_volume on {manager.backend_name}',
                        run)

    def delete_volume(self, ctxt, volume):
        """Call: delete it once the volume's earlier messages have run."""
        manager = self._services.volume_manager(volume['host'])
        _SEQUENCER.call(volume['id'], manager.delete_volume, ctxt,
                        copy.deepcopy(volume))

    def create_snapshot(self, ctxt, volume, snapshot):
        """Call: copy the volume's data as the snapshot."""
        manager = self._services.volume_manager(volume['host'])
        _SEQUENCER.call(volume['id'], manager.create_snapshot, ctxt,
                        copy.deepcopy(volume), copy.deepcopy(snapshot))

    def delete_snapshot(self, ctxt, volume, snapshot):
        """Call: delete the snapshot from the volume's backend."""
        manager = self._services.volume_manager(volume['host'])
        _SEQUENCER.call(volume['id'], manager.delete_snapshot, ctxt,
                        copy.deepcopy(volume), copy.deepcopy(snapshot))

    def extend_volume(self, ctxt, volume, new_size, reservations):
        """Call: grow the volume on its backend."""
        manager = self._services.volume_manager(volume['host'])
        _SEQUENCER.call(volume['id'], manager.extend_volume, ctxt,
                        copy.deepcopy(volume), new_size, list(reservations))


def get_rpcapis(db_api, image_service, conf):
    """Return ``(scheduler_rpcapi, volume_rpcapi)`` bound to ``db_api``.

    The first image service given for a database api serves its managers.
    """
    with _LOCK:
        services = _SERVICES.get(db_api)
        if services is None:
            services = _SERVICES[db_api] = _Services(db_api, image_service,
                                                     conf)
        return services.scheduler_rpcapi, services.volume_rpcapi


def wait_idle(timeout=None):
    """Wait until no message is outstanding; whether none is."""
    return _SEQUENCER.wait_all(timeout)


# Registered after volflow.executor's shutdown (imported first), so it runs
# before it: a cast sent while the executor shuts down would be refused.
atexit.register(wait_idle)


def reset(timeout=None):
    """Wait for outstanding messages, then forget managers and drivers."""
    wait_idle(timeout)
    with _LOCK:
        _SERVICES.clear()
        _DRIVERS.clear()
    notifier.reset()
