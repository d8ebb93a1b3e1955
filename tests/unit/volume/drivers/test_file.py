"""FileDriver: sparse files, private modes, exact copies."""

import io
import os
import stat

import pytest

from volflow import exception
from volflow.volume.drivers import base
from volflow.volume.drivers import file as file_driver

MiB = 1024 * 1024
#: Offsets of the pattern written into a source: start, middle, near end.
OFFSETS = (0, 300 * MiB + 17, base.GiB - 4096)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _write_pattern(path):
    with open(path, 'r+b') as f:
        for i, offset in enumerate(OFFSETS):
            f.seek(offset)
            f.write(bytes([65 + i]) * 4096)


def _read(path, offset, length=4096):
    with open(path, 'rb') as f:
        f.seek(offset)
        return f.read(length)


def _allocated(path):
    return os.stat(path).st_blocks * 512


class FakeImages:
    """An image service reading from bytes."""

    def __init__(self, images):
        self.images = images

    def show(self, context, image_id):
        if image_id not in self.images:
            raise exception.ImageNotFound(image_id=image_id)
        data = self.images[image_id]
        return {'id': image_id,
                'size': len(data) if isinstance(data, bytes) else None}

    def open(self, context, image_id):
        self.show(context, image_id)
        data = self.images[image_id]
        if isinstance(data, Exception):
            raise data
        return io.BytesIO(data)


class Endless(io.RawIOBase):
    """An image larger than its record says, larger than any volume."""

    def readable(self):
        return True

    def readinto(self, buffer):
        buffer[:] = bytes(len(buffer))
        return len(buffer)


class Unreadable(io.RawIOBase):
    def readable(self):
        return True

    def read(self, size=-1):
        raise OSError(5, 'Input/output error')


@pytest.fixture
def driver(make_backend):
    drv = file_driver.FileDriver(make_backend())
    drv.do_setup()
    return drv


def vol(volume_id='v1', size=1):
    return {'id': volume_id, 'size': size}


def test_setup_makes_a_private_directory(make_backend, tmp_path):
    existing = tmp_path / 'open'
    existing.mkdir(mode=0o755)
    drv = file_driver.FileDriver(make_backend(volumes_dir=str(existing)))
    drv.do_setup()
    assert _mode(existing) == 0o700


def test_create_is_sparse_private_and_named_by_id(driver):
    driver.create_volume(vol(size=2))
    path = os.path.join(driver.volumes_dir, 'v1')
    assert driver.local_path(vol()) == path
    assert os.listdir(driver.volumes_dir) == ['v1']
    assert os.path.getsize(path) == 2 * base.GiB
    assert _allocated(path) < MiB
    assert _mode(path) == 0o600
    assert _mode(driver.volumes_dir) == 0o700


def test_create_again_replaces_the_file(driver):
    driver.create_volume(vol())
    _write_pattern(driver.local_path(vol()))
    driver.create_volume(vol())
    assert _read(driver.local_path(vol()), 0) == bytes(4096)


@pytest.mark.parametrize('bad_id', ['../escape', 'a/b', '.hidden', '', None])
def test_ids_that_are_not_plain_names_are_refused(driver, bad_id):
    with pytest.raises(exception.InvalidInput):
        driver.create_volume({'id': bad_id, 'size': 1})
    assert os.listdir(driver.volumes_dir) == []


def test_clone_copies_the_data_and_stays_sparse(driver):
    driver.create_volume(vol('src'))
    _write_pattern(driver.local_path(vol('src')))
    driver.create_cloned_volume(vol('dst', size=2), vol('src'))
    dst = driver.local_path(vol('dst'))
    assert os.path.getsize(dst) == 2 * base.GiB
    for i, offset in enumerate(OFFSETS):
        assert _read(dst, offset) == bytes([65 + i]) * 4096
    assert _read(dst, 100 * MiB) == bytes(4096)
    assert _read(dst, base.GiB + 5) == bytes(4096)
    assert _allocated(dst) < 8 * MiB
    assert _mode(dst) == 0o600


