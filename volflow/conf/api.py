"""Options of the Block Storage API server (``volflow api``), group [api]."""

from oslo_config import cfg

api_group = cfg.OptGroup('api', title='Block Storage API options',
                         help='The HTTP API served by "volflow api" and '
                              'by volflow.api.wsgi:application.')

api_opts = [
    cfg.HostAddressOpt('bind_host',
                       default='127.0.0.1',
                       help='Address the API server listens on.'),
    cfg.PortOpt('bind_port',
                default=8776,
                help='Port the API server listens on (Cinder\'s 8776).'),
    cfg.StrOpt('auth_strategy',
               default='noauth',
               choices=[('noauth', 'Trust "X-Auth-Token: USER:PROJECT" '
                                   'as Cinder\'s noauth does; for tests '
                                   'and a laptop only.'),
                        ('http_basic', 'HTTP basic authentication against '
                                       'the htpasswd file named by '
                                       'http_basic_auth_user_file.'),
                        ('keystone', 'Keystone tokens, checked by '
                                     'keystonemiddleware\'s auth_token '
                                     '(configured in '
                                     '[keystone_authtoken]).')],
               help='How requests are authenticated.'),
    cfg.StrOpt('http_basic_auth_user_file',
               default='/etc/volflow/htpasswd',
               help='Apache htpasswd file (bcrypt entries) of the users '
                    'http_basic accepts; a user acts for the project of '
                    'the same name, and the user "admin" is an admin.'),
    cfg.IntOpt('max_request_body_size',
               default=114688,
               min=1,
               help='Largest request body accepted, in bytes; a larger '
                    'one is refused with 413.'),
    cfg.IntOpt('workers',
               default=8,
               min=1,
               help='Threads of the API server serving requests at once.'),
    cfg.IntOpt('backlog',
               default=4096,
               min=1,
               help='Connections the kernel holds for the API server while '
                    'its threads are busy (the listen backlog; the kernel '
                    'caps it at net.core.somaxconn). Clients beyond it '
                    'can be reset under load.'),
    cfg.IntOpt('max_limit',
               default=1000,
               min=1,
               help='Most items a list request returns in one page.'),
]


def register_opts(conf):
    conf.register_group(api_group)
    conf.register_opts(api_opts, group=api_group)


def list_opts():
    return [(api_group, api_opts)]
