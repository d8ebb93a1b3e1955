"""``create --fail-at`` checking, and the trace rebuilt from the records."""

import argparse

import pytest

from volflow.cmd import _html
from volflow.cmd import _trace
from volflow import context
from volflow import db
from volflow import exception
from volflow.rpc import local
from volflow import tracing
from volflow.volume import api as volume_api


def test_fail_at_takes_a_task_of_the_flows():
    assert _trace.fail_at_type('QuotaCommitTask') == 'QuotaCommitTask'
    with pytest.raises(argparse.ArgumentTypeError,
                       match="'Nope' is not a task of the create flows"):
        _trace.fail_at_type('Nope')


@pytest.fixture
def memory(conf, conf_override):
    conf_override('connection', 'memory://', group='database')
    db.reset_apis()
    yield db.get_api('memory://')
    local.wait_idle(30)
    db.reset_apis()


def test_recorded_trace_of_a_failed_create_shows_the_reverts(conf, memory):
    ctx = context.RequestContext(user_id='u', project_id='p')
    vapi = volume_api.API()
    tracing.inject_failure('CreateVolumeFromSpecTask')
    try:
        volume = vapi.create(ctx, 1, None, None)
        local.wait_idle(30)
    finally:
        tracing.disable()
    events = _trace.recorded(memory, conf, volume['id'])
    steps = [(tracing.FLOWS[e['flow']], tracing.short_name(e['task']),
              e['action']) for e in events]
    manager = [(task, action) for flow, task, action in steps
               if flow == 'manager']
    assert manager[:5] == [(t, 'execute') for t in (
        'ExtractVolumeRefTask', 'OnFailureRescheduleTask',
        'ExtractVolumeSpecTask', 'NotifyVolumeActionTask',
        'CreateVolumeFromSpecTask')]
    assert manager[5:] == [(t, 'revert') for t in (
        'CreateVolumeFromSpecTask', 'NotifyVolumeActionTask',
        'ExtractVolumeSpecTask', 'OnFailureRescheduleTask',
        'ExtractVolumeRefTask')]
    failed = next(e for e in events if e['state'] == 'FAILURE')
    assert failed['outputs'] == {'failure': (
        'InjectedFailure: Failure injected at CreateVolumeFromSpecTask '
        '(--fail-at).')}
    reschedule = next(e for e in events if e['action'] == 'revert' and
                      'OnFailureRescheduleTask' in e['task'])
    assert reschedule['outputs'] == {'result': True}
    # Each event's timing was recorded with its flow.
    assert all(e['started'] is not None and e['seconds'] >= 0
               for e in events)
    page = _html.page(volume['id'], events)
    assert page.count('"action": "revert"') == 5


def test_trace_of_nothing_recorded_is_empty(conf, memory):
    with pytest.raises(exception.VolumeNotFound):
        _trace.trace(argparse.Namespace(volume_id='nope', html=None,
                                        format='table'),
                     argparse.Namespace(db=memory), None, conf)


def test_recorded_inputs_include_what_reverted_tasks_provided(conf, memory):
    ctx = context.RequestContext(user_id='u', project_id='p')
    vapi = volume_api.API()
    tracing.inject_failure('CreateVolumeFromSpecTask')
    try:
        volume = vapi.create(ctx, 2, None, None)
        local.wait_idle(30)
    finally:
        tracing.disable()
    events = _trace.recorded(memory, conf, volume['id'])
    failed = next(e for e in events if e['state'] == 'FAILURE')
    # ExtractVolumeRefTask provided it, and was reverted since.
    assert failed['inputs']['volume']['key'] == 'refreshed'
    assert failed['inputs']['volume']['value']['id'] == volume['id']
    assert failed['inputs']['volume_spec']['key'] == 'volume_spec'
    extract = events[0]
    assert extract['inputs']['size'] == {'key': 'raw_size', 'value': 2}
