"""volflow.exception: the public error classes and their messages."""

import copy
import pickle

import pytest

from volflow import exception

#: Public (a contract): these names exist.
CONTRACT = ['VolflowException', 'InvalidInput', 'InvalidVolumeType',
            'VolumeTypeNotFound', 'InvalidAvailabilityZone',
            'VolumeNotFound', 'SnapshotNotFound', 'ImageNotFound',
            'InvalidSnapshot', 'InvalidVolume', 'InvalidVolumeMetadata',
            'InvalidVolumeMetadataSize', 'VolumeSizeExceedsLimit',
            'OverQuota', 'VolumeSizeExceedsAvailableQuota',
            'VolumeLimitExceeded', 'NoValidBackend']


@pytest.mark.parametrize('name', CONTRACT)
def test_contract_class_exists_below_the_base(name):
    cls = getattr(exception, name)
    assert issubclass(cls, exception.VolflowException)
    assert issubclass(cls, Exception)


@pytest.mark.parametrize('name', ['VolumeSizeExceedsAvailableQuota',
                                  'VolumeLimitExceeded'])
def test_over_quota_subclasses(name):
    assert issubclass(getattr(exception, name), exception.OverQuota)


# (class, kwargs, the message)
MESSAGES = [
    (exception.InvalidInput, {'reason': "size '0' is bad"},
     "Invalid input received: size '0' is bad"),
    (exception.InvalidVolumeType, {'reason': 'no cipher'},
     'Invalid volume type: no cipher'),
    (exception.VolumeTypeNotFound, {'volume_type': 'gold'},
     'Volume type gold could not be found.'),
    (exception.InvalidAvailabilityZone, {'az': 'az9'},
     "Availability zone 'az9' is invalid."),
    (exception.VolumeNotFound, {'volume_id': 'v1'},
     'Volume v1 could not be found.'),
    (exception.SnapshotNotFound, {'snapshot_id': 's1'},
     'Snapshot s1 could not be found.'),
    (exception.ImageNotFound, {'image_id': 'i1'},
     'Image i1 could not be found.'),
    (exception.InvalidSnapshot, {'reason': 'r'}, 'Invalid snapshot: r'),
    (exception.InvalidVolume, {'reason': 'r'}, 'Invalid volume: r'),
    (exception.InvalidVolumeMetadata, {'reason': 'r'},
     'Invalid metadata: r'),
    (exception.InvalidVolumeMetadataSize, {'reason': 'r'},
     'Invalid metadata size: r'),
    (exception.VolumeSizeExceedsLimit, {'size': 11, 'limit': 10},
     'Requested volume size 11G is larger than maximum allowed limit 10G.'),
    (exception.OverQuota, {'overs': 'volumes, gigabytes'},
     'Quota exceeded for resources: volumes, gigabytes.'),
    (exception.VolumeSizeExceedsAvailableQuota,
     {'name': 'gigabytes', 'requested': 3, 'quota': 10, 'consumed': 8},
     'Requested volume or snapshot exceeds allowed gigabytes quota. '
     'Requested 3G, quota is 10G and 8G has been consumed.'),
    (exception.VolumeLimitExceeded, {'allowed': 20, 'name': 'volumes'},
     "Maximum number of volumes allowed (20) exceeded for quota "
     "'volumes'."),
    (exception.SnapshotLimitExceeded, {'allowed': 2, 'name': 'snapshots'},
     "Maximum number of snapshots allowed (2) exceeded for quota "
     "'snapshots'."),
    (exception.NoValidBackend, {'reason': 'no capacity'},
     'No valid backend was found. no capacity'),
    (exception.Timeout, {'volume_id': 'v1', 'status': 'creating',
                         'timeout': 5},
     'Volume v1 is still creating after 5 seconds.'),
]


@pytest.mark.parametrize('cls, kwargs, message', MESSAGES,
                         ids=[case[0].__name__ for case in MESSAGES])
def test_message_names_the_values(cls, kwargs, message):
    exc = cls(**kwargs)
    assert str(exc) == message
    assert exc.msg == message
    assert exc.kwargs == kwargs
    assert exc.args == (message,)


def test_explicit_message_wins():
    exc = exception.InvalidInput('said so')
    assert str(exc) == 'said so'


def test_missing_kwargs_keep_the_template():
    """A template/argument mismatch must not hide the original error."""
    assert str(exception.VolumeNotFound()) == (
        'Volume %(volume_id)s could not be found.')
    assert str(exception.VolumeSizeExceedsLimit(size='big', limit=1)) == (
        exception.VolumeSizeExceedsLimit.message)


def test_base_message():
    assert str(exception.VolflowException()) == (
        'An unknown exception occurred.')


@pytest.mark.parametrize('cls', [
    exception.InvalidInput, exception.InvalidVolume,
    exception.InvalidVolumeMetadataSize, exception.VolumeNotFound,
    exception.VolumeLimitExceeded, exception.VolumeSizeExceedsLimit,
    exception.NoValidBackend])
def test_refusals_are_expected(cls):
    """Expected refusals are logged without a traceback."""
    assert cls.expected is True


@pytest.mark.parametrize('cls', [exception.VolflowException,
                                 exception.VolumeDriverException,
                                 exception.VolumeBackendAPIException,
                                 exception.Timeout])
def test_failures_are_not_expected(cls):
    assert cls.expected is False


@pytest.mark.parametrize('cls, code', [(exception.InvalidInput, 400),
                                       (exception.VolumeNotFound, 404),
                                       (exception.VolumeLimitExceeded, 413),
                                       (exception.VolflowException, 500)])
def test_codes(cls, code):
    assert cls.code == code


def test_pickles_and_copies_keep_the_message():
    exc = exception.VolumeLimitExceeded(allowed=3, name='volumes')
    assert str(copy.copy(exc)) == str(exc)
    assert str(pickle.loads(pickle.dumps(exc))) == str(exc)
