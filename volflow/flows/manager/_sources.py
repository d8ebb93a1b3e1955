"""How CreateVolumeFromSpecTask fills a volume, one function per source.

Split out of the flow module so that the flow reads as the flow. Each
function checks its source is still usable *at creation time* (its status
may have changed since the API looked), then calls the driver, and
returns the driver's model update.

Sources are read with locks named as Cinder names them
(``<snapshot id>-delete_snapshot``, ``<volume id>-delete_volume``), which
the delete paths take too: a source cannot disappear during the copy.
"""

from volflow import coordination
from volflow import exception

#: A snapshot is copied from these statuses only.
SNAPSHOT_STATUSES = ('available',)
#: A volume is cloned from these statuses only.
SOURCE_VOLUME_STATUSES = ('available', 'in-use')


def extract_spec(db_api, image_service, context, volume):
    """Cinder's volume_spec: what kind of creation, and from what."""
    spec = {'status': volume['status'], 'volume_id': volume['id'],
            'volume_name': volume['name'], 'volume_size': volume['size']}
    if volume['snapshot_id']:
        spec.update(type='snap', snapshot_id=volume['snapshot_id'])
    elif volume['source_volid']:
        source = db_api.volume_get(context, volume['source_volid'])
        spec.update(type='source_vol', source_volid=source['id'],
                    source_volstatus=source['status'])
    elif volume['image_id']:
        image = image_service.show(context, volume['image_id'])
        spec.update(type='image', image_id=image['id'],
                    image_meta={key: image.get(key) for key in (
                        'name', 'size', 'min_disk', 'status')})
    else:
        spec.update(type='raw')
    return spec


def _check_status(kind, record_id, status, allowed):
    if status not in allowed:
        error = (exception.InvalidSnapshot if kind == 'snapshot'
                 else exception.InvalidVolume)
        raise error(reason=(f"Originating {kind} {record_id} status must be "
                            f"one of {', '.join(allowed)}, not "
                            f"'{status}'"))


def create_raw(db_api, driver, image_service, context, volume, spec):
    return driver.create_volume(volume)


def create_from_snapshot(db_api, driver, image_service, context, volume,
                         spec):
    with coordination.synchronized(f"{spec['snapshot_id']}-delete_snapshot"):
        snapshot = db_api.snapshot_get(context, spec['snapshot_id'])
        _check_status('snapshot', snapshot['id'], snapshot['status'],
                      SNAPSHOT_STATUSES)
        return driver.create_volume_from_snapshot(volume, snapshot)


def create_from_source_volume(db_api, driver, image_service, context,
                              volume, spec):
    with coordination.synchronized(f"{spec['source_volid']}-delete_volume"):
        source = db_api.volume_get(context, spec['source_volid'])
        _check_status('volume', source['id'], source['status'],
                      SOURCE_VOLUME_STATUSES)
        model_update = dict(driver.create_cloned_volume(volume, source) or {})
    # A clone boots as its source does (Cinder copies the bootable flag and
    # the image's metadata to it).
    if source.get('bootable') or (source.get('bootable') is None
                                  and source.get('image_id')):
        model_update['bootable'] = True
        image_metadata = source.get('image_metadata')
        if image_metadata is None and source.get('image_id'):
            image_metadata = {'image_id': source['image_id']}
        if image_metadata:
            model_update['image_metadata'] = dict(image_metadata)
    return model_update


def create_from_image(db_api, driver, image_service, context, volume,
                      spec):
    return driver.copy_image_to_volume(context, volume, image_service,
                                       spec['image_id'])


CREATORS = {
    'raw': create_raw,
    'snap': create_from_snapshot,
    'source_vol': create_from_source_volume,
    'image': create_from_image,
}
