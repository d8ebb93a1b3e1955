"""Volume types with their access lists, QoS specs and user messages, in SQL.

A mixin of :class:`volflow.db.sqlalchemy.api.SQLAPI`, answering as the
in-memory fake does (:mod:`volflow.db._fake_types`). A private type is
visible to admins and to the projects of its access list only; the check
is one ``EXISTS`` in the query that reads the type.
"""

import copy

from oslo_db import exception as db_exc
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from volflow.db import rules
from volflow.db.sqlalchemy import models
from volflow import exception

_TYPE = models.VolumeType
_ACCESS = models.VolumeTypeProject
_QOS = models.QualityOfServiceSpecs
_MESSAGE = models.Message


def _visible_types(context):
    stmt = sa.select(_TYPE)
    if context.is_admin:
        return stmt
    has_access = sa.exists().where(_ACCESS.volume_type_id == _TYPE.id,
                                   _ACCESS.project_id == context.project_id)
    return stmt.where(sa.or_(_TYPE.is_public.is_(True), has_access))


def _visible_type_rows():
    """``{is admin: statement}``: volume type rows (Core, not entities).

    A non-admin's sees the public types and those its project
    (``t_project``) has access to. Built once: building the statement and
    its cache key cost about what running it does on SQLite.
    """
    table = _TYPE.__table__
    access = _ACCESS.__table__
    stmt = sa.select(table)
    has_access = sa.exists().where(
        access.c.volume_type_id == table.c.id,
        access.c.project_id == sa.bindparam('t_project'))
    return {True: stmt,
            False: stmt.where(sa.or_(table.c.is_public.is_(True),
                                     has_access))}


_TYPE_BY_NAME = {
    admin: stmt.where(_TYPE.__table__.c.name == sa.bindparam('t_name'))
    for admin, stmt in _visible_type_rows().items()}
_TYPE_BY_ID = {
    admin: stmt.where(_TYPE.__table__.c.id == sa.bindparam('t_id'))
    for admin, stmt in _visible_type_rows().items()}


def _type_row_dict(conn, statements, context, params, missing):
    """The one visible type ``statements`` find, as a dict."""
    if not context.is_admin:
        params['t_project'] = context.project_id
    row = conn.execute(statements[context.is_admin], params).first()
    if row is None:
        raise exception.VolumeTypeNotFound(volume_type=missing)
    # A row has the entity's attributes: the entity's conversion applies.
    return _TYPE.to_dict(row)


def _messages(context):
    stmt = sa.select(_MESSAGE)
    if context.is_admin:
        return stmt
    return stmt.where(_MESSAGE.project_id == context.project_id)


