"""RPC over oslo.messaging: the API, scheduler and volume services apart.

Selected when ``[DEFAULT] transport_url`` is set (:func:`volflow.wiring.
get_rpcapis`). The rpc apis keep Cinder's method signatures, so the flows
cannot tell them from the in-process ones:

* ``SchedulerAPI.create_volume`` casts to topic ``volflow-scheduler``;
  every scheduler service consumes the one queue of that topic, so
  schedulers scale out by simply starting more of them.
* ``VolumeAPI.create_volume`` casts to topic ``volflow-volume``, server
  ``<backend>`` - the backend named in the volume's ``host`` (Cinder's
  ``host@backend#pool`` is accepted) - where that backend's volume
  service listens. ``delete_volume`` and ``create_snapshot`` are calls:
  the API waits for them, as it waits for the in-process ones.

Casts are published with RabbitMQ's *mandatory* flag (oslo.messaging's
``at_least_once``): a cast to a topic no service ever listened on fails
at once (:class:`~volflow.exception.ServiceUnavailable`) instead of
vanishing and leaving the volume ``creating`` forever. A queue whose
service is merely down keeps its messages for the service's restart.
The API's rpc apis (:func:`get_rpcapis`) give up on a broker out of
reach after a few attempts, so that the command line reports it instead
of hanging; the services' own apis wait for the broker to come back.

What crosses the wire is plain JSON: the request context as its
``to_dict()`` (rebuilt as a :class:`volflow.context.RequestContext`),
volumes and request specs as dicts whose datetimes become ISO strings.
Remote :mod:`volflow.exception` errors are re-raised as themselves.

One transport per process, built on first use from oslo.messaging's
options on its first caller's configuration - normally the global
``cfg.CONF`` (oslo.messaging 18 registers some of its groups only
there) - and cleaned up at exit, so that a short-lived client (the
command line) flushes its last cast before it goes.
"""

import atexit
import threading

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging
from oslo_serialization import jsonutils

from volflow import context as volflow_context
from volflow import exception
from volflow import redaction
from volflow import transport
from volflow.volume import backends

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

TOPIC_SCHEDULER = 'volflow-scheduler'
TOPIC_VOLUME = 'volflow-volume'
RPC_API_VERSION = '1.0'
#: Remote errors of these modules are re-raised as their own class.
ALLOWED_EXMODS = ['volflow.exception']
#: Attempts of the API to reach the broker (about 5 s) before it fails.
API_RETRY = 2

_TRANSPORT = None
_LOCK = threading.Lock()


def get_transport(conf=None):
    """The process's RPC transport, built on first use."""
    global _TRANSPORT
    with _LOCK:
        if _TRANSPORT is None:
            transport.set_defaults()
            _TRANSPORT = oslo_messaging.get_rpc_transport(
                conf or CONF, allowed_remote_exmods=ALLOWED_EXMODS)
        return _TRANSPORT


def cleanup():
    """Close the process's transport (at exit; tests)."""
    global _TRANSPORT
    with _LOCK:
        transport, _TRANSPORT = _TRANSPORT, None
    if transport is not None:
        transport.cleanup()


atexit.register(cleanup)


class RequestContextSerializer(oslo_messaging.Serializer):
    """Contexts as ``to_dict()``; entities as JSON primitives.

    Datetimes become ISO 8601 strings (``jsonutils.to_primitive``); they
    are not turned back into datetimes: every receiver re-reads the
    volume from the database before it relies on a field.
    """

    def serialize_entity(self, ctxt, entity):
        return jsonutils.to_primitive(entity, convert_datetime=True)

    def deserialize_entity(self, ctxt, entity):
        return entity

    def serialize_context(self, ctxt):
        return ctxt.to_dict()

    def deserialize_context(self, ctxt):
        # The message is handled in this thread now: its log lines name
        # the request it carries (the flows it runs set it again).
        ctx = volflow_context.RequestContext.from_dict(ctxt)
        ctx.update_store()
        return ctx


