"""Every rule of ExtractVolumeRequestTask, as a user meets it.

A refused request raises its :mod:`volflow.exception` class, its message
names the offending value (and the limit it broke), and it changes nothing: no
volume row, no usage, no reservation.
"""

import pytest

from tests import invariants
from volflow import exception
from volflow.flows.api import _validation


def _refused(env, request, exc_class, fragments, ids):
    before = invariants.state(env.db, ['p1', 'p2'])
    with pytest.raises(exc_class) as info:
        env.create(**request)
    assert type(info.value) is exc_class
    message = str(info.value)
    for fragment in fragments:
        assert fragment.format(**ids) in message
    assert invariants.state(env.db, ['p1', 'p2']) == before
    invariants.assert_invariants(env.db, ['p1', 'p2'])
    return message


def _ids(world):
    return {name: record['id'] for name, record in world.items()
            if name != 'types'}


# (id, request from the world, config overrides, error, message fragments)
REFUSALS = [
    ('size-0', lambda w: {'size': 0}, {}, exception.InvalidInput,
     ["Volume size '0' must be an integer and greater than 0"]),
    ('size-negative', lambda w: {'size': -1}, {}, exception.InvalidInput,
     ["Volume size '-1' must be an integer and greater than 0"]),
    ('size-fraction', lambda w: {'size': '1.5'}, {}, exception.InvalidInput,
     ["Volume size '1.5' must be an integer"]),
    ('size-word', lambda w: {'size': 'abc'}, {}, exception.InvalidInput,
     ["Volume size 'abc' must be an integer"]),
    ('size-huge', lambda w: {'size': '99999999999999999999'}, {},
     exception.InvalidInput,
     ["'99999999999999999999'", str(_validation.MAX_VOLUME_SIZE)]),
    ('size-bool', lambda w: {'size': True}, {}, exception.InvalidInput,
     ["Volume size 'True' must be an integer"]),
    ('size-none', lambda w: {'size': None}, {}, exception.InvalidInput,
     ["Volume size 'None' must be an integer"]),
    ('image-and-snapshot',
     lambda w: {'image_id': w['img']['id'], 'snapshot': w['snap']}, {},
     exception.InvalidInput, ['May specify only one of image id, snapshot']),
    ('snapshot-and-source',
     lambda w: {'snapshot': w['snap'], 'source_volume': w['source']}, {},
     exception.InvalidInput,
     ['May specify only one of snapshot, source volume']),
    ('all-three-sources',
     lambda w: {'image_id': w['img']['id'], 'snapshot': w['snap'],
                'source_volume': w['source']}, {},
     exception.InvalidInput,
     ['May specify only one of image id, snapshot, source volume']),
    ('smaller-than-source',
     lambda w: {'size': 2, 'source_volume': w['source']}, {},
     exception.InvalidInput,
     ["Volume size '2'GB cannot be smaller than original volume size 3GB"]),
    ('smaller-than-snapshot',
     lambda w: {'size': 1, 'snapshot': w['snap']}, {},
     exception.InvalidInput,
     ["Volume size '1'GB cannot be smaller than the snapshot size 3GB"]),
    ('image-not-active',
     lambda w: {'size': 1, 'image_id': w['img_queued']['id']}, {},
     exception.InvalidInput, ['Image {img_queued} is not active.']),
    ('image-bigger-than-volume',
     lambda w: {'size': 3, 'image_id': w['img_big']['id']}, {},
     exception.InvalidInput,
     ['Size of specified image 4GB is larger than volume size 3GB.']),
    ('below-image-min-disk',
     lambda w: {'size': 2, 'image_id': w['img_mindisk']['id']}, {},
     exception.InvalidInput,
     ['Volume size 2GB cannot be smaller than the image minDisk size '
      '5GB.']),
    ('image-of-another-project',
     lambda w: {'size': 1, 'image_id': w['img_other']['id']}, {},
     exception.ImageNotFound, ['Image {img_other} could not be found.']),
    ('unknown-type-name', lambda w: {'volume_type': 'platinum'}, {},
     exception.VolumeTypeNotFound, ['platinum']),
    ('unknown-default-type', lambda w: {},
     {'default_volume_type': 'vanished'},
     exception.VolumeTypeDefaultMisconfiguredError,
     ["Default volume type 'vanished'", 'default_volume_type']),
    ('type-min-size', lambda w: {'size': 1, 'volume_type': 'bounded'}, {},
     exception.InvalidInput,
     ["Specified volume size of '1' is less than the minimum required size "
      "of '2' for volume type 'bounded'."]),
    ('type-max-size', lambda w: {'size': 6, 'volume_type': 'bounded'}, {},
     exception.InvalidInput,
     ["Specified volume size of '6' is greater than the maximum allowable "
      "size of '5' for volume type 'bounded'."]),
    ('unknown-az', lambda w: {'availability_zone': 'az9'}, {},
     exception.InvalidAvailabilityZone,
     ["Availability zone 'az9' is invalid."]),
    ('unknown-default-az', lambda w: {},
     {'default_availability_zone': 'az9'},
     exception.InvalidAvailabilityZone,
     ["Availability zone 'az9' is invalid."]),
    ('type-az-excludes-request',
     lambda w: {'volume_type': 'zoned', 'availability_zone': 'nova'}, {},
     exception.InvalidAvailabilityZone,
     ["Availability zone 'nova' is invalid."]),
    ('type-azs-none-exists', lambda w: {'volume_type': 'nowhere'}, {},
     exception.InvalidInput, ["'nowhere'", 'az7', 'az8']),
    ('clone-other-az',
     lambda w: {'source_volume': w['source'], 'availability_zone': 'az2',
                'size': None},
     {}, exception.InvalidInput,
     ['same availability zone as the source volume', 'nova', "'az2'"]),
    ('snapshot-clone-other-az',
     lambda w: {'snapshot': w['snap'], 'availability_zone': 'az2',
                'size': None},
     {}, exception.InvalidInput,
     ['same availability zone as the snapshot', 'nova', "'az2'"]),
    ('metadata-not-dict', lambda w: {'metadata': ['k=v']}, {},
     exception.InvalidVolumeMetadata,
     ["Metadata '['k=v']' should be a dict."]),
    ('metadata-empty-key', lambda w: {'metadata': {'': 'v'}}, {},
     exception.InvalidVolumeMetadata,
     ["Metadata property key '' must be a non-empty string."]),
    ('metadata-blank-key', lambda w: {'metadata': {'  ': 'v'}}, {},
     exception.InvalidVolumeMetadata, ["key '  '"]),
    ('metadata-non-string-value', lambda w: {'metadata': {'k': 7}}, {},
     exception.InvalidVolumeMetadata,
     ["value '7' of key 'k' must be a string."]),
    ('metadata-key-too-long', lambda w: {'metadata': {'k' * 256: 'v'}}, {},
     exception.InvalidVolumeMetadataSize,
     ['k' * 40, '256 characters, greater than 255 characters']),
    ('metadata-value-too-long',
     lambda w: {'metadata': {'key': 'v' * 300}}, {},
     exception.InvalidVolumeMetadataSize,
     ["of key 'key' is 300 characters, greater than 255 characters"]),
    ('snapshot-not-available', lambda w: {'snapshot': w['bad_snap']}, {},
     exception.InvalidSnapshot,
     ["Originating snapshot status must be one of 'available' values, "
      "not 'error'"]),
    ('source-in-error', lambda w: {'source_volume': w['broken']}, {},
     exception.InvalidVolume,
     ["Originating volume status must be one of 'available', 'in-use' "
      "values, not 'error'"]),
]


