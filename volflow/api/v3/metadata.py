"""Metadata of volumes and snapshots: ``.../{id}/metadata[/{key}]``.

Cinder's shapes: the whole metadata as ``{"metadata": {...}}`` (GET, POST
adds or changes keys, PUT replaces all), one key as ``{"meta": {key:
value}}`` (GET, PUT with exactly that key in the body, DELETE). A key
that is not there is 404.
"""

from volflow.api import faults
from volflow.api import router
from volflow.api.v3 import _change_schemas
from volflow import exception


class _MetadataController:
    """One controller per kind of record; the subclasses name it."""

    #: ``(get, update, delete)`` policy rules.
    RULES = ()
    #: The rule of POST, when it is not the update rule.
    CREATE_RULE = None

    def __init__(self, volume_api, policy, conf):
        self.api = volume_api
        self.policy = policy
        self.conf = conf

    def _authorize(self, ctx, id, rule):
        record = self._get(ctx, id)
        self.policy.authorize(ctx, rule,
                              {'project_id': record['project_id']})

    def index(self, req, ctx, id):
        self._authorize(ctx, id, self.RULES[0])
        return router.Response({'metadata': self._metadata(ctx, id)})

    def create(self, req, ctx, id, body):
        _change_schemas.validate(_change_schemas.METADATA, body)
        self._authorize(ctx, id, self.CREATE_RULE or self.RULES[1])
        return router.Response({'metadata': self._update(
            ctx, id, body['metadata'], delete=False)})

    def update_all(self, req, ctx, id, body):
        _change_schemas.validate(_change_schemas.METADATA, body)
        self._authorize(ctx, id, self.RULES[1])
        return router.Response({'metadata': self._update(
            ctx, id, body['metadata'], delete=True)})

    def show(self, req, ctx, id, key):
        self._authorize(ctx, id, self.RULES[0])
        metadata = self._metadata(ctx, id)
        if key not in metadata:
            raise exception.MetadataNotFound(kind=self.KIND, id=id, key=key)
        return router.Response({'meta': {key: metadata[key]}})

    def update(self, req, ctx, id, key, body):
        _change_schemas.validate(_change_schemas.METADATA_ITEM, body)
        if key not in body['meta']:
            raise faults.HTTPError(
                400, f"Request body and URI mismatch: the body's key "
                     f"'{next(iter(body['meta']))}' is not '{key}'.")
        self._authorize(ctx, id, self.RULES[1])
        self._update(ctx, id, body['meta'], delete=False)
        return router.Response({'meta': body['meta']})

    def delete(self, req, ctx, id, key):
        self._authorize(ctx, id, self.RULES[2])
        self._delete(ctx, id, key)
        return router.Response()


class VolumeMetadataController(_MetadataController):
    KIND = 'Volume'
    RULES = ('volume:get_volume_metadata', 'volume:update_volume_metadata',
             'volume:delete_volume_metadata')
    CREATE_RULE = 'volume:create_volume_metadata'

    def _get(self, ctx, id):
        return self.api.get(ctx, id)

    def _metadata(self, ctx, id):
        return self.api.get_volume_metadata(ctx, id)

    def _update(self, ctx, id, metadata, delete):
        return self.api.update_volume_metadata(ctx, id, metadata,
                                               delete=delete)

    def _delete(self, ctx, id, key):
        self.api.delete_volume_metadata(ctx, id, key)


class SnapshotMetadataController(_MetadataController):
    KIND = 'Snapshot'
    RULES = ('volume:get_snapshot_metadata',
             'volume:update_snapshot_metadata',
             'volume:delete_snapshot_metadata')

    def _get(self, ctx, id):
        return self.api.get_snapshot(ctx, id)

    def _metadata(self, ctx, id):
        return self.api.get_snapshot_metadata(ctx, id)

    def _update(self, ctx, id, metadata, delete):
        return self.api.update_snapshot_metadata(ctx, id, metadata,
                                                 delete=delete)

    def _delete(self, ctx, id, key):
        self.api.delete_snapshot_metadata(ctx, id, key)
