"""Small helpers of the command line: KEY=VALUE pairs, stderr lines."""

import logging as std_logging
import sys

from oslo_log import log as logging

from volflow import exception
from volflow import redaction

PROG = 'volflow'


def parse_pairs(option, values):
    """``['k=v', ...]`` as a dict; the last of repeated keys wins.

    A value without ``=`` is refused with
    :class:`~volflow.exception.InvalidInput` naming it (exit status 1, as
    every other bad input). The value may itself contain ``=``.
    """
    pairs = {}
    for item in values or ():
        key, sep, value = item.partition('=')
        if not sep:
            raise exception.InvalidInput(
                reason=f"{option} '{one_line(item)}' must be KEY=VALUE")
        pairs[key] = value
    return pairs or None


def one_line(text):
    """``text`` with its line breaks and runs of blanks collapsed."""
    return ' '.join(str(text).split())


def reason(exc):
    """The one-line reason an exception gives the user.

    A volflow error speaks for itself; anything else is unexpected and
    shown with its type.
    """
    if isinstance(exc, exception.VolflowException):
        return one_line(exc) or type(exc).__name__
    return one_line(f'{type(exc).__name__}: {exc}')


def fail(message):
    """Write the one-line reason of a failure on stderr."""
    note(f'{PROG}: error: {one_line(message)}')


def note(message):
    """Write one line on stderr."""
    sys.stderr.write(f'{message}\n')
    sys.stderr.flush()


def service_logging(conf, logger):
    """Log a long-running service: to stderr at INFO unless configured.

    The command line logs nowhere by default; a service says what it does.
    Every line is masked; the option values are logged at DEBUG.
    """
    root = std_logging.getLogger()
    if all(isinstance(h, std_logging.NullHandler) for h in root.handlers):
        conf.set_override('use_stderr', True)
        logging.setup(conf, 'volflow', fix_eventlet=False)
        if not (conf.debug or conf.verbose):
            root.setLevel(std_logging.INFO)
    redaction.install()
    conf.log_opt_values(logger, std_logging.DEBUG)
