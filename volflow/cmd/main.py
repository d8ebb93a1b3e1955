"""The ``volflow`` command (``python -m volflow``, console script).

Parsing is oslo.config's: one ``SubCommandOpt`` whose subparsers are the
commands (:mod:`volflow.cmd._parsers`), plus ``--config-file`` /
``--config-dir`` and oslo.log's ``--debug`` / ``--log-file``, and
``--verbose``. Those global options go before the command name; given
after it they are moved before it, so ``volflow create --size 1 --debug``
works too.

Exit status: 0 success; 1 the request was refused (any
:class:`~volflow.exception.VolflowException`), a volume ended in
``error`` or something unexpected failed; 2 command-line usage error.
stderr carries one line, the reason; a traceback only with ``--debug``
and only for unexpected failures.

Logging: with ``--debug`` (DEBUG) or ``--verbose`` (INFO) log lines go to
stderr, with ``--log-file`` to that file only (at DEBUG with ``--debug``);
otherwise nowhere. Python warnings, held since :mod:`volflow.cmd` was
imported, go to the log only where a user asked to see it (``--debug``,
``--log-file``), never to the terminal otherwise (a service's INFO lines
on stderr included).
"""

import atexit
import contextlib
import gc
import io
import logging as std_logging
import re
import sys
import traceback

from oslo_config import cfg
from oslo_log import log as logging

from volflow.cmd import _parsers
from volflow.cmd import _util
from volflow import conf as volflow_conf
from volflow import context as volflow_context
from volflow import db
from volflow import exception
from volflow import executor
from volflow import persistence
from volflow import pywarnings
from volflow import redaction
from volflow.rpc import local
from volflow.volume import api as volume_api

CONF = volflow_conf.CONF
LOG = logging.getLogger(__name__)

_COMMAND_OPT = cfg.SubCommandOpt(
    'command', title='Commands', handler=_parsers.add_parsers,
    help='Run "volflow COMMAND --help" for the options of a command.')

_CLI_OPTS = [
    cfg.BoolOpt('verbose', short='v', default=False,
                help='Log INFO and above to stderr (--debug: DEBUG).'),
]

#: Where argparse's reason starts: ``volflow [COMMAND]: error: ``.
_USAGE_ERROR = re.compile(r'^\S+(?: \S+)?: error: ', re.M)

#: Global options (before the command) taking no value ...
_GLOBAL_FLAGS = frozenset(['--debug', '-d', '--nodebug', '--verbose', '-v',
                           '--noverbose'])
#: ... and taking one.
_GLOBAL_VALUED = frozenset(['--config-file', '--config-dir', '--log-file',
                            '--log-dir', '--log-config-append'])


def _is_global(token):
    option = token.split('=', 1)[0]
    return token in _GLOBAL_FLAGS or option in _GLOBAL_VALUED


def hoist_global_options(argv, commands):
    """Move global options given after the command name before it.

    ``argv`` is left as is up to the command name (the first token naming
    a command that is not the value of a global option) and after ``--``.
    """
    argv = list(argv)
    index, expects_value = None, False
    for position, token in enumerate(argv):
        if expects_value:
            expects_value = False
        elif token in _GLOBAL_VALUED:
            expects_value = True
        elif token in commands:
            index = position
            break
    if index is None:
        return argv
    moved, kept = [], []
    tail = argv[index + 1:]
    position = 0
    while position < len(tail):
        token = tail[position]
        if token == '--':
            kept.extend(tail[position:])
            break
        if _is_global(token):
            moved.append(token)
            if token in _GLOBAL_VALUED and position + 1 < len(tail):
                position += 1
                moved.append(tail[position])
        else:
            kept.append(token)
        position += 1
    return argv[:index] + moved + [argv[index]] + kept


def parse_args(argv):
    """Register the command line's options and parse ``argv`` into CONF.

    Usage errors are reported by argparse as ``SystemExit(2)``; only the
    one-line reason argparse prints reaches stderr.
    """
    CONF.clear()  # main may run more than once in a process (tests)
    logging.register_options(CONF)
    CONF.register_cli_opts(_CLI_OPTS)
    CONF.register_cli_opt(_COMMAND_OPT)
    captured = io.StringIO()
    # The version is looked up only when asked for: it reads the
    # installed package's metadata.
    version = _version() if '--version' in argv else None
    try:
        with contextlib.redirect_stderr(captured):
            CONF(hoist_global_options(argv, _parsers.command_names()),
                 project='volflow', prog=_util.PROG, version=version)
    except SystemExit as exc:
        text = captured.getvalue().strip()
        error = _USAGE_ERROR.search(text) if exc.code else None
        if error:
            # The reason may quote an argument holding line breaks.
            _util.note(_util.one_line(text[error.start():]))
        elif text:
            _util.note(text)
        raise


