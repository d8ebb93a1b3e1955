"""Count the module-to-module calls ("hops") of one create.

Runs one warm-up create and one counted create in the embedded default
(a throw-away state directory), with a profile hook on every thread, and
prints each call from one of the pipeline's modules into another (calls
repeated between the same two modules in a row count once), its layer
number from ``doc/source/contributor/index.rst``, ``CLIMB`` where a
lower layer calls a higher one, and the volume row reads. Run it from
the project root: ``python tools/create_hops.py``. The counts are in
``doc/source/contributor/taskflow.rst`` ("One create, hop by hop").
"""

import os
import sys
import tempfile
import threading

PIPE = ('volflow.volume.api', 'volflow.flows.api.create_volume',
        'volflow.flows.scheduler.create_volume',
        'volflow.flows.manager.create_volume', 'volflow.flows.common',
        'volflow.engines', 'volflow.persistence',
        'volflow.persistence._claims', 'volflow.rpc.local',
        'volflow.scheduler.manager', 'volflow.volume.manager',
        'volflow.recovery', 'volflow.wiring', 'volflow.executor',
        'volflow.scheduler.filter_scheduler')


def _module(frame):
    return frame.f_globals.get('__name__', '')


def _record(events, lock):
    """A profile hook appending (via, caller, callee) to ``events``."""
    def hook(frame, event, arg):
        if event != 'call' or not hook.on:
            return
        callee = _module(frame)
        is_read = (callee.startswith('volflow.db')
                   and frame.f_code.co_name == 'volume_get')
        if callee not in PIPE and not is_read:
            return
        back = frame.f_back
        via = _module(back).split('.')[0] if back is not None else ''
        while back is not None and not _module(back).startswith('volflow'):
            back = back.f_back
        if back is None:
            return
        caller = _module(back)
        if caller == callee or back.f_code.co_name == 'wait':
            return
        if is_read and caller.startswith('volflow.db'):
            return
        if caller not in PIPE and not is_read:
            return
        with lock:
            events.append((via, f'{caller}.{back.f_code.co_name}',
                           f'{callee}.{frame.f_code.co_name}'))
    hook.on = False
    return hook


def main():
    sys.path.insert(0, os.getcwd())
    from tests.unit import test_layers
    from volflow import conf as volflow_conf
    from volflow import context
    from volflow.rpc import local
    from volflow.volume import api as volume_api

    conf = volflow_conf.CONF
    conf([], project='volflow')
    conf.set_override('state_path', tempfile.mkdtemp())
    api = volume_api.API(conf=conf)
    ctx = context.RequestContext(user_id='u', project_id='p')
    events, lock = [], threading.Lock()
    hook = _record(events, lock)
    threading.setprofile(hook)
    sys.setprofile(hook)
    for name in ('warm', 'counted'):
        hook.on = name == 'counted'
        volume = api.create(ctx, 1, name, None)
        api.wait(ctx, volume['id'], 60)
        local.wait_idle(60)
    hook.on = False
    sys.setprofile(None)
    threading.setprofile(None)

    layers = test_layers._layers()
    hops = []
    for via, caller, callee in events:
        if callee.endswith('.volume_get'):
            continue
        (ma, fa), (mb, fb) = caller.rsplit('.', 1), callee.rsplit('.', 1)
        if hops and hops[-1][1:3] == (ma, mb):
            continue
        hops.append((via, ma, mb, fa, fb))
    climbs = 0
    for number, (via, ma, mb, fa, fb) in enumerate(hops, 1):
        la = test_layers._layer_of(ma, layers)
        lb = test_layers._layer_of(mb, layers)
        climbs += lb < la
        up = '  CLIMB' if lb < la else ''
        how = '' if via == 'volflow' else f' (through {via})'
        print(f'{number:3} {ma}.{fa} [{la}] -> {mb}.{fb} [{lb}]{how}{up}')
    reads = [caller for _via, caller, callee in events
             if callee.endswith('.volume_get')]
    print(f'{len(hops)} hops, {climbs} climbs back up')
    print('volume row reads:', len(reads), reads)


if __name__ == '__main__':
    main()
