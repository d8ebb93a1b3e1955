"""volflow.persistence._backend: which backend records a database's flows.

The memory backend for the in-memory database, one per database; taskflow's
SQL persistence for a SQL database on disk; and the memory backend's
connection that keeps the very objects it is given.
"""

import uuid

import pytest
from taskflow import exceptions as taskflow_exceptions
from taskflow.persistence import models
from taskflow import states
from taskflow.types import failure

from volflow import db as volflow_db
from volflow.db import fake
from volflow import persistence
from volflow.persistence import _backend as persistence_backend


@pytest.fixture(autouse=True)
def _forget_backends():
    yield
    persistence_backend.reset()


def test_the_in_memory_database_gets_a_memory_backend_of_its_own(conf):
    first, second = fake.FakeAPI(), fake.FakeAPI()
    backend = persistence_backend.get_backend(first, conf)
    assert isinstance(backend, persistence_backend.MemoryBackend)
    assert persistence_backend.get_backend(first, conf) is backend
    assert persistence_backend.get_backend(second, conf) is not backend


def _recorded(backend, state=states.PENDING, **extra):
    detail = persistence.new_detail(
        'volume_create_api', str(uuid.uuid4()), 'api', 'v1',
        'volflow.flows.factories.api_flow', {}, {'raw_size': 1}, None,
        **extra)
    detail.state = state
    assert persistence.create_detail(backend.get_connection(), detail,
                                     'api')
    return detail.uuid


def test_a_sqlite_file_records_in_sql_and_reads_back(conf, tmp_path):
    db_api = volflow_db.get_api(f"sqlite:///{tmp_path / 'v.sqlite'}",
                                conf=conf)
    try:
        backend = persistence_backend.get_backend(db_api, conf)
        assert not isinstance(backend, persistence_backend.MemoryBackend)
        flow = _recorded(backend)
        [(uuid_, state, meta)] = persistence_backend.details(backend)
        assert (uuid_, state) == (flow, states.PENDING)
        assert persistence_backend.ours(meta)['volume_id'] == 'v1'
        persistence_backend.reset()
        again = persistence_backend.get_backend(db_api, conf)
        assert [d[0] for d in persistence_backend.details(again)] == [flow]
    finally:
        db_api.dispose()


def test_persistence_in_memory_for_a_sql_database(conf, conf_override,
                                                  tmp_path):
    conf_override('persistence_connection', 'memory://', group='taskflow')
    db_api = volflow_db.get_api(f"sqlite:///{tmp_path / 'v.sqlite'}",
                                conf=conf)
    try:
        assert isinstance(persistence_backend.get_backend(db_api, conf),
                          persistence_backend.MemoryBackend)
    finally:
        db_api.dispose()


def test_details_and_ours_leave_job_steps_to_the_conductors():
    backend = persistence_backend.MemoryBackend()
    flow = _recorded(backend)
    step = _recorded(backend, step=0)
    owned = {uuid_: persistence_backend.ours(meta)
             for uuid_, _state, meta in persistence_backend.details(backend)}
    assert owned[flow]['kind'] == 'api'
    assert owned[step] is None
    assert persistence_backend.ours({}) is None


def test_the_memory_backend_keeps_what_it_is_given():
    """Saved objects are kept; another object's write merges into them."""
    conn = persistence_backend.MemoryBackend().get_connection()
    detail = models.FlowDetail('f', str(uuid.uuid4()))
    atom = models.TaskDetail('t', str(uuid.uuid4()))
    detail.add(atom)
    book = models.LogBook('b', uuid=detail.uuid)
    book.add(detail)
    assert conn.create_logbook(book)
    assert not conn.create_logbook(book)  # recorded before: a duplicate
    assert conn.get_flow_details(detail.uuid) is detail
    assert conn.get_atom_details(atom.uuid) is atom
    written = atom.copy()
    written.state = 'SUCCESS'
    written.results = {'volume_id': 'v'}
    assert conn.update_atom_details(written) is atom
    assert (atom.state, atom.results) == ('SUCCESS', {'volume_id': 'v'})
    clone = detail.copy()
    clone.state = 'RUNNING'
    later = models.TaskDetail('t2', str(uuid.uuid4()))
    clone.add(later)
    assert conn.update_flow_details(clone) is detail
    assert detail.state == 'RUNNING'
    assert [ad.name for ad in conn.get_atoms_for_flow(detail.uuid)] == [
        't', 't2']
    assert [fd.uuid for fd in conn.get_flows_for_book(book.uuid)] == [
        detail.uuid]
    try:
        raise ValueError('disk on fire')
    except ValueError:
        live = failure.Failure()
    written = atom.copy()
    written.failure = live
    conn.update_atom_details(written)
    assert atom.failure.exc_info is None  # no frames kept alive
    assert atom.failure.matches(live)
    conn.destroy_logbook(book.uuid)
    for missing in (lambda: conn.get_flow_details(detail.uuid),
                    lambda: conn.get_atom_details(later.uuid),
                    lambda: conn.update_flow_details(clone)):
        with pytest.raises(taskflow_exceptions.NotFound):
            missing()
