"""How volflow runs its taskflow engines (Octavia's [task_flow] style)."""

from oslo_config import cfg

taskflow_group = cfg.OptGroup('taskflow', title='TaskFlow options',
                              help='Engines, persistence and jobboards.')

taskflow_opts = [
    cfg.StrOpt('engine',
               default='serial',
               choices=[('serial', 'One task at a time, in the calling '
                                   'thread.'),
                        ('parallel', 'Independent tasks at once, on the '
                                     'process-wide executor.')],
               help='TaskFlow engine type used to run flows.'),
    cfg.IntOpt('max_workers',
               default=16,
               min=1,
               help='Threads of the process-wide executor shared by parallel '
                    'engines and the in-process RPC.'),
    cfg.StrOpt('persistence_connection',
               secret=True,
               help='Where flow progress is persisted: a SQLAlchemy URL; '
                    'defaults to the [database] connection.'),
    cfg.BoolOpt('persistence_enabled',
                default=True,
                help='Record the progress of every flow, so that "volflow '
                     'resume" (and a service starting) can finish or '
                     'revert the flows a crash interrupted. Turning it off '
                     'saves the cost of the records and loses that.'),
    cfg.BoolOpt('record_trace',
                default=True,
                help='Record when each task of a recorded flow executed and '
                     'reverted, in the flow\'s record (written with its '
                     'final state), for "volflow trace VOLUME_ID". Without '
                     'it the trace shows what each task took and gave, '
                     'without times.'),
    cfg.IntOpt('logbook_retention',
               default=3600,
               min=0,
               help='Seconds the record of a finished flow is kept before '
                    'resume removes it.'),
    cfg.IntOpt('flow_claim_expiry',
               default=30,
               min=3,
               help='Seconds a process\'s claim on a flow it runs lasts '
                    'unless renewed; the process renews its claims while '
                    'it lives, and resume takes over a flow only once its '
                    'claim expired (or, on the same host, once its process '
                    'is gone).'),
    cfg.BoolOpt('jobboard_enabled',
                default=False,
                help='Post scheduling and volume creation as jobs on a '
                     'jobboard for conductors to run.'),
    cfg.StrOpt('jobboard_backend_driver',
               default='redis',
               choices=[('redis', 'A Redis server holds the jobboard.')],
               help='Jobboard backend driver.'),
    cfg.ListOpt('jobboard_backend_hosts',
                default=['127.0.0.1'],
                help='Hosts of the jobboard backend: the Redis server, or '
                     'with jobboard_redis_sentinel the Sentinels (the first '
                     'is asked first, the others are its fallbacks). A '
                     'host may carry its own port, as "HOST:PORT" (an IPv6 '
                     'address as "[ADDRESS]:PORT").'),
    cfg.PortOpt('jobboard_backend_port',
                default=6379,
                help='Port of the jobboard backend, for the hosts that do '
                     'not give their own (26379 is the Sentinel port).'),
    cfg.StrOpt('jobboard_backend_username',
               help='User name on the jobboard backend (Redis ACL), if '
                    'it needs one.'),
    cfg.StrOpt('jobboard_backend_password',
               secret=True,
               help='Password of the jobboard backend.'),
    cfg.StrOpt('jobboard_redis_sentinel',
               help='Name of the Redis Sentinel master group holding the '
                    'jobboard. When set, jobboard_backend_hosts are the '
                    'Sentinels: every client asks them for the current '
                    'master and follows it when they fail over to a '
                    'replica.'),
    cfg.StrOpt('jobboard_redis_sentinel_username',
               help='User name on the Redis Sentinels, if they need one.'),
    cfg.StrOpt('jobboard_redis_sentinel_password',
               secret=True,
               help='Password of the Redis Sentinels, if they need one.'),
    cfg.DictOpt('jobboard_redis_backend_ssl_options',
                default={},
                help='TLS options of the connections to the Redis server '
                     '(the master): ssl, ssl_keyfile, ssl_certfile, '
                     'ssl_ca_certs, ssl_cert_reqs, as taskflow\'s Redis '
                     'jobboard takes them.'),
    cfg.DictOpt('jobboard_redis_sentinel_ssl_options',
                default={},
                help='TLS options of the connections to the Redis '
                     'Sentinels: ssl, ssl_keyfile, ssl_certfile, '
                     'ssl_ca_certs, ssl_cert_reqs.'),
    cfg.StrOpt('jobboard_backend_namespace',
               default='volflow_jobboard',
               help='Key namespace of the jobboard in its backend.'),
    cfg.IntOpt('jobboard_expiration_time',
               default=30,
               min=1,
               help='Seconds a conductor\'s claim on a job lasts unless '
                    'renewed; a crashed conductor\'s job is taken over '
                    'after this.'),
]


def register_opts(conf):
    conf.register_group(taskflow_group)
    conf.register_opts(taskflow_opts, group=taskflow_group)


def list_opts():
    return [(taskflow_group, taskflow_opts)]