def _client(transport, topic, retry=None):
    target = oslo_messaging.Target(topic=topic, version=RPC_API_VERSION)
    return oslo_messaging.get_rpc_client(
        transport, target, serializer=RequestContextSerializer(),
        retry=retry,
        transport_options=oslo_messaging.TransportOptions(
            at_least_once=True))


def _send(cctxt, method, what, ctxt, **kwargs):
    """Cast (or call, ``what`` says which) and translate delivery errors.

    A message nobody could receive, a call nobody answered and a broker
    out of reach become :class:`~volflow.exception.ServiceUnavailable`,
    naming the service: the sender records it as the volume's reason.
    A call re-raises what the remote method raised.
    """
    send = cctxt.call if what == 'call' else cctxt.cast
    target = cctxt.target
    where = (f'topic {target.topic}' if target.server is None else
             f'topic {target.topic} server {target.server}')
    try:
        return send(ctxt, method, **kwargs)
    except oslo_messaging.MessageUndeliverable:
        reason = f'no service ever listened on {where}: is it running?'
    except oslo_messaging.MessagingTimeout:
        reason = (f'no answer to {method} from {where} within '
                  f'rpc_response_timeout ({CONF.rpc_response_timeout}s): '
                  f'the service is down, or still at work')
    except exception.VolflowException:
        raise
    except Exception as exc:
        # A call's remote errors arrive as RemoteError or as volflow's or
        # builtin classes: only the other errors of oslo.messaging (or,
        # for a cast, any error) are about delivery.
        if what == 'call' and (
                isinstance(exc, oslo_messaging.RemoteError) or
                not isinstance(exc, oslo_messaging.MessagingException)):
            raise
        reason = (f'could not send {method} to {where} through '
                  f'{redaction.mask_secrets(CONF.transport_url)}: {exc}')
    raise exception.ServiceUnavailable(reason=reason)


class SchedulerAPI:
    """Cinder's scheduler rpcapi over oslo.messaging.

    :param retry: attempts to reach the broker before a send fails
        (``None``: until it is back, as services do).
    """

    def __init__(self, transport=None, retry=None):
        self.client = _client(transport or get_transport(),
                              TOPIC_SCHEDULER, retry)

    def create_volume(self, ctxt, volume, snapshot_id=None, image_id=None,
                      request_spec=None, filter_properties=None,
                      backup_id=None):
        """Cast to any scheduler service."""
        cctxt = self.client.prepare(version=RPC_API_VERSION)
        _send(cctxt, 'create_volume', 'cast', ctxt, volume=volume,
              snapshot_id=snapshot_id, image_id=image_id,
              request_spec=request_spec,
              filter_properties=filter_properties, backup_id=backup_id)


class VolumeAPI:
    """Cinder's volume rpcapi over oslo.messaging, to the volume's backend.

    :raises BackendNotFound: when the volume has no ``host``.
    """

    def __init__(self, transport=None, retry=None):
        self.client = _client(transport or get_transport(), TOPIC_VOLUME,
                              retry)

    def _prepare(self, volume):
        if not volume.get('host'):
            raise exception.BackendNotFound(backend=volume.get('host'))
        return self.client.prepare(
            server=backends.backend_of_host(volume['host']),
            version=RPC_API_VERSION)

    def create_volume(self, ctxt, volume, request_spec, filter_properties,
                      allow_reschedule=True):
        """Cast to the volume service of the volume's backend."""
        _send(self._prepare(volume), 'create_volume', 'cast', ctxt,
              volume=volume, request_spec=request_spec,
              filter_properties=filter_properties,
              allow_reschedule=allow_reschedule)

    def delete_volume(self, ctxt, volume):
        """Call: return once the backend deleted the volume."""
        _send(self._prepare(volume), 'delete_volume', 'call', ctxt,
              volume=volume)

    def create_snapshot(self, ctxt, volume, snapshot):
        """Call: return once the backend copied the volume's data."""
        _send(self._prepare(volume), 'create_snapshot', 'call', ctxt,
              volume=volume, snapshot=snapshot)

    def delete_snapshot(self, ctxt, volume, snapshot):
        """Call: return once the backend deleted the snapshot."""
        _send(self._prepare(volume), 'delete_snapshot', 'call', ctxt,
              volume=volume, snapshot=snapshot)

    def extend_volume(self, ctxt, volume, new_size, reservations):
        """Call: return once the backend grew the volume."""
        _send(self._prepare(volume), 'extend_volume', 'call', ctxt,
              volume=volume, new_size=new_size, reservations=reservations)


