"""One claimed job: its steps run in order, more added as they run.

The steps are the flow details of the job's logbook
(:mod:`volflow.flows.jobs`). Each is run on as ``volflow resume`` runs a
flow on, by the one function that does it
(:func:`volflow.recovery.resume_flow`: its flow claim, its record read
again, rebuilt and loaded with its persisted state, run with a serial
engine, a failure settled), under :func:`volflow.rpc.jobboard.running`,
so that the casts its tasks make - the scheduler's to a volume manager,
a manager's reschedule - add the job's next step
(:meth:`JobRun.add_step`) instead of posting a job.
"""

import contextlib
import threading
import time

from oslo_log import log as logging
from taskflow import exceptions as taskflow_exceptions
from taskflow import states

from volflow.conductor import _claims
from volflow.flows import common
from volflow.flows import jobs
from volflow import recovery
from volflow.rpc import jobboard

LOG = logging.getLogger(__name__)

# What became of a job run.
DONE = 'done'          # every step ended: consume
STOPPED = 'stopped'    # suspended on request: abandon
LOST = _claims.LOST    # the claim is not ours any more: leave it
RETRY = 'retry'        # database or board failure: abandon
BROKEN = 'broken'      # can never run: error the volume, consume
HANDED_OFF = 'handed off'  # its next step is another backend's job: consume


def _serves_all(backend):
    return True


class JobRun:
    """One claimed job: its steps run in order, more added as it runs.

    :param serves: ``serves(backend)``: whether this conductor creates
        volumes on ``backend`` (default: on every backend).
    :param hand_off: ``hand_off(step)``: posts a manager step this
        conductor does not serve as a job of its own (idempotently).
    :param db_api: the database of the volumes and of the flows' claims;
        a step that fails is followed by
        :func:`volflow.flows.common.after_failure`, as in the services.
    """

    def __init__(self, job, backend, keeper, db_api, serves=_serves_all,
                 hand_off=None):
        self.job = job
        self.db = db_api
        self.backend = backend
        self.keeper = keeper
        self.serves = serves
        self.hand_off = hand_off
        self.book = None
        self.volume_id = (job.details or {}).get('volume_id')
        self.renewed_at = time.monotonic()
        self.last = None
        self._index = 0
        self._engine = None
        self._suspended = False
        self._stop_reason = None
        self._lock = threading.Lock()

    def stop(self, reason):
        """Ask the run to stop; its engine suspends at its next event.

        Any thread may ask; only the engine's own thread suspends it (in
        :meth:`on_event`), as taskflow's conductors do: a thread that
        reads the engine's storage while the engine writes it can
        deadlock on the storage's lock.
        """
        with self._lock:
            self._stop_reason = self._stop_reason or reason

    def on_event(self):
        """Every flow and task event of the running step (its thread).

        The claim is renewed, and the engine suspended if the run was
        asked to stop: the task under way finishes, no other starts.
        """
        self.keeper.touch(self)
        if self._stop_reason and not self._suspended:
            self._suspended = True
            self._engine.suspend()

    def add_step(self, step):
        """The running step casts: its continuation is the next step.

        A step adds at most one; an earlier run of the same step that was
        interrupted may have added it already (that continuation never
        ran: steps run in order), so its flow detail is reused. A manager
        step for a backend this conductor does not serve is recorded as
        handed off: :meth:`run` posts it as a job of its own.
        """
        index = self._index + 1
        existing = [fd for fd in self.book if jobs.index_of(fd) == index]
        handed_off = (step.backend is not None and
                      not self.serves(step.backend))
        detail = step.flow_detail(index, existing[0].uuid if existing
                                  else None, handed_off=handed_off)
        shell = self.book.copy(retain_contents=False)
        shell.add(detail)
        with contextlib.closing(self.backend.get_connection()) as conn:
            conn.save_logbook(shell)
        if existing:
            existing[0].merge(detail)
        else:
            self.book.add(detail)

    def run(self):
        """Run the steps not yet ended; return what became of the job."""
        try:
            self.book = self.job.book
        except taskflow_exceptions.NotFound:
            self.book = None
        if self.book is None or not jobs.steps(self.book):
            self.last = 'its logbook is missing'
            return BROKEN
        self.volume_id = self.volume_id or jobs.volume_id(self.book)
        started = [fd.name for fd in jobs.steps(self.book)
                   if fd.state is not None]
        if started:
            LOG.info('Job %(job)s (volume %(id)s): taking it over after an '
                     'earlier claim ended; %(steps)s started already.',
                     {'job': self.job.uuid, 'id': self.volume_id,
                      'steps': ', '.join(started)})
        while True:
            pending = [fd for fd in jobs.steps(self.book)
                       if fd.state not in jobs.FINISHED]
            if pending and jobs.handed_off(pending[0]):
                # Posted again after a crash: the post is idempotent.
                self.last = pending[0].name
                self.hand_off(jobs.Step.from_detail(pending[0]))
                return HANDED_OFF
            if not pending:
                return DONE
            outcome = self._run_step(pending[0])
            if outcome is not None:
                return outcome

    def _run_step(self, detail):
        """Run one step on: :func:`volflow.recovery.resume_flow`.

        The one resume path, as ``volflow resume`` and the services take
        it: the step's flow claim first - the board's claim on the job
        says which conductor the job was delivered to, the flow's claim
        who may run the step now (a conductor whose board claim expired
        under a long task still holds it until its engine stops) - then
        its record read again, rebuilt, run, a failure settled.
        """
        self._index = jobs.index_of(detail)
        self.last = detail.name
        LOG.debug('Job %(job)s (volume %(id)s): running %(step)s.',
                  {'job': self.job.uuid, 'id': self.volume_id,
                   'step': detail.name})
        if self._stop_reason:
            return self._stop_reason
        try:
            state, failure = recovery.resume_flow(
                self.db, self.backend, detail.uuid, detail=detail,
                during=self._running, give_up=False)
        except recovery.Unbuildable as exc:
            self.last = f'{detail.name} does not rebuild: {exc}'
            return BROKEN
        except (taskflow_exceptions.StorageFailure,
                taskflow_exceptions.JobFailure):
            LOG.warning('Job %(job)s: %(step)s failed on the database or '
                        'the board; abandoning it for another try.',
                        {'job': self.job.uuid, 'step': detail.name},
                        exc_info=True)
            return RETRY
        if state == recovery.BUSY:
            LOG.info('Job %(job)s: %(step)s is still run by another '
                     'process; abandoning the job for another try.',
                     {'job': self.job.uuid, 'step': detail.name})
            return RETRY
        if failure is not None:
            # The listener logged the failure; the flow reverted.
            self.last = f'{detail.name}: {common.one_line(failure)}'
        if state == states.SUSPENDED:
            return self._stop_reason or STOPPED
        if state not in jobs.FINISHED and state != recovery.DONE:
            return RETRY
        return None

    @contextlib.contextmanager
    def _running(self, engine):
        """Around a step's run: the board claim renewed, a stop obeyed.

        The casts of the step's tasks meanwhile become this job's next
        steps (:func:`volflow.rpc.jobboard.running`).
        """
        self._engine = engine
        self._suspended = False
        try:
            with _claims.ClaimListener(engine, self), \
                    jobboard.running(self):
                yield
        finally:
            self._engine = None