@pytest.mark.parametrize('build, overrides, exc_class, fragments',
                         [case[1:] for case in REFUSALS],
                         ids=[case[0] for case in REFUSALS])
def test_refusal(env, world, conf_override, build, overrides, exc_class,
                 fragments):
    for name, value in overrides.items():
        conf_override(name, value)
    _refused(env, build(world), exc_class, fragments, _ids(world))


def test_refusals_are_expected_errors():
    """All of them are logged without a traceback (expected refusals)."""
    for case in REFUSALS:
        assert case[3].expected, case[0]


@pytest.mark.parametrize('size', [
    '1 2', '+', '-',
    '--1', '\u00b2',
])
def test_odd_size_strings_are_refused_as_invalid_input(env, size):
    """Only digits make a size; anything else is InvalidInput, not a crash.

    '--1' and '\u00b2' pass ``str.isdigit`` once the minus signs are
    stripped, yet ``int()`` rejects them.
    """
    _refused(env, {'size': size}, exception.InvalidInput,
             [f"Volume size '{size}' must be an integer"], {})


def test_another_projects_snapshot_by_id(env, world):
    before = invariants.state(env.db, ['p1', 'p2'])
    snapshot_id = world['other_snap']['id']
    with pytest.raises(exception.SnapshotNotFound,
                       match=f'Snapshot {snapshot_id} could not be found'):
        env.api().create(env.ctx, None, 'copy', None, snapshot=snapshot_id)
    assert invariants.state(env.db, ['p1', 'p2']) == before


