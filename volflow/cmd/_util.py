"""Small helpers of the command line: KEY=VALUE pairs, stderr lines."""

import sys

from volflow import exception

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
