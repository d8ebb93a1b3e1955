"""volflow.persistence._sql: what a flow's run writes, and when.

The connection is driven as taskflow's storage drives it: a logbook
created with its flow and atom details, then each atom detail and the
flow detail written as the engine changes them. What the database holds
after each write is read on a connection of its own.
"""

import uuid

import pytest
import sqlalchemy as sa
from taskflow.persistence import models
from taskflow import states

from volflow import persistence
from volflow.persistence import _sql

TASKS = 4


@pytest.fixture
def backend(tmp_path):
    backend = _sql.SQLAlchemyBackend(f"sqlite:///{tmp_path / 'r.sqlite'}")
    yield backend
    backend.close()


class Commits:
    """Counts the transactions committed on ``engine`` while it is on."""

    def __init__(self, engine):
        self.engine = engine
        self.count = 0

    def _commit(self, conn):
        self.count += 1

    def __enter__(self):
        sa.event.listen(self.engine, 'commit', self._commit)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, 'commit', self._commit)


def _record(backend):
    """A flow detail with its atom details, recorded as volflow does."""
    run = persistence.Record('scheduler', str(uuid.uuid4()),
                             'volflow.flows.factories.scheduler_flow', {},
                             None, backend=backend)
    detail = run.detail('flow', {'raw_size': 1})
    for n in range(TASKS):
        atom = models.TaskDetail(f'task-{n}', str(uuid.uuid4()))
        atom.state = states.PENDING
        detail.add(atom)
    assert persistence.create_detail(backend.get_connection(), detail,
                                     'scheduler')
    return detail


def _recorded_states(backend, detail):
    """``{atom name: state}`` as the database holds them now."""
    table = backend.tables.atomdetails
    with backend.engine.connect() as conn:
        return dict(conn.execute(sa.select(table.c.name, table.c.state).where(
            table.c.parent_uuid == detail.uuid)).all())


def _done(backend, atom, result):
    """The task's result written, as the engine's storage writes it."""
    atom.state = states.RUNNING
    atom.intention = states.EXECUTE
    backend.get_connection().update_atom_details(atom)
    atom.state = states.SUCCESS
    atom.results = result
    backend.get_connection().update_atom_details(atom)


def _set(backend, atom, state, intention):
    atom.state = state
    atom.intention = intention
    backend.get_connection().update_atom_details(atom)


def test_a_flow_has_one_result_at_most_waiting(backend):
    detail = _record(backend)
    waiting = []
    with Commits(backend.engine) as commits:
        detail.state = states.RUNNING
        backend.get_connection().update_flow_details(detail)
        for n, atom in enumerate(detail):
            _done(backend, atom, {'n': n})
            waiting.append(list(_recorded_states(backend, detail).values())
                           .count(states.PENDING) - (TASKS - n - 1))
        detail.state = states.SUCCESS
        backend.get_connection().update_flow_details(detail)
    assert waiting == [1, 0, 1, 0]
    assert commits.count == 1 + TASKS // 2  # the pairs, the final state
    again = backend.get_connection().get_flow_details(detail.uuid)
    assert [(ad.name, ad.state, ad.results) for ad in again] == [
        (f'task-{n}', states.SUCCESS, {'n': n}) for n in range(TASKS)]


def test_a_flow_with_a_result_waiting_is_not_forgotten(backend,
                                                       monkeypatch):
    """However many flows are recorded meanwhile (a bounded memory).

    Forgotten, its atoms' next writes would not know their flow: they
    would go on their own, and the result waiting after them - here a
    task's success over its revert.
    """
    monkeypatch.setattr(_sql, '_REMEMBERED', 1)
    detail = _record(backend)
    atoms = list(detail)
    _done(backend, atoms[0], {'n': 0})  # waits for the next write
    others = [_record(backend) for _ in range(3)]
    _set(backend, atoms[1], states.FAILURE, states.EXECUTE)
    _set(backend, atoms[0], states.REVERTED, states.REVERT)
    detail.state = states.REVERTED
    backend.get_connection().update_flow_details(detail)
    assert _recorded_states(backend, detail) == {
        'task-0': states.REVERTED, 'task-1': states.FAILURE,
        'task-2': states.PENDING, 'task-3': states.PENDING}
    # Nothing waits any more: forgotten at the next record, as the others.
    connection = backend.get_connection()
    _record(backend)
    assert detail.uuid not in connection._flows_known()
    assert others[0].uuid not in connection._flows_known()
