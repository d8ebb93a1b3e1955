"""``create --trace``, ``create --fail-at TASK`` and ``trace VOLUME_ID``.

``--trace`` prints one line per task execute and revert on stderr as the
flows run (:mod:`volflow.tracing`); ``--fail-at`` makes a task's execute
fail so that the reverts can be watched. ``trace VOLUME_ID`` rebuilds the
same lines from the records the flows left (taskflow persistence: each
task's state, result, failure and revert result; the inputs fetched again
through each task's rebind from the recorded store and results; the
timing volflow records when a flow ends), for as long as the records are
kept (``[taskflow] logbook_retention``).
"""

import argparse
import sys
import threading

from oslo_serialization import jsonutils
from taskflow import states

from volflow.cmd import _html
from volflow import engines
from volflow import exception
from volflow import persistence
from volflow import tracing


def fail_at_type(text):
    """argparse type: one of the three flows' task class names."""
    if text not in tracing.task_names():
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a task of the create flows (one of: "
            f"{', '.join(tracing.task_names())})")
    return text


def add_create_options(parser):
    parser.add_argument('--trace', action='store_true',
                        help='Print on stderr one line per task execute '
                             'and revert: flow, task, inputs, outputs, '
                             'duration.')
    parser.add_argument('--fail-at', metavar='TASK', type=fail_at_type,
                        help='Make this task (a class name, such as '
                             'QuotaCommitTask) fail, to watch the reverts.')


def start(args):
    """Turn on what ``--trace`` and ``--fail-at`` ask for."""
    if args.trace:
        lock = threading.Lock()

        def sink(event):
            line = tracing.format_event(event)
            with lock:
                sys.stderr.write(line + '\n')
                sys.stderr.flush()
        tracing.enable(sink)
    if args.fail_at:
        tracing.inject_failure(args.fail_at)


def stop():
    tracing.disable()


def add_parser(subparsers, command):
    parser = command(subparsers, 'trace', trace,
                     'Show how the flows of a volume created earlier ran: '
                     'one line per task execute and revert.', needs='api')
    parser.add_argument('volume_id', metavar='VOLUME_ID', help='Volume id.')
    parser.add_argument('--html', metavar='FILE',
                        help='Write a self-contained HTML timeline of the '
                             'run to FILE.')


def trace(args, api, ctx, conf):
    """Print the recorded trace of a volume (or write it as HTML)."""
    events = recorded(api.db, conf, args.volume_id)
    if not events:
        raise exception.VolumeNotFound(volume_id=args.volume_id)
    if args.html:
        with open(args.html, 'w', encoding='utf-8') as f:
            f.write(_html.page(args.volume_id, events))
    elif args.format == 'json':
        print(jsonutils.dumps(events, indent=2))
    else:
        for event in events:
            print(tracing.format_event(event))
    return 0


def recorded(db_api, conf, volume_id):
    """The events of every recorded flow of ``volume_id``, in run order.

    JSON-ready (:func:`volflow.tracing.jsonable`).
    """
    backend = persistence.get_backend(db_api, conf)
    runs = []
    for uuid, _state, meta in persistence.details(backend):
        info = persistence.ours(meta)
        if info and info.get('volume_id') == volume_id:
            runs.append((info.get('created') or '', uuid))
    events = []
    conn = backend.get_connection()
    for _created, uuid in sorted(runs):
        detail = persistence.existing(conn, uuid)
        if detail is not None:
            events.extend(_flow_events(detail, backend, conf))
    if all(e['started'] is not None for e in events):
        events.sort(key=lambda e: e['started'])
    return [tracing.jsonable(e) for e in events]


def _flow_events(detail, backend, conf):
    """One recorded flow's events: recorded timing, taskflow's results.

    The flow is rebuilt (as resume rebuilds it) for its tasks' rebind and
    provides; each task's inputs are then looked up as the engine did -
    in what an earlier task provided, else in the recorded store - from
    the recorded results, including those of tasks reverted since (which
    taskflow's storage no longer hands out).
    """
    try:
        atoms = tracing.atoms(engines.load_recorded(detail, backend, conf))
        store = persistence.stored_store(detail.meta)
    except Exception:
        atoms, store = {}, {}
    recorded = {atom_detail.name: atom_detail for atom_detail in detail}
    order = [name for name in atoms if name in recorded] + [
        name for name in recorded if name not in atoms]
    timing = {}
    for item in (detail.meta or {}).get(tracing.META) or ():
        timing[(item['task'], item['action'])] = item
    executes, reverts, provided = [], [], {}
    for name in order:
        atom_detail, atom = recorded[name], atoms.get(name)
        if atom_detail.state in (states.PENDING, None) and (
                name, 'execute') not in timing:
            continue  # never ran
        execute = dict(timing.get((name, 'execute')) or {},
                       flow=detail.name, task=name, action='execute')
        execute['state'] = (states.FAILURE if atom_detail.failure
                            else states.SUCCESS)
        execute['inputs'] = _inputs(atom, provided, store)
        if atom_detail.failure:
            execute['outputs'] = {
                'failure': tracing.one_line(atom_detail.failure)}
        else:
            execute['outputs'] = (tracing.outputs(atom, atom_detail.results)
                                  if atom is not None else {})
            provided.update(execute['outputs'])
        executes.append(_defaults(execute))
        if atom_detail.state in (states.REVERTED, states.REVERT_FAILURE):
            revert = dict(timing.get((name, 'revert')) or {},
                          flow=detail.name, task=name, action='revert',
                          state=atom_detail.state)
            revert['outputs'] = (
                {'failure': tracing.one_line(atom_detail.revert_failure)}
                if atom_detail.revert_failure else
                {'result': atom_detail.revert_results})
            reverts.append(_defaults(revert))
    return executes + reverts[::-1]


def _inputs(atom, provided, store):
    """What ``atom`` took, after its rebind, as :func:`tracing.inputs`."""
    if atom is None:
        return {}
    taken = {}
    for argument, key in atom.rebind.items():
        for source in (provided, store):
            if key in source:
                taken[argument] = {'key': key, 'value': source[key]}
                break
    return taken


def _defaults(event):
    for key, value in (('started', None), ('seconds', 0.0),
                       ('thread', '?'), ('pid', None)):
        event.setdefault(key, value)
    return event
