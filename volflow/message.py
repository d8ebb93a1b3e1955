"""User messages: why an accepted request failed, for the user to read.

A create is accepted (202) before it is scheduled and built; when either
fails, the user learns why from a message recorded for the volume, as in
Cinder (``GET /v3/{project_id}/messages``, microversion 3.3). A message
names the resource, the action that failed and a detail, never the
internal error itself: its ``event_id`` is
``VOLUME_<resource type>_<action id>_<detail id>``, its text
``"<action>:<detail>"``.
"""

import datetime

from oslo_log import log as logging
from oslo_utils import timeutils

LOG = logging.getLogger(__name__)

RESOURCE_VOLUME = 'VOLUME'

#: (id, what was being done); Cinder's ids.
SCHEDULE_ALLOCATE_VOLUME = ('001', 'schedule allocate volume')
CREATE_VOLUME_FROM_BACKEND = ('008', 'create volume from backend storage')
ACTIONS = (SCHEDULE_ALLOCATE_VOLUME, CREATE_VOLUME_FROM_BACKEND)

#: (id, what went wrong); Cinder's ids.
UNKNOWN_ERROR = ('001', 'An unknown error occurred.')
NO_BACKEND_AVAILABLE = ('003',
                        'Could not find any available weighted backend.')
DRIVER_FAILED_CREATE = ('012', 'Driver failed to create the volume.')
DETAILS = (UNKNOWN_ERROR, NO_BACKEND_AVAILABLE, DRIVER_FAILED_CREATE)


#: Seconds a message is kept at least, when ``message_ttl`` is not set.
DEFAULT_TTL = 2592000


def record(db_api, context, action, detail, resource_uuid, ttl=DEFAULT_TTL,
           resource_type=RESOURCE_VOLUME, level='ERROR', project_id=None):
    """Record a message for a project (default: ``context``'s).

    Never raises: a message that can't be recorded is logged.

    :param ttl: seconds the message is kept at least (``message_ttl``).
    """
    values = {
        'project_id': project_id or context.project_id,
        'request_id': context.request_id,
        'resource_type': resource_type,
        'resource_uuid': resource_uuid,
        'action_id': action[0],
        'detail_id': detail[0],
        'message_level': level,
        'event_id': f'VOLUME_{resource_type}_{action[0]}_{detail[0]}',
        'expires_at': timeutils.utcnow() + datetime.timedelta(seconds=ttl),
    }
    try:
        return db_api.message_create(context, values)
    except Exception:
        LOG.exception('Failed to record the user message %(event)s for '
                      '%(uuid)s', {'event': values['event_id'],
                                   'uuid': resource_uuid})
        return None


def _text(choices, wanted, default):
    return next((text for ident, text in choices if ident == wanted),
                default)


def user_message(message):
    """The text a user reads: ``"<action>:<detail>"``."""
    action = _text(ACTIONS, message.get('action_id'), 'unknown action')
    detail = _text(DETAILS, message.get('detail_id'), UNKNOWN_ERROR[1])
    return f'{action}:{detail}'