class TypesMixin:
    """Volume types, their access, QoS specs, user messages."""

    # Volume types --------------------------------------------------------
    def _type_row(self, session, context, type_id):
        vtype = session.scalar(_visible_types(context).where(
            _TYPE.id == type_id))
        if vtype is None:
            raise exception.VolumeTypeNotFound(volume_type=type_id)
        return vtype

    @staticmethod
    def _check_type_name(session, name, type_id=None):
        stmt = sa.select(_TYPE.id).where(_TYPE.name == name)
        if type_id is not None:
            stmt = stmt.where(_TYPE.id != type_id)
        if session.scalar(stmt) is not None:
            raise exception.VolumeTypeExists(name=name)

    def volume_type_create(self, context, name, extra_specs=None,
                           description=None, is_public=True):
        try:
            with self._transaction(write=True) as session:
                self._check_type_name(session, name)
                vtype = _TYPE(**rules.new_volume_type(
                    name, extra_specs, description, is_public))
                session.add(vtype)
            return vtype.to_dict()
        except db_exc.DBDuplicateEntry:
            raise exception.VolumeTypeExists(name=name) from None

    def volume_type_get(self, context, type_id):
        with self._transaction(orm=False) as conn:
            return _type_row_dict(conn, _TYPE_BY_ID, context,
                                  {'t_id': type_id}, type_id)

    def volume_type_get_by_name(self, context, name):
        with self._transaction(orm=False) as conn:
            return _type_row_dict(conn, _TYPE_BY_NAME, context,
                                  {'t_name': name}, name)

    def volume_type_get_all(self, context):
        with self._transaction() as session:
            return [t.to_dict() for t in session.scalars(
                _visible_types(context).order_by(_TYPE.name))]

    def volume_type_update(self, context, type_id, values):
        values = rules.type_update_values(values)
        try:
            with self._transaction(write=True) as session:
                vtype = self._type_row(session, context, type_id)
                if 'name' in values:
                    self._check_type_name(session, values['name'], type_id)
                for field, value in values.items():
                    setattr(vtype, field, value)
                session.flush()
                return vtype.to_dict()
        except db_exc.DBDuplicateEntry:
            raise exception.VolumeTypeExists(name=values['name']) from None

    def volume_type_extra_specs_update(self, context, type_id, specs):
        with self._transaction(write=True) as session:
            vtype = self._type_row(session, context, type_id)
            vtype.extra_specs = {**(vtype.extra_specs or {}),
                                 **copy.deepcopy(specs)}
            session.flush()
            return vtype.to_dict()

    def volume_type_extra_specs_delete(self, context, type_id, key):
        with self._transaction(write=True) as session:
            vtype = self._type_row(session, context, type_id)
            specs = dict(vtype.extra_specs or {})
            if key not in specs:
                raise exception.VolumeTypeExtraSpecsNotFound(
                    volume_type_id=type_id, extra_specs_key=key)
            del specs[key]
            vtype.extra_specs = specs

    def volume_type_destroy(self, context, type_id):
        with self._transaction(write=True) as session:
            vtype = self._type_row(session, context, type_id)
            if session.scalar(sa.select(models.Volume.seq).where(
                    models.Volume.volume_type_id == type_id).limit(
                        1)) is not None:
                raise exception.VolumeTypeInUse(volume_type_id=type_id)
            session.execute(sa.delete(_ACCESS).where(
                _ACCESS.volume_type_id == type_id))
            session.delete(vtype)

    def volume_type_access_get_all(self, context, type_id):
        with self._transaction() as session:
            self._type_row(session, context, type_id)
            projects = session.scalars(sa.select(_ACCESS.project_id).where(
                _ACCESS.volume_type_id == type_id).order_by(
                    _ACCESS.project_id))
            return [{'volume_type_id': type_id, 'project_id': project}
                    for project in projects]

    def volume_type_access_add(self, context, type_id, project_id):
        exists = exception.VolumeTypeAccessExists(volume_type_id=type_id,
                                                  project_id=project_id)
        try:
            with self._transaction(write=True) as session:
                self._type_row(session, context, type_id)
                if session.get(_ACCESS, (type_id, project_id)) is not None:
                    raise exists
                session.add(_ACCESS(volume_type_id=type_id,
                                    project_id=project_id))
        except db_exc.DBDuplicateEntry:
            raise exists from None

    def volume_type_access_remove(self, context, type_id, project_id):
        with self._transaction(write=True) as session:
            self._type_row(session, context, type_id)
            access = session.get(_ACCESS, (type_id, project_id))
            if access is None:
                raise exception.VolumeTypeAccessNotFound(
                    volume_type_id=type_id, project_id=project_id)
            session.delete(access)

    # QoS specs -----------------------------------------------------------
    @staticmethod
    def _qos_row(session, qos_id):
        qos = session.get(_QOS, qos_id)
        if qos is None:
            raise exception.QoSSpecsNotFound(specs_id=qos_id)
        return qos

    @staticmethod
    def _check_qos_name(session, name, qos_id=None):
        stmt = sa.select(_QOS.id).where(_QOS.name == name)
        if qos_id is not None:
            stmt = stmt.where(_QOS.id != qos_id)
        if session.scalar(stmt) is not None:
            raise exception.QoSSpecsExists(specs_id=name)

    def qos_specs_create(self, context, name, consumer, specs):
        try:
            with self._transaction(write=True) as session:
                self._check_qos_name(session, name)
                qos = _QOS(id=uuidutils.generate_uuid(),
                           name=name, consumer=consumer,
                           specs=dict(specs or {}),
                           created_at=timeutils.utcnow())
                session.add(qos)
            return qos.to_dict()
        except db_exc.DBDuplicateEntry:
            raise exception.QoSSpecsExists(specs_id=name) from None

    def qos_specs_get(self, context, qos_id):
        with self._transaction() as session:
            return self._qos_row(session, qos_id).to_dict()

    def qos_specs_get_all(self, context):
        with self._transaction() as session:
            return [q.to_dict() for q in session.scalars(
                sa.select(_QOS).order_by(_QOS.created_at, _QOS.id))]

    def qos_specs_update(self, context, qos_id, values):
        values = copy.deepcopy(values)
        with self._transaction(write=True) as session:
            qos = self._qos_row(session, qos_id)
            if 'name' in values:
                self._check_qos_name(session, values['name'], qos_id)
                qos.name = values.pop('name')
            if 'consumer' in values:
                qos.consumer = values.pop('consumer')
            qos.specs = {**(qos.specs or {}), **values}
            session.flush()
            return qos.to_dict()

    def qos_specs_delete_keys(self, context, qos_id, keys):
        with self._transaction(write=True) as session:
            qos = self._qos_row(session, qos_id)
            specs = dict(qos.specs or {})
            for key in keys:
                if key not in specs:
                    raise exception.QoSSpecsKeyNotFound(specs_id=qos_id,
                                                        specs_key=key)
                del specs[key]
            qos.specs = specs

    def qos_specs_destroy(self, context, qos_id, force=False):
        with self._transaction(write=True) as session:
            qos = self._qos_row(session, qos_id)
            users = session.scalars(sa.select(_TYPE.id).where(
                _TYPE.qos_specs_id == qos_id).order_by(_TYPE.id)).all()
            if users and not force:
                raise exception.QoSSpecsInUse(specs_id=qos_id,
                                              types=', '.join(users))
            session.execute(sa.update(_TYPE).where(
                _TYPE.qos_specs_id == qos_id).values(qos_specs_id=None))
            session.delete(qos)

    # User messages -------------------------------------------------------
    def message_create(self, context, values):
        with self._transaction(write=True) as session:
            message = _MESSAGE(**rules.new_message(values,
                                                   timeutils.utcnow()))
            session.add(message)
        return message.to_dict()

    def _message_row(self, session, context, message_id):
        message = session.scalar(_messages(context).where(
            _MESSAGE.id == message_id))
        if message is None:
            raise exception.MessageNotFound(message_id=message_id)
        return message

    def message_get(self, context, message_id):
        with self._transaction() as session:
            return self._message_row(session, context, message_id).to_dict()

    def message_get_all(self, context):
        with self._transaction() as session:
            return [m.to_dict() for m in session.scalars(_messages(
                context).order_by(_MESSAGE.created_at, _MESSAGE.id))]

    def message_destroy(self, context, message_id):
        with self._transaction(write=True) as session:
            session.delete(self._message_row(session, context, message_id))
