"""The in-memory database's volume types, QoS specs and user messages.

A mixin of :class:`volflow.db.fake.FakeAPI`: it keeps its records in the
dicts ``FakeAPI`` makes and runs every method under its one lock.
"""

import copy

from oslo_utils import timeutils
from oslo_utils import uuidutils

from volflow.db import rules
from volflow import exception


def locked(func):
    """Run under the database's lock; hand out copies only."""
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return copy.deepcopy(func(self, *args, **kwargs))
    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


class TypesMixin:
    """Volume types with their access lists, QoS specs, user messages."""

    def _init_types(self):
        self._types = {}
        self._type_access = set()  # (volume type id, project id)
        self._qos_specs = {}
        self._messages = {}

    # Volume types --------------------------------------------------------
    def _type_visible(self, context, vtype):
        return rules.type_visible(
            context, vtype,
            (vtype['id'], context.project_id) in self._type_access)

    def _type(self, context, type_id):
        vtype = self._types.get(type_id)
        if vtype is None or not self._type_visible(context, vtype):
            raise exception.VolumeTypeNotFound(volume_type=type_id)
        return vtype

    def _check_type_name(self, name, type_id=None):
        if any(t['name'] == name and t['id'] != type_id
               for t in self._types.values()):
            raise exception.VolumeTypeExists(name=name)

    @locked
    def volume_type_create(self, context, name, extra_specs=None,
                           description=None, is_public=True):
        self._check_type_name(name)
        vtype = rules.new_volume_type(name, extra_specs, description,
                                      is_public)
        self._types[vtype['id']] = vtype
        return vtype

    @locked
    def volume_type_get(self, context, type_id):
        return self._type(context, type_id)

    @locked
    def volume_type_get_by_name(self, context, name):
        for vtype in self._types.values():
            if vtype['name'] == name and self._type_visible(context, vtype):
                return vtype
        raise exception.VolumeTypeNotFound(volume_type=name)

    @locked
    def volume_type_get_all(self, context):
        return sorted((t for t in self._types.values()
                       if self._type_visible(context, t)),
                      key=lambda t: t['name'])

    @locked
    def volume_type_update(self, context, type_id, values):
        vtype = self._type(context, type_id)
        values = rules.type_update_values(values)
        if 'name' in values:
            self._check_type_name(values['name'], type_id)
        vtype.update(values)
        return vtype

    @locked
    def volume_type_extra_specs_update(self, context, type_id, specs):
        vtype = self._type(context, type_id)
        vtype['extra_specs'].update(copy.deepcopy(specs))
        return vtype

    @locked
    def volume_type_extra_specs_delete(self, context, type_id, key):
        vtype = self._type(context, type_id)
        if key not in vtype['extra_specs']:
            raise exception.VolumeTypeExtraSpecsNotFound(
                volume_type_id=type_id, extra_specs_key=key)
        del vtype['extra_specs'][key]

    @locked
    def volume_type_destroy(self, context, type_id):
        self._type(context, type_id)
        if any(v['volume_type_id'] == type_id
               for v in self._volumes.values()):
            raise exception.VolumeTypeInUse(volume_type_id=type_id)
        del self._types[type_id]
        self._type_access = {pair for pair in self._type_access
                             if pair[0] != type_id}

    @locked
    def volume_type_access_get_all(self, context, type_id):
        self._type(context, type_id)
        return [{'volume_type_id': type_id, 'project_id': project}
                for vtype, project in sorted(self._type_access)
                if vtype == type_id]

    @locked
    def volume_type_access_add(self, context, type_id, project_id):
        self._type(context, type_id)
        if (type_id, project_id) in self._type_access:
            raise exception.VolumeTypeAccessExists(
                volume_type_id=type_id, project_id=project_id)
        self._type_access.add((type_id, project_id))

    @locked
    def volume_type_access_remove(self, context, type_id, project_id):
        self._type(context, type_id)
        if (type_id, project_id) not in self._type_access:
            raise exception.VolumeTypeAccessNotFound(
                volume_type_id=type_id, project_id=project_id)
        self._type_access.discard((type_id, project_id))

    # QoS specs -----------------------------------------------------------
    def _qos(self, qos_id):
        try:
            return self._qos_specs[qos_id]
        except KeyError:
            raise exception.QoSSpecsNotFound(specs_id=qos_id) from None

    @locked
    def qos_specs_create(self, context, name, consumer, specs):
        if any(q['name'] == name for q in self._qos_specs.values()):
            raise exception.QoSSpecsExists(specs_id=name)
        qos = {'id': uuidutils.generate_uuid(), 'name': name,
               'consumer': consumer, 'specs': dict(specs or {}),
               'created_at': timeutils.utcnow()}
        self._qos_specs[qos['id']] = qos
        return qos

    @locked
    def qos_specs_get(self, context, qos_id):
        return self._qos(qos_id)

    @locked
    def qos_specs_get_all(self, context):
        return sorted(self._qos_specs.values(),
                      key=lambda q: (q['created_at'], q['id']))

    @locked
    def qos_specs_update(self, context, qos_id, values):
        qos = self._qos(qos_id)
        values = copy.deepcopy(values)
        if 'name' in values:
            if any(q['name'] == values['name'] and q['id'] != qos_id
                   for q in self._qos_specs.values()):
                raise exception.QoSSpecsExists(specs_id=values['name'])
            qos['name'] = values.pop('name')
        if 'consumer' in values:
            qos['consumer'] = values.pop('consumer')
        qos['specs'].update(values)
        return qos

    @locked
    def qos_specs_delete_keys(self, context, qos_id, keys):
        qos = self._qos(qos_id)
        for key in keys:
            if key not in qos['specs']:
                raise exception.QoSSpecsKeyNotFound(specs_id=qos_id,
                                                    specs_key=key)
        for key in keys:
            del qos['specs'][key]

    @locked
    def qos_specs_destroy(self, context, qos_id, force=False):
        self._qos(qos_id)
        users = sorted(t['id'] for t in self._types.values()
                       if t['qos_specs_id'] == qos_id)
        if users and not force:
            raise exception.QoSSpecsInUse(specs_id=qos_id,
                                          types=', '.join(users))
        for type_id in users:
            self._types[type_id]['qos_specs_id'] = None
        del self._qos_specs[qos_id]

    # User messages -------------------------------------------------------
    def _message(self, context, message_id):
        message = self._messages.get(message_id)
        if message is None or not (context.is_admin or message[
                'project_id'] == context.project_id):
            raise exception.MessageNotFound(message_id=message_id)
        return message

    @locked
    def message_create(self, context, values):
        message = rules.new_message(values, timeutils.utcnow())
        self._messages[message['id']] = message
        return message

    @locked
    def message_get(self, context, message_id):
        return self._message(context, message_id)

    @locked
    def message_get_all(self, context):
        return [m for m in sorted(self._messages.values(),
                                  key=lambda m: (m['created_at'], m['id']))
                if context.is_admin or m['project_id'] == context.project_id]

    @locked
    def message_destroy(self, context, message_id):
        self._message(context, message_id)
        del self._messages[message_id]
