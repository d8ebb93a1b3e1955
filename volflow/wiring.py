"""The collaborators the configuration asks for.

The database (:func:`volflow.db.get_api`), the image service, the rpc
apis - the in-process pair, the oslo.messaging pair when ``[DEFAULT]
transport_url`` is set, the jobboard pair in front of either when
``[taskflow] jobboard_enabled`` is. :class:`volflow.volume.api.API`, the
services and the factories that rebuild recorded flows
(:mod:`volflow.flows.factories`) take their defaults from here;
everything below receives its collaborators as arguments. A backend's
driver comes from :func:`volflow.rpc.local.get_driver`, notifiers from
:func:`volflow.notifier.get_notifier`.
"""

import os

from volflow import db
from volflow.image import fake as fake_image
from volflow.rpc import local
from volflow import transport


def image_service(db_api, conf):
    """The file-backed image service under ``state_path``."""
    return fake_image.FakeImageService(
        db_api, os.path.join(conf.state_path, 'images'))


def get_rpcapis(db_api, image_service, conf):
    """Return ``(scheduler_rpcapi, volume_rpcapi)`` for this process.

    With ``[taskflow] jobboard_enabled`` creates become jobs for
    conductors (:mod:`volflow.rpc.jobboard`); the pair the transport
    selects still takes the calls (delete, snapshot).
    """
    if transport.transport_url(conf) is not None:
        from volflow.rpc import messaging  # a broker's processes only
        pair = messaging.get_rpcapis(conf)
    else:
        pair = local.get_rpcapis(db_api, image_service, conf)
    if conf.taskflow.jobboard_enabled:
        from volflow.rpc import jobboard  # a jobboard's processes only
        return jobboard.get_rpcapis(db_api, image_service, conf, pair)
    return pair


def collaborators(conf):
    """``(db_api, image_service, scheduler_rpcapi, volume_rpcapi)``."""
    db_api = db.get_api(conf=conf)
    images = image_service(db_api, conf)
    scheduler_rpcapi, volume_rpcapi = get_rpcapis(db_api, images, conf)
    return db_api, images, scheduler_rpcapi, volume_rpcapi
