"""Images of volflow's Glance subset, in SQL.

A mixin of :class:`volflow.db.sqlalchemy.api.SQLAPI`, answering as the
in-memory fake does (:mod:`volflow.db.fake`): an image is visible to
admins, to its project, and to everyone once public.
"""

import copy

from oslo_utils import timeutils
import sqlalchemy as sa

from volflow.db import api
from volflow.db import rules
from volflow.db.sqlalchemy import models
from volflow import exception


def _visible_images(context):
    stmt = sa.select(models.Image)
    if context.is_admin:
        return stmt
    return stmt.where(sa.or_(models.Image.is_public.is_(True),
                             models.Image.project_id == context.project_id))


class ImagesMixin:
    """The image calls of :class:`volflow.db.api.API`.

    Uses the host class's ``_transaction`` and ``_insert``.
    """

    def image_create(self, context, values):
        return self._insert('image', models.Image, rules.new_record(
            'image', api.IMAGE_FIELDS, values, status='active', min_disk=0,
            is_public=False, properties={}, location=None,
            created_at=timeutils.utcnow()))

    def image_get(self, context, image_id):
        with self._transaction() as session:
            return self._image(session, context, image_id).to_dict()

    def image_get_all(self, context):
        with self._transaction() as session:
            return [i.to_dict() for i in session.scalars(
                _visible_images(context).order_by(models.Image.seq))]

    def _image(self, session, context, image_id):
        image = session.scalar(_visible_images(context).where(
            models.Image.id == image_id))
        if image is None:
            raise exception.ImageNotFound(image_id=image_id)
        return image

    def image_update(self, context, image_id, values):
        with self._transaction(write=True) as session:
            image = self._image(session, context, image_id)
            image.update_from(copy.deepcopy(values))
            session.flush()
            return image.to_dict()

    def image_destroy(self, context, image_id):
        with self._transaction(write=True) as session:
            session.delete(self._image(session, context, image_id))
