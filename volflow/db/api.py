"""The database interface volflow's flows, quota and services use.

Records travel as plain ``dict`` objects, never ORM objects, so that the
in-memory fake, the SQL implementation and an embedding service's own
implementation are interchangeable. Reads are scoped to the context's
project unless the context is an admin one; a record of another project is
reported as not found, never as forbidden, so its existence is not revealed.

Capacity follows the volumes: what is allocated on a backend is the sum of
the sizes of the volumes whose ``host`` names it. Placing a volume is a
*capacity claim* (:meth:`API.volume_claim_capacity`): the allocation is
read and the volume's ``host`` written in one atomic section per backend,
so schedulers and conductors in any number of processes never place more
than a backend holds. The volume row is the claim: clearing its ``host``
(a reschedule, an error), or deleting it, releases exactly its size, and
doing so twice releases nothing more.

Quota bookkeeping follows Cinder: a *usage* row per project and resource
holds ``in_use`` and ``reserved``; :meth:`API.quota_reserve` checks limits
and adds positive deltas to ``reserved`` atomically; a commit moves the
delta to ``in_use``; a rollback takes it back.
"""

import abc
import functools
import threading

from volflow import context as volflow_context
from volflow.db import _types_api
from volflow import exception

#: Fields of a volume as the API and the command line show it.
VOLUME_FIELDS = ('id', 'name', 'description', 'size', 'status', 'project_id',
                 'user_id', 'volume_type_id', 'volume_type',
                 'availability_zone', 'host', 'snapshot_id', 'source_volid',
                 'image_id', 'metadata', 'created_at', 'updated_at')

SNAPSHOT_FIELDS = ('id', 'volume_id', 'volume_size', 'name', 'status',
                   'project_id', 'created_at')

IMAGE_FIELDS = ('id', 'name', 'size', 'min_disk', 'status', 'project_id',
                'is_public')

VOLUME_TYPE_FIELDS = ('id', 'name', 'extra_specs')

#: Fields of a service record (Cinder's ``services`` table): one row per
#: running binary and host, whose ``updated_at`` says when it last
#: reported.
SERVICE_FIELDS = ('id', 'host', 'binary', 'topic', 'availability_zone',
                  'report_count', 'disabled', 'disabled_reason',
                  'created_at', 'updated_at')

#: The volume type every database has (Cinder's built-in default type).
DEFAULT_VOLUME_TYPE = '__DEFAULT__'


class _Changes:
    """A count of volume writes in this process, and who waits on it."""

    def __init__(self):
        self.count = 0
        self.condition = threading.Condition(threading.Lock())


def volume_write(func):
    """Decorate an implementation's method that writes volumes.

    When it returns - its transaction committed - the threads waiting in
    :meth:`API.volume_wait_change` wake up.
    """
    @functools.wraps(func)
    def wrapper(self, *args, **kwargs):
        result = func(self, *args, **kwargs)
        changes = self._volume_changes()
        with changes.condition:
            changes.count += 1
            changes.condition.notify_all()
        return result
    return wrapper


