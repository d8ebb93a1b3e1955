"""Request bodies, checked with jsonschema, following Cinder's rules.

As in ``cinder/api/schemas/volumes.py``: the top level takes only
``volume`` (and ``OS-SCH-HNT:scheduler_hints``), the ``volume`` object
tolerates fields it does not know, names and descriptions are strings of
at most 255 characters, metadata values are strings. What the create
flow checks itself (the size's value, metadata lengths, references) is
left to it, so a refusal reads the same over HTTP as on the command line.
A refusal names the field, the value and the rule, as Cinder's does.
"""

import jsonschema

from volflow.api import faults

_NAME = {'type': ['string', 'null'], 'maxLength': 255}
_REF = {'type': ['string', 'null'], 'maxLength': 255}
_METADATA = {'type': ['object', 'null'],
             'additionalProperties': {'type': 'string'}}
_SIZE = {'type': ['integer', 'string', 'null']}
_BOOLEAN = {'type': ['boolean', 'string'],
            'enum': [True, False, 'True', 'False', 'true', 'false', '1',
                     '0', 'yes', 'no', 'y', 'n', 'on', 'off']}

VOLUME_CREATE = {
    'type': 'object',
    'properties': {
        'volume': {
            'type': 'object',
            'properties': {
                'name': _NAME,
                'description': _NAME,
                'display_name': _NAME,
                'display_description': _NAME,
                'size': _SIZE,
                'volume_type': _REF,
                'availability_zone': _REF,
                'snapshot_id': _REF,
                'source_volid': _REF,
                'imageRef': _REF,
                'image_id': _REF,
                'metadata': _METADATA,
                'multiattach': _BOOLEAN,
                'consistencygroup_id': _REF,
                'group_id': _REF,
                'backup_id': _REF,
            },
            'additionalProperties': True,
        },
        'OS-SCH-HNT:scheduler_hints': {'type': ['object', 'null']},
    },
    'required': ['volume'],
    'additionalProperties': False,
}

SNAPSHOT_CREATE = {
    'type': 'object',
    'properties': {
        'snapshot': {
            'type': 'object',
            'properties': {
                # null is let through to be not found (404), as in Cinder.
                'volume_id': {'type': ['string', 'null'], 'maxLength': 255},
                'name': _NAME,
                'description': _NAME,
                'display_name': _NAME,
                'display_description': _NAME,
                'force': _BOOLEAN,
                'metadata': _METADATA,
            },
            'required': ['volume_id'],
            'additionalProperties': False,
        },
    },
    'required': ['snapshot'],
    'additionalProperties': False,
}

TYPE_CREATE = {
    'type': 'object',
    'properties': {
        'volume_type': {
            'type': 'object',
            'properties': {
                'name': {'type': 'string', 'minLength': 1,
                         'maxLength': 255, 'pattern': r'^\S(.*\S)?$'},
                'description': _NAME,
                'os-volume-type-access:is_public': _BOOLEAN,
                'extra_specs': {
                    'type': 'object',
                    'propertyNames': {'minLength': 1, 'maxLength': 255},
                    'additionalProperties': {'type': 'string',
                                             'maxLength': 255}},
            },
            'required': ['name'],
            'additionalProperties': False,
        },
    },
    'required': ['volume_type'],
    'additionalProperties': False,
}

#: Extra spec (and QoS spec) keys as Cinder takes them; values strings.
_SPECS = {
    'type': 'object',
    'patternProperties': {
        r'^[a-zA-Z0-9-_:. /]{1,255}$': {'type': 'string', 'maxLength': 255},
    },
    'additionalProperties': False,
}

TYPE_UPDATE = {
    'type': 'object',
    'properties': {
        'volume_type': {
            'type': 'object',
            'properties': {
                'name': {'type': ['string', 'null'], 'minLength': 1,
                         'maxLength': 255},
                'description': _NAME,
                'is_public': _BOOLEAN,
            },
            'additionalProperties': False,
        },
    },
    'required': ['volume_type'],
    'additionalProperties': False,
}

EXTRA_SPECS_CREATE = {
    'type': 'object',
    'properties': {'extra_specs': _SPECS},
    'required': ['extra_specs'],
    'additionalProperties': False,
}

EXTRA_SPEC_UPDATE = dict(_SPECS, minProperties=1, maxProperties=1)

