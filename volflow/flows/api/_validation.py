"""Request checks of ExtractVolumeRequestTask that need no collaborator.

Split out of the flow module so that the flow reads as the flow. Every
check raises a :mod:`volflow.exception` error naming the value and the
rule.
"""

import re

from volflow import exception

#: Largest size accepted, in GB: the volumes.size column is a 32-bit int.
MAX_VOLUME_SIZE = 2 ** 31 - 1
MAX_METADATA_LENGTH = 255


def _shown(value, limit=40):
    text = str(value)
    return text if len(text) <= limit else f'{text[:limit]}...'


def check_text(field, value):
    """Cinder's rule for a name or description: 255 characters at most.

    NUL characters and lone surrogates (undecodable bytes of a command
    line) are refused too: the SQL databases can't store them.
    """
    if value is None:
        return
    if not isinstance(value, str):
        raise exception.InvalidInput(
            reason=f"Volume {field} '{_shown(value)}' must be a string")
    if len(value) > MAX_METADATA_LENGTH:
        raise exception.InvalidInput(
            reason=(f"Volume {field} '{_shown(value)}' is {len(value)} "
                    f"characters, greater than {MAX_METADATA_LENGTH}"))
    if '\x00' in value or _undecodable(value):
        raise exception.InvalidInput(
            reason=(f"Volume {field} {_shown(value)!r} must be text without "
                    f"NUL characters or undecodable bytes"))


def _undecodable(text):
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        return True
    return False


def check_exclusive_sources(snapshot, image_id, source_volume):
    given = [name for name, value in (('image id', image_id),
                                      ('snapshot', snapshot),
                                      ('source volume', source_volume))
             if value]
    if len(given) > 1:
        raise exception.InvalidInput(
            reason=f"May specify only one of {', '.join(given)}")


def check_source_status(snapshot, source_volume):
    if snapshot and snapshot['status'] != 'available':
        raise exception.InvalidSnapshot(
            reason=(f"Originating snapshot status must be one of "
                    f"'available' values, not '{snapshot['status']}'"))
    if source_volume and source_volume['status'] not in ('available',
                                                         'in-use'):
        raise exception.InvalidVolume(
            reason=(f"Originating volume status must be one of "
                    f"'available', 'in-use' values, not "
                    f"'{source_volume['status']}'"))


def _as_size(size):
    """An int from an int or a string of digits; None if neither."""
    if isinstance(size, bool):
        return None
    if isinstance(size, int):
        return size
    if isinstance(size, str) and re.fullmatch(r'\s*-?[0-9]+\s*', size):
        return int(size.strip())  # int() refuses some of re's \s
    return None


def extract_size(size, snapshot, source_volume):
    """Return the size in GB, inherited from the source when not given."""
    if size is None or size == '':
        if source_volume:
            size = source_volume['size']
        elif snapshot:
            size = snapshot['volume_size']
    value = _as_size(size)
    if value is None or value <= 0:
        raise exception.InvalidInput(
            reason=(f"Volume size '{_shown(size)}' must be an integer and "
                    f"greater than 0"))
    if value > MAX_VOLUME_SIZE:
        raise exception.InvalidInput(
            reason=(f"Volume size '{_shown(size)}' must be an integer no "
                    f"greater than {MAX_VOLUME_SIZE}"))
    if source_volume and value < source_volume['size']:
        raise exception.InvalidInput(
            reason=(f"Volume size '{value}'GB cannot be smaller than "
                    f"original volume size {source_volume['size']}GB. "
                    f"They must be >= original volume size."))
    if snapshot and value < snapshot['volume_size']:
        raise exception.InvalidInput(
            reason=(f"Volume size '{value}'GB cannot be smaller than the "
                    f"snapshot size {snapshot['volume_size']}GB. They must "
                    f"be >= original snapshot size."))
    return value


def check_image(image, size):
    """Cinder's image checks: active, fits, not under min_disk."""
    if image['status'] != 'active':
        raise exception.InvalidInput(
            reason=f"Image {image['id']} is not active.")
    image_gb = -(-int(image.get('size') or 0) // (1024 ** 3))
    if image_gb > size:
        raise exception.InvalidInput(
            reason=(f"Size of specified image {image_gb}GB is larger than "
                    f"volume size {size}GB."))
    min_disk = image.get('min_disk') or 0
    if size < min_disk:
        raise exception.InvalidInput(
            reason=(f"Volume size {size}GB cannot be smaller than the image "
                    f"minDisk size {min_disk}GB."))


def check_type_size(volume_type, size):
    """The type's provisioning:min_vol_size / max_vol_size bounds."""
    specs = volume_type.get('extra_specs') or {}
    minimum = _as_size(specs.get('provisioning:min_vol_size'))
    maximum = _as_size(specs.get('provisioning:max_vol_size'))
    if minimum is not None and size < minimum:
        raise exception.InvalidInput(
            reason=(f"Specified volume size of '{size}' is less than the "
                    f"minimum required size of '{minimum}' for volume type "
                    f"'{volume_type['name']}'."))
    if maximum is not None and size > maximum:
        raise exception.InvalidInput(
            reason=(f"Specified volume size of '{size}' is greater than the "
                    f"maximum allowable size of '{maximum}' for volume type "
                    f"'{volume_type['name']}'."))


def check_metadata(metadata):
    """Cinder's metadata rules: a dict of non-empty strings, 255 max."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise exception.InvalidVolumeMetadata(
            reason=f"Metadata '{_shown(metadata)}' should be a dict.")
    for key, value in metadata.items():
        if not isinstance(key, str) or not key.strip():
            raise exception.InvalidVolumeMetadata(
                reason=(f"Metadata property key '{_shown(key)}' must be a "
                        f"non-empty string."))
        if not isinstance(value, str):
            raise exception.InvalidVolumeMetadata(
                reason=(f"Metadata property value '{_shown(value)}' of key "
                        f"'{_shown(key)}' must be a string."))
        if len(key) > MAX_METADATA_LENGTH:
            raise exception.InvalidVolumeMetadataSize(
                reason=(f"Metadata property key '{_shown(key)}' is "
                        f"{len(key)} characters, greater than "
                        f"{MAX_METADATA_LENGTH} characters."))
        if len(value) > MAX_METADATA_LENGTH:
            raise exception.InvalidVolumeMetadataSize(
                reason=(f"Metadata property value '{_shown(value)}' of key "
                        f"'{_shown(key)}' is {len(value)} characters, greater "
                        f"than {MAX_METADATA_LENGTH} characters."))
    return dict(metadata)


def is_multiattach(volume_type):
    specs = volume_type.get('extra_specs') or {}
    return str(specs.get('multiattach', '')).strip() == '<is> True'


def type_availability_zones(volume_type):
    """The zones a type restricts volumes to (RESKEY:availability_zones)."""
    specs = volume_type.get('extra_specs') or {}
    raw = specs.get('RESKEY:availability_zones') or ''
    return [az.strip() for az in raw.split(',') if az.strip()]
