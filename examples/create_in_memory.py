"""Embed volflow: the whole create pipeline in memory, with a fake driver.

Run it with ``python examples/create_in_memory.py``; the test suite runs
it and compares what it prints with ``create_in_memory.out.txt``.
"""

import logging
import tempfile

from volflow import pywarnings

# First, before importing what may warn: library warnings go to the log,
# not the terminal (taskflow's engines import eventlet where installed).
pywarnings.capture()

from volflow import conf  # noqa: E402
from volflow.conf import backend as backend_conf  # noqa: E402
from volflow import context  # noqa: E402
from volflow import exception  # noqa: E402
from volflow.volume import api as volume_api  # noqa: E402


def main():
    # The flows log every transition through the caller's logger; this
    # example only wants errors, on stderr.
    logging.basicConfig(level=logging.ERROR)
    pywarnings.release()
    cfg = conf.load()
    backend_conf.register_backend(cfg, 'demo')
    cfg.set_override('state_path', tempfile.mkdtemp())
    cfg.set_override('connection', 'memory://', group='database')
    cfg.set_override('enabled_backends', ['demo'])
    cfg.set_override('volume_driver', 'fake', group='demo')
    cfg.set_override('total_capacity_gb', 10, group='demo')

    ctx = context.RequestContext(user_id='alice', project_id='demo')
    vapi = volume_api.API()
    vapi.quota.update(ctx, 'demo', 'volumes', 2)

    for size in (1, 4, 1):
        try:
            volume = vapi.create(ctx, size, f'vol-{size}', None)
        except exception.VolflowException as exc:
            print(f'refused: {exc}')
            continue
        print(f"created {volume['name']}: {volume['status']}")
        volume = vapi.wait(ctx, volume['id'], timeout=30)
        print(f"  now {volume['status']} on {volume['host']}")

    usage = vapi.quota.summary(ctx, 'demo')
    for resource in ('volumes', 'gigabytes'):
        print(f"{resource}: {usage[resource]['in_use']} in use of "
              f"{usage[resource]['limit']}")


if __name__ == '__main__':
    main()
