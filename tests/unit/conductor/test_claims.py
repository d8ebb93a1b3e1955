"""Claims that expire, renewed while ours, given up once lost.

A board double stands in for taskflow's Redis board with its two traps:
``find_owner`` of an unclaimed job raises ``TypeError``, and a claim has
an expiry only if one is passed.
"""

import threading

from taskflow import exceptions as taskflow_exceptions

from volflow.conductor import _claims


class Board:
    def __init__(self):
        self.owners = {}
        self.expiries = {}

    def claim(self, job, who, expiry=None):
        if job.uuid in self.owners:
            raise taskflow_exceptions.UnclaimableJob(job.uuid)
        self.owners[job.uuid] = who
        self.expiries[job.uuid] = expiry

    def find_owner(self, job):
        if job.uuid not in self.owners:
            raise TypeError("<class 'NoneType'> can't be decoded")
        return self.owners[job.uuid]


class Job:
    def __init__(self, board, uuid='j1'):
        self.board = board
        self.uuid = uuid
        self.extended = []

    def extend_expiry(self, expiry):
        self.extended.append(expiry)
        return True


class Run:
    def __init__(self, job):
        self.job = job
        self.volume_id = 'v1'
        self.renewed_at = 0.0
        self.stopped = None

    def stop(self, reason):
        self.stopped = reason


def test_claims_carry_the_expiry():
    board = Board()
    keeper = _claims.ClaimKeeper(board, 'c1:1', 5)
    job = Job(board)
    assert keeper.claim(job)
    assert board.expiries['j1'] == 5
    assert not _claims.ClaimKeeper(board, 'c2:2', 5).claim(job)


def test_a_claim_still_ours_is_extended():
    board = Board()
    keeper = _claims.ClaimKeeper(board, 'c1:1', 5)
    run = Run(Job(board))
    keeper.claim(run.job)
    keeper.renew(run)
    assert run.job.extended == [5]
    assert run.stopped is None
    assert run.renewed_at > 0


def test_an_expired_claim_stops_the_run():
    board = Board()
    run = Run(Job(board))
    _claims.ClaimKeeper(board, 'c1:1', 5).renew(run)  # find_owner raises
    assert run.stopped == _claims.LOST
    assert run.job.extended == []


def test_a_claim_taken_by_another_stops_the_run():
    board = Board()
    run = Run(Job(board))
    board.claim(run.job, 'c2:2')
    _claims.ClaimKeeper(board, 'c1:1', 5).renew(run)
    assert run.stopped == _claims.LOST
    assert run.job.extended == []


def test_events_renew_at_most_once_per_tenth_of_the_expiry():
    board = Board()
    keeper = _claims.ClaimKeeper(board, 'c1:1', 5)
    run = Run(Job(board))
    keeper.claim(run.job)
    for _event in range(10):
        keeper.touch(run)
    assert run.job.extended == [5]


class _UpstreamBoard(Board):
    """The calls taskflow's own conductor makes of a board, recorded."""

    def __init__(self, jobs):
        super().__init__()
        self.jobs = jobs
        self.consumed = []
        self.done = threading.Event()

    def iterjobs(self, only_unclaimed=False, ensure_fresh=False):
        return iter([job for job in self.jobs
                     if job.uuid not in self.owners])

    def consume(self, job, who):
        self.consumed.append((job.uuid, who))
        self.done.set()

    def register_entity(self, entity):
        pass


def test_taskflows_own_conductor_claims_without_an_expiry():
    """Why volflow's conductor is its own: this is what it adds.

    taskflow's ``BlockingConductor`` claims ``claim(job, name)``: on Redis
    a claim without an expiry outlives a conductor killed with it, and
    the job is never run (``tests/functional/test_jobboard.py::
    test_kill_9_mid_create_under_load`` shows volflow's conductors resume
    it). Should taskflow pass an expiry one day, this fails: volflow's
    claim keeping can then go.
    """
    from taskflow.conductors.backends import impl_blocking

    class Conductor(impl_blocking.BlockingConductor):
        def _dispatch_job(self, job):
            return True  # ran: consume it

    board = _UpstreamBoard([Job(None, uuid='j1')])
    conductor = Conductor('upstream', board, wait_timeout=0.01)
    runner = threading.Thread(target=conductor.run, daemon=True)
    runner.start()
    try:
        assert board.done.wait(60)
    finally:
        conductor.stop()
        runner.join(60)
    assert board.owners == {'j1': 'upstream'}
    assert board.consumed == [('j1', 'upstream')]
    assert board.expiries == {'j1': None}
    ours = Board()
    assert _claims.ClaimKeeper(ours, 'volflow', 30).claim(Job(ours))
    assert ours.expiries == {'j1': 30}
