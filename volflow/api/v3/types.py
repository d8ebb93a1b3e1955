"""``/v3/{project_id}/types``: volume types, their extra specs and access.

A type is found by id, by name, or as ``default`` (the configured
``default_volume_type``). A private type (created with
``os-volume-type-access:is_public`` false) exists only for admins and the
projects on its access list (``POST /types/{id}/action`` with
``addProjectAccess`` / ``removeProjectAccess``): to any other project it
is not found, for showing as for creating a volume. Creating, updating,
deleting a type and changing its extra specs or access are for admins;
a type some volume has, or the default type, can't be deleted (400), and
a name taken is a 409. Admins see every extra spec and ``qos_specs_id``;
other projects the user-visible specs only, as in Cinder. A type's
encryption is served by :mod:`volflow.api.v3._encryption`.
"""

from volflow.api import faults
from volflow.api import router
from volflow.api import schemas
from volflow.api.v3 import _encryption
from volflow.api.v3 import volumes
from volflow.api import views
from volflow import exception


def _bool(value):
    return volumes.is_true(value)


class TypeController(_encryption.EncryptionMixin):

    def __init__(self, volume_api, policy, conf):
        self.db = volume_api.db
        self.policy = policy
        self.conf = conf

    def _find(self, ctx, ref):
        if ref == 'default':
            ref = self.conf.default_volume_type
        try:
            return self.db.volume_type_get(ctx, ref)
        except exception.VolumeTypeNotFound:
            return self.db.volume_type_get_by_name(ctx, ref)

    def _view(self, req, ctx, vtype, **kwargs):
        all_specs = self.policy.check(
            ctx, 'volume_extension:access_types_extra_specs')
        qos = kwargs.pop('qos', True) and self.policy.check(
            ctx, 'volume_extension:access_types_qos_specs_id')
        return views.volume_type(req, vtype, all_specs=all_specs, qos=qos,
                                 **kwargs)

    # Types ---------------------------------------------------------------
    def _listed(self, req, ctx):
        """Cinder's ``is_public`` filter: admins may ask for all."""
        types = self.db.volume_type_get_all(ctx)
        if not ctx.is_admin:
            return types
        wanted = req.GET.get('is_public')
        if wanted is not None and wanted.strip().lower() == 'none':
            return types
        if wanted is not None:
            return [t for t in types if t['is_public'] == _bool(wanted)]
        return [t for t in types if t['is_public'] or any(
            access['project_id'] == ctx.project_id for access in
            self.db.volume_type_access_get_all(ctx, t['id']))]

    def index(self, req, ctx):
        self.policy.authorize(ctx, 'volume_extension:type_get_all')
        return router.Response({'volume_types': [
            self._view(req, ctx, t) for t in self._listed(req, ctx)]})

    def show(self, req, ctx, id):
        self.policy.authorize(ctx, 'volume_extension:type_get')
        return router.Response(
            {'volume_type': self._view(req, ctx, self._find(ctx, id))})

    def create(self, req, ctx, body):
        self.policy.authorize(ctx, 'volume_extension:types_manage')
        schemas.validate(schemas.TYPE_CREATE, body)
        wanted = body['volume_type']
        vtype = self.db.volume_type_create(
            ctx, wanted['name'], wanted.get('extra_specs') or {},
            description=wanted.get('description'),
            is_public=_bool(wanted.get('os-volume-type-access:is_public',
                                       True)))
        return router.Response(
            {'volume_type': self._view(req, ctx, vtype, qos=False)})

    def update(self, req, ctx, id, body):
        self.policy.authorize(ctx, 'volume_extension:type_update')
        schemas.validate(schemas.TYPE_UPDATE, body)
        wanted = body['volume_type']
        values = {key: wanted[key] for key in ('name', 'description')
                  if wanted.get(key) is not None}
        if wanted.get('is_public') is not None:
            values['is_public'] = _bool(wanted['is_public'])
        if 'name' in values and not values['name'].strip():
            raise faults.HTTPError(400, 'Volume type name can not be empty.')
        if not values:
            raise faults.HTTPError(
                400, 'Specify volume type name, description, is_public or '
                     'a combination thereof.')
        vtype = self.db.volume_type_update(ctx, self._find(ctx, id)['id'],
                                           values)
        return router.Response({'volume_type': self._view(
            req, ctx, vtype, qos=False, access=False)})

    def delete(self, req, ctx, id):
        self.policy.authorize(ctx, 'volume_extension:type_delete')
        vtype = self._find(ctx, id)
        if vtype['name'] == self.conf.default_volume_type:
            raise exception.VolumeTypeDefaultDeletionError(
                volume_type_id=vtype['id'])
        self.db.volume_type_destroy(ctx, vtype['id'])
        return router.Response(status=202)

    # Extra specs ---------------------------------------------------------
    def extra_specs(self, req, ctx, id):
        self.policy.authorize(ctx, 'volume_extension:types_extra_specs:index')
        vtype = self._find(ctx, id)
        return router.Response({'extra_specs': self._view(
            req, ctx, vtype)['extra_specs']})

    def extra_specs_create(self, req, ctx, id, body):
        self.policy.authorize(ctx,
                              'volume_extension:types_extra_specs:create')
        schemas.validate(schemas.EXTRA_SPECS_CREATE, body)
        self.db.volume_type_extra_specs_update(
            ctx, self._find(ctx, id)['id'], body['extra_specs'])
        return router.Response({'extra_specs': body['extra_specs']})

    def extra_spec_show(self, req, ctx, id, key):
        self.policy.authorize(ctx, 'volume_extension:types_extra_specs:show')
        vtype = self._find(ctx, id)
        specs = self._view(req, ctx, vtype)['extra_specs']
        if key not in specs:
            raise exception.VolumeTypeExtraSpecsNotFound(
                volume_type_id=vtype['id'], extra_specs_key=key)
        return router.Response({key: specs[key]})

    def extra_spec_update(self, req, ctx, id, key, body):
        self.policy.authorize(ctx,
                              'volume_extension:types_extra_specs:update')
        schemas.validate(schemas.EXTRA_SPEC_UPDATE, body)
        if key not in body:
            raise faults.HTTPError(400, f"Request body and URI mismatch: "
                                        f"the body does not set '{key}'.")
        self.db.volume_type_extra_specs_update(
            ctx, self._find(ctx, id)['id'], body)
        return router.Response(body)

    def extra_spec_delete(self, req, ctx, id, key):
        self.policy.authorize(ctx,
                              'volume_extension:types_extra_specs:delete')
        self.db.volume_type_extra_specs_delete(
            ctx, self._find(ctx, id)['id'], key)
        return router.Response(status=202)

    # Access --------------------------------------------------------------
    def access_index(self, req, ctx, id):
        self.policy.authorize(
            ctx, 'volume_extension:volume_type_access:get_all_for_type')
        vtype = self._find(ctx, id)
        if vtype['is_public']:
            raise faults.HTTPError(
                404, 'Access list not available for public volume types.')
        return router.Response({'volume_type_access':
                                self.db.volume_type_access_get_all(
                                    ctx, vtype['id'])})

    def action(self, req, ctx, id, body):
        schemas.validate(schemas.TYPE_ACTION, body)
        [(name, wanted)] = body.items()
        self.policy.authorize(
            ctx, f'volume_extension:volume_type_access:{name}')
        vtype = self._find(ctx, id)
        if vtype['is_public']:
            raise exception.InvalidVolumeType(
                reason='Type access modification is not applicable to '
                       'public volume type.')
        change = (self.db.volume_type_access_add if name ==
                  'addProjectAccess' else self.db.volume_type_access_remove)
        change(ctx, vtype['id'], wanted['project'])
        return router.Response(status=202)
