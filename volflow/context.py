"""Request context: who is acting, for which project."""

import copy

from oslo_context import context


class RequestContext(context.RequestContext):
    """An oslo.context request context acting for one user and project.

    It keeps Cinder's keyword names (``user_id``, ``project_id``,
    ``is_admin``); ``overwrite`` defaults to False so that building a
    context never replaces the thread's current one behind a caller's back.
    """

    def __init__(self, user_id=None, project_id=None, is_admin=False,
                 overwrite=False, **kwargs):
        super().__init__(user_id=user_id, project_id=project_id,
                         is_admin=is_admin, overwrite=overwrite, **kwargs)

    def elevated(self):
        """Return an admin copy of this context, for the same project."""
        ctx = copy.deepcopy(self)
        ctx.is_admin = True
        return ctx


def get_admin_context():
    """A context acting as admin, for no project in particular."""
    return RequestContext(is_admin=True)
