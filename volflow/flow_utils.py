"""What every volflow task shares: the task base and the log listener.

Engines are loaded and run by :mod:`volflow.engines`.

The listener logs through the *caller's* logger: oslo.log's default levels
mute ``taskflow`` to WARN, so a listener logging as ``taskflow`` would hide
every transition an operator asked for with ``--debug``.
"""

import collections
import logging as std_logging
import traceback

from oslo_log import log as logging
from taskflow import formatters
from taskflow.listeners import logging as logging_listener
from taskflow import task
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
        super().__init__(_make_task_name(self.__class__, addons), **kwargs)

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


class _RefusalFormatter(formatters.FailureFormatter):
    """Formats expected refusals (bad input, quota) in one line.

    They are the user's mistake, not the service's: no traceback and no
    tree of predecessors.
    """

    def format(self, fail, atom_matcher):
        exc = fail.exception
        if getattr(exc, 'expected', False) and fail.check(
                exception.VolflowException):
            return (None, f'Failure: {type(exc).__name__}: '
                          f'{fail.exception_str}')
        return super().format(fail, atom_matcher)


class _MaskingLogger:
    """Masks secrets in every line before it reaches the real logger.

    taskflow's own masking applies to failure details only; success lines
    carry task results verbatim. Everything goes through
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
        if not exc_info:
            self._logger.log(level, '%s', text, **kwargs)
            return
        # A handler would format the traceback after us, unmasked: format
        # it here, masked, as the record's cached exc_text.
        record = self._logger.makeRecord(
            self._logger.name, level, '(taskflow listener)', 0, '%s',
            (text,), exc_info)
        record.exc_text = redaction.mask_secrets(
            ''.join(traceback.format_exception(*exc_info)).rstrip('\n'))
        self._logger.handle(record)


class DynamicLogListener(logging_listener.DynamicLoggingListener):
    """Logs every task and flow transition of one engine.

    Normal transitions at DEBUG; failures, reverts and retries at WARNING
    with the failure and its traceback, except expected refusals, which are
    one line without a traceback. Secrets are masked in every line.
    """

    def __init__(self, engine, logger=None, **kwargs):
        logger = logger or LOG
        if hasattr(logger, 'logger'):  # an oslo.log KeywordArgumentAdapter
            logger = logger.logger
        super().__init__(engine, log=_MaskingLogger(logger),
                         failure_level=std_logging.WARNING,
                         level=std_logging.DEBUG,
                         fail_formatter=_RefusalFormatter(engine), **kwargs)
