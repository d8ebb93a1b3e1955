"""Creates racing for one project's quota, in this process or as a script.

:func:`create_at_once` runs N creates through
:class:`volflow.volume.api.API`, one thread each, released together by a
barrier, and sorts what became of them. The API runs its flow only (quota
is taken there): a scheduler stand-in marks each volume ``available``, so
that no volume stays ``creating`` once the creates return.

As a script it is one of several OS processes sharing a database::

    python _contention_worker.py URL PROJECT COUNT

It opens the database with ``volflow.db.get_api(URL)``, prints ``ready``,
waits for one line on stdin (the parent releases every process at once),
runs COUNT creates and prints the outcome as one JSON line, with the
wall-clock ``started`` and ``finished`` times of its creates (so that the
parent can see that the processes' creates overlapped). It imports
volflow only, so it runs from any directory.
"""

import collections
from concurrent import futures
import json
import sys
import tempfile
import threading
import time
import traceback

from tests import rpcapis
from volflow import conf as volflow_conf
from volflow import context as volflow_context
from volflow import db
from volflow import db as volflow_db
from volflow import exception
from volflow.image import fake as fake_image
from volflow.volume import api as volume_api

BARRIER_TIMEOUT = 120


def api_flow_only(db_api, images_dir, conf=None):
    """A volume API whose creates run the API flow only."""
    return volume_api.API(
        db_api=db_api,
        image_service=fake_image.FakeImageService(db_api, images_dir),
        scheduler_rpcapi=rpcapis.Scheduler(db_api),
        volume_rpcapi=rpcapis.UnusedVolumeRpc(),
        conf=conf or volflow_conf.CONF)


def create_at_once(api, ctx, count, size=1):
    """Run ``count`` creates at once; return what became of them.

    :returns: ``{'created': [volume ids], 'refused': {'Type: message':
        n}, 'unexpected': [tracebacks]}``.
    """
    start = threading.Barrier(count, timeout=BARRIER_TIMEOUT)

    def create(number):
        start.wait()
        try:
            volume = api.create(ctx, size, f'racer-{number}', None)
        except exception.VolflowException as exc:
            return 'refused', f'{type(exc).__name__}: {exc}'
        except Exception:
            return 'unexpected', traceback.format_exc()
        return 'created', volume['id']

    with futures.ThreadPoolExecutor(max_workers=count) as pool:
        results = list(pool.map(create, range(count)))
    return {
        'created': [value for kind, value in results if kind == 'created'],
        'refused': dict(collections.Counter(
            value for kind, value in results if kind == 'refused')),
        'unexpected': [value for kind, value in results
                       if kind == 'unexpected'],
    }


def main(argv):
    url, project_id, count = argv[0], argv[1], int(argv[2])
    conf = volflow_conf.load()
    db_api = db.get_api(url)
    ctx = volflow_context.RequestContext(user_id='racer',
                                         project_id=project_id)
    with tempfile.TemporaryDirectory() as images_dir:
        api = api_flow_only(db_api, images_dir, conf)
        db_api.volume_get_all(ctx)  # connected and schema ready
        print('ready', flush=True)
        sys.stdin.readline()
        started = time.time()
        outcome = create_at_once(api, ctx, count)
        outcome.update(started=started, finished=time.time())
    print(json.dumps(outcome), flush=True)
    volflow_db.reset_apis()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
