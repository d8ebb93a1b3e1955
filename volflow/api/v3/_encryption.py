"""``/types/{id}/encryption``: how a volume type's volumes are encrypted.

A mixin of :class:`volflow.api.v3.types.TypeController` (admin only, as
in Cinder). A type has at most one encryption (its provider, cipher, key
size and control location, ``front-end`` unless given); it can't be
created, changed or deleted while a volume has the type (400).
"""

from oslo_utils import timeutils
from oslo_utils import uuidutils

from volflow.api import faults
from volflow.api import router
from volflow.api import schemas
from volflow import context as volflow_context
from volflow import exception

FIELDS = ('provider', 'cipher', 'key_size', 'control_location')


class EncryptionMixin:

    def _encryption_type(self, ctx, action, id):
        self.policy.authorize(
            ctx, f'volume_extension:volume_type_encryption:{action}')
        return self._find(ctx, id)

    def _check_unused(self, vtype, doing):
        if self.db.volume_get_all(volflow_context.get_admin_context(),
                                  {'volume_type_id': vtype['id']}):
            raise faults.HTTPError(
                400, f'Cannot {doing} encryption specs. Volume type in use.')

    def encryption_show(self, req, ctx, id):
        vtype = self._encryption_type(ctx, 'get', id)
        return router.Response(dict(vtype.get('encryption') or {}))

    def encryption_item(self, req, ctx, id, key):
        vtype = self._encryption_type(ctx, 'get', id)
        encryption = vtype.get('encryption') or {}
        if key not in encryption:
            raise exception.VolumeTypeEncryptionNotFound(type_id=vtype['id'])
        return router.Response({key: encryption[key]})

    def encryption_create(self, req, ctx, id, body):
        vtype = self._encryption_type(ctx, 'create', id)
        schemas.validate(schemas.ENCRYPTION_CREATE, body)
        if vtype.get('encryption'):
            raise exception.InvalidVolumeType(
                reason=f"volume type encryption for type {vtype['id']} "
                       f"already exists")
        self._check_unused(vtype, 'create')
        wanted = body['encryption']
        encryption = {
            'volume_type_id': vtype['id'],
            'encryption_id': uuidutils.generate_uuid(),
            'provider': wanted['provider'],
            'cipher': wanted.get('cipher'),
            'key_size': wanted.get('key_size'),
            'control_location': wanted.get('control_location', 'front-end'),
            'deleted': False,
            'created_at': timeutils.utcnow().isoformat(),
            'updated_at': None,
            'deleted_at': None,
        }
        self.db.volume_type_update(ctx, vtype['id'],
                                   {'encryption': encryption})
        return router.Response({'encryption': {
            key: encryption[key] for key in
            ('volume_type_id', 'encryption_id') + FIELDS}})

    def encryption_update(self, req, ctx, id, key, body):
        vtype = self._encryption_type(ctx, 'update', id)
        schemas.validate(schemas.ENCRYPTION_UPDATE, body)
        encryption = vtype.get('encryption')
        if not encryption:
            raise exception.VolumeTypeEncryptionNotFound(type_id=vtype['id'])
        self._check_unused(vtype, 'update')
        encryption = dict(encryption, **body['encryption'],
                          updated_at=timeutils.utcnow().isoformat())
        self.db.volume_type_update(ctx, vtype['id'],
                                   {'encryption': encryption})
        return router.Response({'encryption': body['encryption']})

    def encryption_delete(self, req, ctx, id, key):
        vtype = self._encryption_type(ctx, 'delete', id)
        if not vtype.get('encryption'):
            raise exception.VolumeTypeEncryptionNotFound(type_id=vtype['id'])
        self._check_unused(vtype, 'delete')
        self.db.volume_type_update(ctx, vtype['id'], {'encryption': None})
        return router.Response(status=202)
