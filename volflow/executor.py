"""The process-wide executor.

One futurist thread pool per process, created on first use and sized by
``[taskflow] max_workers``, serves every parallel engine and the
in-process RPC. It is shut down at interpreter exit, after the work it
holds has finished.
"""

import atexit
import threading

import futurist
from oslo_config import cfg

CONF = cfg.CONF

_EXECUTOR = None
_LOCK = threading.Lock()


def get_executor():
    """Return the shared executor, creating it on first use."""
    global _EXECUTOR
    if _EXECUTOR is None:
        with _LOCK:
            if _EXECUTOR is None:
                _EXECUTOR = futurist.ThreadPoolExecutor(
                    max_workers=CONF.taskflow.max_workers)
    return _EXECUTOR


def shutdown(wait=True):
    """Stop the shared executor (a later call to get_executor makes anew)."""
    global _EXECUTOR
    with _LOCK:
        pool, _EXECUTOR = _EXECUTOR, None
    if pool is not None:
        pool.shutdown(wait=wait)


atexit.register(shutdown)