class _Endpoint:
    """Runs a manager's methods for the rpc server.

    A failed cast has no one to answer: it is logged in one line (the
    flow's listener already logged it in full) rather than with the rpc
    server's traceback. A failed call is raised back to the caller;
    volflow errors are expected there and not logged as server errors.
    """

    target = oslo_messaging.Target(version=RPC_API_VERSION)

    def __init__(self, manager):
        self.manager = manager

    def _cast(self, what, volume, func, *args, **kwargs):
        try:
            func(*args, **kwargs)
        except Exception as exc:
            LOG.error('%(what)s for volume %(id)s failed: %(exc)s',
                      {'what': what, 'id': volume.get('id'), 'exc': exc})
            LOG.debug('%s failed', what, exc_info=True)


class SchedulerEndpoint(_Endpoint):
    """The scheduler service's endpoint: ``create_volume`` (a cast)."""

    def create_volume(self, ctxt, volume, snapshot_id=None, image_id=None,
                      request_spec=None, filter_properties=None,
                      backup_id=None):
        self._cast('scheduler create_volume', volume,
                   self.manager.create_volume, ctxt, volume,
                   snapshot_id=snapshot_id, image_id=image_id,
                   request_spec=request_spec,
                   filter_properties=filter_properties, backup_id=backup_id)


class VolumeEndpoint(_Endpoint):
    """A volume service's endpoint, for one backend."""

    def create_volume(self, ctxt, volume, request_spec=None,
                      filter_properties=None, allow_reschedule=True):
        self._cast(f'volume create_volume on {self.manager.backend_name}',
                   volume, self.manager.create_volume, ctxt, volume,
                   request_spec=request_spec,
                   filter_properties=filter_properties,
                   allow_reschedule=allow_reschedule)

    @oslo_messaging.expected_exceptions(exception.VolflowException)
    def delete_volume(self, ctxt, volume):
        self.manager.delete_volume(ctxt, volume)

    @oslo_messaging.expected_exceptions(exception.VolflowException)
    def create_snapshot(self, ctxt, volume, snapshot):
        self.manager.create_snapshot(ctxt, volume, snapshot)

    @oslo_messaging.expected_exceptions(exception.VolflowException)
    def delete_snapshot(self, ctxt, volume, snapshot):
        self.manager.delete_snapshot(ctxt, volume, snapshot)

    @oslo_messaging.expected_exceptions(exception.VolflowException)
    def extend_volume(self, ctxt, volume, new_size, reservations):
        self.manager.extend_volume(ctxt, volume, new_size, reservations)


def get_server(transport, topic, endpoint, server=None):
    """An rpc server of ``endpoint`` on ``topic`` (and ``server``).

    The executor is oslo.messaging's default, threading: each message
    runs on a thread of its own pool (``executor_thread_pool_size``).
    """
    target = oslo_messaging.Target(topic=topic, server=server,
                                   version=RPC_API_VERSION)
    return oslo_messaging.get_rpc_server(
        transport, target, [endpoint],
        serializer=RequestContextSerializer())


def get_rpcapis(conf=None, retry=API_RETRY):
    """Return the API's ``(scheduler_rpcapi, volume_rpcapi)``."""
    transport = get_transport(conf)
    return (SchedulerAPI(transport, retry=retry),
            VolumeAPI(transport, retry=retry))
