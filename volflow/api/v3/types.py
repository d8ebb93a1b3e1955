"""``/v3/{project_id}/types``: list, show, extra specs, create (admin).

A type is shown by id, by name, or as ``default`` (the configured
``default_volume_type``). Creating a type whose name exists is a 409.
"""

from volflow.api import faults
from volflow.api import router
from volflow.api import schemas
from volflow.api import views
from volflow import exception


class TypeController:

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

    def index(self, req, ctx):
        self.policy.authorize(ctx, 'volume_extension:type_get_all')
        return router.Response({'volume_types': [
            views.volume_type(req, t)
            for t in self.db.volume_type_get_all(ctx)]})

    def show(self, req, ctx, id):
        self.policy.authorize(ctx, 'volume_extension:type_get')
        return router.Response(
            {'volume_type': views.volume_type(req, self._find(ctx, id))})

    def extra_specs(self, req, ctx, id):
        self.policy.authorize(ctx, 'volume_extension:type_get')
        vtype = self._find(ctx, id)
        return router.Response(
            {'extra_specs': dict(vtype.get('extra_specs') or {})})

    def create(self, req, ctx, body):
        self.policy.authorize(ctx, 'volume_extension:types_manage')
        schemas.validate(schemas.TYPE_CREATE, body)
        wanted = body['volume_type']
        try:
            self.db.volume_type_get_by_name(ctx, wanted['name'])
        except exception.VolumeTypeNotFound:
            pass
        else:
            raise faults.HTTPError(
                409, f"Volume Type {wanted['name']} already exists.")
        vtype = self.db.volume_type_create(
            ctx, wanted['name'], wanted.get('extra_specs') or {},
            description=wanted.get('description'))
        return router.Response({'volume_type': views.volume_type(req,
                                                                 vtype)})
