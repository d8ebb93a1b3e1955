"""Changes to a volume after its creation, as Cinder's volume API makes them.

Its name, description and metadata; its status flags (bootable, read-only,
reserved) and an admin's status reset; its size (``extend``, through the
volume's backend and the quota); its type within the backend it is on.
Every check comes before any change, so a refusal changes nothing.
"""

from oslo_log import log as logging

from volflow import exception
from volflow.flows.api import _validation
from volflow import quota
from volflow.volume import backends

LOG = logging.getLogger(__name__)

#: Statuses Cinder's os-reset_status accepts for a volume.
RESET_STATUSES = ('available', 'error', 'creating', 'deleting', 'in-use',
                  'attaching', 'detaching', 'error_deleting', 'maintenance',
                  'error_extending', 'reserved', 'extending', 'retyping',
                  'downloading', 'uploading', 'backing-up', 'restoring-backup',
                  'error_restoring', 'awaiting-transfer', 'error_managing')
ATTACH_STATUSES = ('attached', 'detached')
MIGRATION_STATUSES = ('migrating', 'error', 'success', 'completing', 'none',
                      'starting')

#: Statuses in which a volume's metadata may not change (Cinder's).
_BUSY = ('maintenance', 'uploading')


def as_bool(field, value):
    """``value`` as a boolean, Cinder's spellings; 400 naming it otherwise."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ('1', 't', 'true', 'on', 'y', 'yes'):
        return True
    if text in ('0', 'f', 'false', 'off', 'n', 'no'):
        return False
    raise exception.InvalidInput(
        reason=f"{field} '{value}' must be a boolean (true or false)")


def image_metadata_of(volume):
    """A volume's image metadata: what was set, or its ``image_id``."""
    metadata = volume.get('image_metadata')
    if metadata is None:
        metadata = ({'image_id': volume['image_id']}
                    if volume.get('image_id') else {})
    return dict(metadata)


def _not_busy(volume, what):
    if volume['status'] in _BUSY:
        raise exception.InvalidVolume(
            reason=(f"Volume {volume['id']} status must not be "
                    f"'{volume['status']}' to {what}"))


