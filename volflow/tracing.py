"""Traces of the flows' runs: one event per task execute and revert.

An *event* is a dict: ``flow`` (the flow's name), ``task`` (the atom's
name), ``action`` (``execute`` or ``revert``), ``state`` (what it ended
in: ``SUCCESS``, ``FAILURE``, ``REVERTED``, ``REVERT_FAILURE``),
``started`` and ``seconds`` (wall clock), ``thread`` and ``pid``, and,
where known, ``inputs`` (what the task took from the store, after its
``rebind``: ``{argument: {'key': store key, 'value': ...}}``) and
``outputs`` (what it provided, by name; the failure, one line; what its
revert returned).

:class:`TraceListener` collects them as taskflow notifies the task
transitions; ``volflow create --trace`` turns it on for every flow the
process runs (:func:`enable`). Every run also leaves its events' timing
in its flow detail (under ``META``, with the flow's final state), so
that :func:`recorded` can rebuild the trace of a volume from the
records: taskflow persistence keeps each task's state, result, failure
and revert result, and the inputs are fetched again from the recorded
store and results through each task's own ``rebind``.

``--fail-at TASK`` (:func:`inject_failure`) makes the named task's
execute raise :class:`volflow.exception.InjectedFailure`, to watch the
reverts.
"""

import os
import threading
import time

from oslo_log import log as logging
from taskflow.engines.action_engine import compiler
from taskflow.listeners import base as listener_base
from taskflow import states
from taskflow.types import failure as taskflow_failure

from volflow import conf as volflow_conf
from volflow import exception
from volflow import redaction

LOG = logging.getLogger(__name__)

#: Key of the recorded events in a flow detail's meta.
META = 'volflow_trace'

_EXECUTE_END = (states.SUCCESS, states.FAILURE)
_REVERT_END = (states.REVERTED, states.REVERT_FAILURE)


def short_name(name):
    """A task's class name from its atom name (``module.Class;addons``)."""
    return name.split(';')[0].rsplit('.', 1)[-1]


def atoms(engine):
    """The engine's tasks by name, in the order the flow runs them."""
    engine.compile()
    graph = engine.compilation.execution_graph
    return {node.name: node for node in graph.topological_sort()
            if graph.nodes[node].get('kind') == compiler.TASK}


def inputs(engine, atom):
    """What ``atom`` takes from ``engine``'s storage, after its rebind.

    ``{argument: {'key': store key, 'value': value}}``; an argument the
    storage cannot give (a task that never ran, a missing result) is
    left out.
    """
    taken = {}
    for argument, key in atom.rebind.items():
        try:
            value = engine.storage.fetch_mapped_args(
                {argument: key}, atom_name=atom.name,
                optional_args=atom.optional)
        except Exception as exc:
            LOG.debug('No %(arg)s for %(atom)s: %(exc)s',
                      {'arg': argument, 'atom': atom.name, 'exc': exc})
            continue
        if argument in value:
            taken[argument] = {'key': key, 'value': value[argument]}
    return taken


def outputs(atom, result):
    """What ``atom`` provided, by name, from its execute's result."""
    if isinstance(result, taskflow_failure.Failure):
        return {'failure': one_line(result)}
    provided = {}
    for name, index in atom.save_as.items():
        if index is None:
            provided[name] = result
        else:
            try:
                provided[name] = result[index]
            except (KeyError, IndexError, TypeError):
                continue
    return provided


def one_line(failure):
    """A failure (taskflow's, or an exception) in one line."""
    if isinstance(failure, taskflow_failure.Failure):
        names = list(failure)  # the exception's type names, most first
        name = (names[0] if names else 'Failure').rsplit('.', 1)[-1]
        text = failure.exception_str
    else:
        name, text = type(failure).__name__, str(failure)
    text = ' '.join(str(text).split())
    return f'{name}: {text}' if text else name