def _version():
    """The installed volflow's version (``volflow --version``)."""
    from importlib import metadata
    try:
        return metadata.version('volflow')
    except metadata.PackageNotFoundError:
        return 'unknown (not installed)'


def _quiet():
    """True when nothing asked for log lines anywhere."""
    return not (CONF.debug or CONF.verbose or CONF.log_file or
                CONF.log_dir or CONF.use_stderr or CONF.use_syslog or
                CONF.use_journal or CONF.log_config_append)


def _warnings_shown():
    """True when the log goes somewhere a user asked to read it."""
    return bool(CONF.debug or CONF.log_file or CONF.log_dir or
                CONF.use_syslog or CONF.use_journal or
                CONF.log_config_append)


def setup_logging():
    """Configure oslo.log so that log lines go only where asked for."""
    quiet = _quiet()
    if (CONF.debug or CONF.verbose) and not (CONF.log_file or
                                             CONF.log_dir):
        CONF.set_override('use_stderr', True)
    # oslo.service says at INFO which backend (eventlet) it loaded: a
    # library's detail, not a line of volflow's.
    logging.set_defaults(default_log_levels=(
        logging.get_default_log_levels() + ['oslo_service=WARN']))
    logging.setup(CONF, 'volflow', fix_eventlet=False)
    redaction.install()
    pywarnings.release(shown=_warnings_shown())
    if quiet:
        # oslo.log falls back to a stdout handler; stdout is for results.
        root = std_logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        root.addHandler(std_logging.NullHandler())


def _context(args):
    if args.needs == 'project':
        return volflow_context.RequestContext(user_id=args.user_id,
                                              project_id=args.project_id,
                                              is_admin=args.admin)
    return volflow_context.get_admin_context()


def run(args):
    """Run the parsed command; return its exit status."""
    api = ctx = None
    if args.needs != 'nothing':
        api = volume_api.API()
        ctx = _context(args)
    return args.func(args, api, ctx, CONF)


def main(argv=None):
    """Entry point; returns the exit status.

    ``argv`` None: the process's own command line (``python -m volflow``,
    the console script), which ends when this returns (see
    :func:`_own_process`).
    """
    if argv is None:
        argv = sys.argv[1:]
        _own_process()
    try:
        parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    except cfg.ConfigFilesNotFoundError as exc:
        _util.fail(exc)
        return 2
    except cfg.Error as exc:
        _util.fail(exc)
        return 1
    try:
        setup_logging()
    except logging.LogConfigError as exc:
        _util.fail(exc)
        return 2
    try:
        return run(CONF.command)
    except exception.VolflowException as exc:
        LOG.debug('Refused: %s', exc)
        _util.fail(_util.reason(exc))
        return 1
    except KeyboardInterrupt:
        _util.fail('interrupted')
        return 130
    except Exception as exc:
        if CONF.debug:
            traceback.print_exc()
        _util.fail(_util.reason(exc))
        return 1
    finally:
        _drain()


def _own_process():
    """Spare the process the garbage collections of its start.

    Its imports leave some 140,000 objects that live as long as the
    process, and every full collection walks them all: two during a
    ``create`` and several more in the interpreter's shutdown, 0.3-0.6 s
    together (measured 2026-12-03). Frozen, they are left out: collections
    walk only what the command itself makes. At exit the databases are
    closed first (SQLite checkpoints its WAL), as the shutdown's
    collections used to close them.
    """
    gc.freeze()
    atexit.register(_at_exit)


def _at_exit():
    _drain()
    persistence.reset()
    db.reset_apis()
    gc.freeze()


def _drain():
    """Let in-process work still running (``--no-wait``) finish now.

    The shared executor refuses new work once the interpreter has begun to
    exit, so the casts a running flow has yet to send must go out first.
    """
    local.wait_idle()
    executor.shutdown()
