"""``rebind``: how a task's argument is taken from a store key of another name.

What it teaches: ``execute(self, context, size, ...)`` asks for ``size``;
the store holds the raw request under ``raw_size``. Cinder's
``ExtractVolumeRequestTask`` is added with ``rebind={'size': 'raw_size',
...}``, so taskflow passes ``store['raw_size']`` as ``size``; the task then
*provides* a cleaned ``size`` that every later task asks for by its plain
name. The manager flow does the same with ``rebind={'volume':
'refreshed'}``. The example prints each task's mapping (argument <- store
key) and what it provides, then runs the flow and shows the two values.

Run it with ``python examples/rebind.py``.
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
    flow = create_volume.build_flow(db_api, images, ['nova'], conf=cfg)

    for task in flow:
        name = type(task).__name__
        rebound = [f'{arg}<-{key}' for arg, key in task.rebind.items()
                   if arg != key]
        print(f'{name}: takes {", ".join(sorted(task.rebind))}')
        if rebound:
            print(f'  rebind {", ".join(sorted(rebound))}')
        print(f'  provides {", ".join(sorted(task.provides)) or "-"}')

    store = {'context': context.RequestContext(user_id='u', project_id='p'),
             'raw_size': '3',  # a string, as a command line gives it
             'name': None, 'description': None, 'snapshot': None,
             'image_id': None, 'raw_volume_type': None, 'metadata': None,
             'raw_availability_zone': None, 'source_volume': None,
             'volume_uuid': '11111111-2222-3333-4444-555555555555'}
    engine = taskflow.engines.load(flow, store=store)
    engine.run()
    print('raw_size in the store:', repr(engine.storage.fetch('raw_size')))
    print('size provided by ExtractVolumeRequestTask:',
          repr(engine.storage.fetch('size')))


if __name__ == '__main__':
    main()
