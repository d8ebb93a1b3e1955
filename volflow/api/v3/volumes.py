"""``/v3/{project_id}/volumes``: create, list, detail, show, update, delete.

A create takes Cinder's body (``{"volume": {"size", "name",
"description", "volume_type", "availability_zone", "snapshot_id",
"source_volid", "imageRef", "metadata"}}``) and calls
:meth:`volflow.volume.api.API.create` with Cinder's arguments, as the
command line does; it answers 202 with the volume as the API flow left it
(``creating``). Another project's volume is not found (404). Show and
detail carry the attributes Cinder adds to them (the project, the image,
for admins the ``host@backend#pool``); a create and an update do not.
``summary`` (from 3.12) counts and adds up the volumes listed.
"""

from volflow.api import faults
from volflow.api import microversion
from volflow.api import router
from volflow.api import schemas
from volflow.api.v3 import _change_schemas
from volflow.api.v3 import _listing
from volflow.api import views
from volflow import exception
from volflow.volume import backends

FILTERS = ('name', 'status', 'availability_zone', 'project_id')

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

    def _detail(self, req, ctx, volume, extended=True):
        show_host = extended and self._show_host(ctx)
        host = (backends.cinder_host(volume.get('host'), self.conf)
                if show_host else None)
        return views.volume_detail(req, volume, show_host=show_host,
                                   extended=extended, host=host)

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
        return router.Response(
            {'volume': self._detail(req, ctx, created, extended=False)},
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

    def update(self, req, ctx, id, body):
        _change_schemas.validate(_change_schemas.VOLUME_UPDATE, body)
        volume = self.api.get(ctx, id)
        self.policy.authorize(ctx, 'volume:update',
                              {'project_id': volume['project_id']})
        values = {}
        for field in ('name', 'description'):
            for key in (field, f'display_{field}'):
                if key in body['volume']:
                    values[field] = body['volume'][key]
        if 'metadata' in body['volume']:
            values['metadata'] = body['volume']['metadata']
        volume = self.api.update(ctx, id, values)
        return router.Response(
            {'volume': self._detail(req, ctx, volume, extended=False)})

    def summary(self, req, ctx):
        if not microversion.at_least(req, 3, 12):
            raise faults.HTTPError(404, 'The resource could not be found.')
        self.policy.authorize(ctx, 'volume:get_volume_summary')
        volumes = self.api.get_all(ctx)
        if not (ctx.is_admin and is_true(req.GET.get('all_tenants', ''))):
            volumes = [v for v in volumes
                       if v['project_id'] == ctx.project_id]
        summary = self.api.summary(ctx, volumes)
        if not microversion.at_least(req, 3, 36):
            del summary['metadata']
        return router.Response({'volume-summary': summary})

    def delete(self, req, ctx, id):
        volume = self.api.get(ctx, id)
        self.policy.authorize(ctx, 'volume:delete',
                              {'project_id': volume['project_id']})
        force = is_true(req.GET.get('force', ''))
        if force:
            self.policy.authorize(ctx, 'volume:force_delete',
                                  {'project_id': volume['project_id']})
        self.api.delete(ctx, id, force=force,
                        cascade=is_true(req.GET.get('cascade', '')))
        return router.Response(status=202)
