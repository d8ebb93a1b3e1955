"""Fill a freshly bootstrapped Keystone for the Tempest run.

``keystone-manage bootstrap`` made the admin user, the admin project, the
``admin``, ``manager``, ``member`` and ``reader`` roles and the identity
endpoint. This adds what the volume API and Tempest need:

* a ``service`` project and the ``volflow`` user (roles ``admin`` and
  ``service`` there) with which keystonemiddleware validates tokens;
* a ``demo`` project and user (role ``member``), for trying things by
  hand;
* the catalog: the Block Storage API under the service type Tempest 47
  looks up (``block-storage``) and the one python-cinderclient and older
  clients ask for (``volumev3``), both at ``{volume_url}/v3/$(project_id)s``;
  the image service (``image``) at ``{image_url}``.

Usage: setup_keystone.py AUTH_URL ADMIN_PASSWORD SERVICE_PASSWORD
VOLUME_URL IMAGE_URL
"""

import sys

from keystoneauth1.identity import v3
from keystoneauth1 import session
from keystoneclient.v3 import client

REGION = 'RegionOne'


def _project(ks, name):
    found = ks.projects.list(name=name)
    return found[0] if found else ks.projects.create(name, 'default')


def _user(ks, name, password, project):
    found = ks.users.list(name=name)
    if found:
        return found[0]
    return ks.users.create(name, domain='default', password=password,
                           default_project=project)


def _role(ks, name):
    found = ks.roles.list(name=name)
    return found[0] if found else ks.roles.create(name)


def _service(ks, service_type, name, url):
    service = ks.services.create(name, type=service_type)
    for interface in ('public', 'internal', 'admin'):
        ks.endpoints.create(service, url, interface=interface,
                            region=REGION)


def main(auth_url, admin_password, service_password, volume_url,
         image_url):
    auth = v3.Password(auth_url=auth_url, username='admin',
                       password=admin_password, project_name='admin',
                       user_domain_id='default',
                       project_domain_id='default')
    ks = client.Client(session=session.Session(auth=auth))
    service_project = _project(ks, 'service')
    volflow = _user(ks, 'volflow', service_password, service_project)
    for role in ('admin', 'service'):
        ks.roles.grant(_role(ks, role), user=volflow,
                       project=service_project)
    demo_project = _project(ks, 'demo')
    demo = _user(ks, 'demo', service_password, demo_project)
    ks.roles.grant(_role(ks, 'member'), user=demo, project=demo_project)
    volume = f'{volume_url}/v3/$(project_id)s'
    _service(ks, 'block-storage', 'cinder', volume)
    _service(ks, 'volumev3', 'cinderv3', volume)
    _service(ks, 'image', 'glance', image_url)


if __name__ == '__main__':
    main(*sys.argv[1:])
