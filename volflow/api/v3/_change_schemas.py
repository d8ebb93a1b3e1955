"""Request bodies of the changes to volumes and snapshots (Cinder's rules).

Names and descriptions are strings of at most 255 characters (or null),
metadata an object of strings; what the volume API checks itself (lengths
of metadata, sizes against the volume) is left to it, so a refusal reads
the same over HTTP as on the command line.
"""

from volflow.api import faults
from volflow.api import schemas

_NAME = {'type': ['string', 'null'], 'maxLength': 255}
_METADATA = {'type': 'object', 'additionalProperties': {'type': 'string'}}
_SIZE = {'type': ['integer', 'string'], 'pattern': r'^\s*[0-9]+\s*$'}
_BOOLEAN = {'type': ['boolean', 'string']}


def _top(name, properties, required=(), additional=False):
    return {
        'type': 'object',
        'properties': {name: {
            'type': 'object', 'properties': properties,
            'required': list(required),
            'additionalProperties': additional}},
        'required': [name],
        'additionalProperties': False,
    }


VOLUME_UPDATE = _top('volume', {
    'name': _NAME, 'description': _NAME, 'display_name': _NAME,
    'display_description': _NAME, 'metadata': _METADATA})

SNAPSHOT_UPDATE = _top('snapshot', {
    'name': _NAME, 'description': _NAME, 'display_name': _NAME,
    'display_description': _NAME})

METADATA = {
    'type': 'object',
    'properties': {'metadata': _METADATA},
    'required': ['metadata'],
    'additionalProperties': False,
}

METADATA_ITEM = {
    'type': 'object',
    'properties': {'meta': {'type': 'object',
                            'additionalProperties': {'type': 'string'},
                            'minProperties': 1, 'maxProperties': 1}},
    'required': ['meta'],
    'additionalProperties': False,
}

#: Volume actions: the body's one key, and the schema of its value.
VOLUME_ACTIONS = {
    'os-extend': {'type': 'object', 'properties': {'new_size': _SIZE},
                  'required': ['new_size']},
    'os-reset_status': {'type': 'object', 'properties': {
        'status': {'type': 'string'}, 'attach_status': {'type': 'string'},
        'migration_status': {'type': 'string'}}},
    'os-set_bootable': {'type': 'object', 'properties': {
        'bootable': _BOOLEAN}, 'required': ['bootable']},
    'os-update_readonly_flag': {'type': 'object', 'properties': {
        'readonly': _BOOLEAN}, 'required': ['readonly']},
    'os-retype': {'type': 'object', 'properties': {
        'new_type': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'migration_policy': {'enum': ['never', 'on-demand', None]}},
        'required': ['new_type']},
    'os-force_delete': {'type': ['object', 'null']},
    'os-set_image_metadata': {'type': 'object', 'properties': {
        'metadata': _METADATA}, 'required': ['metadata']},
    'os-unset_image_metadata': {'type': 'object', 'properties': {
        'key': {'type': 'string', 'minLength': 1, 'maxLength': 255}},
        'required': ['key']},
    'os-show_image_metadata': {'type': ['object', 'null']},
    'os-reserve': {'type': ['object', 'null']},
    'os-unreserve': {'type': ['object', 'null']},
}

SNAPSHOT_ACTIONS = {
    'os-reset_status': {'type': 'object', 'properties': {
        'status': {'type': 'string'}}, 'required': ['status']},
    'os-update_snapshot_status': {'type': 'object', 'properties': {
        'status': {'type': 'string'}, 'progress': {'type': 'string'}},
        'required': ['status']},
    'os-force_delete': {'type': ['object', 'null']},
}


def action_of(body, actions):
    """``(name, value)`` of an action body; 400 unless it is one known."""
    known = [name for name in body if name in actions]
    if len(body) != 1 or not known:
        given = ', '.join(sorted(body)) or '(none)'
        raise faults.HTTPError(
            400, f"There is no such action: {given}; one of "
                 f"{', '.join(sorted(actions))} is expected.")
    name = known[0]
    schemas.validate({'type': 'object', 'properties': {
        name: actions[name]}}, body)
    return name, body[name] or {}


def validate(schema, body):
    """Refuse ``body`` with 400 unless it matches ``schema``."""
    schemas.validate(schema, body)
