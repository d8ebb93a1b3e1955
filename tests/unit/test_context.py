"""volflow.context: contexts, and which one is the thread's current."""

import threading

import pytest

from volflow import context


@pytest.fixture(autouse=True)
def _no_current_context():
    with context.acting(None):
        yield


def test_building_a_context_leaves_the_current_one_alone():
    assert context.current() is None
    context.RequestContext(user_id='u', project_id='p')
    assert context.current() is None
    with context.acting(context.RequestContext(user_id='a')) as first:
        context.RequestContext(user_id='b')
        assert context.current() is first


def test_acting_restores_the_context_before_it_even_on_failure():
    outer = context.RequestContext(user_id='outer', project_id='p')
    inner = context.RequestContext(user_id='inner', project_id='p')
    with context.acting(outer):
        with pytest.raises(RuntimeError):
            with context.acting(inner):
                assert context.current() is inner
                raise RuntimeError('request failed')
        assert context.current() is outer
        with context.acting(None):
            assert context.current() is None
        assert context.current() is outer
    assert context.current() is None


def test_the_current_context_is_the_threads_own():
    seen = []
    with context.acting(context.RequestContext(user_id='main')):
        worker = threading.Thread(target=lambda: seen.append(
            context.current()))
        worker.start()
        worker.join(60)
    assert seen == [None]


def test_elevated_is_an_admin_copy_for_the_same_project():
    ctx = context.RequestContext(user_id='u', project_id='p')
    admin = ctx.elevated()
    assert (admin.is_admin, admin.project_id, admin.user_id) == (
        True, 'p', 'u')
    assert ctx.is_admin is False
    assert context.get_admin_context().is_admin
    assert context.get_admin_context().project_id is None