class TraceListener(listener_base.Listener):
    """Collects one event per task execute and revert of one engine.

    :param sink: called with each event as it ends (``--trace`` prints
        it), with its inputs and outputs.
    :param record: leave the events' timing in the flow detail: kept in
        its meta as they come, they go in with the flow's final state.
    """

    def __init__(self, engine, sink=None, record=True):
        super().__init__(engine, task_listen_for=(
            states.RUNNING, states.REVERTING) + _EXECUTE_END + _REVERT_END,
            flow_listen_for=(states.SUCCESS, states.REVERTED,
                             states.FAILURE))
        self._sink = sink
        self._record = record
        self._started = {}
        self._inputs = {}
        self._atoms = None
        self.events = []

    def _atom(self, name):
        if self._atoms is None:
            self._atoms = atoms(self._engine)
        return self._atoms.get(name)

    def _task_receiver(self, state, details):
        name = details['task_name']
        if state in (states.RUNNING, states.REVERTING):
            self._started[name] = (time.time(), time.monotonic())
            if self._sink is not None and state == states.RUNNING:
                atom = self._atom(name)
                self._inputs[name] = atom and inputs(self._engine, atom)
            return
        started, clock = self._started.pop(name, (time.time(),
                                                  time.monotonic()))
        event = {
            'flow': self._engine.storage.flow_name,
            'task': name,
            'action': 'execute' if state in _EXECUTE_END else 'revert',
            'state': state,
            'started': started,
            'seconds': time.monotonic() - clock,
            'thread': threading.current_thread().name,
            'pid': os.getpid(),
        }
        self.events.append(event)
        if self._record:
            # Kept in the flow detail's meta as it is in memory, written
            # by the flow's next write: its final state's, one transaction.
            self._engine.storage.flow_meta[META] = self._recorded()
        if self._sink is None:
            return
        event = dict(event, inputs=self._inputs.get(name) or {})
        result = details.get('result')
        if event['action'] == 'execute':
            atom = self._atom(name)
            event['outputs'] = outputs(atom, result) if atom else {}
        elif isinstance(result, taskflow_failure.Failure):
            event['outputs'] = {'failure': one_line(result)}
        else:
            event['outputs'] = {'result': result}
        self._sink(event)

    def _recorded(self):
        return [dict(e) for e in self.events]

    def _flow_receiver(self, state, details):
        """Write the events, unless the final state's write took them."""
        if not self._record or not self.events:
            return
        recorded = self._recorded()
        if self._engine.storage.flow_meta.get(META) == recorded:
            return
        try:
            self._engine.storage.update_flow_metadata({META: recorded})
        except Exception:
            LOG.debug('The trace of flow %s was not recorded.',
                      details.get('flow_name'), exc_info=True)


class _Settings:
    """What ``--trace`` and ``--fail-at`` asked of this process's runs."""

    def __init__(self):
        self.sink = None
        self.fail_at = None


_SETTINGS = _Settings()


def enable(sink):
    """Give every event of the flows this process runs to ``sink``."""
    _SETTINGS.sink = sink


def inject_failure(task_name):
    """Make the execute of every task named ``task_name`` fail.

    ``task_name`` is a task's class name (``QuotaCommitTask``) or its
    full atom name. None stops injecting.
    """
    _SETTINGS.fail_at = task_name


def disable():
    _SETTINGS.sink = None
    _SETTINGS.fail_at = None


def listener(engine, conf=None):
    """The trace listener every run of ``engine`` gets.

    It records the run's timing unless ``[taskflow] record_trace`` is off;
    None when it has nothing to do.
    """
    conf = conf or volflow_conf.CONF
    if _SETTINGS.sink is None and not conf.taskflow.record_trace:
        return None
    return TraceListener(engine, sink=_SETTINGS.sink,
                         record=conf.taskflow.record_trace)


def prepare(engine):
    """Inject the ``--fail-at`` failure into ``engine``'s task, if any."""
    target = _SETTINGS.fail_at
    if not target:
        return
    for name, atom in atoms(engine).items():
        if target in (name, short_name(name)):
            atom.execute = _failing(name)


