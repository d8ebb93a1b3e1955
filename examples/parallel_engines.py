"""Many creates at once, on parallel engines that share one executor.

What it teaches: with ``[taskflow] engine = parallel`` every flow is
loaded as ``taskflow.engines.load(flow, store=..., engine='parallel',
executor=...)`` with the *same* process-wide ``futurist`` executor
(``volflow.executor.get_executor()``). taskflow's parallel engine would
otherwise build and shut down an executor per run, which costs far more
than the flow. Twenty creates are sent from four caller threads; the
flows they cast to run on the shared executor too; the quota counts
every one exactly once.

Run it with ``python examples/parallel_engines.py``.
"""

from concurrent import futures
import logging
import tempfile

from volflow import pywarnings

# First, before importing what may warn: library warnings go to the log,
# not the terminal (taskflow's engines import eventlet where installed).
pywarnings.capture()

from volflow import conf  # noqa: E402
from volflow.conf import backend as backend_conf  # noqa: E402
from volflow import context  # noqa: E402
from volflow import engines  # noqa: E402
from volflow import executor  # noqa: E402
from volflow.rpc import local  # noqa: E402
from volflow.volume import api as volume_api  # noqa: E402


def main():
    logging.basicConfig(level=logging.CRITICAL)
    pywarnings.release()
    cfg = conf.load(args=[])
    cfg.set_override('state_path', tempfile.mkdtemp())
    cfg.set_override('connection', 'memory://', group='database')
    cfg.set_override('engine', 'parallel', group='taskflow')
    cfg.set_override('max_workers', 8, group='taskflow')
    cfg.set_override('enabled_backends', ['demo'])
    backend_conf.register_backend(cfg, 'demo')
    cfg.set_override('volume_driver', 'fake', group='demo')
    cfg.set_override('total_capacity_gb', 100, group='demo')

    kind, options = engines.engine_options(cfg)
    print('engine:', kind)
    print('one executor for every engine:',
          options['executor'] is executor.get_executor())

    ctx = context.RequestContext(user_id='alice', project_id='demo')
    vapi = volume_api.API()
    vapi.quota.update(ctx, 'demo', 'volumes', 50)
    with futures.ThreadPoolExecutor(max_workers=4) as callers:
        created = list(callers.map(
            lambda n: vapi.create(ctx, 1, f'vol-{n}', None), range(20)))
    local.wait_idle(60)
    statuses = sorted({vapi.get(ctx, v['id'])['status'] for v in created})
    print(len(created), 'volumes:', ', '.join(statuses))
    usage = vapi.quota.summary(ctx, 'demo')
    print('volumes in use:', usage['volumes']['in_use'],
          '- reserved:', usage['volumes']['reserved'])


if __name__ == '__main__':
    main()
