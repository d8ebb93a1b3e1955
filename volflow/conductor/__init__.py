"""The conductor: claims create jobs from the jobboard and runs them.

``volflow conductor`` runs one. Run as many as throughput and
availability need, on as many hosts, all sharing the Redis jobboard and
the database (:mod:`volflow.rpc.jobboard`); each runs ``max_jobs`` jobs
at a time (default 1, as taskflow's blocking conductor), each job's steps
(:mod:`volflow.flows.jobs`) in order, with a serial engine in a thread of
the process-wide executor.

Why not taskflow's own conductors: they claim without an expiry (a
conductor that dies leaves its job claimed for ever on Redis), run one
flow detail per job, build their engines' executors per job (no executor
object passes through ``engine_options``) and their ``run(max_dispatches=
N)`` dispatches N + 1 jobs. The loop here is theirs otherwise: iterate
the unclaimed jobs, claim, run, consume.

**Claims expire** after ``[taskflow] jobboard_expiration_time`` unless
renewed, and are renewed the way Octavia's conductors do: by a listener
on every flow and task event of the running engine (at most once per
tenth of the expiry) and by a refresher thread every quarter of it (a task
may run longer than the expiry). A conductor that dies - kill -9, a lost
host - stops renewing; its claim expires, the job is claimable again and
another conductor resumes it from the last step and task persisted
(tasks run again are idempotent). A conductor that finds its claim gone
(it stalled past the expiry, and another may hold the job now) suspends
its engine at the next task boundary and leaves the job alone.

**Two claims, each its own job.** The board's claim on a job is the
transport's: it says which conductor the job was delivered to, as an
unacknowledged message belongs to one consumer, and it expires so that a
dead conductor's jobs are delivered again. Running a step takes the one
claim every path takes on running a flow - the flow's claim in the
database (:func:`volflow.recovery.resume_flow`, as ``volflow resume``
and the services take it). The board's claim cannot stand for it: it
can expire under a task that runs longer than the expiry while the
stalled conductor's engine still runs the step. The next conductor to
claim the job then finds the step's flow claim held by a live process
and abandons the job for another try until that engine has stopped.

**Finishing.** A job whose steps have all ended is consumed - it leaves
the board - and its logbook is destroyed. If its volume is still
``creating`` then (a step ended without finishing or erroring it, say a
reschedule interrupted half-way), it is set to ``error`` first: no
volume stays ``creating`` once its job is done. A job that can never run
(its logbook is gone, its steps do not rebuild) is errored and consumed
alike. What a failed step or job leaves is decided in the one place that
decides it for the services and ``volflow resume`` too
(:func:`volflow.flows.common.after_failure`). A database or board
failure while running abandons the job for another try.

**Backends.** A conductor given ``backends`` (``volflow conductor
--backend NAME``, on the host holding those backends' storage) runs the
scheduler steps of any job but the manager steps of its backends only:
when a scheduler step it runs places the volume on another backend, the
manager step is posted as a job of its own naming the backend
(:mod:`volflow.flows.jobs`), the volume's reason says ``waiting for a
conductor of backend NAME`` until one claims it, and the first job is
consumed. A job for a backend no conductor serves waits on the board.

**Reporting.** A running conductor reports to the ``services`` table
every ``report_interval`` seconds, one ``volflow-conductor`` record per
backend it creates volumes on, host ``NAME@BACKEND`` (every configured
backend without ``--backend``): a conductor of a backend is that
backend's volume service. The scheduler steps, in any conductor, place
volumes only on backends one of whose volume services or conductors
reported within ``service_down_time`` (:mod:`volflow.scheduler.
servicegroup`). A job already posted for a backend whose conductors all
stopped is no leftover: it waits on the board for the next one.

**Stopping.** SIGTERM or SIGINT: no more claims; running engines are
suspended once their current task ends and their jobs abandoned, so that
another conductor resumes them at once rather than after the expiry.
"""

import contextlib
import os
import threading
import time

from oslo_config import cfg
from oslo_log import log as logging
from taskflow import exceptions as taskflow_exceptions

