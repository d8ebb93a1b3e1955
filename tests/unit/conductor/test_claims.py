"""Claims that expire, renewed while ours, given up once lost.

A board double stands in for taskflow's Redis board with its two traps:
``find_owner`` of an unclaimed job raises ``TypeError``, and a claim has
an expiry only if one is passed.
"""

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
