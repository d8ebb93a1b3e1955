"""Where a new volume may go: ExtractVolumeRequestTask's zone rules.

Split out of the flow module so that the flow reads as the flow.
"""

from oslo_log import log as logging

from volflow import exception
from volflow.flows.api import _validation

LOG = logging.getLogger(__name__)


def _source_az(db_api, context, snapshot, source_volume):
    if snapshot:
        try:
            return db_api.volume_get(
                context, snapshot['volume_id'])['availability_zone']
        except exception.VolumeNotFound:
            return None
    if source_volume:
        return source_volume['availability_zone']
    return None


def availability_zones(db_api, conf, offered, context, availability_zone,
                       volume_type, snapshot, source_volume):
    """The zones the volume may go to: ``[zone]``, or all it may use.

    The requested zone, else the source's, else the default; it must be
    one the backends offer (``offered``) and the type allows, unless the
    fallback to the default zone is allowed; a clone or a volume from a
    snapshot stays in its source's zone with ``cloned_volume_same_az``.
    """
    known = set(offered)
    type_azs = _validation.type_availability_zones(volume_type)
    if type_azs:
        known &= set(type_azs)
        if not known:
            raise exception.InvalidInput(
                reason=(f"Volume type '{volume_type['name']}' allows "
                        f"availability zones {sorted(type_azs)}, none of "
                        f"which exists"))
    source_az = _source_az(db_api, context, snapshot, source_volume)
    if availability_zone is None:
        availability_zone = source_az
    if availability_zone is None and not type_azs:
        availability_zone = (conf.default_availability_zone or
                             conf.storage_availability_zone)
    if availability_zone is not None and availability_zone not in known:
        if not conf.allow_availability_zone_fallback:
            raise exception.InvalidAvailabilityZone(az=availability_zone)
        fallback = (conf.default_availability_zone or
                    conf.storage_availability_zone)
        if fallback not in known:
            raise exception.InvalidAvailabilityZone(az=availability_zone)
        LOG.warning('Availability zone %(az)s is invalid; falling back '
                    'to %(fallback)s.',
                    {'az': availability_zone, 'fallback': fallback})
        availability_zone = fallback
    if (conf.cloned_volume_same_az and source_az and
            availability_zone != source_az):
        what = 'snapshot' if snapshot else 'source volume'
        raise exception.InvalidInput(
            reason=(f"Volume must be in the same availability zone as "
                    f"the {what} ({source_az}), not "
                    f"'{availability_zone}'"))
    return [availability_zone] if availability_zone else sorted(known)
