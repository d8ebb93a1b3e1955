"""The rules every database implementation follows, in one place.

How a new row is built and a taken id refused, the ids of keyed
reservations, the backend a volume's ``host`` names, whether a volume fits
a capacity claim, and compare-and-swap checks: :mod:`volflow.db.fake` and
:mod:`volflow.db.sqlalchemy` call these inside their atomic sections, so
that both - and an embedder's own implementation of
:class:`volflow.db.api.API` - answer alike.
"""

import copy
import uuid

from volflow.db import api
from volflow import exception


#: Namespace of the ids of keyed reservations.
_RESERVATION_NAMESPACE = uuid.UUID('7d3f5c0e-5a1b-4c8e-9a55-1f0e6b9e2f4d')


def new_record(kind, fields, values, **defaults):
    """A new ``kind`` record from ``values`` over ``defaults``.

    Every name of ``fields`` is present (None unless set); ``values`` is
    deep-copied; an id is generated unless one is given. Both
    implementations build their rows so; an id taken already is refused
    with :func:`already_exists`.
    """
    record = dict.fromkeys(fields)
    record.update(defaults)
    record.update(copy.deepcopy(values))
    record['id'] = record.get('id') or str(uuid.uuid4())
    return record


def new_volume(values, now):
    """A new volume row: ``creating``, no metadata, made ``now``."""
    record = new_record('volume', api.VOLUME_FIELDS, values, metadata={},
                        status='creating', reason=None, multiattach=False,
                        created_at=now, updated_at=now)
    record.pop('volume_type', None)
    return record


def new_service(values, now):
    """A new service row (no ``id``: the database numbers it)."""
    record = dict.fromkeys(api.SERVICE_FIELDS)
    record.update(report_count=0, disabled=False, created_at=now,
                  updated_at=now)
    record.update(copy.deepcopy(values))
    record.pop('id', None)
    return record


def service_matches(service, filters):
    """Whether ``service`` has every value of ``filters``."""
    return all(service.get(key) == value
               for key, value in (filters or {}).items())


#: The error a record created under a taken id raises, by kind.
_INVALID = {'volume': exception.InvalidVolume,
            'snapshot': exception.InvalidSnapshot,
            'image': exception.InvalidImage}


def already_exists(kind, record_id):
    """The error of creating a ``kind`` record under a taken id."""
    return _INVALID[kind](reason=f'{kind} {record_id} already exists')


def reservation_id(key, resource):
    """The id of ``resource``'s reservation made under ``key``."""
    return str(uuid.uuid5(_RESERVATION_NAMESPACE, f'{key}/{resource}'))


def backend_of_host(host):
    """The backend name in a volume's ``host`` (None for no host).

    volflow writes the backend name itself; Cinder's ``host@backend#pool``
    form is accepted too, so ``'node1@local#pool'``, ``'local#pool'`` and
    ``'local'`` all name the backend ``local``.
    """
    if not host:
        return None
    return host.split('#', 1)[0].rsplit('@', 1)[-1]


def claim_fits(volume, backend, capacity_gb, allocated_gb):
    """Raise ``CapacityClaimFailed`` unless the volume fits.

    ``allocated_gb``: what the other volumes on ``backend`` hold.
    Implementations call this inside their atomic section.
    """
    free = capacity_gb - allocated_gb
    if volume['size'] > free:
        raise exception.CapacityClaimFailed(
            backend=backend, volume_id=volume['id'],
            size=volume['size'], free=f'{max(free, 0):g}')


def check_expected(kind, record_id, record, expected):
    """Raise ``InvalidVolume`` unless ``record`` matches ``expected``.

    Implementations call this inside their atomic section to offer
    compare-and-swap updates.
    """
    for field, wanted in (expected or {}).items():
        accepted = wanted if isinstance(wanted, (tuple, list, set)) else (
            wanted,)
        if record.get(field) not in accepted:
            raise exception.InvalidVolume(
                reason=(f"{kind} {record_id} {field} is "
                        f"'{record.get(field)}', expected one of "
                        f"{sorted(map(str, accepted))}"))


def type_visible(context, vtype, has_access):
    """Whether ``context`` may see and use the volume type ``vtype``.

    Public types are everyone's; a private one is its access list's
    projects' (``has_access``) and admins'.
    """
    return context.is_admin or vtype['is_public'] or has_access


def new_volume_type(name, extra_specs, description, is_public):
    """A new volume type record (no QoS specs associated)."""
    return {'id': str(uuid.uuid4()), 'name': name,
            'description': description, 'is_public': bool(is_public),
            'qos_specs_id': None, 'encryption': None,
            'extra_specs': copy.deepcopy(dict(extra_specs or {}))}


#: What :meth:`volflow.db.api.API.volume_type_update` may change.
TYPE_UPDATABLE = ('name', 'description', 'is_public', 'qos_specs_id',
                  'encryption')


def type_update_values(values):
    """``values`` restricted to the updatable fields; others refused."""
    unknown = sorted(set(values) - set(TYPE_UPDATABLE))
    if unknown:
        raise exception.InvalidVolumeType(
            reason=f"{', '.join(unknown)} can't be updated; only "
                   f"{', '.join(TYPE_UPDATABLE)} can")
    return copy.deepcopy(dict(values))


#: The fields of a user message.
MESSAGE_FIELDS = ('id', 'project_id', 'request_id', 'resource_type',
                  'resource_uuid', 'event_id', 'message_level', 'action_id',
                  'detail_id', 'created_at', 'expires_at')


def new_message(values, now):
    """A new user message record made ``now``."""
    record = dict.fromkeys(MESSAGE_FIELDS)
    record.update({key: value for key, value in values.items()
                   if key in MESSAGE_FIELDS})
    record['id'] = record['id'] or str(uuid.uuid4())
    record['created_at'] = now
    return record
