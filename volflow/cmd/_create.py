"""``create``: one volume, or ``--count N`` of them at once.

A create runs the API flow (:meth:`volflow.volume.api.API.create`); when a
scheduler is configured it then waits, up to ``create_timeout`` seconds,
for the volume to leave ``creating``. Without a scheduler the volume is
shown as the API flow left it.

``--count N`` submits the N API flows to the process-wide executor, at
most half its workers at a time so that the flows they cast to (which run
on the same executor) always find a free worker, then waits for the
volumes in the calling thread.
"""

import collections
import sys
import threading
import time

from volflow.cmd import _output
from volflow.cmd import _trace
from volflow.cmd import _util
from volflow import exception
from volflow import executor
from volflow.rpc import local
from volflow import timing


#: The usage error of a create with no size to make or inherit.
SIZE_REQUIRED = ('--size is required unless --snapshot-id or '
                 '--source-volid is given')


def usage_error(args):
    """The usage error of a create's arguments, or None."""
    if args.size is None and not (args.snapshot_id or args.source_volid):
        return SIZE_REQUIRED
    return None


def _request(args):
    """The API's ``create`` arguments from the parsed command line."""
    return {
        'size': args.size,
        'name': args.display_name,
        'description': args.description,
        'snapshot': args.snapshot_id,
        'image_id': args.image_id,
        'volume_type': args.volume_type,
        'metadata': _util.parse_pairs('--metadata', args.metadata),
        'availability_zone': args.availability_zone,
        'source_volume': args.source_volid,
    }


def _should_wait(api, args):
    return not args.no_wait and api.scheduler_rpcapi is not None


class _Outcome:
    """What became of one request: a volume, or the reason it failed."""

    def __init__(self, volume=None, error=None):
        self.volume = volume
        self.error = error

    @property
    def ok(self):
        return self.error is None and self.volume['status'] != 'error'

    @property
    def group(self):
        """Why it failed, without the volume id: failures group by it."""
        if self.error is not None:
            return self.error
        return (f"ended in error: "
                f"{self.volume.get('reason') or 'no reason recorded'}")

    @property
    def reason(self):
        """Why it failed, in one line."""
        if self.error is not None:
            return self.error
        return f"Volume {self.volume['id']} {self.group}"

    def view(self):
        if self.volume is None:
            return {'error': self.error}
        return _output.volume_view(self.volume)


def create(args, api, ctx, conf):
    """Create one volume (or ``--count`` of them); return the exit code.

    With ``--timings`` the time each task and flow took (mean and max over
    the creates) is printed on stderr once every flow has finished.

    Neither ``--size`` nor a source to inherit it from is a usage error
    (exit status 2), reported before anything runs.
    """
    error = usage_error(args)
    if error:
        _util.note(f'{_util.PROG} create: error: {error}')
        return 2
    _trace.start(args)
    try:
        return _timed(args, api, ctx, conf)
    finally:
        if args.trace or args.fail_at:
            local.wait_idle()
        _trace.stop()


def _timed(args, api, ctx, conf):
    if not args.timings:
        return _create(args, api, ctx, conf)
    collector = timing.enable()
    try:
        return _create(args, api, ctx, conf)
    finally:
        local.wait_idle()
        timing.disable()
        print(collector.format(), file=sys.stderr)


def _create(args, api, ctx, conf):
    request = _request(args)
    if args.count > 1:
        return _create_many(args, api, ctx, conf, request)
    try:
        volume = _call_create(api, ctx, request)
    except exception.VolflowException as exc:
        if args.format != 'json':
            raise
        # One JSON document, even for a refusal; the reason on stderr too.
        outcome = _Outcome(error=_util.reason(exc))
        _output.emit(outcome.view(), args.format, None)
        _util.fail(outcome.reason)
        return 1
    if _should_wait(api, args):
        volume = _wait(api, ctx, volume['id'], conf.create_timeout)
    outcome = _Outcome(volume)
    _output.emit(outcome.view(), args.format,
                 lambda: _output.record_table(outcome.view()))
    if not outcome.ok:
        _util.fail(outcome.reason)
        return 1
    return 0


def _wait(api, ctx, volume_id, timeout):
    """The volume once it has left ``creating``, within ``timeout``.

    The in-process rpc runs the scheduler and manager flows on this
    process's executor: wait for them to end, then read the volume,
    rather than poll it (polls back off, and overshoot the end by half
    the flows' time). Over a broker, or a jobboard, ``API.wait`` polls.
    """
    deadline = time.monotonic() + timeout
    local.wait_idle(timeout)
    return api.wait(ctx, volume_id, max(0.0, deadline - time.monotonic()))


def _call_create(api, ctx, request):
    """``API.create`` with Cinder's positional size, name, description."""
    options = dict(request)
    return api.create(ctx, options.pop('size'), options.pop('name'),
                      options.pop('description'), **options)


def _create_one(api, ctx, request):
    """One of ``--count`` creates; never raises."""
    try:
        return _Outcome(_call_create(api, ctx, request))
    except Exception as exc:
        return _Outcome(error=_util.reason(exc))


def _create_many(args, api, ctx, conf, request):
    """Run ``--count`` creates at once; print them all, one per request."""
    started = time.monotonic()
    pool = executor.get_executor()
    slots = threading.BoundedSemaphore(
        max(1, conf.taskflow.max_workers // 2))
    show_bar = args.format != 'json' and sys.stderr.isatty()
    import tqdm  # the progress bar of --count only
    bar = tqdm.tqdm(total=args.count, unit='volume', file=sys.stderr,
                    disable=not show_bar, leave=False)
    futures = []
    for _ in range(args.count):
        slots.acquire()
        future = pool.submit(_create_one, api, ctx, request)
        future.add_done_callback(lambda _future: slots.release())
        futures.append(future)
    outcomes = []
    for future in futures:
        outcome = future.result()
        if outcome.error is None and _should_wait(api, args):
            try:
                outcome.volume = api.wait(ctx, outcome.volume['id'],
                                          conf.create_timeout)
            except Exception as exc:
                outcome = _Outcome(error=_util.reason(exc))
        outcomes.append(outcome)
        bar.update(1)
    bar.close()
    elapsed = time.monotonic() - started
    views = [outcome.view() for outcome in outcomes]
    _output.emit(views, args.format, lambda: _count_table(views))
    _util.note(summary(outcomes, elapsed))
    return 0 if all(outcome.ok for outcome in outcomes) else 1


def _count_table(views):
    return _output.rows_table(
        ('id', 'name', 'status', 'size', 'volume_type', 'host', 'error'),
        views)


def summary(outcomes, elapsed):
    """One line: how many succeeded and failed (reasons grouped), speed."""
    failed = collections.Counter(outcome.group for outcome in outcomes
                                 if not outcome.ok)
    succeeded = len(outcomes) - sum(failed.values())
    rate = len(outcomes) / elapsed if elapsed > 0 else float('inf')
    line = (f'{succeeded} of {len(outcomes)} volumes created in '
            f'{elapsed:.2f}s ({rate:.1f} creates/s)')
    if failed:
        groups = '; '.join(f'{count} x {reason}'
                           for reason, count in failed.most_common())
        line += f'; {sum(failed.values())} failed: {groups}'
    return line
