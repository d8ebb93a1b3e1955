"""A Glance stand-in: image records in the database, bytes in files.

Images are registered from a local file; their bytes are copied under
``images_dir`` (mode 0600 in a 0700 directory), named by image id, so a
volume created from an image can be filled from them later.
"""

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

    def show(self, context, image_id):
        """The image, or ``ImageNotFound`` if the context may not see it."""
        return self.db.image_get(context, image_id)

    def get_all(self, context):
        return self.db.image_get_all(context)

    def open(self, context, image_id):
        """Open the image's bytes for reading."""
        image = self.show(context, image_id)
        return open(image['location'], 'rb')
