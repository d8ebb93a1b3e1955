"""The volume manager: one per backend, does what the driver can do.

Cinder's ``VolumeManager`` for creating, deleting, extending and
snapshotting volumes. ``create_volume`` runs the manager flow; the others
are single driver calls, each followed by the database and quota changes
it makes true, or by none of them when the driver failed.
"""

import contextlib
import functools

from oslo_config import cfg
from oslo_log import log as logging

from volflow import coordination
from volflow import engines
from volflow.flows import common
from volflow.flows.manager import create_volume
from volflow import notifier as volflow_notifier
from volflow import quota

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


@contextlib.contextmanager
def _error_deleting(update, ctxt, id):
    """On a driver failure: the row ``error_deleting``, with the reason.

    ``update`` is the db API's update of the row (volume or snapshot);
    the failure is raised again.
    """
    try:
        yield
    except Exception as exc:
        update(ctxt.elevated(), id,
               {'status': 'error_deleting',
                'reason': f'Deleting failed: {common.one_line(exc)}'})
        raise


class VolumeManager:
    """Manages the volumes of one backend.

    Its flows run serially, like Cinder's: each already runs on a thread
    of its own (the in-process rpc's executor, or an rpc server's); a
    flow waiting there for its tasks to get a thread of the same shared
    executor could starve it.

    :param backend_name: the backend's name, as volumes' ``host`` hold it.
    :param driver: the backend's driver, already set up.
    :param scheduler_rpcapi: where failed creations are rescheduled.
    :param notifier: publishes ``volume.create.*`` (default: the
        configured oslo.messaging notifier, publisher
        ``volume.<backend_name>``).
    """

    def __init__(self, backend_name, db_api, driver, image_service,
                 scheduler_rpcapi, notifier=None, conf=None):
        self.backend_name = backend_name
        self.db = db_api
        self.driver = driver
        self.image_service = image_service
        self.scheduler_rpcapi = scheduler_rpcapi
        self.conf = conf or CONF
        self.notifier = notifier or volflow_notifier.get_notifier(
            f'volume.{backend_name}', self.conf)
        self.quota = quota.QuotaEngine(db_api, self.conf)

    def create_volume(self, ctxt, volume, request_spec=None,
                      filter_properties=None, allow_reschedule=True):
        """Create a volume placed on this backend: run the manager flow.

        A creation the flow handed back to the scheduler is done here:
        the failure was logged by the flow's listener and is not raised.
        The flow's own reverts reschedule or error the volume out; should
        the flow fail where they cannot (before they ran), a volume still
        ``creating`` here is errored out, so that none stays ``creating``.
        """
        self.prepare_create_volume(
            ctxt, volume, request_spec=request_spec,
            filter_properties=filter_properties,
            allow_reschedule=allow_reschedule)()

    def prepare_create_volume(self, ctxt, volume, request_spec=None,
                              filter_properties=None,
                              allow_reschedule=True):
        """Load (and record) the manager flow; return what runs it.

        The in-process rpc loads the flow in the sender's thread and runs
        it later on the executor: once the cast returned, the request is
        recorded and a crash cannot lose it (``volflow resume`` runs it).
        """
        admin = ctxt.elevated()
        engine = create_volume.get_flow(
            admin, self.db, self.driver, self.scheduler_rpcapi,
            self.backend_name, volume, allow_reschedule, ctxt,
            request_spec, filter_properties,
            image_service=self.image_service, notifier=self.notifier,
            conf=self.conf, engine='serial')
        return functools.partial(self._run, engine, admin, volume)

    def _run(self, engine, admin, volume):
        try:
            engines.run_engine(engine, logger=LOG)
        except Exception as exc:
            if not common.after_failure(
                    self.db, 'manager', volume['id'], exc, self.backend_name,
                    create_volume.rescheduled(engine)):
                raise

    def delete_volume(self, ctxt, volume):
        """Delete the volume from the backend, then its row and quota.

        A driver failure leaves the volume ``error_deleting`` with the
        reason, quota still counted: the data may still be there.
        """
        with coordination.synchronized(f"{volume['id']}-delete_volume"):
            with _error_deleting(self.db.volume_update, ctxt, volume['id']):
                self.driver.delete_volume(volume)
            quota.finish_delete(self.db, self.quota, ctxt, volume)
        LOG.info('Volume %(id)s deleted from backend %(backend)s.',
                 {'id': volume['id'], 'backend': self.backend_name})

    def create_snapshot(self, ctxt, volume, snapshot):
        """Copy the volume's data as the snapshot, on this backend."""
        with coordination.synchronized(f"{volume['id']}-delete_volume"):
            self.driver.create_snapshot(snapshot, volume)
        LOG.info('Snapshot %(snap)s of volume %(id)s created on backend '
                 '%(backend)s.', {'snap': snapshot['id'],
                                  'id': volume['id'],
                                  'backend': self.backend_name})

    def delete_snapshot(self, ctxt, volume, snapshot):
        """Delete the snapshot from the backend, then its row and quota.

        A driver failure leaves the snapshot ``error_deleting``, quota
        still counted.
        """
        with coordination.synchronized(f"{volume['id']}-delete_volume"):
            with _error_deleting(self.db.snapshot_update, ctxt,
                                 snapshot['id']):
                self.driver.delete_snapshot(snapshot)
            quota.finish_snapshot_delete(self.db, self.quota, ctxt,
                                         snapshot, self.conf)
        LOG.info('Snapshot %(snap)s deleted from backend %(backend)s.',
                 {'snap': snapshot['id'], 'backend': self.backend_name})

    def extend_volume(self, ctxt, volume, new_size, reservations):
        """Grow the volume on the backend, then its size and its quota.

        The volume comes ``extending`` with ``reservations`` made for the
        added gigabytes. On success: size ``new_size``, ``available``, the
        reservations committed. On a driver failure: the size as it was,
        the reservations rolled back, the volume ``error_extending`` with
        the reason, as Cinder leaves it; the error is raised.
        """
        admin = ctxt.elevated()
        with coordination.synchronized(f"{volume['id']}-delete_volume"):
            try:
                self.driver.extend_volume(volume, new_size)
            except Exception as exc:
                self.quota.rollback(admin, reservations)
                self.db.volume_update(
                    admin, volume['id'],
                    {'status': 'error_extending',
                     'reason': f'Extending failed: {common.one_line(exc)}'})
                raise
            self.db.volume_update(admin, volume['id'],
                                  {'size': new_size, 'status': 'available',
                                   'reason': None})
            self.quota.commit(admin, reservations)
        LOG.info('Volume %(id)s extended to %(size)sG on backend '
                 '%(backend)s.', {'id': volume['id'], 'size': new_size,
                                  'backend': self.backend_name})
