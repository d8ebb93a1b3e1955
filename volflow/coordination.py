"""Named locks, in the spirit of Cinder's ``cinder/coordination.py``.

Cinder serialises, for example, deleting a volume against cloning it with
locks named ``<volume id>-delete_volume``. These are oslo.concurrency's
in-process locks (``lockutils.lock``): threads of one process; a lock
nobody holds or waits for is forgotten. Across processes volflow needs no
lock here: a volume's backend operations run in the one process that
serves its backend (a volume service, or the conductors of that backend,
whose jobs are claimed on the jobboard).
"""

from oslo_concurrency import lockutils

#: oslo.concurrency's name prefix of volflow's locks.
_PREFIX = 'volflow-'


def synchronized(name, blocking=True):
    """Hold the lock called ``name`` for the ``with`` block.

    :param blocking: False: raise oslo.concurrency's
        ``AcquireLockFailedException`` at once if another thread holds it.
    """
    return lockutils.lock(name, lock_file_prefix=_PREFIX, blocking=blocking)
