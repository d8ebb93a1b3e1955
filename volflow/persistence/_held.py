"""The claims this process holds, and who it is: no database here.

Shared by :mod:`volflow.persistence._claims` (claiming, renewing,
releasing) and the SQL persistence backend
(:mod:`volflow.persistence._sql`), which writes a flow's claim with its
record and drops it with its final state where both are in one database.
"""

import datetime
import os
import socket
import threading

from oslo_utils import timeutils
from oslo_utils import uuidutils
from taskflow import states

#: Flow states that need nothing more (resume leaves them alone).
FINISHED = frozenset([states.SUCCESS, states.REVERTED])

LOCK = threading.Lock()
_OWNER = {}  # pid -> owner name (a forked child gets a name of its own)
HELD = {}  # (id(db_api), flow uuid) -> db_api
RECORDED = set()  # flow uuids claimed in their record's transaction
DROPPED = set()  # flow uuids whose claim went with their final state


def owner():
    """This process's owner name."""
    pid = os.getpid()
    with LOCK:
        if pid not in _OWNER:
            _OWNER[pid] = (f'{socket.gethostname()}:{pid}:'
                           f'{uuidutils.generate_uuid()[:8]}')
        return _OWNER[pid]


def expire(conf):
    """When a claim made or renewed now expires."""
    return timeutils.utcnow() + datetime.timedelta(
        seconds=conf.taskflow.flow_claim_expiry)


def claim_row(conf, flow_uuid):
    """The claim row of ``flow_uuid`` for this process, as it is now."""
    return {'flow_uuid': flow_uuid, 'owner': owner(),
            'expire': expire(conf)}


def claimed_with_record(flow_uuid):
    """Its claim was written with the flow's record: claim() only holds."""
    with LOCK:
        RECORDED.add(flow_uuid)


def held(flow_uuid):
    """Whether this process holds the claim of ``flow_uuid`` (not dropped)."""
    with LOCK:
        return flow_uuid not in DROPPED and any(
            uuid == flow_uuid for _id, uuid in HELD)


def dropped_with_state(flow_uuid):
    """Its claim went with the final state: release() only forgets."""
    with LOCK:
        DROPPED.add(flow_uuid)