def test_another_projects_volume_by_id(env, world):
    before = invariants.state(env.db, ['p1', 'p2'])
    volume_id = world['other_vol']['id']
    with pytest.raises(exception.VolumeNotFound,
                       match=f'Volume {volume_id} could not be found'):
        env.api().create(env.ctx, None, 'copy', None,
                         source_volume=volume_id)
    assert invariants.state(env.db, ['p1', 'p2']) == before


def test_own_snapshot_and_volume_by_id(env, world):
    vapi = env.api()
    from_snap = vapi.create(env.ctx, None, 'a', None,
                            snapshot=world['snap']['id'])
    clone = vapi.create(env.ctx, None, 'b', None,
                        source_volume=world['source']['id'])
    assert (from_snap['snapshot_id'], from_snap['size']) == (
        world['snap']['id'], 3)
    assert (clone['source_volid'], clone['size']) == (
        world['source']['id'], 3)
    invariants.assert_invariants(env.db, ['p1', 'p2'])


# Accepted requests --------------------------------------------------------

@pytest.mark.parametrize('size, expected', [(1, 1), ('2', 2),
                                            (2 ** 31 - 1, 2 ** 31 - 1)])
def test_size_accepted(env, conf_override, size, expected):
    conf_override('quota_gigabytes', -1)
    volume = env.create(size=size)
    assert volume['size'] == expected
    assert env.usage()['gigabytes']['in_use'] == expected


@pytest.mark.parametrize('source, size', [('source', None), ('snap', None),
                                          ('source', ''), ('snap', 4)])
def test_size_from_source(env, world, source, size):
    key = 'snapshot' if source == 'snap' else 'source_volume'
    volume = env.create(size=size, **{key: world[source]})
    assert volume['size'] == (size or 3)
    assert volume['status'] == 'available'
    invariants.assert_invariants(env.db, ['p1', 'p2'])


# The source volume is silver, the snapshot's volume gold, the typed image
# says gold, the default is __DEFAULT__.
TYPE_PRECEDENCE = [
    ('default', lambda w: {}, '__DEFAULT__'),
    ('explicit-by-name', lambda w: {'volume_type': 'silver'}, 'silver'),
    ('explicit-by-id',
     lambda w: {'volume_type': w['types']['silver']['id']}, 'silver'),
    ('source', lambda w: {'source_volume': w['source']}, 'silver'),
    ('explicit-over-source',
     lambda w: {'source_volume': w['source'], 'volume_type': 'gold'},
     'gold'),
    ('snapshot', lambda w: {'snapshot': w['snap']}, 'gold'),
    ('explicit-over-snapshot',
     lambda w: {'snapshot': w['snap'], 'volume_type': 'silver'}, 'silver'),
    ('image-property', lambda w: {'image_id': w['img_typed']['id']}, 'gold'),
    ('explicit-over-image-property',
     lambda w: {'image_id': w['img_typed']['id'], 'volume_type': 'silver'},
     'silver'),
    ('image-without-property', lambda w: {'image_id': w['img']['id']},
     '__DEFAULT__'),
]


@pytest.mark.parametrize('build, expected',
                         [case[1:] for case in TYPE_PRECEDENCE],
                         ids=[case[0] for case in TYPE_PRECEDENCE])
def test_type_precedence(env, world, build, expected):
    request = dict(build(world))
    request.setdefault('size', 3)
    volume = env.create(**request)
    assert volume['volume_type'] == expected
    assert volume['volume_type_id'] == world['types'][expected]['id']
    usage = env.usage()
    assert usage[f'volumes_{expected}']['in_use'] >= 1
    invariants.assert_invariants(env.db, ['p1', 'p2'])


