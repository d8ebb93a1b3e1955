"""volflow.executor: one pool per process, work run in its submitter's
context."""

from volflow import context
from volflow import executor


def test_one_executor_until_shut_down(conf):
    first = executor.get_executor()
    try:
        assert executor.get_executor() is first
    finally:
        executor.shutdown()
    second = executor.get_executor()
    try:
        assert second is not first
        assert second.submit(lambda: 42).result(60) == 42
    finally:
        executor.shutdown()


def test_work_runs_in_the_context_it_was_submitted_in(conf):
    ctx = context.RequestContext(user_id='u', project_id='p1')
    pool = executor.get_executor()
    try:
        with context.acting(ctx):
            seen = pool.submit(context.current).result(60)
        with context.acting(None):
            none = pool.submit(context.current).result(60)
    finally:
        executor.shutdown()
    assert seen is ctx
    assert none is None