def _failing(name):
    def execute(*args, **kwargs):
        raise exception.InjectedFailure(task=short_name(name))
    return execute


def task_names():
    """Every task class name of the three flows, in the order they run."""
    return [
        'ExtractVolumeRequestTask', 'QuotaReserveTask', 'EntryCreateTask',
        'QuotaCommitTask', 'VolumeCastTask',
        'ExtractSchedulerSpecTask', 'ScheduleCreateVolumeTask',
        'ExtractVolumeRefTask', 'OnFailureRescheduleTask',
        'ExtractVolumeSpecTask', 'NotifyVolumeActionTask',
        'CreateVolumeFromSpecTask', 'CreateVolumeOnFinishTask',
    ]


# Formatting ------------------------------------------------------------

#: The flows' short names in a trace line.
FLOWS = {'volume_create_api': 'api', 'volume_create_scheduler': 'scheduler',
         'volume_create_manager': 'manager'}

WIDTH = 100


def short_value(value):
    """A value in a few characters: ids shortened, containers counted."""
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if hasattr(value, 'to_dict') and hasattr(value, 'project_id'):
        return 'ctx'
    if isinstance(value, dict):
        if 'id' in value and isinstance(value['id'], str):
            return f"<{value['id'][:8]}>"
        return '{' + ','.join(map(str, list(value)[:2])) + (
            ',…}' if len(value) > 2 else '}')
    if isinstance(value, (list, tuple, set, frozenset)):
        return f'[{len(value)}]'
    text = str(value)
    if len(text) == 36 and text.count('-') == 4:  # a uuid
        return text[:8]
    return repr(text if len(text) <= 16 else text[:15] + '…')


def _pairs(values, rebound=False):
    parts = []
    for name, item in values.items():
        if name == 'context':
            continue  # every task takes it
        if rebound:
            key, value = item['key'], item['value']
            label = name if key == name else f'{name}<-{key}'
        else:
            label, value = name, item
        if name in ('failure', 'result'):
            parts.append(str(value) if name == 'failure'
                         else short_value(value))
        else:
            parts.append(f'{label}={short_value(value)}')
    return ' '.join(parts)


def format_event(event, width=WIDTH):
    """One event in one line of at most ``width`` columns, secrets masked.

    ``flow task action state duration  in: ... -> outputs`` (``=>`` a
    revert's result; the context, which every task takes, is left out);
    what does not
    fit is cut with ``…`` (the full values are in ``--format json`` and
    the HTML page).
    """
    flow = FLOWS.get(event['flow'], event['flow'])
    state = {states.SUCCESS: 'ok', states.REVERTED: 'ok',
             states.FAILURE: 'FAILED'}.get(event['state'], event['state'])
    line = (f"{flow:<9} {short_name(event['task']):<24} "
            f"{event['action']:<7} {state:<6}"
            f"{1000 * (event['seconds'] or 0):6.1f}ms")
    taken = event.get('inputs')
    given = event.get('outputs')
    shown = taken and _pairs(taken, rebound=True)
    if shown:
        line += '  in: ' + shown
    if given:
        line += ('  -> ' if event['action'] == 'execute' else '  => ') + (
            _pairs(given))
    line = redaction.mask_secrets(line)
    if len(line) > width:
        line = line[:width - 1] + '…'
    return line


def jsonable(event):
    """An event with its values made JSON-ready, secrets masked."""
    from oslo_serialization import jsonutils

    def convert(value):
        if hasattr(value, 'to_dict') and hasattr(value, 'project_id'):
            return {'request_id': getattr(value, 'request_id', None),
                    'project_id': value.project_id}
        return value
    prepared = dict(event)
    for part in ('inputs', 'outputs'):
        if part in prepared:
            prepared[part] = {
                k: ({'key': v['key'], 'value': convert(v['value'])}
                    if part == 'inputs' else convert(v))
                for k, v in prepared[part].items()}
    text = jsonutils.dumps(prepared, default=repr)
    return jsonutils.loads(redaction.mask_secrets(text))
