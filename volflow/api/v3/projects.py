"""``/v3/{project_id}/projects/{id}``: who a project is, for clients.

python-openstackclient looks a project given by name or id up in the
identity service before ``quota show PROJECT``; without Keystone
(``--os-auth-type none``) the identity endpoint is this one. volflow has
no project registry (every project exists, as in Cinder's noauth), so a
project is its id; a caller sees only its own unless an admin.
"""

from volflow.api import router
from volflow import exception


class ProjectController:

    def __init__(self, volume_api, policy, conf):
        self.policy = policy

    def show(self, req, ctx, id):
        if id != ctx.project_id and not ctx.is_admin:
            raise exception.NotFound(
                f'Could not find project: {id}.')
        return router.Response({'project': {
            'id': id, 'name': id, 'domain_id': 'default', 'enabled': True,
            'is_domain': False, 'parent_id': 'default', 'description': '',
            'links': {'self': req.path_url}}})
