"""General options: state, availability zones, volume types, scheduling."""

import os

from oslo_config import cfg
from oslo_db import options as oslo_db_options


def _default_state_path():
    data_home = (os.environ.get('XDG_DATA_HOME') or
                 os.path.join(os.path.expanduser('~'), '.local', 'share'))
    return os.path.join(data_home, 'volflow')


core_opts = [
    cfg.StrOpt('state_path',
               default=_default_state_path(),
               sample_default='$XDG_DATA_HOME/volflow',
               help='Directory where volflow keeps its state: the embedded '
                    'SQLite database and the volume files of the seeded '
                    'local backend.'),
    cfg.StrOpt('default_volume_type',
               default='__DEFAULT__',
               help='Name of the volume type used when a request names none '
                    'and none is inherited from a source. The type must '
                    'exist: a create that needs it while it does not is '
                    'refused.'),
    cfg.StrOpt('storage_availability_zone',
               default='nova',
               help='Availability zone of this node and of backends that '
                    'name none.'),
    cfg.StrOpt('default_availability_zone',
               help='Availability zone given to new volumes when the request '
                    'names none; when unset, storage_availability_zone is '
                    'used.'),
    cfg.BoolOpt('allow_availability_zone_fallback',
                default=False,
                help='If the requested availability zone does not exist, '
                     'create the volume in the default availability zone '
                     'instead of refusing the request.'),
    cfg.BoolOpt('cloned_volume_same_az',
                default=True,
                help='Require a volume created from a snapshot or another '
                     'volume to be in the availability zone of its source.'),
    cfg.IntOpt('scheduler_max_attempts',
               default=3,
               min=1,
               help='Maximum number of backends tried for one volume; 1 '
                    'disables rescheduling.'),
    cfg.ListOpt('enabled_backends',
                help='Names of the configuration sections that each describe '
                     'one storage backend. When unset, a single file backend '
                     'named "local" stores volumes under state_path.'),
    cfg.IntOpt('create_timeout',
               default=600,
               min=1,
               help='Seconds the command line waits for a new volume to '
                    'leave the creating status.'),
    cfg.IntOpt('message_ttl',
               default=2592000,
               min=1,
               help='Seconds a user message (why a request failed after it '
                    'was accepted) is kept at least.'),
    cfg.IntOpt('report_interval',
               default=10,
               min=1,
               help='Seconds between the reports a long-running service '
                    '(scheduler, volume service, conductor) writes to the '
                    'services table.'),
    cfg.IntOpt('service_down_time',
               default=60,
               min=1,
               help='Seconds after its last report that a service counts '
                    'as down. The scheduler of a multi-process deployment '
                    'places no volume on a backend whose volume services '
                    'and conductors are all down. Keep it well above '
                    'report_interval.'),
]

database_group = cfg.OptGroup('database', title='Database options',
                              help='Where volflow keeps volumes, quotas and '
                                   'flow progress.')

#: oslo.db's ``[database]`` options, every OpenStack service's:
#: ``connection`` (a SQLAlchemy URL; unset: the SQLite file
#: ``$state_path/volflow.sqlite``; ``memory://``: the in-memory fake),
#: ``max_pool_size``, ``max_overflow``, ``pool_timeout``,
#: ``connection_recycle_time``, ``mysql_sql_mode``, ``max_retries`` and
#: ``retry_interval`` (connecting at start), ... The sample configuration
#: lists them under the ``oslo.db`` namespace. volflow's ``max_retries``
#: is 0: a command fails at once on a database it cannot reach, rather
#: than after oslo.db's ten tries ten seconds apart; a service started
#: with its database sets it.
database_opts = oslo_db_options.database_opts


def register_opts(conf):
    conf.register_opts(core_opts)
    conf.register_group(database_group)
    oslo_db_options.set_defaults(conf)
    conf.set_default('max_retries', 0, group='database')


def list_opts():
    return [(None, core_opts)]
