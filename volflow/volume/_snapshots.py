"""Changes to a snapshot after its creation, as Cinder's volume API makes them.

Its name, description and metadata; its deletion (through the backend of
its volume, then its quota); an admin's status reset and the status
updates Cinder's os-update_snapshot_status allows. Every check comes
before any change, so a refusal changes nothing.
"""

from volflow import exception
from volflow.flows.api import _validation
from volflow import quota

#: Statuses a snapshot may be deleted from without ``force``.
DELETABLE = ('available', 'error')

#: Statuses Cinder's os-reset_status accepts for a snapshot.
RESET_STATUSES = ('creating', 'available', 'deleting', 'error',
                  'error_deleting', 'unmanaging', 'backing-up', 'restoring')

#: os-update_snapshot_status: from a status, the statuses it may go to.
_UPDATES = {'creating': ('creating', 'available', 'error'),
            'deleting': ('deleting', 'error_deleting')}


class SnapshotChanges:
    """The volume API's methods that change an existing snapshot.

    Mixed into :class:`volflow.volume.api.API`: uses its ``db``,
    ``quota``, ``conf`` and ``volume_rpcapi``.
    """

    def update_snapshot(self, context, snapshot_id, values):
        """Change ``name`` and ``description``."""
        self.db.snapshot_get(context, snapshot_id)
        changes = {}
        for field in ('name', 'description'):
            if field in values:
                _validation.check_text(field, values[field])
                changes[field] = values[field]
        return self.db.snapshot_update(context, snapshot_id, changes)

    # Metadata ------------------------------------------------------------
    def get_snapshot_metadata(self, context, snapshot_id):
        snapshot = self.db.snapshot_get(context, snapshot_id)
        return dict(snapshot.get('metadata') or {})

    def update_snapshot_metadata(self, context, snapshot_id, metadata,
                                 delete=False):
        """Add or change the keys of ``metadata``; all of them if ``delete``.

        :returns: the snapshot's metadata after the change.
        """
        snapshot = self.db.snapshot_get(context, snapshot_id)
        metadata = _validation.check_metadata(metadata)
        merged = metadata if delete else {**(snapshot.get('metadata') or {}),
                                          **metadata}
        return self.db.snapshot_update(context, snapshot_id,
                                       {'metadata': merged})['metadata']

    def delete_snapshot_metadata(self, context, snapshot_id, key):
        metadata = self.get_snapshot_metadata(context, snapshot_id)
        if key not in metadata:
            raise exception.MetadataNotFound(kind='Snapshot',
                                             id=snapshot_id, key=key)
        del metadata[key]
        self.db.snapshot_update(context, snapshot_id, {'metadata': metadata})

    # Status --------------------------------------------------------------
    def reset_snapshot_status(self, context, snapshot_id, status):
        """An admin sets the status, whatever it is (os-reset_status)."""
        self.db.snapshot_get(context, snapshot_id)
        if status not in RESET_STATUSES:
            raise exception.InvalidInput(
                reason=(f"status '{status}' must be one of "
                        f"{', '.join(RESET_STATUSES)}"))
        return self.db.snapshot_update(context, snapshot_id,
                                       {'status': status})

    def update_snapshot_status(self, context, snapshot_id, status,
                               progress=None):
        """The moves Cinder's os-update_snapshot_status allows.

        ``creating`` to ``available`` or ``error``; ``deleting`` to
        ``error_deleting``; ``progress`` (``'80%'``) is kept as given.
        """
        snapshot = self.db.snapshot_get(context, snapshot_id)
        allowed = _UPDATES.get(snapshot['status'], ())
        if status not in allowed:
            raise exception.InvalidSnapshot(
                reason=(f"Snapshot status {snapshot['status']} not allowed "
                        f"to go to '{status}'; allowed: "
                        f"{', '.join(allowed) or 'none'}"))
        changes = {'status': status}
        if progress is not None:
            if not isinstance(progress, str) or len(progress) > 255:
                raise exception.InvalidInput(
                    reason=f"progress '{progress}' must be a short string")
            changes['progress'] = progress
        return self.db.snapshot_update(context, snapshot_id, changes)

    # Deletion ------------------------------------------------------------
    def delete_snapshot(self, context, snapshot_id, force=False):
        """Delete a snapshot from its backend; give its quota back.

        Allowed from ``available`` and ``error``, from any status with
        ``force`` (an admin's). A backend failure leaves it
        ``error_deleting``, still counted, and is raised.
        """
        snapshot = self.db.snapshot_get(context, snapshot_id)
        if force and not context.is_admin:
            raise exception.InvalidInput(
                reason='Only an admin may force the deletion of a snapshot')
        if not force and snapshot['status'] not in DELETABLE:
            raise exception.InvalidSnapshot(
                reason=(f"Snapshot {snapshot_id} status must be one of "
                        f"{', '.join(DELETABLE)}, not "
                        f"'{snapshot['status']}'"))
        snapshot = self.db.snapshot_update(context, snapshot_id,
                                           {'status': 'deleting'})
        try:
            volume = self.db.volume_get(context.elevated(),
                                        snapshot['volume_id'])
        except exception.VolumeNotFound:
            volume = None
        if volume and volume['host'] and self.volume_rpcapi is not None:
            self.volume_rpcapi.delete_snapshot(context, volume, snapshot)
        else:
            quota.finish_snapshot_delete(self.db, self.quota, context,
                                         snapshot, self.conf)
