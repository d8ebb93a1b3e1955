"""A crash in the middle of a flow, and the resume from the logbook.

What it teaches: volflow records every flow in taskflow's persistence (a
logbook and flow detail per run, here in SQLite) before it runs it, and
taskflow records each task's state and result as it goes. The API flow
is run step by step with ``engine.run_iter()`` and abandoned after
``EntryCreateTask``, as if the process had died there: the volume row
exists, ``creating``, and the flow detail is unfinished (``SUSPENDED``
here, where ``run_iter`` was closed; ``RUNNING`` after a real crash:
resume treats both alike).
``volflow.recovery.resume_all`` (what ``volflow resume`` runs) then
rebuilds the flow from the factory recorded with it
(``taskflow.engines.load_from_detail``), skips the tasks already done,
runs the rest - the quota commit and the cast - and the scheduler and
manager flows finish the volume.

Run it with ``python examples/crash_and_resume.py``.
"""

import gc
import logging
import tempfile

from volflow import pywarnings

# First, before importing what may warn: library warnings go to the log,
# not the terminal (taskflow's engines import eventlet where installed).
pywarnings.capture()

from taskflow import states  # noqa: E402

from volflow import conf  # noqa: E402
from volflow.conf import backend as backend_conf  # noqa: E402
from volflow import context  # noqa: E402
from volflow.flows.api import create_volume  # noqa: E402
from volflow import persistence  # noqa: E402
from volflow import recovery  # noqa: E402
from volflow.rpc import local  # noqa: E402
from volflow.volume import backends  # noqa: E402
from volflow import wiring  # noqa: E402

VOLUME = '11111111-2222-3333-4444-555555555555'


def main():
    logging.basicConfig(level=logging.CRITICAL)
    pywarnings.release()
    cfg = conf.load(args=[])
    cfg.set_override('state_path', tempfile.mkdtemp())  # SQLite in there
    cfg.set_override('enabled_backends', ['demo'])
    backend_conf.register_backend(cfg, 'demo')
    cfg.set_override('volume_driver', 'fake', group='demo')
    db_api, images, scheduler_rpcapi, volume_rpcapi = (
        wiring.collaborators(cfg))
    ctx = context.RequestContext(user_id='alice', project_id='demo')
    create_what = {
        'context': ctx, 'volume_uuid': VOLUME, 'raw_size': 1,
        'name': 'survivor', 'description': None, 'snapshot': None,
        'image_id': None, 'raw_volume_type': None, 'metadata': None,
        'raw_availability_zone': None, 'source_volume': None}
    engine = create_volume.get_flow(
        db_api, images, backends.availability_zones(cfg), create_what,
        scheduler_rpcapi=scheduler_rpcapi, volume_rpcapi=volume_rpcapi,
        conf=cfg)

    steps = engine.run_iter()
    for _state in steps:
        if engine.storage.get_atom_state(
                'volflow.flows.api.create_volume.EntryCreateTask;'
                'volume:create') == states.SUCCESS:
            break  # the "crash": nothing more of this run happens
    steps.close()
    del steps, engine
    gc.collect()  # the dead run's claim on its flow goes with it

    backend = persistence.get_backend(db_api, cfg)
    detail = persistence.existing(backend.get_connection(),
                                  persistence.flow_uuid(VOLUME, 'api'))
    print('after the crash: flow', detail.state)
    for atom in detail:
        print(f"  {atom.name.split(';')[0].rsplit('.', 1)[-1]:<25} "
              f"{atom.state}")
    print('volume:', db_api.volume_get(ctx, VOLUME)['status'])

    report = recovery.resume_all(cfg, db_api)
    local.wait_idle(30)
    for flow in report['flows']:
        print('resumed', flow['kind'], 'flow:', flow['outcome'])
    print('volume:', db_api.volume_get(ctx, VOLUME)['status'])
    usage = db_api.quota_usage_get_all(ctx, 'demo')
    print('volumes in use:', usage['volumes']['in_use'],
          '- reserved:', usage['volumes']['reserved'])


if __name__ == '__main__':
    main()
