"""``/v3/{project_id}/volumes``: create, list, detail, show, delete.

A create takes Cinder's body (``{"volume": {"size", "name",
"description", "volume_type", "availability_zone", "snapshot_id",
"source_volid", "imageRef", "metadata"}}``) and calls
:meth:`volflow.volume.api.API.create` with Cinder's arguments, as the
command line does; it answers 202 with the volume as the API flow left it
(``creating``). Another project's volume is not found (404).
"""

from volflow.api import router
from volflow.api import schemas
from volflow.api.v3 import _listing
from volflow.api import views
from volflow import exception

FILTERS = ('name', 'status', 'availability_zone')

#: Booleans as Cinder's query parameters and bodies spell them.
TRUE = ('1', 't', 'true', 'on', 'y', 'yes')


def is_true(value):
    return str(value).strip().lower() in TRUE


def _image(volume):
    return volume.get('imageRef') or volume.get('image_id')


class VolumeController:

    def __init__(self, volume_api, policy, conf):
        self.api = volume_api
        self.policy = policy
        self.conf = conf

    def _show_host(self, ctx):
        return self.policy.check(ctx, 'volume_extension:volume_host_attribute')

    def _detail(self, req, ctx, volume):
        return views.volume_detail(req, volume, show_host=self._show_host(
            ctx))

    def create(self, req, ctx, body):
        self.policy.authorize(ctx, 'volume:create')
        schemas.validate(schemas.VOLUME_CREATE, body)
        volume = body['volume']
        if volume.get('size') is None and not (
                volume.get('snapshot_id') or volume.get('source_volid')):
            raise exception.InvalidInput(
                reason='size is required unless snapshot_id or '
                       'source_volid is given')
        created = self.api.create(
            ctx, volume.get('size'),
            volume.get('name', volume.get('display_name')),
            volume.get('description', volume.get('display_description')),
            snapshot=volume.get('snapshot_id'),
            image_id=_image(volume),
            volume_type=volume.get('volume_type'),
            metadata=volume.get('metadata'),
            availability_zone=volume.get('availability_zone'),
            source_volume=volume.get('source_volid'))
        return router.Response({'volume': self._detail(req, ctx, created)},
                               status=202)

    def _visible(self, req, ctx):
        self.policy.authorize(ctx, 'volume:get_all')
        volumes = self.api.get_all(ctx)
        if not (ctx.is_admin and is_true(req.GET.get('all_tenants', ''))):
            volumes = [v for v in volumes
                       if v['project_id'] == ctx.project_id]
        return _listing.page(req, volumes, self.conf.api.max_limit,
                             FILTERS)

    def index(self, req, ctx):
        volumes, limit = self._visible(req, ctx)
        return router.Response(views.collection(
            req, 'volumes', volumes, limit,
            lambda volume: views.volume_summary(req, volume)))

    def detail(self, req, ctx):
        volumes, limit = self._visible(req, ctx)
        return router.Response(views.collection(
            req, 'volumes', volumes, limit,
            lambda volume: self._detail(req, ctx, volume)))

    def show(self, req, ctx, id):
        volume = self.api.get(ctx, id)
        self.policy.authorize(ctx, 'volume:get',
                              {'project_id': volume['project_id']})
        return router.Response({'volume': self._detail(req, ctx, volume)})

    def delete(self, req, ctx, id):
        volume = self.api.get(ctx, id)
        self.policy.authorize(ctx, 'volume:delete',
                              {'project_id': volume['project_id']})
        force = is_true(req.GET.get('force', ''))
        if force:
            self.policy.authorize(ctx, 'volume:force_delete',
                                  {'project_id': volume['project_id']})
        self.api.delete(ctx, id, force=force)
        return router.Response(status=202)
