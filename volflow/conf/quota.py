"""Quota options, named as Cinder names them."""

from oslo_config import cfg

quota_opts = [
    cfg.IntOpt('quota_volumes',
               default=10,
               help='Number of volumes allowed per project; -1 is '
                    'unlimited.'),
    cfg.IntOpt('quota_snapshots',
               default=10,
               help='Number of snapshots allowed per project; -1 is '
                    'unlimited.'),
    cfg.IntOpt('quota_gigabytes',
               default=1000,
               help='Total gigabytes of volumes and snapshots allowed per '
                    'project; -1 is unlimited.'),
    cfg.IntOpt('quota_backups',
               default=10,
               help='Number of backups allowed per project; -1 is '
                    'unlimited. Kept and shown in the quota set; volflow '
                    'makes no backups.'),
    cfg.IntOpt('quota_backup_gigabytes',
               default=1000,
               help='Total gigabytes of backups allowed per project; -1 '
                    'is unlimited. Kept and shown in the quota set; '
                    'volflow makes no backups.'),
    cfg.IntOpt('quota_groups',
               default=10,
               help='Number of volume groups allowed per project; -1 is '
                    'unlimited. Kept and shown in the quota set; volflow '
                    'makes no groups.'),
    cfg.IntOpt('per_volume_size_limit',
               default=-1,
               help='Largest size in gigabytes of a single volume; -1 is '
                    'unlimited. The default of the quota set\'s '
                    'per_volume_gigabytes, which a project\'s quota set '
                    'or the default quota class may override.'),
    cfg.BoolOpt('no_snapshot_gb_quota',
                default=False,
                help='Do not count snapshot sizes against the gigabytes '
                     'quota.'),
    cfg.IntOpt('reservation_expire',
               default=86400,
               min=1,
               help='Seconds after which an uncommitted quota reservation '
                    'expires and is rolled back.'),
]


def register_opts(conf):
    conf.register_opts(quota_opts)


def list_opts():
    return [(None, quota_opts)]
