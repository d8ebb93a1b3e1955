"""``/v3/{project_id}/qos-specs``: QoS specs and their volume types (admin).

QoS specs are a name, a consumer (``front-end``, ``back-end`` or
``both``; ``back-end`` unless given) and specs, string pairs. A volume
type is associated with at most one QoS specs (its ``qos_specs_id``);
a volume created with the type gets that QoS specs' specs. Associating a
type with other QoS specs than its own is refused (400); deleting QoS
specs still associated is refused (400) unless ``force``.
"""

from volflow.api import faults
from volflow.api import router
from volflow.api import schemas
from volflow.api.v3 import volumes
from volflow import exception

DEFAULT_CONSUMER = 'back-end'


def _summary(qos):
    return {'id': qos['id'], 'name': qos['name'],
            'consumer': qos['consumer'], 'specs': dict(qos['specs'])}


def _links(req, qos):
    base = req.application_url.rstrip('/')
    project = req.path_info.split('/')[2]
    return [{'href': f'{base}/v3/{project}/qos-specs/{qos["id"]}',
             'rel': 'self'},
            {'href': f'{base}/{project}/qos-specs/{qos["id"]}',
             'rel': 'bookmark'}]


class QosSpecsController:

    def __init__(self, volume_api, policy, conf):
        self.db = volume_api.db
        self.policy = policy
        self.conf = conf

    def _authorize(self, ctx, action):
        self.policy.authorize(ctx, f'volume_extension:qos_specs_manage:'
                                   f'{action}')

    def _show(self, req, qos):
        return router.Response({'qos_specs': _summary(qos),
                                'links': _links(req, qos)})

    def index(self, req, ctx):
        self._authorize(ctx, 'get_all')
        return router.Response({'qos_specs': [
            _summary(qos) for qos in self.db.qos_specs_get_all(ctx)]})

    def create(self, req, ctx, body):
        self._authorize(ctx, 'create')
        schemas.validate(schemas.QOS_CREATE, body)
        specs = dict(body['qos_specs'])
        name = specs.pop('name')
        consumer = specs.pop('consumer', DEFAULT_CONSUMER)
        return self._show(req, self.db.qos_specs_create(ctx, name, consumer,
                                                        specs))

    def show(self, req, ctx, id):
        self._authorize(ctx, 'get')
        return self._show(req, self.db.qos_specs_get(ctx, id))

    def update(self, req, ctx, id, body):
        self._authorize(ctx, 'update')
        schemas.validate(schemas.QOS_SET, body)
        self.db.qos_specs_update(ctx, id, body['qos_specs'])
        return router.Response({'qos_specs': body['qos_specs']})

    def delete_keys(self, req, ctx, id, body):
        self._authorize(ctx, 'update')
        schemas.validate(schemas.QOS_UNSET, body)
        try:
            self.db.qos_specs_delete_keys(ctx, id, body['keys'])
        except exception.QoSSpecsKeyNotFound as exc:
            raise faults.HTTPError(400, str(exc)) from None
        return router.Response(status=202)

    def delete(self, req, ctx, id):
        self._authorize(ctx, 'delete')
        force = volumes.is_true(req.GET.get('force', ''))
        self.db.qos_specs_destroy(ctx, id, force=force)
        return router.Response(status=202)

    # Associations --------------------------------------------------------
    def _associated(self, ctx, qos_id):
        return [t for t in self.db.volume_type_get_all(ctx)
                if t['qos_specs_id'] == qos_id]

    def associations(self, req, ctx, id):
        self._authorize(ctx, 'get')
        self.db.qos_specs_get(ctx, id)
        return router.Response({'qos_associations': [
            {'association_type': 'volume_type', 'id': t['id'],
             'name': t['name']} for t in self._associated(ctx, id)]})

    def _type_of(self, req, ctx):
        type_id = req.GET.get('vol_type_id')
        if not type_id:
            raise faults.HTTPError(
                400, 'Volume Type id must not be None: give vol_type_id.')
        return self.db.volume_type_get(ctx, type_id)

    def associate(self, req, ctx, id):
        self._authorize(ctx, 'update')
        self.db.qos_specs_get(ctx, id)
        vtype = self._type_of(req, ctx)
        if vtype['qos_specs_id'] not in (None, id):
            raise exception.InvalidVolumeType(
                reason=f"type {vtype['id']} is already associated with "
                       f"another qos specs: {vtype['qos_specs_id']}")
        self.db.volume_type_update(ctx, vtype['id'], {'qos_specs_id': id})
        return router.Response(status=202)

    def disassociate(self, req, ctx, id):
        self._authorize(ctx, 'update')
        self.db.qos_specs_get(ctx, id)
        vtype = self._type_of(req, ctx)
        if vtype['qos_specs_id'] == id:
            self.db.volume_type_update(ctx, vtype['id'],
                                       {'qos_specs_id': None})
        return router.Response(status=202)

    def disassociate_all(self, req, ctx, id):
        self._authorize(ctx, 'update')
        self.db.qos_specs_get(ctx, id)
        for vtype in self._associated(ctx, id):
            self.db.volume_type_update(ctx, vtype['id'],
                                       {'qos_specs_id': None})
        return router.Response(status=202)