class VolumeChanges:
    """The volume API's methods that change an existing volume.

    Mixed into :class:`volflow.volume.api.API`: uses its ``db``,
    ``quota``, ``conf`` and ``volume_rpcapi``.
    """

    # Name, description, metadata -----------------------------------------
    def update(self, context, volume_id, values):
        """Change ``name``, ``description`` and (replacing it) ``metadata``.

        :param values: any of those three keys.
        """
        volume = self.db.volume_get(context, volume_id)
        changes = {}
        for field in ('name', 'description'):
            if field in values:
                _validation.check_text(field, values[field])
                changes[field] = values[field]
        if values.get('metadata') is not None:
            changes['metadata'] = _validation.check_metadata(
                values['metadata'])
        if 'metadata' in changes:
            _not_busy(volume, 'change its metadata')
        if not changes:
            return volume
        return self.db.volume_update(context, volume_id, changes)

    def get_volume_metadata(self, context, volume_id):
        return dict(self.db.volume_get(context, volume_id)['metadata'] or {})

    def update_volume_metadata(self, context, volume_id, metadata,
                               delete=False):
        """Add or change the keys of ``metadata``; all of them if ``delete``.

        :returns: the volume's metadata after the change.
        """
        volume = self.db.volume_get(context, volume_id)
        metadata = _validation.check_metadata(metadata)
        _not_busy(volume, 'change its metadata')
        merged = metadata if delete else {**(volume['metadata'] or {}),
                                          **metadata}
        return self.db.volume_update(context, volume_id,
                                     {'metadata': merged})['metadata']

    def delete_volume_metadata(self, context, volume_id, key):
        volume = self.db.volume_get(context, volume_id)
        metadata = dict(volume['metadata'] or {})
        if key not in metadata:
            raise exception.MetadataNotFound(kind='Volume', id=volume_id,
                                             key=key)
        _not_busy(volume, 'change its metadata')
        del metadata[key]
        self.db.volume_update(context, volume_id, {'metadata': metadata})

    # Image metadata ------------------------------------------------------
    def get_volume_image_metadata(self, context, volume_id):
        """The image's properties a volume carries (Cinder's glance metadata).

        A volume made from an image carries at least its ``image_id``.
        """
        return image_metadata_of(self.db.volume_get(context, volume_id))

    def update_volume_image_metadata(self, context, volume_id, metadata):
        """Add or change image properties; returns them all."""
        volume = self.db.volume_get(context, volume_id)
        metadata = _validation.check_metadata(metadata)
        _not_busy(volume, 'change its image metadata')
        merged = {**image_metadata_of(volume), **metadata}
        self.db.volume_update(context, volume_id, {'image_metadata': merged})
        return merged

    def delete_volume_image_metadata(self, context, volume_id, key):
        volume = self.db.volume_get(context, volume_id)
        metadata = image_metadata_of(volume)
        if key not in metadata:
            raise exception.MetadataNotFound(kind='Volume image of',
                                             id=volume_id, key=key)
        _not_busy(volume, 'change its image metadata')
        del metadata[key]
        self.db.volume_update(context, volume_id,
                              {'image_metadata': metadata})

    # Flags and status ----------------------------------------------------
    def set_bootable(self, context, volume_id, bootable):
        self.db.volume_get(context, volume_id)
        return self.db.volume_update(
            context, volume_id, {'bootable': as_bool('bootable', bootable)})

    def update_readonly_flag(self, context, volume_id, readonly):
        """Set the ``readonly`` admin metadata (shown in ``metadata``)."""
        volume = self.db.volume_get(context, volume_id)
        _not_busy(volume, 'change its read-only flag')
        admin_metadata = dict(volume.get('admin_metadata') or {})
        admin_metadata['readonly'] = str(as_bool('readonly', readonly))
        return self.db.volume_update(context, volume_id,
                                     {'admin_metadata': admin_metadata})

    def reserve(self, context, volume_id):
        """``available`` -> ``attaching`` (Cinder's os-reserve)."""
        self.db.volume_get(context, volume_id)
        return self.db.volume_update(context, volume_id,
                                     {'status': 'attaching'},
                                     expected={'status': 'available'})

    def unreserve(self, context, volume_id):
        """``attaching`` -> ``available`` (Cinder's os-unreserve)."""
        volume = self.db.volume_get(context, volume_id)
        if volume['status'] != 'attaching':
            return volume
        return self.db.volume_update(context, volume_id,
                                     {'status': 'available'},
                                     expected={'status': 'attaching'})

    def reset_status(self, context, volume_id, status=None,
                     attach_status=None, migration_status=None):
        """An admin sets the statuses, whatever they are (os-reset_status)."""
        self.db.volume_get(context, volume_id)
        changes = {}
        for field, value, accepted in (
                ('status', status, RESET_STATUSES),
                ('attach_status', attach_status, ATTACH_STATUSES),
                ('migration_status', migration_status, MIGRATION_STATUSES)):
            if value is None:
                continue
            if value not in accepted:
                raise exception.InvalidInput(
                    reason=(f"{field} '{value}' must be one of "
                            f"{', '.join(accepted)}"))
            changes[field] = value
        if not changes:
            raise exception.InvalidInput(
                reason='Must specify status, attach_status or '
                       'migration_status to reset')
        if changes.get('migration_status') == 'none':
            changes['migration_status'] = None
        return self.db.volume_update(context, volume_id, changes)

    # Size ----------------------------------------------------------------
    def extend(self, context, volume_id, new_size):
        """Grow an ``available`` volume to ``new_size`` GB.

        Refused (nothing changed) unless the volume is ``available``,
        ``new_size`` is an integer larger than its size and within
        ``per_volume_size_limit``, and the project's gigabytes quota holds
        the difference. The quota is reserved first, the backend grows the
        volume, then the size and the quota move together; when the
        backend fails, the size and the quota stay as they were and the
        volume is ``error_extending`` with the reason (Cinder's status).

        :returns: the volume after the change (or the failure).
        """
        volume = self.db.volume_get(context, volume_id)
        if volume['status'] != 'available':
            raise exception.InvalidVolume(
                reason=(f"Volume {volume_id} status must be 'available' to "
                        f"extend it, not '{volume['status']}'"))
        if (isinstance(new_size, bool) or not isinstance(new_size, int) or
                new_size > _validation.MAX_VOLUME_SIZE):
            raise exception.InvalidInput(
                reason=(f"New size for extend '{new_size}' must be an "
                        f"integer of at most {_validation.MAX_VOLUME_SIZE}"))
        if new_size <= volume['size']:
            raise exception.InvalidInput(
                reason=(f"New size for extend must be greater than current "
                        f"size. (current: {volume['size']}, extended: "
                        f"{new_size})."))
        self.quota.check_volume_size(new_size)
        reservations = self.quota.reserve(
            context, volume['project_id'], quota.type_resources(
                volume['volume_type'], gigabytes=new_size - volume['size']))
        try:
            volume = self.db.volume_update(
                context, volume_id, {'status': 'extending'},
                expected={'status': 'available', 'size': volume['size']})
        except Exception:
            self.quota.rollback(context, reservations)
            raise
        if volume['host'] and self.volume_rpcapi is not None:
            self._extend_on_backend(context, volume, new_size, reservations)
        else:
            volume = self.db.volume_update(
                context, volume_id, {'size': new_size,
                                     'status': 'available'})
            self.quota.commit(context, reservations)
        return self.db.volume_get(context, volume_id)

    def _extend_on_backend(self, context, volume, new_size, reservations):
        """The backend grows the volume and moves its size and quota.

        A failure is the volume's, not the request's (Cinder extends
        asynchronously): the volume is left ``error_extending`` with the
        reason. Should the call fail before the manager could act (it was
        never delivered), the reservations are rolled back here; rolling
        back what the manager rolled back already does nothing.
        """
        try:
            self.volume_rpcapi.extend_volume(context, volume, new_size,
                                             reservations)
        except Exception as exc:
            LOG.warning('Extending volume %(id)s failed: %(exc)s',
                        {'id': volume['id'], 'exc': exc})
            self.quota.rollback(context, reservations)
            try:
                self.db.volume_update(
                    context, volume['id'],
                    {'status': 'error_extending',
                     'reason': f'Extending failed: {exc}'},
                    expected={'status': 'extending'})
            except exception.InvalidVolume:
                pass  # the manager recorded the failure itself

    # Type ----------------------------------------------------------------
    def retype(self, context, volume_id, new_type, migration_policy=None):
        """Give the volume another type its backend serves (os-retype).

        The volume must be ``available`` or ``in-use`` and the type a
        different one. A type whose ``volume_backend_name`` names another
        backend would need a migration, which volflow does not do: it is
        refused whatever ``migration_policy`` says. The per-type quota
        (``volumes_<type>``, ``gigabytes_<type>``) moves to the new type:
        reserved first, so a type over its quota refuses the retype.
        """
        volume = self.db.volume_get(context, volume_id)
        vtype = self._type_named(context, new_type)
        if volume['status'] not in ('available', 'in-use'):
            raise exception.InvalidVolume(
                reason=(f"Volume {volume_id} status must be available or "
                        f"in-use to retype it, not '{volume['status']}'"))
        if vtype['id'] == volume['volume_type_id']:
            raise exception.InvalidInput(
                reason=(f"Retype needs a volume type different from the "
                        f"volume's own ('{vtype['name']}')"))
        wanted = (vtype.get('extra_specs') or {}).get('volume_backend_name')
        here = self._backend_name_of(volume)
        if wanted and here and wanted != here:
            raise exception.InvalidInput(
                reason=(f"Volume type '{vtype['name']}' is served by "
                        f"backend '{wanted}', not by '{here}' where volume "
                        f"{volume_id} is; volflow does not migrate volumes "
                        f"(migration_policy '{migration_policy or 'never'}')"))
        old = volume['volume_type']
        added = {f"volumes_{vtype['name']}": 1,
                 f"gigabytes_{vtype['name']}": volume['size']}
        reservations = self.quota.reserve(context, volume['project_id'],
                                          added)
        try:
            volume = self.db.volume_update(
                context, volume_id, {'volume_type_id': vtype['id']},
                expected={'status': volume['status'],
                          'volume_type_id': volume['volume_type_id']})
        except Exception:
            self.quota.rollback(context, reservations)
            raise
        self.quota.commit(context, reservations)
        if old:
            self.quota.release(context, volume['project_id'], {
                f'volumes_{old}': 1, f'gigabytes_{old}': volume['size']})
        return self.db.volume_get(context, volume_id)

    def _type_named(self, context, ref):
        admin = context.elevated()
        try:
            return self.db.volume_type_get(admin, ref)
        except exception.VolumeTypeNotFound:
            return self.db.volume_type_get_by_name(admin, ref)

    def _backend_name_of(self, volume):
        """The ``volume_backend_name`` of the backend holding the volume."""
        if not volume['host']:
            return None
        try:
            return backends.get_backend(
                backends.backend_of_host(volume['host']),
                self.conf)['volume_backend_name']
        except exception.BackendNotFound:
            return None
