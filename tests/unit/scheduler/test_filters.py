"""The capabilities filter: a type's extra specs against driver stats."""

import pytest

from volflow.scheduler import filters


def _state(driver='fake'):
    backend = {'name': 'b', 'volume_backend_name': 'b',
               'availability_zone': 'nova', 'total_capacity_gb': 10,
               'reserved_percentage': 0, 'thin_provisioning_support': False,
               'max_over_subscription_ratio': 1.0, 'volume_driver': driver,
               'fake_latency': 0, 'fake_failure_rate': 0}
    return filters.BackendState(backend, 0)


def _request(specs):
    return filters.Request.from_spec(
        {'size': 1, 'volume_type': {'extra_specs': specs}}, {})


@pytest.mark.parametrize('specs', [
    {},
    {'storage_protocol': 'fake'},
    {'capabilities:storage_protocol': 'fake', 'vendor_name': 'volflow'},
    {'storage_protocol': '<or> iSCSI <or> fake'},
    {'vendor_name': '<in> volf'},
    {'vendor_name': 's== volflow'},
    {'spec1': 'not a capability', 'vendor:thing': 'scoped: ignored'},
])
def test_matching_types_pass(specs):
    assert filters.capabilities_filter(_state(), _request(specs)) is None


@pytest.mark.parametrize('specs, reason', [
    ({'storage_protocol': 'iSCSI'},
     "storage_protocol is 'fake', the volume type asks for 'iSCSI'"),
    ({'capabilities:vendor_name': 'nobody'},
     "vendor_name is 'volflow', the volume type asks for 'nobody'"),
    ({'storage_protocol': '<or> iSCSI <or> FC'}, 'storage_protocol'),
    ({'driver_version': '0.1'}, 'driver_version'),
])
def test_other_capabilities_are_refused_with_the_reason(specs, reason):
    assert reason in filters.capabilities_filter(_state(), _request(specs))


def test_the_driver_is_asked_only_when_a_type_wants_a_capability():
    state = _state(driver='no.such.Driver')
    assert filters.capabilities_filter(state, _request({'a': 'b'})) is None
    assert state._stats is None
