"""``/v3/{project_id}/extensions``: the API extensions served, as Cinder
lists them (name, alias, description, updated, links).

Each entry names a part of Cinder's API that volflow serves, under the
alias Cinder gives it.
"""

from volflow.api import router

UPDATED = '2026-12-07T00:00:00+00:00'

#: (name, alias, description)
EXTENSIONS = (
    ('Availability_zones', 'os-availability-zone',
     'Describe the availability zones.'),
    ('Hosts', 'os-hosts', 'Admin-only host administration.'),
    ('Quotas', 'os-quota-sets', 'Quota management support.'),
    ('Quota_classes', 'os-quota-class-sets', 'Quota classes management '
                                             'support.'),
    ('Scheduler_stats', 'scheduler-stats', 'Scheduler stats support.'),
    ('Types_manage', 'os-types-manage', 'Types manage support.'),
    ('Types_extra_specs', 'os-types-extra-specs', 'Type extra specs '
                                                  'support.'),
    ('Used_limits', 'os-used-limits', 'Provide data on limited '
                                      'resources that are being used.'),
    ('Volume_host_attribute', 'os-vol-host-attr',
     'Expose host as an attribute of a volume.'),
    ('Volume_tenant_attribute', 'os-vol-tenant-attr',
     'Expose the internal project_id as an attribute of a volume.'),
)


class ExtensionController:

    def __init__(self, volume_api, policy, conf):
        pass

    def index(self, req, ctx):
        return router.Response({'extensions': [
            {'name': name, 'alias': alias, 'description': description,
             'updated': UPDATED, 'links': []}
            for name, alias, description in EXTENSIONS]})
