"""The flows rebuilt in a process that resumes them.

:mod:`volflow.persistence` records, with each flow run, the import path
of one of these functions and its (JSON) keyword arguments - taskflow's
factory details - so that ``taskflow.engines.load_from_detail`` rebuilds
the flow in another process, typically ``volflow resume`` after a crash.

The flow's collaborators are made from that process's configuration:
database, image service and rpc apis by :mod:`volflow.wiring`, as
:class:`volflow.volume.api.API` makes them; the scheduler driver, the
backend's volume driver and the notifier here. Only what differs from one
run to another (whether the API casts, which backend, whether a failure
reschedules, the user's context for rescheduling) is in the arguments.
The task names and order are those of each module's ``build_flow``, so
the recorded tasks match.

These paths are recorded in databases: renaming one strands the flows
recorded under the old name.
"""

from oslo_config import cfg

from volflow import context as volflow_context
from volflow.flows.api import create_volume as api_flows
from volflow.flows.manager import create_volume as manager_flows
from volflow.flows.scheduler import create_volume as scheduler_flows
from volflow import notifier as volflow_notifier
from volflow.rpc import local
from volflow.scheduler import filter_scheduler
from volflow.volume import backends
from volflow import wiring

CONF = cfg.CONF


def api_flow(cast=True):
    """The API flow; with ``cast``, ending in the cast to the scheduler."""
    db_api, image_service, scheduler_rpcapi, volume_rpcapi = (
        wiring.collaborators(CONF))
    if not cast:
        scheduler_rpcapi = volume_rpcapi = None
    return api_flows.build_flow(db_api, image_service,
                                backends.availability_zones(CONF),
                                scheduler_rpcapi, volume_rpcapi, CONF)


def scheduler_flow():
    """The scheduler flow, with the filter scheduler."""
    db_api, _image_service, _scheduler_rpcapi, volume_rpcapi = (
        wiring.collaborators(CONF))
    driver = filter_scheduler.FilterScheduler(db_api, volume_rpcapi, CONF)
    return scheduler_flows.build_flow(
        db_api, driver, volflow_notifier.get_notifier('scheduler', CONF))


def manager_flow(backend, do_reschedule, reschedule_context):
    """The manager flow of ``backend``, with that backend's driver.

    :param reschedule_context: the user's context, as a dict.
    :raises BackendNotFound: when ``backend`` is no longer configured.
    """
    db_api, image_service, scheduler_rpcapi, _volume_rpcapi = (
        wiring.collaborators(CONF))
    context = (reschedule_context and
               volflow_context.RequestContext.from_dict(reschedule_context))
    return manager_flows.build_flow(
        db_api, local.get_driver(backend, CONF), scheduler_rpcapi, backend,
        do_reschedule, context, image_service,
        volflow_notifier.get_notifier(f'volume.{backend}', CONF))
