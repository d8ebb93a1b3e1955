"""Whether a named lock of :mod:`volflow.coordination` is free."""

import threading

from oslo_concurrency import lockutils

from volflow import coordination


def free_elsewhere(name):
    """Whether another thread could take the lock ``name`` at once."""
    got = []

    def attempt():
        try:
            with coordination.synchronized(name, blocking=False):
                got.append(True)
        except lockutils.AcquireLockFailedException:
            got.append(False)

    worker = threading.Thread(target=attempt)
    worker.start()
    worker.join(60)
    return got == [True]
