"""``/v3/{project_id}/messages`` (microversion 3.3): list, show, delete.

A project sees its own messages, an admin every project's. Before 3.3
the paths do not exist (404), as in Cinder.
"""

from volflow.api import faults
from volflow.api import microversion
from volflow.api import router
from volflow import message as volflow_message


def _time(value):
    return value.isoformat() if value is not None else None


def _view(req, message):
    base = req.application_url.rstrip('/')
    project = message['project_id']
    view = {
        'id': message['id'],
        'event_id': message['event_id'],
        'user_message': volflow_message.user_message(message),
        'message_level': message['message_level'],
        'created_at': _time(message['created_at']),
        'guaranteed_until': _time(message['expires_at']),
        'request_id': message['request_id'],
        'links': [
            {'href': f'{base}/v3/{project}/messages/{message["id"]}',
             'rel': 'self'},
            {'href': f'{base}/{project}/messages/{message["id"]}',
             'rel': 'bookmark'}],
    }
    for key in ('resource_type', 'resource_uuid'):
        if message.get(key):
            view[key] = message[key]
    return view


class MessageController:

    def __init__(self, volume_api, policy, conf):
        self.db = volume_api.db
        self.policy = policy
        self.conf = conf

    @staticmethod
    def _check_version(req):
        if not microversion.at_least(req, 3, 3):
            raise faults.HTTPError(404, 'The resource could not be found.')

    def _get(self, req, ctx, id, action):
        self._check_version(req)
        message = self.db.message_get(ctx, id)
        self.policy.authorize(ctx, action,
                              {'project_id': message['project_id']})
        return message

    def index(self, req, ctx):
        self._check_version(req)
        self.policy.authorize(ctx, 'message:get_all')
        return router.Response({'messages': [
            _view(req, message) for message in self.db.message_get_all(ctx)]})

    def show(self, req, ctx, id):
        message = self._get(req, ctx, id, 'message:get')
        return router.Response({'message': _view(req, message)})

    def delete(self, req, ctx, id):
        self._get(req, ctx, id, 'message:delete')
        self.db.message_destroy(ctx, id)
        return router.Response(status=204)
