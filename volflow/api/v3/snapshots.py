"""``/v3/{project_id}/snapshots``: create, list, detail, show, update, delete.

A create snapshots an ``available`` volume through
:meth:`volflow.volume.api.API.create_snapshot` (202, as Cinder answers),
keeping the metadata sent with it; a ``volume_id`` that names no volume
(or is null) is 404. Show and detail carry the
``os-extended-snapshot-attributes:*`` Cinder adds to them; a create, an
update and a list without detail do not. A delete is 202.
"""

from volflow.api import router
from volflow.api import schemas
from volflow.api.v3 import _change_schemas
from volflow.api.v3 import _listing
from volflow.api.v3 import volumes
from volflow.api import views

FILTERS = ('name', 'status', 'volume_id', 'project_id')


class SnapshotController:

    def __init__(self, volume_api, policy, conf):
        self.api = volume_api
        self.policy = policy
        self.conf = conf

    def create(self, req, ctx, body):
        self.policy.authorize(ctx, 'volume:create_snapshot')
        schemas.validate(schemas.SNAPSHOT_CREATE, body)
        snapshot = body['snapshot']
        created = self.api.create_snapshot(
            ctx, snapshot['volume_id'],
            name=snapshot.get('name', snapshot.get('display_name')),
            description=snapshot.get('description',
                                     snapshot.get('display_description')),
            metadata=snapshot.get('metadata'))
        return router.Response(
            {'snapshot': views.snapshot_detail(req, created,
                                               extended=False)},
            status=202)

    def _visible(self, req, ctx):
        self.policy.authorize(ctx, 'volume:get_all_snapshots')
        snapshots = [s for s in self.api.get_all_snapshots(ctx)
                     if s['project_id'] == ctx.project_id or (
                         ctx.is_admin and volumes.is_true(
                             req.GET.get('all_tenants', '')))]
        return _listing.page(req, snapshots, self.conf.api.max_limit,
                             FILTERS)

    def index(self, req, ctx):
        snapshots, limit = self._visible(req, ctx)
        return router.Response(views.collection(
            req, 'snapshots', snapshots, limit,
            lambda snapshot: views.snapshot_detail(req, snapshot,
                                                   extended=False)))

    def detail(self, req, ctx):
        snapshots, limit = self._visible(req, ctx)
        return router.Response(views.collection(
            req, 'snapshots', snapshots, limit,
            lambda snapshot: views.snapshot_detail(req, snapshot)))

    def show(self, req, ctx, id):
        snapshot = self.api.get_snapshot(ctx, id)
        self.policy.authorize(ctx, 'volume:get_snapshot',
                              {'project_id': snapshot['project_id']})
        return router.Response(
            {'snapshot': views.snapshot_detail(req, snapshot)})

    def update(self, req, ctx, id, body):
        _change_schemas.validate(_change_schemas.SNAPSHOT_UPDATE, body)
        snapshot = self.api.get_snapshot(ctx, id)
        self.policy.authorize(ctx, 'volume:update_snapshot',
                              {'project_id': snapshot['project_id']})
        values = {}
        for field in ('name', 'description'):
            for key in (field, f'display_{field}'):
                if key in body['snapshot']:
                    values[field] = body['snapshot'][key]
        snapshot = self.api.update_snapshot(ctx, id, values)
        return router.Response(
            {'snapshot': views.snapshot_detail(req, snapshot,
                                               extended=False)})

    def delete(self, req, ctx, id):
        snapshot = self.api.get_snapshot(ctx, id)
        self.policy.authorize(ctx, 'volume:delete_snapshot',
                              {'project_id': snapshot['project_id']})
        self.api.delete_snapshot(ctx, id)
        return router.Response(status=202)
