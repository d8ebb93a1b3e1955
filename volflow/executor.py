"""The process-wide executor.

One thread pool per process, created on first use and sized by
``[taskflow] max_workers``, serves every parallel engine, the in-process
RPC, the conductors' jobs and ``volflow create --count``; taskflow's
parallel engine takes it as its executor.

Each piece of work runs with the context that was current where it was
submitted (:func:`volflow.context.acting`), so its log lines name the
request it is done for, whichever worker runs it.

It is the standard library's pool, not futurist's: futurist's idle workers
poll their queue once a second and its exit hook joins them, which cost
every command-line run about a second at exit. The standard pool wakes its
workers at shutdown, but refuses new work once the interpreter has begun
to exit: a process that leaves casts in flight must wait for them first
(the command line calls :func:`volflow.rpc.local.wait_idle`).
"""

import atexit
from concurrent import futures
import threading

from oslo_config import cfg

from volflow import context

CONF = cfg.CONF

_EXECUTOR = None
_LOCK = threading.Lock()


def _in_context(ctx, fn, args, kwargs):
    with context.acting(ctx):
        return fn(*args, **kwargs)


class _ContextExecutor(futures.ThreadPoolExecutor):
    """A thread pool running each function in its submitter's context."""

    def submit(self, fn, /, *args, **kwargs):
        return super().submit(_in_context, context.current(), fn, args,
                              kwargs)


def get_executor():
    """Return the shared executor, creating it on first use."""
    global _EXECUTOR
    if _EXECUTOR is None:
        with _LOCK:
            if _EXECUTOR is None:
                _EXECUTOR = _ContextExecutor(
                    max_workers=CONF.taskflow.max_workers,
                    thread_name_prefix='volflow')
    return _EXECUTOR


def shutdown(wait=True):
    """Stop the shared executor (a later call to get_executor makes anew)."""
    global _EXECUTOR
    with _LOCK:
        pool, _EXECUTOR = _EXECUTOR, None
    if pool is not None:
        pool.shutdown(wait=wait)


atexit.register(shutdown)
