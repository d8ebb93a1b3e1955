"""What every volflow flow shares: the task base, the log listener and
how engines are loaded and run.

The listener logs through the *caller's* logger: oslo.log's default levels
mute ``taskflow`` to WARN, so a listener logging as ``taskflow`` would hide
every transition an operator asked for with ``--debug``.
"""

import contextlib
import logging as std_logging
import threading
import traceback

from oslo_config import cfg
from oslo_log import log as logging
from taskflow import exceptions as taskflow_exceptions
from taskflow import formatters
from taskflow.listeners import logging as logging_listener
from taskflow import task

from volflow import exception
from volflow import executor
from volflow import persistence
from volflow import redaction
from volflow import timing

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

#: ``callbacks``: what :func:`after_run` deferred in this thread's run.
_RUNNING = threading.local()


def _make_task_name(cls, addons=None):
    """``<module>.<Class>;<addons>``: stable, so resume can match it."""
    name = '.'.join([cls.__module__, cls.__name__])
    if addons:
        name = f"{name};{', '.join(addons)}"
    return name


class VolflowTask(task.Task):
    """Base of volflow's tasks: a deterministic name, Cinder style."""

    def __init__(self, addons=None, **kwargs):
        super().__init__(_make_task_name(self.__class__, addons), **kwargs)


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


def engine_options(conf=None, engine=None, **options):
    """``(engine type, options)`` every volflow engine is loaded with.

    A parallel engine always gets the process-wide executor: taskflow's
    parallel engine building an executor of its own spends about a second
    per run waiting on its idle workers.

    ``defer_reverts``: a taskflow retry exhausted inside a subflow then
    reverts the whole flow, outer tasks included, instead of leaving
    them done (taskflow's default reverts only the subflow, which would
    keep a quota reservation made outside it for ever). volflow's flows
    use no retry today - rescheduling is Cinder's OnFailureRescheduleTask
    - so this guards the quota tasks against a retry added later.
    """
    conf = conf or CONF
    kind = engine or conf.taskflow.engine
    if kind == 'parallel':
        options.setdefault('executor', executor.get_executor())
    options.setdefault('defer_reverts', True)
    return kind, options


def load_engine(flow, store, conf=None, engine=None, record=None,
                **options):
    """Load ``flow`` with the configured engine type, not yet run.

    :param engine: the engine type (default: ``[taskflow] engine``).
    :param record: a :class:`volflow.persistence.Record`: the run's
        progress is then recorded so that it can be resumed.
    """
    conf = conf or CONF
    kind, options = engine_options(conf, engine, **options)
    return persistence.load(flow, store, conf, record, kind, **options)


def run_engine(engine, logger=None):
    """Run a loaded engine under the :class:`DynamicLogListener`.

    The first failure is re-raised as itself (taskflow wraps several
    failures into ``WrappedFailure``; the first cause is what the user
    needs to see).

    A recorded run first claims its flow (:func:`volflow.persistence.
    claimed`): a duplicate, or a flow another process is running or has
    run, is not run here.

    :returns: whether the flow ran.
    """
    outer = getattr(_RUNNING, 'callbacks', None)
    _RUNNING.callbacks = []
    try:
        with persistence.claimed(engine) as claimed:
            if not claimed:
                return False
            _run_listened(engine, logger)
        return True
    finally:
        callbacks, _RUNNING.callbacks = _RUNNING.callbacks, outer
        for callback in callbacks:
            try:
                callback()
            except Exception:
                LOG.exception('%s failed after its flow ran', callback)


def _run_listened(engine, logger):
    listeners = [DynamicLogListener(engine, logger=logger)]
    timings = timing.collector()
    if timings is not None:
        listeners.append(timing.TimingListener(engine, timings))
    with contextlib.ExitStack() as stack:
        for listener in listeners:
            stack.enter_context(listener)
        try:
            engine.run()
        except taskflow_exceptions.WrappedFailure as wrapped:
            next(iter(wrapped)).reraise()


def after_run(callback):
    """Call ``callback`` when the flow run in this thread ends.

    At once when no flow runs in this thread. The in-process rpc sends its
    casts so: a message leaves once its sender's flow has ended - its
    results recorded, its claim dropped - as a message leaves once its
    sender's transaction commits, and the receiving flow never races the
    end of the sending one.
    """
    callbacks = getattr(_RUNNING, 'callbacks', None)
    if callbacks is None:
        callback()
    else:
        callbacks.append(callback)
