"""Backend dicts as volflow.volume.backends.get_backends returns them."""

import pytest


@pytest.fixture
def make_backend(tmp_path):
    """``make_backend(name, **values)``: one backend's configuration."""
    def make(name='b1', **values):
        config = {
            'name': name,
            'volume_driver': 'file',
            'volume_backend_name': name,
            'availability_zone': 'nova',
            'total_capacity_gb': 10,
            'reserved_percentage': 0,
            'thin_provisioning_support': True,
            'max_over_subscription_ratio': 1.0,
            'volumes_dir': str(tmp_path / name),
            'fake_latency': 0.0,
            'fake_failure_rate': 0.0,
        }
        config.update(values)
        return config
    return make
