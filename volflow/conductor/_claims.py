"""Claims on jobs that expire, kept alive while a job runs.

taskflow's Redis jobboard keeps a claim until it is released unless the
claim is given an expiry; a conductor that died would keep its job for
ever. Claims here expire after ``[taskflow] jobboard_expiration_time`` and
are renewed as Octavia's conductors renew theirs: by a listener on every
flow and task event of the running engine (at most once per tenth of the
expiry, a Redis round trip each) and by a refresher thread every quarter
of the expiry, for the task that runs longer than that.

Renewing checks the owner first: a claim found gone or held by another
conductor (this one stalled past the expiry) stops the job's engine at
its next task boundary; the job is then left alone.
"""

import threading
import time

from oslo_log import log as logging
from taskflow import exceptions as taskflow_exceptions
from taskflow.listeners import base as listener_base
from taskflow import states

LOG = logging.getLogger(__name__)

#: What a job run stops with once its claim is lost.
LOST = 'lost'


class ClaimKeeper:
    """Claims jobs with an expiry and keeps the claims alive."""

    def __init__(self, board, owner, expiry):
        self.board = board
        self.owner = owner
        self.expiry = expiry
        self._runs = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._refresh_all,
                                        name='claim-refresher', daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()

    def claim(self, job):
        try:
            self.board.claim(job, self.owner, expiry=self.expiry)
        except (taskflow_exceptions.UnclaimableJob,
                taskflow_exceptions.NotFound):
            return False
        return True

    def hold(self, run):
        run.renewed_at = time.monotonic()
        with self._lock:
            self._runs.add(run)

    def release(self, run):
        with self._lock:
            self._runs.discard(run)

    def _owner(self, job):
        try:
            return self.board.find_owner(job)
        except TypeError:
            # taskflow's Redis board cannot decode a missing owner: the
            # job is unclaimed (our claim expired) or gone.
            return None

    def renew(self, run):
        """Extend ``run``'s claim; stop the run if it is not ours."""
        try:
            ours = (self._owner(run.job) == self.owner and
                    run.job.extend_expiry(self.expiry))
        except taskflow_exceptions.JobFailure:
            LOG.warning('Could not renew the claim on job %s; trying again.',
                        run.job.uuid, exc_info=True)
            return
        if ours:
            run.renewed_at = time.monotonic()
        else:
            LOG.warning('Lost the claim on job %(job)s (volume %(id)s): '
                        'another conductor may run it now; stopping.',
                        {'job': run.job.uuid, 'id': run.volume_id})
            run.stop(LOST)

    def touch(self, run):
        """Renew unless renewed within a tenth of the expiry (listener)."""
        if time.monotonic() - run.renewed_at >= self.expiry / 10.0:
            self.renew(run)

    def _refresh_all(self):
        while not self._stop.wait(self.expiry / 4.0):
            with self._lock:
                runs = list(self._runs)
            for run in runs:
                self.renew(run)


class ClaimListener(listener_base.Listener):
    """Tells a job run of every flow and task event of its engine.

    The run renews its claim (:meth:`ClaimKeeper.touch`) and suspends the
    engine if it was asked to stop.
    """

    def __init__(self, engine, run):
        super().__init__(engine, task_listen_for=(states.RUNNING,
                                                  states.SUCCESS,
                                                  states.FAILURE,
                                                  states.REVERTING,
                                                  states.REVERTED))
        self._run = run

    def _flow_receiver(self, state, details):
        self._run.on_event()

    def _task_receiver(self, state, details):
        self._run.on_event()
