"""Named locks, in the spirit of Cinder's ``cinder/coordination.py``.

Cinder serialises, for example, deleting a volume against cloning it with
locks named ``<volume id>-delete_volume``. These locks are in-process
(threads of one process); a lock nobody holds or waits for is forgotten.
"""

import contextlib
import threading
import weakref

_LOCKS = weakref.WeakValueDictionary()
_GUARD = threading.Lock()


def _get_lock(name):
    with _GUARD:
        lock = _LOCKS.get(name)
        if lock is None:
            lock = _LOCKS[name] = threading.RLock()
        return lock


@contextlib.contextmanager
def synchronized(name):
    """Hold the lock called ``name`` for the ``with`` block."""
    lock = _get_lock(name)
    with lock:
        yield
