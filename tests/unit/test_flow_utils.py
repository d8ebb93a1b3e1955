"""volflow.flow_utils: task names, engines and the DynamicLogListener."""

import logging

from oslo_log import log as oslo_logging
import pytest
from taskflow.engines.action_engine import engine as action_engine
from taskflow.patterns import linear_flow
from taskflow.patterns import unordered_flow
from taskflow import task as taskflow_task

from volflow import engines
from volflow import exception
from volflow import executor
from volflow import flow_utils

LOGGER = 'tests.flow_utils'


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    return caplog


class Credentials(flow_utils.VolflowTask):
    default_provides = 'credentials'

    def execute(self):
        return {'user': 'admin', 'password': 's3cret'}


class Refuse(flow_utils.VolflowTask):
    def execute(self, credentials):
        raise exception.InvalidInput(reason="Volume size '0' is bad")


class Crash(flow_utils.VolflowTask):
    def execute(self, credentials):
        raise RuntimeError('disk on fire')


class OverQuota(flow_utils.VolflowTask):
    def execute(self):
        raise exception.VolumeLimitExceeded(allowed=3, name='volumes')


def _run(conf, *tasks):
    flow = linear_flow.Flow('test_flow')
    flow.add(*tasks)
    engine = engines.load_engine(flow, {}, conf=conf)
    engines.run_engine(engine, logger=logging.getLogger(LOGGER))
    return engine


def _records(caplog):
    return [r for r in caplog.records if r.name == LOGGER]


# Task names ---------------------------------------------------------------

def test_task_name_is_module_class_and_addons():
    assert Credentials(addons=['volume:create']).name == (
        'tests.unit.test_flow_utils.Credentials;volume:create')
    assert Credentials().name == 'tests.unit.test_flow_utils.Credentials'
    assert Credentials(addons=['a', 'b']).name.endswith(';a, b')


def test_task_names_are_stable():
    assert Credentials(addons=['x']).name == Credentials(addons=['x']).name


# Engines ------------------------------------------------------------------

class _Mapped(flow_utils.VolflowTask):
    def execute(self, context, size, name=None, **kwargs):
        pass

    def revert(self, context, result, volume_id=None, **kwargs):
        pass


class _Plain(taskflow_task.Task):
    execute = _Mapped.execute
    revert = _Mapped.revert


@pytest.mark.parametrize('kwargs', [
    {}, {'rebind': {'size': 'raw_size'}}, {'rebind': ['c', 's']},
    {'requires': ['extra']}, {'inject': {'name': 'n'}},
    {'auto_extract': False, 'requires': ['context', 'size']}])
def test_argument_mappings_are_taskflows_and_each_tasks_own(kwargs):
    first, second = _Mapped(**kwargs), _Mapped(**kwargs)
    plain = _Plain('plain', **kwargs)
    for attribute in ('rebind', 'requires', 'optional', 'revert_rebind',
                      'revert_optional'):
        assert getattr(first, attribute) == getattr(plain, attribute)
        assert list(getattr(first, attribute)) == list(
            getattr(plain, attribute))
        assert getattr(first, attribute) is not getattr(second, attribute)
    first.rebind['size'] = 'changed'
    assert second.rebind['size'] != 'changed'


def test_load_engine_is_loaded_not_run(conf):
    flow = linear_flow.Flow('f').add(Crash())
    engine = engines.load_engine(flow, {'credentials': {}}, conf=conf)
    assert isinstance(engine, action_engine.SerialActionEngine)
    assert engine.storage.get_flow_state() == 'PENDING'


def test_parallel_engine_shares_the_process_executor(conf, conf_override):
    conf_override('engine', 'parallel', group='taskflow')
    flow = linear_flow.Flow('f').add(Credentials())
    first = engines.load_engine(flow, {}, conf=conf)
    second = engines.load_engine(linear_flow.Flow('g').add(Credentials()),
                                 {}, conf=conf)
    assert isinstance(first, action_engine.ParallelActionEngine)
    assert first.options['executor'] is executor.get_executor()
    assert second.options['executor'] is first.options['executor']
    engines.run_engine(first)
    assert first.storage.fetch('credentials')['user'] == 'admin'


def test_run_engine_reraises_the_first_of_several_failures(conf,
                                                           conf_override):
    conf_override('engine', 'parallel', group='taskflow')
    flow = unordered_flow.Flow('two').add(
        Crash('a', inject={'credentials': {}}),
        Crash('b', inject={'credentials': {}}))
    engine = engines.load_engine(flow, {}, conf=conf)
    with pytest.raises(RuntimeError, match='disk on fire'):
        engines.run_engine(engine)


# DynamicLogListener -------------------------------------------------------

def test_success_logs_transitions_at_debug(conf, log):
    _run(conf, Credentials())
    records = _records(log)
    assert records
    assert {r.levelno for r in records} == {logging.DEBUG}
    messages = [r.getMessage() for r in records]
    assert any("Flow 'test_flow'" in m and "into state 'SUCCESS'" in m
               for m in messages)
    success = [m for m in messages
               if 'Credentials' in m and "into state 'SUCCESS'" in m]
    assert len(success) == 1
    assert success[0].startswith(
        "Task 'Credentials' (test_flow) "
        "transitioned into state 'SUCCESS' in ")
    assert success[0].endswith(' ms')
    assert 'with result' not in success[0]
    assert all(len(m) < 200 for m in messages)


def test_results_are_logged_below_debug_masked(conf, log):
    log.set_level(flow_utils.TRACE, logger=LOGGER)
    _run(conf, Credentials())
    results = [r for r in _records(log) if 'with result' in r.getMessage()]
    assert [r.levelno for r in results] == [flow_utils.TRACE]
    message = results[0].getMessage()
    assert "'user': 'admin'" in message
    assert "'password': '***'" in message
    assert 's3cret' not in log.text