def test_default_type_from_config(env, world, conf_override):
    conf_override('default_volume_type', 'silver')
    assert env.create()['volume_type'] == 'silver'


@pytest.mark.parametrize('size', [2, 5])
def test_type_size_bounds_inclusive(env, world, size):
    assert env.create(size=size, volume_type='bounded')['size'] == size


# Availability zones -------------------------------------------------------

AZS = [
    ('default', lambda w: {}, {}, 'nova'),
    ('requested', lambda w: {'availability_zone': 'az2'}, {}, 'az2'),
    ('default-az-option', lambda w: {},
     {'default_availability_zone': 'az2'}, 'az2'),
    ('fallback', lambda w: {'availability_zone': 'az9'},
     {'allow_availability_zone_fallback': True}, 'nova'),
    ('fallback-to-default-az', lambda w: {'availability_zone': 'az9'},
     {'allow_availability_zone_fallback': True,
      'default_availability_zone': 'az2'}, 'az2'),
    ('inherited-from-source', lambda w: {'source_volume': w['source_az2']},
     {}, 'az2'),
    ('inherited-from-snapshot', lambda w: {'snapshot': w['snap']}, {},
     'nova'),
    ('clone-elsewhere-allowed',
     lambda w: {'source_volume': w['source'], 'availability_zone': 'az2'},
     {'cloned_volume_same_az': False}, 'az2'),
    ('type-restricts', lambda w: {'volume_type': 'zoned'}, {}, 'az2'),
    ('type-restricts-requested',
     lambda w: {'volume_type': 'zoned', 'availability_zone': 'az2'}, {},
     'az2'),
]


@pytest.mark.parametrize('build, overrides, expected',
                         [case[1:] for case in AZS],
                         ids=[case[0] for case in AZS])
def test_availability_zone(env, world, conf_override, build, overrides,
                           expected):
    for name, value in overrides.items():
        conf_override(name, value)
    request = dict(build(world))
    request.setdefault('size', 3)
    volume = env.create(**request)
    assert volume['availability_zone'] == expected
    assert env.scheduler.casts[-1]['request_spec'][
        'availability_zones'] == [expected]
    invariants.assert_invariants(env.db, ['p1', 'p2'])


def test_type_az_with_several_zones_leaves_choice_to_scheduler(env, world):
    env.db.volume_type_create(env.ctx.elevated(), 'both',
                              {'RESKEY:availability_zones': ' az2 , nova ,'})
    volume = env.create(volume_type='both')
    assert volume['availability_zone'] is None
    assert env.scheduler.casts[-1]['request_spec'][
        'availability_zones'] == ['az2', 'nova']


# Multiattach and metadata -------------------------------------------------

@pytest.mark.parametrize('spec, expected', [('<is> True', True),
                                            ('<is> False', False),
                                            ('True', False),
                                            (None, False)])
def test_multiattach(env, spec, expected):
    specs = {} if spec is None else {'multiattach': spec}
    env.db.volume_type_create(env.ctx.elevated(), 'm', specs)
    engine = env.engine(volume_type='m')
    engine.run()
    assert engine.storage.fetch('multiattach') is expected
    volume = env.db.volume_get(env.ctx, engine.storage.fetch('volume_id'))
    assert volume['multiattach'] is expected


def test_metadata_is_stored(env):
    metadata = {'k' * 255: 'v' * 255, 'purpose': 'db'}
    volume = env.create(metadata=metadata)
    assert volume['metadata'] == metadata


def test_description_and_name_are_stored(env):
    volume = env.create(name='n', description='d')
    assert (volume['name'], volume['description']) == ('n', 'd')
    assert (volume['project_id'], volume['user_id']) == ('p1', 'u1')


def test_fallback_never_leaves_the_types_zones(env, world, conf_override):
    conf_override('allow_availability_zone_fallback', True)
    try:
        volume = env.create(volume_type='zoned', availability_zone='az9')
    except exception.InvalidAvailabilityZone as exc:
        assert "'az9'" in str(exc)
    else:
        assert volume['availability_zone'] == 'az2'
