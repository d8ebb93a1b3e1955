"""The reschedule: a backend fails, the volume is created on another one.

What it teaches: the manager flow's ``OnFailureRescheduleTask`` does
nothing in ``execute``; its ``revert`` is the point. When a later task of
the manager flow fails (here the driver of backend ``flaky`` fails every
creation), taskflow reverts the flow and that revert casts the request
back to the scheduler with the failed backend in ``filter_properties
['retry']``, so the next scheduler flow picks another backend (Cinder's
``scheduler_max_attempts`` bounds the attempts). The run is printed as
the three flows hand off: API -> scheduler -> manager on ``flaky``
(reverted) -> scheduler again -> manager on ``steady``.

Run it with ``python examples/reschedule.py``.
"""

import logging
import tempfile
import threading

from volflow import pywarnings

# First, before importing what may warn: library warnings go to the log,
# not the terminal (taskflow's engines import eventlet where installed).
pywarnings.capture()

from volflow import conf  # noqa: E402
from volflow.conf import backend as backend_conf  # noqa: E402
from volflow import context  # noqa: E402
from volflow.rpc import local  # noqa: E402
from volflow import tracing  # noqa: E402
from volflow.volume import api as volume_api  # noqa: E402

_LOCK = threading.Lock()


def show(event):
    flow = tracing.FLOWS[event['flow']]
    with _LOCK:
        print(f"{flow:<9} {event['action']:<7} "
              f"{tracing.short_name(event['task']):<25} {event['state']}")


def main():
    logging.basicConfig(level=logging.CRITICAL)
    pywarnings.release()
    cfg = conf.load(args=[])
    cfg.set_override('state_path', tempfile.mkdtemp())
    cfg.set_override('connection', 'memory://', group='database')
    cfg.set_override('enabled_backends', ['flaky', 'steady'])
    for name, size, failure_rate in (('flaky', 100, 1.0),
                                     ('steady', 10, 0.0)):
        backend_conf.register_backend(cfg, name)
        cfg.set_override('volume_driver', 'fake', group=name)
        # The scheduler weighs free capacity: 'flaky' is tried first.
        cfg.set_override('total_capacity_gb', size, group=name)
        cfg.set_override('fake_failure_rate', failure_rate, group=name)

    tracing.enable(show)
    ctx = context.RequestContext(user_id='alice', project_id='demo')
    vapi = volume_api.API()
    volume = vapi.create(ctx, 1, 'retried', None)
    local.wait_idle(30)  # every flow this process runs has ended
    volume = vapi.get(ctx, volume['id'])
    tracing.disable()
    print(f"volume {volume['status']} on {volume['host']}")


if __name__ == '__main__':
    main()
