"""A create posted as a job on a Redis jobboard, run by a conductor.

What it teaches: with ``[taskflow] jobboard_enabled`` the API flow does
not cast to a scheduler; its ``VolumeCastTask`` posts a *job* on
taskflow's Redis jobboard, whose logbook holds the steps still to run
(the scheduler flow, then the manager flow). A conductor - any number of
them, in any process - claims the job, runs its steps with an engine of
its own and consumes it; a conductor that dies stops renewing its claim,
which expires, and another one resumes the job from the last step
recorded. Here one conductor runs in a thread of this process.

It needs a Redis server: set ``REDIS_PORT`` (and ``REDIS_PASSWORD`` if it
asks for one); the test suite starts one. Run it with
``REDIS_PORT=6379 python examples/jobboard_conductor.py``.
"""

import logging
import os
import tempfile
import threading
import uuid

from volflow import pywarnings

# First, before importing what may warn: library warnings go to the log,
# not the terminal (taskflow's engines import eventlet where installed).
pywarnings.capture()

from volflow import conductor  # noqa: E402
from volflow import conf  # noqa: E402
from volflow.conf import backend as backend_conf  # noqa: E402
from volflow import context  # noqa: E402
from volflow.volume import api as volume_api  # noqa: E402


def main():
    logging.basicConfig(level=logging.CRITICAL)
    pywarnings.release()
    cfg = conf.load(args=[])
    cfg.set_override('state_path', tempfile.mkdtemp())  # SQLite in there
    cfg.set_override('enabled_backends', ['demo'])
    backend_conf.register_backend(cfg, 'demo')
    cfg.set_override('volume_driver', 'fake', group='demo')
    board = {'jobboard_enabled': True,
             'jobboard_backend_hosts': ['127.0.0.1'],
             'jobboard_backend_port': int(os.environ['REDIS_PORT']),
             'jobboard_backend_password': os.environ.get('REDIS_PASSWORD'),
             'jobboard_backend_namespace': f'example-{uuid.uuid4().hex}'}
    for name, value in board.items():
        cfg.set_override(name, value, group='taskflow')

    ctx = context.RequestContext(user_id='alice', project_id='demo')
    vapi = volume_api.API()
    volume = vapi.create(ctx, 1, 'from-a-job', None)
    print('the API flow left the volume', volume['status'],
          'and a job on the board')

    worker = conductor.Conductor('example', conf=cfg)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        volume = vapi.wait(ctx, volume['id'], timeout=60)
    finally:
        worker.stop()
        thread.join()
    print('the conductor ran the job: volume', volume['status'], 'on',
          volume['host'])


if __name__ == '__main__':
    main()
