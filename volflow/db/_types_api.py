"""The part of the database interface about volume types, QoS specs and
user messages (:class:`volflow.db.api.API` inherits it); the in-memory
and SQL implementations of it are ``db/_fake_types.py`` and
``db/sqlalchemy/_types.py``.
"""

import abc


class TypesAPI(metaclass=abc.ABCMeta):
    """Volume types, their extra specs and access; QoS specs; messages."""

    # Volume types --------------------------------------------------------
    # A private type (``is_public`` false) is seen and used only by admins
    # and the projects on its access list; to anyone else it does not
    # exist (``VolumeTypeNotFound``), as another project's volume.
    @abc.abstractmethod
    def volume_type_create(self, context, name, extra_specs=None,
                           description=None, is_public=True):
        """Create a volume type; ``VolumeTypeExists`` if the name exists."""

    @abc.abstractmethod
    def volume_type_get(self, context, type_id):
        """Return a type by id or raise ``VolumeTypeNotFound``."""

    @abc.abstractmethod
    def volume_type_get_by_name(self, context, name):
        """Return a type by name or raise ``VolumeTypeNotFound``."""

    @abc.abstractmethod
    def volume_type_get_all(self, context):
        """The types ``context`` may see, by name."""

    @abc.abstractmethod
    def volume_type_update(self, context, type_id, values):
        """Change a type's own fields; return it.

        ``name``, ``description``, ``is_public``, ``qos_specs_id`` and
        ``encryption`` (a dict, or None for none).

        :raises VolumeTypeExists: the new name is another type's.
        """

    @abc.abstractmethod
    def volume_type_extra_specs_update(self, context, type_id, specs):
        """Add or replace extra specs; return the type."""

    @abc.abstractmethod
    def volume_type_extra_specs_delete(self, context, type_id, key):
        """Remove one extra spec or raise ``VolumeTypeExtraSpecsNotFound``."""

    @abc.abstractmethod
    def volume_type_destroy(self, context, type_id):
        """Delete a type and its access list.

        :raises VolumeTypeInUse: a volume has the type; nothing changed.
        """

    @abc.abstractmethod
    def volume_type_access_get_all(self, context, type_id):
        """``[{'volume_type_id', 'project_id'}]`` of a type."""

    @abc.abstractmethod
    def volume_type_access_add(self, context, type_id, project_id):
        """Give a project access; ``VolumeTypeAccessExists`` if it has."""

    @abc.abstractmethod
    def volume_type_access_remove(self, context, type_id, project_id):
        """Take access away; ``VolumeTypeAccessNotFound`` if it had none."""

    # QoS specs -----------------------------------------------------------
    # ``{'id', 'name', 'consumer', 'specs', 'created_at'}``; a type names
    # the one associated with it in its ``qos_specs_id``.
    @abc.abstractmethod
    def qos_specs_create(self, context, name, consumer, specs):
        """Create QoS specs; ``QoSSpecsExists`` if the name exists."""

    @abc.abstractmethod
    def qos_specs_get(self, context, qos_id):
        """Return QoS specs by id or raise ``QoSSpecsNotFound``."""

    @abc.abstractmethod
    def qos_specs_get_all(self, context):
        """Every QoS specs, oldest first."""

    @abc.abstractmethod
    def qos_specs_update(self, context, qos_id, values):
        """Set keys (``name`` and ``consumer`` are the record's own)."""

    @abc.abstractmethod
    def qos_specs_delete_keys(self, context, qos_id, keys):
        """Remove keys; ``QoSSpecsKeyNotFound`` if one is missing."""

    @abc.abstractmethod
    def qos_specs_destroy(self, context, qos_id, force=False):
        """Delete QoS specs.

        :raises QoSSpecsInUse: a type is associated (unless ``force``: the
            types are disassociated).
        """

    # User messages -------------------------------------------------------
    @abc.abstractmethod
    def message_create(self, context, values):
        """Record a user message (fields: ``rules.MESSAGE_FIELDS``)."""

    @abc.abstractmethod
    def message_get(self, context, message_id):
        """Return a message of the context's project (any for admins)."""

    @abc.abstractmethod
    def message_get_all(self, context):
        """The messages ``context`` may see, oldest first."""

    @abc.abstractmethod
    def message_destroy(self, context, message_id):
        """Delete a message or raise ``MessageNotFound``."""