class API(_types_api.TypesAPI, metaclass=abc.ABCMeta):
    """What volflow needs from a database.

    Volume types, QoS specs and user messages are declared in
    :class:`volflow.db._types_api.TypesAPI`.
    """

    # Changes -------------------------------------------------------------
    def _volume_changes(self):
        changes = self.__dict__.get('_volflow_changes')
        if changes is None:
            changes = self.__dict__.setdefault('_volflow_changes',
                                               _Changes())
        return changes

    def volume_changes(self):
        """How many volume writes this process has seen (a mark)."""
        return self._volume_changes().count

    def volume_wait_change(self, mark, timeout):
        """Wait until a volume write after ``mark``, or ``timeout`` seconds.

        Writes of this process wake the waiter at once (the implementations
        decorate theirs with :func:`volume_write`); another process's are
        seen when the caller reads again after the timeout.

        :returns: whether a write came.
        """
        changes = self._volume_changes()
        with changes.condition:
            return changes.condition.wait_for(
                lambda: changes.count != mark, timeout)

    # Volumes -------------------------------------------------------------
    @abc.abstractmethod
    def volume_create(self, context, values):
        """Insert a volume; ``values`` may carry ``id``. Returns it."""

    @abc.abstractmethod
    def volume_get(self, context, volume_id):
        """Return one volume or raise ``VolumeNotFound``."""

    @abc.abstractmethod
    def volume_get_all(self, context, filters=None):
        """Volumes visible to ``context``, oldest first.

        ``filters`` maps field names to required values (``status``,
        ``host``, ``project_id``).
        """

    @abc.abstractmethod
    def volume_update(self, context, volume_id, values, expected=None):
        """Update a volume and return it.

        With ``expected`` (field -> value, or field -> tuple of accepted
        values) the update happens only if the row still matches, as one
        atomic compare-and-swap; otherwise ``InvalidVolume`` names the
        field that did not match.
        """

    @abc.abstractmethod
    def volume_destroy(self, context, volume_id):
        """Delete a volume row (with its metadata)."""

    @abc.abstractmethod
    def volume_allocated_by_host(self, context):
        """Return ``{host: gigabytes}`` summed over the volumes placed."""

    @abc.abstractmethod
    def volume_claim_capacity(self, context, volume_id, backend,
                              capacity_gb, values=None):
        """Place a ``creating`` volume on ``backend`` if it fits, atomically.

        In one atomic section holding ``backend``'s lock (a row lock on
        PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite, the fake's lock): the
        sizes of the other volumes on ``backend`` (as
        :func:`volflow.db.rules.backend_of_host` reads their ``host``) are
        added up (kept up to date by the SQL implementation, not summed
        per claim); if the volume's size fits in
        ``capacity_gb`` beyond them, the volume's ``host`` becomes
        ``backend`` and ``values`` (e.g. ``availability_zone``) are
        written with it. A volume already on ``backend`` is returned as it
        is (the claim is keyed on the volume: claiming again claims
        nothing more).

        :returns: the volume as placed.
        :raises CapacityClaimFailed: the backend has not room enough (it
            names the free gigabytes); nothing changed.
        :raises InvalidVolume: the volume is no longer ``creating``.
        :raises VolumeNotFound: the volume is gone.
        """

    # Snapshots -----------------------------------------------------------
    @abc.abstractmethod
    def snapshot_create(self, context, values):
        """Insert a snapshot and return it."""

    @abc.abstractmethod
    def snapshot_get(self, context, snapshot_id):
        """Return one snapshot or raise ``SnapshotNotFound``."""

    @abc.abstractmethod
    def snapshot_get_all(self, context, volume_id=None):
        """Snapshots visible to ``context``, optionally of one volume."""

    @abc.abstractmethod
    def snapshot_update(self, context, snapshot_id, values):
        """Update a snapshot and return it."""

    @abc.abstractmethod
    def snapshot_destroy(self, context, snapshot_id):
        """Delete a snapshot row."""

    # Images --------------------------------------------------------------
    @abc.abstractmethod
    def image_create(self, context, values):
        """Insert an image record and return it."""

    @abc.abstractmethod
    def image_get(self, context, image_id):
        """Return an image the context may see, or raise ``ImageNotFound``.

        Public images are visible to every project.
        """

    @abc.abstractmethod
    def image_get_all(self, context):
        """Images the context may see."""

    @abc.abstractmethod
    def image_update(self, context, image_id, values):
        """Change an image the context may see; return it."""

    @abc.abstractmethod
    def image_destroy(self, context, image_id):
        """Delete an image row."""

    # Quotas --------------------------------------------------------------
    @abc.abstractmethod
    def quota_get_all(self, context, project_id):
        """Return ``{resource: limit}`` for the limits set explicitly."""

    def quota_get_all_of(self, context, project_ids):
        """:meth:`quota_get_all` of each of ``project_ids``, in a list.

        An implementation reads them at once (one query, one
        transaction); this one calls :meth:`quota_get_all` for each.
        """
        return [self.quota_get_all(context, project_id)
                for project_id in project_ids]

    @abc.abstractmethod
    def quota_set(self, context, project_id, resource, limit):
        """Set (create or replace) one limit."""

    @abc.abstractmethod
    def quota_destroy_all(self, context, project_id):
        """Forget every limit set for the project: defaults apply again."""

    @abc.abstractmethod
    def quota_usage_get_all(self, context, project_id):
        """Return ``{resource: {'in_use': n, 'reserved': n}}``."""

    @abc.abstractmethod
    def quota_reserve(self, context, project_id, deltas, limits, expire,
                      key=None, defaults_from=None, size=None):
        """Check limits and reserve ``deltas`` atomically.

        ``limits`` are the defaults; a limit set for ``defaults_from`` (a
        quota class's key) overrides them, and a limit set for the project
        with :meth:`quota_set` takes precedence over both; they are read
        in the same atomic section, so a concurrent quota update is never
        half seen. A usage
        row that does not exist yet is created from a live count of the
        project's records. A resource is over quota when its limit
        is not negative, its delta is not negative and
        ``limit < delta + in_use + reserved``. If any resource is over,
        ``OverQuota`` is raised with ``overs``, ``usages`` and ``quotas``
        kwargs and nothing changes; otherwise positive deltas are added to
        ``reserved`` and the reservation ids are returned.

        With ``key`` the reservation is idempotent, for flows that may run
        a step again after a crash: its ids are :func:`reservation_id`
        ``(key, resource)``, and while any of them is outstanding or
        recorded as committed the call returns the ids and changes
        nothing. A reservation rolled back (or expired) may be made again.

        With ``size`` (a new volume's), the limit ``per_volume_gigabytes``
        - from ``limits`` and the quota rows, as the others - is checked
        first, in the same atomic section: ``VolumeSizeExceedsLimit``
        when ``size`` is over it, and nothing changes.
        """

    @abc.abstractmethod
    def reservation_commit(self, context, reservations):
        """Move reserved deltas into ``in_use`` (never below zero).

        Committed ids are recorded (until
        :meth:`reservation_purge_committed`), so that committing again is
        a no-op and a keyed reservation is not made twice.

        :returns: the ids that were neither outstanding nor committed
            before: rolled back, expired or unknown.
        """

    @abc.abstractmethod
    def reservation_rollback(self, context, reservations):
        """Release reserved deltas without using them."""

    @abc.abstractmethod
    def reservation_expire(self, context, now):
        """Roll back every reservation expired at ``now``; return count."""

    @abc.abstractmethod
    def reservation_get_all(self, context, project_id=None):
        """Outstanding reservations (for checks and tests)."""

    @abc.abstractmethod
    def reservations_committed(self, context, reservations):
        """The ids of ``reservations`` recorded as committed."""

    @abc.abstractmethod
    def reservation_purge_committed(self, context, before):
        """Forget the commits recorded before ``before``; return how many."""

    # Flow claims ---------------------------------------------------------
    # Which process runs a persisted flow (volflow.persistence): one claim
    # per flow detail uuid, held by an owner until ``expire``.
    @abc.abstractmethod
    def flow_claim(self, context, flow_uuid, owner, expire,
                   dead_owners=()):
        """Claim a flow for ``owner`` until ``expire``, atomically.

        Succeeds when the flow is unclaimed, its claim expired, or its
        owner is one of ``dead_owners``; a claim ``owner`` already holds
        is *not* taken again (one owner never runs a flow twice at once).

        :returns: whether ``owner`` now holds the claim.
        """

    @abc.abstractmethod
    def flow_claim_release(self, context, flow_uuid, owner):
        """Drop ``owner``'s claim on the flow (no-op if not its own)."""

    @abc.abstractmethod
    def flow_claims_renew(self, context, owner, expire):
        """Extend every claim ``owner`` holds to ``expire``."""

    @abc.abstractmethod
    def flow_claim_get_all(self, context):
        """Every claim: ``[{'flow_uuid', 'owner', 'expire'}]``."""

    # Services ------------------------------------------------------------
    # What each long-running service reports (volflow.scheduler.
    # servicegroup); one row per (host, binary).
    @abc.abstractmethod
    def service_create(self, context, values):
        """Add a service record; the record.

        :data:`SERVICE_FIELDS` not given are None (``report_count`` 0,
        ``disabled`` False, ``created_at`` and ``updated_at`` now).

        :raises ServiceExists: when a record of that host and binary
            exists.
        """

    @abc.abstractmethod
    def service_get_by_host_and_binary(self, context, host, binary):
        """The record of ``binary`` on ``host``.

        :raises ServiceNotFound: when there is none.
        """

    @abc.abstractmethod
    def service_get_all(self, context, filters=None):
        """Every service record, by ``id``.

        ``filters`` may hold ``host``, ``binary`` and ``disabled`` (exact
        matches).
        """

    @abc.abstractmethod
    def service_update(self, context, service_id, values):
        """Change a service record; the record.

        :raises ServiceNotFound: when ``service_id`` is not there.
        """

    # Seeding -------------------------------------------------------------
    def seed(self):
        """Create the default data of a fresh database, idempotently.

        The built-in type is always ``__DEFAULT__``, as Cinder's is: the
        ``default_volume_type`` option names the type requests get, and a
        type it names that does not exist is a configuration error
        (:class:`~volflow.exception.VolumeTypeDefaultMisconfiguredError`), not
        something to create.
        """
        ctx = volflow_context.get_admin_context()
        try:
            self.volume_type_get_by_name(ctx, DEFAULT_VOLUME_TYPE)
        except exception.VolumeTypeNotFound:
            try:
                self.volume_type_create(
                    ctx, DEFAULT_VOLUME_TYPE,
                    {}, description='Default volume type.')
            except exception.VolumeTypeExists:
                pass  # another process seeded it first
