"""A failure and its reverts: taskflow undoes what ran, last first.

What it teaches: when a task's ``execute`` raises, the engine calls
``revert`` on that task and then on every task that ran before it, in
reverse order, and ``engine.run()`` re-raises the failure. Each revert
undoes only its own task's work (the row is destroyed, the reservation
rolled back), so the quota is as it was. Here ``QuotaCommitTask`` is made
to fail, as ``volflow create --fail-at QuotaCommitTask`` does, and a
listener prints each execute and revert as the engine notifies it.

Run it with ``python examples/failure_and_reverts.py``.
"""

import logging

from volflow import pywarnings

# First, before importing what may warn: library warnings go to the log,
# not the terminal (taskflow's engines import eventlet where installed).
pywarnings.capture()

import taskflow.engines  # noqa: E402

from volflow import conf  # noqa: E402
from volflow import context  # noqa: E402
from volflow import db  # noqa: E402
from volflow import exception  # noqa: E402
from volflow.flows.api import create_volume  # noqa: E402
from volflow.image import fake as fake_image  # noqa: E402
from volflow import tracing  # noqa: E402


def show(event):
    name = tracing.short_name(event['task'])
    print(f"{event['action']:<8} {name:<25} {event['state']}")


def main():
    logging.basicConfig(level=logging.CRITICAL)
    pywarnings.release()
    cfg = conf.load(args=[])
    db_api = db.get_api('memory://')
    images = fake_image.FakeImageService(db_api, '/nonexistent')
    ctx = context.RequestContext(user_id='alice', project_id='demo')
    flow = create_volume.build_flow(db_api, images, ['nova'], conf=cfg)
    store = {'context': ctx, 'raw_size': 1, 'name': 'doomed',
             'description': None, 'snapshot': None, 'image_id': None,
             'raw_volume_type': None, 'metadata': None,
             'raw_availability_zone': None, 'source_volume': None,
             'volume_uuid': '11111111-2222-3333-4444-555555555555'}
    engine = taskflow.engines.load(flow, store=store)

    tracing.inject_failure('QuotaCommitTask')
    tracing.prepare(engine)
    with tracing.TraceListener(engine, sink=show, record=False):
        try:
            engine.run()
        except exception.InjectedFailure as exc:
            print('run() raised:', exc)

    print('flow state:', engine.storage.get_flow_state())
    print('volumes left:', len(db_api.volume_get_all(ctx)))
    usage = db_api.quota_usage_get_all(ctx, 'demo')
    print('volumes in use:', usage.get('volumes', {}).get('in_use', 0),
          '- reserved:', usage.get('volumes', {}).get('reserved', 0))


if __name__ == '__main__':
    main()