def test_snapshot_then_volume_from_snapshot(driver):
    driver.create_volume(vol('src'))
    _write_pattern(driver.local_path(vol('src')))
    driver.create_snapshot({'id': 's1'}, vol('src'))
    snap = os.path.join(driver.volumes_dir, 'snapshot-s1')
    assert _mode(snap) == 0o600
    # The snapshot keeps the data the volume had when it was taken.
    with open(driver.local_path(vol('src')), 'r+b') as f:
        f.write(b'Z' * 4096)
    driver.create_volume_from_snapshot(vol('dst'), {'id': 's1'})
    dst = driver.local_path(vol('dst'))
    assert _read(dst, 0) == b'A' * 4096
    assert _read(dst, OFFSETS[2]) == b'C' * 4096


def test_copy_from_a_missing_source_is_a_backend_error(driver):
    with pytest.raises(exception.VolumeBackendAPIException):
        driver.create_cloned_volume(vol('dst'), vol('gone'))
    assert os.listdir(driver.volumes_dir) == []


def test_copy_into_a_smaller_volume_is_refused(driver):
    driver.create_volume(vol('src', size=2))
    with pytest.raises(exception.InvalidVolume):
        driver.create_cloned_volume(vol('dst', size=1), vol('src', size=2))
    assert os.listdir(driver.volumes_dir) == ['src']


def test_image_bytes_are_written_at_the_start(driver):
    data = b'\x00' * (2 * MiB) + b'image-data' * 1000
    images = FakeImages({'img': data})
    driver.copy_image_to_volume(None, vol(), images, 'img')
    path = driver.local_path(vol())
    assert os.path.getsize(path) == base.GiB
    assert _read(path, 0, len(data)) == data
    assert _read(path, len(data), 4096) == bytes(4096)
    assert _allocated(path) < MiB


@pytest.mark.parametrize('image', [
    pytest.param(Endless, id='longer-than-the-volume'),
    pytest.param(Unreadable, id='unreadable'),
    pytest.param(OSError(2, 'No such file'), id='unopenable'),
])
def test_bad_images_are_invalid_and_leave_no_file(driver, image):
    if isinstance(image, type):
        images = FakeImages({'img': b''})
        images.open = lambda context, image_id: image()
    else:
        images = FakeImages({'img': image})
    with pytest.raises(exception.InvalidImage):
        driver.copy_image_to_volume(None, vol(), images, 'img')
    assert os.listdir(driver.volumes_dir) == []


def test_an_image_recorded_larger_than_the_volume_is_refused(driver):
    images = FakeImages({'img': b''})
    images.show = lambda context, image_id: {'id': 'img',
                                             'size': base.GiB + 1}
    with pytest.raises(exception.InvalidImage, match='larger'):
        driver.copy_image_to_volume(None, vol(), images, 'img')
    assert os.listdir(driver.volumes_dir) == []


def test_deletes_remove_files_and_are_idempotent(driver):
    driver.create_volume(vol())
    driver.create_snapshot({'id': 's1'}, vol())
    driver.delete_snapshot({'id': 's1'})
    driver.delete_volume(vol())
    assert os.listdir(driver.volumes_dir) == []
    driver.delete_snapshot({'id': 's1'})
    driver.delete_volume(vol())


def test_delete_removes_a_leftover_partial_file(driver):
    part = driver.local_path(vol()) + '.part'
    open(part, 'wb').close()
    driver.delete_volume(vol())
    assert os.listdir(driver.volumes_dir) == []


def test_stats_count_the_provisioned_gigabytes(driver):
    driver.create_volume(vol('a', size=2))
    driver.create_snapshot({'id': 's'}, vol('a', size=2))
    stats = driver.get_volume_stats()
    assert stats['provisioned_capacity_gb'] == 2
    assert stats['free_capacity_gb'] == 8
    assert stats['volume_backend_name'] == 'b1'
    assert stats['storage_protocol'] == 'file'
