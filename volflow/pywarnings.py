"""Python warnings go to the log, never to a user's terminal.

Libraries warn when they are first imported (eventlet, dnspython,
cryptography, ...), before a program has configured its logging; Python
prints such warnings on stderr, and stderr is for the one-line reason of
a failure. :func:`capture` routes every warning into the ``py.warnings``
logger (:func:`logging.captureWarnings`) and holds them there until
:func:`release` is called once logging is configured: they are then
logged where the log goes (``--debug``, ``--log-file``), or dropped when
nothing asked to see them.

A program calls :func:`capture` before it imports what may warn (the
command line does so on import of :mod:`volflow.cmd`) and :func:`release`
after it has set up its logging. Library modules call neither.
"""

import logging
import threading

_LOGGER = logging.getLogger('py.warnings')
_LOCK = threading.Lock()


class _Held(logging.Handler):
    """Keeps the warnings logged before logging was configured."""

    def __init__(self):
        super().__init__(level=logging.NOTSET)
        self.records = []

    def emit(self, record):
        self.records.append(record)


_HELD = None
_DROP = logging.NullHandler()


def capture() -> None:
    """Route warnings to the log, holding them until :func:`release`."""
    global _HELD
    with _LOCK:
        logging.captureWarnings(True)
        if _HELD is None:
            _HELD = _Held()
            _LOGGER.addHandler(_HELD)
            _LOGGER.propagate = False


def release(shown: bool = True) -> None:
    """Log the warnings held so far, and those to come, as configured.

    :param shown: whether the log is somewhere a user asked to see
        (``--debug``, a log file); if not, warnings are dropped, since the
        only other place they could go is the terminal.
    """
    global _HELD
    with _LOCK:
        logging.captureWarnings(True)
        held, _HELD = _HELD, None
        if held is not None:
            _LOGGER.removeHandler(held)
        _LOGGER.removeHandler(_DROP)
        _LOGGER.propagate = shown
        if not shown:
            _LOGGER.addHandler(_DROP)
    if shown and held is not None:
        for record in held.records:
            if _LOGGER.isEnabledFor(record.levelno):
                _LOGGER.handle(record)
