"""volflow.image.fake: image records in the database, bytes in files."""

import hashlib
import os
import stat

import pytest

from volflow import context
from volflow.db import fake as fake_db
from volflow import exception
from volflow.image import fake

OWNER = context.RequestContext(user_id='u1', project_id='p1')
OTHER = context.RequestContext(user_id='u2', project_id='p2')


@pytest.fixture
def images(tmp_path):
    db_api = fake_db.FakeAPI()
    db_api.seed()
    return fake.FakeImageService(db_api, str(tmp_path / 'images'))


@pytest.fixture
def source(tmp_path):
    path = tmp_path / 'disk.img'
    path.write_bytes(b'boot' * 1000)
    return str(path)


def test_create_copies_the_file_privately(images, source):
    image = images.create(OWNER, 'cirros', source, min_disk=1)
    assert (image['status'], image['size'], image['min_disk']) == (
        'active', 4000, 1)
    with images.open(OWNER, image['id']) as f:
        assert f.read() == b'boot' * 1000
    assert stat.S_IMODE(os.stat(image['location']).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(images.images_dir).st_mode) == 0o700


@pytest.mark.parametrize('path, min_disk, rule', [
    ('missing.img', 0, 'does not exist or is not a regular file'),
    (None, -1, "min_disk '-1' must be 0 or greater"),
])
def test_bad_input_is_refused_and_leaves_nothing(images, source, tmp_path,
                                                 path, min_disk, rule):
    with pytest.raises(exception.InvalidInput, match=rule):
        images.create(OWNER, 'bad', str(tmp_path / path) if path else source,
                      min_disk=min_disk)
    assert images.get_all(OWNER) == []
    assert not os.path.exists(images.images_dir) or (
        os.listdir(images.images_dir) == [])


def test_a_queued_image_takes_its_bytes_once_with_checksums(images):
    image = images.register(OWNER, 'later')
    assert (image['status'], image['size']) == ('queued', None)
    done = images.upload(OWNER, image['id'], [b'ab', b'cd'])
    assert (done['status'], done['size']) == ('active', 4)
    assert done['properties']['checksum'] == hashlib.md5(
        b'abcd', usedforsecurity=False).hexdigest()
    assert done['properties']['os_hash_value'] == hashlib.sha512(
        b'abcd').hexdigest()
    with pytest.raises(exception.InvalidImage, match='only a queued image'):
        images.upload(OWNER, image['id'], [b'again'])


def test_a_failed_upload_leaves_no_file_and_the_image_queued(images):
    image = images.register(OWNER, 'later')

    def chunks():
        yield b'part'
        raise OSError('connection reset')
    with pytest.raises(OSError):
        images.upload(OWNER, image['id'], chunks())
    assert images.show(OWNER, image['id'])['status'] == 'queued'
    assert os.listdir(images.images_dir) == []


def test_only_its_project_or_an_admin_deletes_an_image(images, source):
    image = images.create(OWNER, 'shared', source, is_public=True)
    with pytest.raises(exception.InvalidImage, match='another project'):
        images.delete(OTHER, image['id'])
    assert os.path.exists(image['location'])
    images.delete(OWNER, image['id'])
    assert not os.path.exists(image['location'])
    with pytest.raises(exception.ImageNotFound):
        images.show(OWNER, image['id'])
