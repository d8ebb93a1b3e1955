"""The filters and the weigher of the filter scheduler.

Each filter looks at one backend and one request and returns ``None``
when the backend may take the volume, or the reason it may not: the
scheduler's ``NoValidBackend`` error lists those reasons, backend by
backend, so that a user sees why nothing fitted.
"""

from volflow.volume import backends

#: Extra-spec keys naming the backend a volume type wants (Cinder accepts
#: both).
BACKEND_NAME_SPECS = ('volume_backend_name',
                      'capabilities:volume_backend_name')

#: What a backend's driver reports that a volume type's extra specs may
#: ask for, plainly or scoped ``capabilities:`` (Cinder's
#: CapabilitiesFilter); other extra specs are not the filter's business.
CAPABILITY_SPECS = ('vendor_name', 'storage_protocol', 'driver_version')


class BackendState:
    """A backend as the scheduler sees it: configuration plus allocation."""

    def __init__(self, backend, allocated_gb):
        self.name = backend['name']
        self.volume_backend_name = backend['volume_backend_name']
        self.availability_zone = backend['availability_zone']
        self.total_capacity_gb = backend['total_capacity_gb']
        self.allocated_capacity_gb = allocated_gb
        self.free_capacity_gb = backends.free_capacity_gb(backend,
                                                          allocated_gb)
        #: Why no live service can create volumes on it; None: one can
        #: (or liveness is not checked: one process serves every backend).
        self.service_down = None
        self._backend = backend
        self._stats = None

    @property
    def capabilities(self):
        """The driver's stats, read when a filter first asks."""
        if self._stats is None:
            self._stats = backends.driver_stats(self._backend)
        return self._stats

    def __repr__(self):
        return (f'<BackendState {self.name}: '
                f'{self.free_capacity_gb:g}G free>')


class Request:
    """What the filters need to know of one scheduling request."""

    def __init__(self, size, availability_zones=None, backend_name=None,
                 tried=(), resource_backend=None, capabilities=None):
        self.size = size
        #: Zones the volume may go to; ``None``: any.
        self.availability_zones = availability_zones
        #: The volume type's ``volume_backend_name``; ``None``: any.
        self.backend_name = backend_name
        #: Backends earlier attempts failed on.
        self.tried = list(tried)
        #: The backend holding the snapshot or source volume, if any.
        self.resource_backend = resource_backend
        #: ``{capability: wanted}`` of the type's extra specs.
        self.capabilities = dict(capabilities or {})

    @classmethod
    def from_spec(cls, request_spec, filter_properties,
                  resource_backend=None):
        properties = request_spec.get('volume_properties') or {}
        size = properties.get('size', request_spec.get('size'))
        zone = properties.get('availability_zone')
        zones = ({zone} if zone else
                 set(request_spec.get('availability_zones') or ()) or None)
        specs = (request_spec.get('volume_type') or {}).get(
            'extra_specs') or {}
        backend_name = next((specs[key] for key in BACKEND_NAME_SPECS
                             if specs.get(key)), None)
        retry = filter_properties.get('retry') or {}
        capabilities = {}
        for key, wanted in specs.items():
            key = key.removeprefix('capabilities:')
            if key in CAPABILITY_SPECS:
                capabilities[key] = wanted
        return cls(size, zones, backend_name, retry.get('backends', ()),
                   resource_backend, capabilities)


def retry_filter(backend, request):
    """Cinder's IgnoreAttemptedHostsFilter: never the same backend twice."""
    if backend.name in request.tried:
        return 'already tried for this volume'
    return None


def resource_backend_filter(backend, request):
    """A volume from a snapshot or a clone goes where its source is."""
    if request.resource_backend and backend.name != request.resource_backend:
        return (f"the snapshot or source volume is on backend "
                f"'{request.resource_backend}'")
    return None


def availability_zone_filter(backend, request):
    if (request.availability_zones is not None and
            backend.availability_zone not in request.availability_zones):
        return (f"in availability zone '{backend.availability_zone}', not "
                f"in {', '.join(sorted(request.availability_zones))}")
    return None


def backend_name_filter(backend, request):
    """The volume type's ``volume_backend_name`` extra spec must match."""
    if (request.backend_name is not None and
            backend.volume_backend_name != request.backend_name):
        return (f"volume_backend_name is '{backend.volume_backend_name}', "
                f"the volume type asks for '{request.backend_name}'")
    return None


def _matches(value, wanted):
    """Cinder's extra spec operators ``<or>``, ``<in>``, ``s==``, ``==``."""
    value = '' if value is None else str(value)
    words = str(wanted).split()
    if len(words) > 1 and words[0] == '<or>':
        return value in words[1::2]
    if len(words) == 2 and words[0] == '<in>':
        return words[1] in value
    if len(words) == 2 and words[0] in ('s==', '=='):
        return value == words[1]
    return value == str(wanted)


def capabilities_filter(backend, request):
    """The type's capability extra specs must match the driver's stats."""
    for key, wanted in sorted(request.capabilities.items()):
        value = backend.capabilities.get(key)
        if not _matches(value, wanted):
            return f"{key} is '{value}', the volume type asks for '{wanted}'"
    return None


def capacity_filter(backend, request):
    if request.size > backend.free_capacity_gb:
        return (f'{max(backend.free_capacity_gb, 0):g}G free, '
                f'{request.size}G requested')
    return None


def service_filter(backend, request):
    """Only a backend a live volume service or conductor serves.

    Cinder's host manager leaves out the backends whose service is down
    or disabled; checked last, so that a backend the request could not
    use anyway is refused for that reason.
    """
    return backend.service_down


FILTERS = (retry_filter, resource_backend_filter, availability_zone_filter,
           backend_name_filter, capabilities_filter, capacity_filter,
           service_filter)


def filter_backends(states, request, filters=FILTERS):
    """Split ``states`` into ``(passed, {name: reason})``."""
    passed = []
    rejected = {}
    for state in states:
        reason = next((why for why in (f(state, request) for f in filters)
                       if why), None)
        if reason is None:
            passed.append(state)
        else:
            rejected[state.name] = reason
    return passed, rejected


def weigh(states):
    """The backends best first: most free capacity, then config order."""
    return sorted(states, key=lambda state: -state.free_capacity_gb)
