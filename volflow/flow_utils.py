"""What every volflow task shares: the task base and the log listener.

Engines are loaded and run by :mod:`volflow.engines`.

The listener logs through the *caller's* logger: oslo.log's default levels
mute ``taskflow`` to WARN, so a listener logging as ``taskflow`` would hide
every transition an operator asked for with ``--debug``.
"""

import collections
import logging as std_logging
import time
import traceback

from oslo_log import log as logging
from taskflow.listeners import base
from taskflow import states
from taskflow import task
from taskflow.types import failure as failure_type
from taskflow.types import sets

from volflow import exception
from volflow import redaction

LOG = logging.getLogger(__name__)


def _make_task_name(cls, addons=None):
    """``<module>.<Class>;<addons>``: stable, so resume can match it."""
    name = '.'.join([cls.__module__, cls.__name__])
    if addons:
        name = f"{name};{', '.join(addons)}"
    return name


#: ``(class, function, arguments) -> (rebind, requires, optional)``.
_ARG_MAPPINGS = {}


def _hashable(value):
    if isinstance(value, dict):
        return tuple(value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(value)
    return value


class VolflowTask(task.Task):
    """Base of volflow's tasks: a deterministic name, Cinder style.

    Every flow is built anew for its engine (a task object carries its
    engine's notifier callbacks), and taskflow reads the signatures of
    ``execute`` and ``revert`` (``inspect.signature``) for every task
    object it builds: a sixth of building a flow. The argument mapping
    depends only on the class, the function and the arguments given, so
    it is worked out once per class and arguments; each task gets copies
    of its own.
    """

    def __init__(self, addons=None, **kwargs):
        super().__init__(self.make_name(addons), **kwargs)

    @classmethod
    def make_name(cls, addons=None):
        """The name a task of this class is given (Cinder's ``make_name``).

        What a caller reads a task's result by:
        ``engine.storage.get_revert_result(Task.make_name([ACTION]))``.
        """
        return _make_task_name(cls, addons)

    def _build_arg_mapping(self, executor, requires=None, rebind=None,
                           auto_extract=True, ignore_list=None):
        key = (type(self), getattr(executor, '__func__', executor),
               _hashable(requires), _hashable(rebind), auto_extract,
               _hashable(ignore_list),
               _hashable(self.inject and sorted(self.inject)))
        try:
            mapping = _ARG_MAPPINGS.get(key)
        except TypeError:  # an argument that can't be a key
            key = mapping = None
        if mapping is None:
            mapping = super()._build_arg_mapping(
                executor, requires=requires, rebind=rebind,
                auto_extract=auto_extract, ignore_list=ignore_list)
            if key is not None:
                _ARG_MAPPINGS[key] = mapping
        rebound, required, optional = mapping
        return (collections.OrderedDict(rebound), sets.OrderedSet(required),
                sets.OrderedSet(optional))


class _MaskingLogger:
    """Masks secrets in every line before it reaches the real logger.

    Task results and failure reasons may hold secrets. Everything goes
    through
    :func:`volflow.redaction.mask_secrets` here.
    """

    def __init__(self, logger):
        self._logger = logger

    def isEnabledFor(self, level):
        return self._logger.isEnabledFor(level)

    def log(self, level, msg, *args, exc_info=None, **kwargs):
        if not self._logger.isEnabledFor(level):
            return
        text = redaction.mask_secrets(msg % args if args else msg)
        # Where the record comes from is the listener, not this method.
        record = self._logger.makeRecord(
            self._logger.name, level, '(taskflow listener)', 0, '%s',
            (text,), exc_info, func='', extra=kwargs.get('extra'))
        if exc_info:
            # A handler would format the traceback after us, unmasked:
            # format it here, masked, as the record's cached exc_text.
            record.exc_text = redaction.mask_secrets(
                ''.join(traceback.format_exception(*exc_info)).rstrip('\n'))
        self._logger.handle(record)


#: Task states whose line says how long the task took.
_ENDINGS = frozenset([states.SUCCESS, states.FAILURE, states.REVERTED,
                      states.REVERT_FAILURE])
#: States logged at WARNING.
_TROUBLE = frozenset([states.FAILURE, states.REVERTED,
                      states.REVERT_FAILURE, states.REVERTING,
                      states.RETRYING])
#: Most characters of a line: a failure's reason is cut to fit (the full
#: reason is on the volume, in the traceback and in ``volflow trace``).
_WIDTH = 199
#: Below DEBUG: the tasks' results (``volflow=TRACE`` in
#: ``default_log_levels`` turns it on; ``--trace`` shows them too).
TRACE = 5


def _reason(failure):
    exc = failure.exception
    name = type(exc).__name__ if exc is not None else 'Failure'
    return f"{name}: {' '.join(str(failure.exception_str).split())}"


def _expected(failure):
    exc = failure.exception
    return bool(getattr(exc, 'expected', False) and failure.check(
        exception.VolflowException))


class DynamicLogListener(base.Listener):
    """Logs every task and flow transition of one engine, one short line each.

    ``Task 'QuotaReserveTask;volume:create' (volume_create_api)
    transitioned into state 'SUCCESS' in 3.2 ms``, under 200 characters:
    normal transitions at DEBUG; failures, reverts and retries at WARNING,
    a failure with its reason (cut to fit the line) and, unless
    it is an expected refusal (invalid input, quota), its traceback.
    A task's result is logged below DEBUG (:data:`TRACE`), on a line of
    its own; ``volflow create --trace`` shows every task's inputs and
    outputs. Secrets are masked in every line.
    """

    def __init__(self, engine, logger=None, **kwargs):
        logger = logger or LOG
        if hasattr(logger, 'logger'):  # an oslo.log KeywordArgumentAdapter
            logger = logger.logger
        super().__init__(engine, **kwargs)
        self._logger = _MaskingLogger(logger)
        self._started = {}

    def _flow_receiver(self, state, details):
        level = (std_logging.WARNING if state in _TROUBLE
                 else std_logging.DEBUG)
        self._logger.log(level, "Flow '%s' (%s) transitioned into state "
                         "'%s' from state '%s'", details['flow_name'],
                         details['flow_uuid'], state, details['old_state'])

    def _task_receiver(self, state, details):
        name = details['task_name']
        flow = self._engine.storage.flow_name
        # The class and addons; the flow says where it comes from.
        head, sep, addons = name.partition(';')
        short = head.rsplit('.', 1)[-1] + sep + addons
        line = f"Task '{short}' ({flow}) transitioned into state '{state}'"
        if state in (states.RUNNING, states.REVERTING):
            self._started[name] = time.monotonic()
        elif state in _ENDINGS and name in self._started:
            took = time.monotonic() - self._started.pop(name)
            line += f' in {1000 * took:.1f} ms'
        result = details.get('result')
        exc_info = None
        if isinstance(result, failure_type.Failure):
            line += f': {_reason(result)}'
            if not _expected(result) and result.exc_info:
                exc_info = tuple(result.exc_info)
        # Masked before it is cut: a cut URL would hide its password from
        # the pattern that masks it.
        line = redaction.mask_secrets(line)
        if len(line) > _WIDTH:
            line = line[:_WIDTH - 1] + '\u2026'
        level = (std_logging.WARNING if state in _TROUBLE
                 else std_logging.DEBUG)
        self._logger.log(level, '%s', line, exc_info=exc_info)
        if (state == states.SUCCESS and 'result' in details and
                self._logger.isEnabledFor(TRACE)):
            self._logger.log(TRACE, "Task '%s' (%s) with result %r",
                             name, flow, result)