def test_refusal_is_one_warning_line_without_traceback(conf, log):
    with pytest.raises(exception.InvalidInput):
        _run(conf, Credentials(), Refuse())
    failures = [r for r in _records(log)
                if 'Refuse' in r.getMessage() and
                "into state 'FAILURE'" in r.getMessage()]
    assert len(failures) == 1
    record = failures[0]
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    message = record.getMessage()
    assert '\n' not in message
    assert message.endswith(" ms: InvalidInput: Invalid input received: "
                            "Volume size '0' is bad")
    assert 'Traceback' not in log.text
    assert 's3cret' not in log.text


def test_over_quota_is_a_refusal_too(conf, log):
    with pytest.raises(exception.VolumeLimitExceeded):
        _run(conf, OverQuota())
    (failure,) = [r for r in _records(log)
                  if "into state 'FAILURE'" in r.getMessage()]
    assert failure.exc_info is None
    assert failure.getMessage().endswith(
        ": VolumeLimitExceeded: Maximum number of volumes allowed "
        "(3) exceeded for quota 'volumes'.")


def test_a_long_reason_is_cut_to_keep_the_line_short(conf, log):
    class Verbose(flow_utils.VolflowTask):
        def execute(self):
            raise RuntimeError('why ' * 100)

    with pytest.raises(RuntimeError):
        _run(conf, Verbose())
    (failure,) = [r for r in _records(log)
                  if "into state 'FAILURE'" in r.getMessage()]
    assert len(failure.getMessage()) < 200
    assert failure.getMessage().endswith('\u2026')
    assert failure.exc_info is not None  # the whole of it is there


def test_unexpected_failure_is_a_warning_with_traceback(conf, log):
    with pytest.raises(RuntimeError, match='disk on fire'):
        _run(conf, Credentials(), Crash())
    failures = [r for r in _records(log)
                if 'Crash' in r.getMessage() and
                "into state 'FAILURE'" in r.getMessage()]
    assert len(failures) == 1
    record = failures[0]
    assert record.levelno == logging.WARNING
    assert record.exc_info is not None
    assert record.exc_info[0] is RuntimeError
    assert 'Traceback' in log.text and 'disk on fire' in log.text
    assert 's3cret' not in record.getMessage()


class LeakyCrash(flow_utils.VolflowTask):
    def execute(self):
        raise RuntimeError("login failed: password='s3cret'")


def test_secret_in_a_failure_is_masked_in_the_traceback(conf, log):
    with pytest.raises(RuntimeError):
        _run(conf, LeakyCrash())
    assert "password='***'" in log.text
    assert 's3cret' not in log.text


def test_revert_and_flow_failure_are_warnings(conf, log):
    with pytest.raises(RuntimeError):
        _run(conf, Credentials(), Crash())
    warnings = [r.getMessage() for r in _records(log)
                if r.levelno == logging.WARNING]
    assert any("Credentials" in m and "into state 'REVERTED'" in m
               for m in warnings)
    assert any("Flow 'test_flow'" in m and "into state 'REVERTED'" in m
               for m in warnings)


def test_oslo_log_adapter_logs_through_its_logger(conf, log):
    flow = linear_flow.Flow('adapted').add(Credentials())
    engine = engines.load_engine(flow, {}, conf=conf)
    engines.run_engine(engine, logger=oslo_logging.getLogger(LOGGER))
    assert any("Flow 'adapted'" in r.getMessage() for r in _records(log))


def test_nothing_formatted_when_logger_is_quiet(conf, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    _run(conf, Credentials())
    assert _records(caplog) == []


#: ``ast.dump`` of taskflow's ``Atom._build_arg_mapping`` that
#: ``VolflowTask._build_arg_mapping`` caches the result of (taskflow 6.5).
_UPSTREAM_ARG_MAPPING = (
    'e30e7b6d8722465a5cc682acd7f6398e8d60397c9d5efc03fdab2eafde404672')


def test_the_overridden_taskflow_method_is_the_one_we_cache():
    """taskflow's private method changed: check the override still holds.

    ``VolflowTask`` caches ``Atom._build_arg_mapping`` per class and
    arguments, which is right only while the mapping depends on nothing
    else (today: the arguments and ``self.inject``, both in the key). The
    upstream change that would let this override go is in
    ``doc/source/contributor/taskflow.rst``.
    """
    import ast
    import hashlib
    import inspect
    import textwrap

    from taskflow import atom

    method = atom.Atom._build_arg_mapping
    assert list(inspect.signature(method).parameters) == [
        'self', 'executor', 'requires', 'rebind', 'auto_extract',
        'ignore_list']
    tree = ast.dump(ast.parse(textwrap.dedent(inspect.getsource(method))))
    assert hashlib.sha256(tree.encode()).hexdigest() == _UPSTREAM_ARG_MAPPING


class _Inputs(flow_utils.VolflowTask):
    def execute(self, size, volume_type=None, **kwargs):
        return size


class _PlainInputs(taskflow_task.Task):
    def execute(self, size, volume_type=None, **kwargs):
        return size


@pytest.mark.parametrize('kwargs', [
    {},
    {'rebind': {'size': 'raw_size'}},
    {'requires': ['extra']},
    {'inject': {'size': 1}},
])
def test_the_cached_mapping_is_taskflows(kwargs):
    cached = _Inputs(**kwargs)
    again = _Inputs(**kwargs)
    plain = _PlainInputs(cached.name, **kwargs)
    for attr in ('rebind', 'requires', 'optional'):
        assert getattr(cached, attr) == getattr(plain, attr)
        assert getattr(again, attr) == getattr(plain, attr)
    assert cached.rebind is not again.rebind  # each task its own copy