_PROJECT = {
    'type': 'object',
    'properties': {'project': {'type': 'string', 'minLength': 1,
                               'maxLength': 255}},
    'required': ['project'],
    'additionalProperties': False,
}

TYPE_ACTION = {
    'type': 'object',
    'properties': {'addProjectAccess': _PROJECT,
                   'removeProjectAccess': _PROJECT},
    'minProperties': 1,
    'maxProperties': 1,
    'additionalProperties': False,
}

_ENCRYPTION = {
    'type': 'object',
    'properties': {
        'provider': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'cipher': {'type': ['string', 'null'], 'maxLength': 255},
        'key_size': {'type': ['integer', 'null'], 'minimum': 0},
        'control_location': {'type': 'string',
                             'enum': ['front-end', 'back-end']},
    },
    'additionalProperties': False,
}

ENCRYPTION_CREATE = {
    'type': 'object',
    'properties': {'encryption': dict(_ENCRYPTION, required=['provider'])},
    'required': ['encryption'],
    'additionalProperties': False,
}

ENCRYPTION_UPDATE = {
    'type': 'object',
    'properties': {'encryption': dict(_ENCRYPTION, minProperties=1)},
    'required': ['encryption'],
    'additionalProperties': False,
}

QOS_CREATE = {
    'type': 'object',
    'properties': {
        'qos_specs': {
            'type': 'object',
            'properties': {
                'name': {'type': 'string', 'minLength': 1, 'maxLength': 255,
                         'pattern': r'^\S(.*\S)?$'},
                'consumer': {'type': 'string',
                             'enum': ['front-end', 'back-end', 'both']},
            },
            'additionalProperties': {'type': 'string', 'maxLength': 255},
            'required': ['name'],
        },
    },
    'required': ['qos_specs'],
    'additionalProperties': False,
}

QOS_SET = {
    'type': 'object',
    'properties': {'qos_specs': dict(_SPECS, minProperties=1)},
    'required': ['qos_specs'],
    'additionalProperties': False,
}

QOS_UNSET = {
    'type': 'object',
    'properties': {
        'keys': {'type': 'array', 'minItems': 1, 'uniqueItems': True,
                 'items': {'type': 'string', 'minLength': 1,
                           'maxLength': 255}},
    },
    'required': ['keys'],
    'additionalProperties': False,
}


_QUOTA_LIMITS = {
    'type': 'object',
    'additionalProperties': {
        'type': ['integer', 'string'],
        'pattern': r'^-?[0-9]+$',
    },
}

QUOTA_UPDATE = {
    'type': 'object',
    'properties': {
        'quota_set': _QUOTA_LIMITS,
        # Cinder's: false checks every new limit against the usage.
        'skip_validation': {'type': ['boolean', 'string']},
    },
    'required': ['quota_set'],
    'additionalProperties': False,
}

QUOTA_CLASS_UPDATE = {
    'type': 'object',
    'properties': {'quota_class_set': _QUOTA_LIMITS},
    'required': ['quota_class_set'],
    'additionalProperties': False,
}


def _field(error):
    path = [str(part) for part in error.absolute_path]
    return '/'.join(path) or 'body'


def _describe(error):
    if error.validator == 'required':
        return error.message
    if error.validator == 'additionalProperties' and not error.path:
        extra = sorted(set(error.instance) - set(
            error.schema.get('properties', {})))
        return (f"Additional properties are not allowed "
                f"({', '.join(repr(key) for key in extra)} unexpected)")
    value = repr(error.instance)
    if len(value) > 80:
        value = value[:77] + '...'
    if error.validator == 'maxLength':
        rule = f'It is longer than {error.validator_value} characters.'
    elif error.validator == 'minLength':
        rule = f'It is shorter than {error.validator_value} characters.'
    elif error.validator == 'type':
        rule = f'It is not of type {error.validator_value!r}.'
    elif error.validator == 'enum':
        rule = 'It is not one of the values accepted.'
    else:
        rule = error.message[:200]
    return (f'Invalid input for field/attribute {_field(error)}. '
            f'Value: {value}. {rule}')


def validate(schema, body):
    """Refuse ``body`` with 400 unless it matches ``schema``."""
    validator = jsonschema.Draft7Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is not None:
        raise faults.HTTPError(400, _describe(error))