from volflow.conductor import _claims
from volflow.conductor import _job
from volflow import context as volflow_context
from volflow import db
from volflow import exception
from volflow import executor
from volflow.flows import common
from volflow.flows import jobs
from volflow import persistence
from volflow.rpc import jobboard
from volflow.scheduler import servicegroup
from volflow.volume import backends as volume_backends

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

#: Seconds an idle conductor waits before looking at the board again.
POLL_INTERVAL = 0.1
#: Seconds it waits after failing to read the board or to run a job.
_BOARD_RETRY = 1


class Conductor:
    """Claims and runs create jobs until :meth:`stop`.

    :param name: this conductor's name; claims are held as
        ``<name>:<pid>`` so a restarted conductor never mistakes a claim
        of its previous life for its own.
    :param backends: the backends whose manager steps this conductor
        runs (default: every backend).
    :param max_jobs: jobs run at once, each in a thread of the
        process-wide executor (at most ``[taskflow] max_workers``: a job
        claimed and then queued for a thread would only be kept from the
        other conductors).
    """

    def __init__(self, name, conf=None, board=None, backend=None,
                 max_jobs=1, poll_interval=POLL_INTERVAL, backends=None):
        self.conf = conf or CONF
        self.backends = frozenset(backends) if backends else None
        self.name = name
        self.owner = f'{name}:{os.getpid()}'
        self.db = db.get_api(conf=self.conf)
        self.backend = backend or persistence.get_backend(self.db, self.conf)
        self.board = board or jobboard.get_board(self.conf, self.backend)
        self.keeper = _claims.ClaimKeeper(
            self.board, self.owner,
            self.conf.taskflow.jobboard_expiration_time)
        self.max_jobs = min(max_jobs, self.conf.taskflow.max_workers)
        self.poll_interval = poll_interval
        self._runs = set()
        self._lock = threading.Lock()
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._scan = None
        self.counts = {}
        self.reporter = servicegroup.Reporter(self.db, [
            {'host': f"{name}@{backend['name']}",
             'binary': servicegroup.CONDUCTOR,
             'topic': self.conf.taskflow.jobboard_backend_namespace,
             'availability_zone': backend['availability_zone']}
            for backend in volume_backends.get_backends(self.conf)
            if self.serves(backend['name'])], self.conf)

    def serves(self, backend):
        """Whether this conductor creates volumes on ``backend``."""
        return (backend is None or self.backends is None or
                backend in self.backends)

    @property
    def stopping(self):
        """Whether :meth:`stop` was called."""
        return self._stopping.is_set()

    def stop(self, why='stop requested'):
        """Claim no more; suspend the running jobs (signal-safe)."""
        if not self._stopping.is_set():
            LOG.info('Conductor %(owner)s stopping (%(why)s): running jobs '
                     'are abandoned after their current task.',
                     {'owner': self.owner, 'why': why})
        self._stopping.set()
        self._wakeup.set()

    def run(self):
        """Claim and run jobs until stopped; return the jobs' outcomes."""
        LOG.info('Conductor %(owner)s started: jobboard on %(where)s, '
                 'namespace %(ns)s, claims expire after %(expiry)ss; '
                 'backends: %(backends)s.',
                 {'owner': self.owner, 'where': jobboard.describe(self.conf),
                  'backends': ', '.join(sorted(self.backends or ['all'])),
                  'ns': self.conf.taskflow.jobboard_backend_namespace,
                  'expiry': self.keeper.expiry})
        self.keeper.start()
        self.reporter.start()
        try:
            while not self._stopping.is_set():
                if len(self._runs) < self.max_jobs and self._claim_one():
                    continue
                self._wakeup.wait(self.poll_interval)
                self._wakeup.clear()
        finally:
            self._finish()
        return dict(self.counts)

    def _next_job(self):
        """The next unclaimed job on the board, or None.

        One look at the board lists its jobs newest first (taskflow's
        order); the board is read again only once a look is used up, so
        that a steady stream of new jobs cannot starve the older ones.
        """
        for _attempt in range(2):
            if self._scan is None:
                self._scan = self.board.iterjobs(only_unclaimed=True,
                                                 ensure_fresh=True)
            job = next(self._scan, None)
            if job is not None:
                return job
            self._scan = None
        return None

    def _claim_one(self):
        try:
            job = self._next_job()
            while job is not None and not (
                    self.serves((job.details or {}).get('backend')) and
                    self.keeper.claim(job)):
                job = self._next_job()
        except taskflow_exceptions.JobFailure as exc:
            LOG.warning('Could not read the jobboard (%s); trying again in '
                        '%d s.', exc, _BOARD_RETRY)
            self._scan = None
            self._stopping.wait(_BOARD_RETRY)
            return False
        if job is None:
            return False
        run = _job.JobRun(job, self.backend, self.keeper,
                          serves=self.serves, hand_off=self._hand_off,
                          db_api=self.db)
        self.keeper.hold(run)
        with self._lock:
            self._runs.add(run)
        executor.get_executor().submit(self._work, run)
        return True

    def _hand_off(self, step):
        """Post a manager step for a conductor of its backend."""
        jobboard.post(step, self.db, self.conf)
        reason = jobs.waiting_reason(step.backend)
        try:
            self.db.volume_update(volflow_context.get_admin_context(),
                                  step.volume_id, {'reason': reason},
                                  expected={'status': 'creating'})
        except (exception.VolumeNotFound, exception.InvalidVolume):
            pass  # finished or deleted meanwhile: nothing waits
        LOG.info('Volume %(id)s: %(reason)s (posted as a job of its own).',
                 {'id': step.volume_id, 'reason': reason})

    def _no_longer_waiting(self, run):
        """A conductor of the job's backend took it: clear the reason."""
        backend = (run.job.details or {}).get('backend')
        if backend is None or not run.volume_id:
            return
        try:
            self.db.volume_update(
                volflow_context.get_admin_context(), run.volume_id,
                {'reason': None}, expected={
                    'status': 'creating',
                    'reason': jobs.waiting_reason(backend)})
        except (exception.VolumeNotFound, exception.InvalidVolume):
            pass

    def _work(self, run):
        started = time.monotonic()
        try:
            self._no_longer_waiting(run)
            outcome = run.run()
        except Exception:
            LOG.exception('Job %s: unexpected failure; abandoning it.',
                          run.job.uuid)
            outcome = _job.RETRY
        try:
            self._settle(run, outcome)
        except Exception:
            LOG.exception('Job %s: could not settle it on the board.',
                          run.job.uuid)
        finally:
            self.keeper.release(run)
            with self._lock:
                self._runs.discard(run)
                self.counts[outcome] = self.counts.get(outcome, 0) + 1
            self._wakeup.set()
        LOG.debug('Job %(job)s (volume %(id)s): %(outcome)s after '
                  '%(ms).0f ms.', {'job': run.job.uuid, 'id': run.volume_id,
                                   'outcome': outcome,
                                   'ms': (time.monotonic() - started) * 1e3})

    def _settle(self, run, outcome):
        if outcome == _job.LOST:
            return
        if outcome in (_job.STOPPED, _job.RETRY):
            self.board.abandon(run.job, self.owner)
            if outcome == _job.RETRY:  # no hot loop on a failure
                self._stopping.wait(_BOARD_RETRY)
            return
        if outcome != _job.HANDED_OFF and run.volume_id:
            # Broken, or ended: a volume still creating has failed.
            common.after_failure(self.db, 'job', run.volume_id, run.last,
                                 given_up=outcome == _job.BROKEN)
        self.board.consume(run.job, self.owner)
        if run.book is not None:
            try:
                with contextlib.closing(
                        self.backend.get_connection()) as conn:
                    conn.destroy_logbook(run.book.uuid)
            except taskflow_exceptions.NotFound:
                pass

    def _finish(self):
        with self._lock:
            runs = list(self._runs)
        for run in runs:
            run.stop(_job.STOPPED)
        for run in runs:
            while run in self._runs:
                self._wakeup.wait(0.05)
                self._wakeup.clear()
        self.keeper.stop()
        self.reporter.stop()
        LOG.info('Conductor %(owner)s stopped: %(counts)s',
                 {'owner': self.owner, 'counts': self.counts})
