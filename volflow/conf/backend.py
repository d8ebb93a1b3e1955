"""Options of one storage backend, read from its own section.

Each name in ``[DEFAULT] enabled_backends`` is a section holding these
options, as in Cinder's multi-backend configuration.
"""

from oslo_config import cfg

backend_opts = [
    cfg.StrOpt('volume_driver',
               default='file',
               help='Driver of this backend: an entry point name of the '
                    'volflow.volume.drivers namespace (file, fake) or an '
                    'import path of a driver class.'),
    cfg.StrOpt('volume_backend_name',
               help='Name volume types select this backend by, through the '
                    'volume_backend_name extra spec; defaults to the '
                    'section name.'),
    cfg.StrOpt('backend_availability_zone',
               help='Availability zone of this backend; defaults to '
                    'storage_availability_zone.'),
    cfg.IntOpt('total_capacity_gb',
               default=1000,
               min=0,
               help='Capacity of this backend in gigabytes.'),
    cfg.IntOpt('reserved_percentage',
               default=0,
               min=0,
               max=100,
               help='Percentage of the capacity kept free and never '
                    'scheduled.'),
    cfg.BoolOpt('thin_provisioning_support',
                default=True,
                help='Whether the backend allocates space on write, which '
                     'lets the scheduler over-subscribe it.'),
    cfg.FloatOpt('max_over_subscription_ratio',
                 default=1.0,
                 min=1.0,
                 help='With thin provisioning, how many times the capacity '
                      'may be allocated.'),
    cfg.StrOpt('volumes_dir',
               help='File driver: directory of the volume files; defaults '
                    'to $state_path/volumes/<section name>.'),
    cfg.FloatOpt('fake_latency',
                 default=0.0,
                 min=0.0,
                 help='Fake driver: seconds each driver call sleeps, to '
                      'simulate a slow backend.'),
    cfg.FloatOpt('fake_failure_rate',
                 default=0.0,
                 min=0.0,
                 max=1.0,
                 help='Fake driver: fraction of volume creations that fail, '
                      'to exercise rescheduling.'),
]


def register_opts(conf):
    """Backend options live in per-backend sections registered on demand."""


def register_backend(conf, section):
    """Register the backend options in ``section`` and return the group."""
    conf.register_opts(backend_opts, group=section)
    return conf[section]


def list_opts():
    return [('backend', backend_opts)]
