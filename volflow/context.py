"""Request context: who is acting, for which project.

oslo.log names the request, user and project on every log line from the
thread's *current* context (oslo.context keeps one per thread). volflow
sets it only for as long as it works for a request, with :func:`acting`:
the HTTP API around each request, :func:`volflow.engines.run_engine`
around each flow (from the context in the flow's store), the rpc server
for each message, and the process-wide executor for each piece of work
it runs (the submitter's context). Building a context never makes it
current: a thread that served one request would otherwise name it on the
lines of every later one.
"""

import contextlib
import copy

from oslo_context import context


class RequestContext(context.RequestContext):
    """An oslo.context request context acting for one user and project.

    It keeps Cinder's keyword names (``user_id``, ``project_id``,
    ``is_admin``). ``overwrite`` defaults to False, and then building a
    context leaves the thread's current one as it was, even when there is
    none (oslo.context would make the first context built in a thread its
    current one for good).
    """

    def __init__(self, user_id=None, project_id=None, is_admin=False,
                 overwrite=False, **kwargs):
        self._store_when_built = overwrite
        super().__init__(user_id=user_id, project_id=project_id,
                         is_admin=is_admin, overwrite=overwrite, **kwargs)
        self._store_when_built = True

    def update_store(self):
        """Make this the thread's current context (not while building)."""
        if getattr(self, '_store_when_built', True):
            super().update_store()

    def elevated(self):
        """Return an admin copy of this context, for the same project."""
        ctx = copy.deepcopy(self)
        ctx.is_admin = True
        return ctx


def get_admin_context():
    """A context acting as admin, for no project in particular."""
    return RequestContext(is_admin=True)


def _set_current(ctx):
    if ctx is not None:
        ctx.update_store()
    else:
        # oslo.context has no public way to forget the current context.
        context._request_store.context = None


@contextlib.contextmanager
def acting(ctx):
    """Make ``ctx`` the thread's current context for the block.

    The context current before is current again after it, so work done
    for one request never leaves its context to the next. ``ctx`` None
    leaves the thread without a current context for the block.
    """
    previous = context.get_current()
    _set_current(ctx)
    try:
        yield ctx
    finally:
        _set_current(previous)


def current():
    """The thread's current context, or None."""
    return context.get_current()
