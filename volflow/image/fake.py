"""A Glance stand-in: image records in the database, bytes in files.

Images are registered from a local file, or (as Glance's API does) made
``queued`` first and given their bytes later by :meth:`upload`. The
bytes are kept under ``images_dir`` (mode 0600 in a 0700 directory),
named by image id, so a volume created from an image can be filled from
them later.
"""

import hashlib
import os
import shutil

from oslo_utils import uuidutils

from volflow import exception


class FakeImageService:
    """Create, show, list and read images."""

    def __init__(self, db_api, images_dir):
        self.db = db_api
        self.images_dir = images_dir

    def create(self, context, name, path, min_disk=0, is_public=False,
               properties=None):
        """Register the file at ``path`` as a new image."""
        if not os.path.isfile(path):
            raise exception.InvalidInput(
                reason=f"Image file '{path}' does not exist or is not a "
                       f"regular file")
        if min_disk < 0:
            raise exception.InvalidInput(
                reason=f"Image min_disk '{min_disk}' must be 0 or greater")
        image_id = uuidutils.generate_uuid()
        os.makedirs(self.images_dir, mode=0o700, exist_ok=True)
        location = os.path.join(self.images_dir, image_id)
        fd = os.open(location, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, 'wb') as dst, open(path, 'rb') as src:
                shutil.copyfileobj(src, dst)
            return self.db.image_create(context, {
                'id': image_id, 'name': name,
                'size': os.path.getsize(location), 'min_disk': min_disk,
                'status': 'active', 'project_id': context.project_id,
                'is_public': bool(is_public),
                'properties': dict(properties or {}), 'location': location})
        except Exception:
            os.unlink(location)
            raise

    def register(self, context, name, min_disk=0, is_public=False,
                 properties=None):
        """A new ``queued`` image without bytes yet."""
        if min_disk < 0:
            raise exception.InvalidInput(
                reason=f"Image min_disk '{min_disk}' must be 0 or greater")
        return self.db.image_create(context, {
            'id': uuidutils.generate_uuid(), 'name': name, 'size': None,
            'min_disk': min_disk, 'status': 'queued',
            'project_id': context.project_id, 'is_public': bool(is_public),
            'properties': dict(properties or {}), 'location': None})

    def upload(self, context, image_id, chunks):
        """Store the bytes of a ``queued`` image; it becomes ``active``.

        ``chunks`` is an iterable of bytes. The checksums (``checksum``,
        MD5, and ``os_hash_value``, SHA-512, as Glance gives them) go to
        the image's properties. A failed upload leaves no file and the
        image ``queued``.
        """
        image = self.show(context, image_id)
        if image['status'] != 'queued':
            raise exception.InvalidImage(
                reason=f"Image {image_id} is {image['status']}: only a "
                       f"queued image takes data")
        os.makedirs(self.images_dir, mode=0o700, exist_ok=True)
        location = os.path.join(self.images_dir, image_id)
        md5 = hashlib.md5(usedforsecurity=False)
        sha512 = hashlib.sha512()
        size = 0
        fd = os.open(location, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, 'wb') as dst:
                for chunk in chunks:
                    dst.write(chunk)
                    md5.update(chunk)
                    sha512.update(chunk)
                    size += len(chunk)
            properties = dict(image['properties'],
                              checksum=md5.hexdigest(),
                              os_hash_algo='sha512',
                              os_hash_value=sha512.hexdigest())
            return self.db.image_update(context, image_id, {
                'size': size, 'status': 'active', 'location': location,
                'properties': properties})
        except BaseException:
            os.unlink(location)
            raise

    def update(self, context, image_id, values):
        """Change an image's record; return it."""
        return self.db.image_update(context, image_id, values)

    def delete(self, context, image_id):
        """Delete an image and its bytes: its project's or an admin's."""
        image = self.show(context, image_id)
        if not context.is_admin and image['project_id'] != context.project_id:
            raise exception.InvalidImage(
                reason=f"Image {image_id} belongs to another project: only "
                       f"its project or an admin may delete it")
        self.db.image_destroy(context, image_id)
        if image.get('location'):
            try:
                os.unlink(image['location'])
            except FileNotFoundError:
                pass

    def show(self, context, image_id):
        """The image, or ``ImageNotFound`` if the context may not see it."""
        return self.db.image_get(context, image_id)

    def get_all(self, context):
        return self.db.image_get_all(context)

    def open(self, context, image_id):
        """Open the image's bytes for reading."""
        image = self.show(context, image_id)
        return open(image['location'], 'rb')
