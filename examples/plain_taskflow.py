"""The API flow, loaded and run with nothing but taskflow's own calls.

What it teaches: a volflow flow is a plain ``linear_flow.Flow``.
``build_flow`` makes it, ``taskflow.engines.load(flow, store=create_what)``
gives it the request as its store, ``engine.run()`` runs each task in
order, and the result is read back from the store with
``engine.storage.fetch('volume')`` - exactly the calls of Cinder's
``cinder/volume/api.py``. (volflow's own ``get_flow`` adds a record for
crash recovery; this example leaves it out to show the bare shape.)

Run it with ``python examples/plain_taskflow.py``.
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
from volflow.flows.api import create_volume  # noqa: E402
from volflow.image import fake as fake_image  # noqa: E402


def main():
    logging.basicConfig(level=logging.ERROR)
    pywarnings.release()
    cfg = conf.load(args=[])
    db_api = db.get_api('memory://')
    images = fake_image.FakeImageService(db_api, '/nonexistent')
    ctx = context.RequestContext(user_id='alice', project_id='demo')

    # The flow: four tasks in a line (no VolumeCastTask: no scheduler
    # to cast to in this example).
    flow = create_volume.build_flow(db_api, images, ['nova'], conf=cfg)
    print('flow', flow.name, 'with', len(flow), 'tasks')

    # The store: what the request brings, under the names tasks ask for.
    create_what = {
        'context': ctx,
        'raw_size': 2,
        'name': 'first',
        'description': None,
        'snapshot': None,
        'image_id': None,
        'raw_volume_type': None,
        'metadata': None,
        'raw_availability_zone': None,
        'source_volume': None,
        'volume_uuid': '11111111-2222-3333-4444-555555555555',
    }
    engine = taskflow.engines.load(flow, store=create_what)
    engine.run()

    volume = engine.storage.fetch('volume')
    print('volume', volume['id'], volume['name'], volume['size'], 'GB,',
          volume['status'])
    print('quota committed:', engine.storage.fetch('quota_committed'))


if __name__ == '__main__':
    main()
