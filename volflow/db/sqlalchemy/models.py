"""SQLAlchemy models of volflow's tables.

Each record table keeps the fields every record of its kind has (the ones
the in-memory fake always returns) in columns, and any other field a caller
chose to store in one JSON ``extra`` column, so that the SQL implementation
accepts and returns exactly what the fake does. Dictionaries (volume
metadata, image properties, volume type extra specs) are JSON columns:
they are always read with their record, in the same query.

Volumes, snapshots, images and reservations have an integer ``seq`` primary
key giving their insertion order (the order the API lists them in) and a
unique string ``id``, the identifier callers see.
"""

import datetime

import sqlalchemy as sa
from sqlalchemy import orm


class Base(orm.DeclarativeBase):
    """Declarative base of every volflow table."""


class _Record:
    """Conversion between a row and the dict the API hands out."""

    #: API field -> mapped attribute, for the fields kept in columns.
    FIELDS = {}

    extra: orm.Mapped[dict | None] = orm.mapped_column(sa.JSON)

    @classmethod
    def split(cls, values):
        """Return ``({attribute: value}, {extra field: value})``."""
        columns = {}
        extra = {}
        for field, value in values.items():
            if field in cls.FIELDS:
                columns[cls.FIELDS[field]] = value
            else:
                extra[field] = value
        return columns, extra

    def update_from(self, values):
        """Apply ``values`` (API fields) to this row."""
        columns, extra = self.split(values)
        for attribute, value in columns.items():
            setattr(self, attribute, value)
        if extra:
            self.extra = {**(self.extra or {}), **extra}

    @classmethod
    def insert_row(cls, values):
        """``(row, record)`` of a new row with ``values`` (API fields).

        ``row`` has a value for every column but the sequence (by column
        name, for a Core ``INSERT`` of the table, whose statement is then
        compiled once); ``record`` is what :meth:`to_dict` of the entity
        inserted so would return. A field not in ``values`` takes its
        column's scalar default, or None.
        """
        columns, extra = cls.split(values)
        for attribute, column in cls._insert_columns().items():
            if attribute not in columns:
                default = column.default
                columns[attribute] = (
                    default.arg if default is not None and default.is_scalar
                    else None)
        row = {column.name: columns[attribute]
               for attribute, column in cls._insert_columns().items()}
        row['extra'] = extra or None
        record = dict(extra)
        record.update((field, columns[attribute])
                      for field, attribute in cls.FIELDS.items())
        return row, record

    @classmethod
    def _insert_columns(cls):
        """``{attribute: column}`` of the fields' columns."""
        mapper = sa.inspect(cls)
        return {attribute: mapper.attrs[attribute].columns[0]
                for attribute in cls.FIELDS.values()}

    def to_dict(self):
        """The record as the API returns it."""
        record = dict(self.extra or {})
        record.update((field, getattr(self, attribute))
                      for field, attribute in self.FIELDS.items())
        return record


def _fields(*names, **renamed):
    fields = {name: name for name in names}
    fields.update(renamed)
    return fields


class Volume(_Record, Base):
    """A volume; its type's name is joined in by the queries that read it."""

    __tablename__ = 'volumes'
    FIELDS = _fields('id', 'name', 'description', 'size', 'status',
                     'project_id', 'user_id', 'volume_type_id',
                     'availability_zone', 'host', 'snapshot_id',
                     'source_volid', 'image_id', 'reason', 'multiattach',
                     'created_at', 'updated_at', metadata='volume_metadata')

    seq: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True,
                                             autoincrement=True)
    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    size: orm.Mapped[int | None] = orm.mapped_column(sa.Integer)
    status: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255),
                                                           index=True)
    user_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    volume_type_id: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(36))
    availability_zone: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(255))
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255),
                                                     index=True)
    snapshot_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))
    source_volid: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))
    image_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))
    reason: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    multiattach: orm.Mapped[bool] = orm.mapped_column(sa.Boolean,
                                                      default=False)
    volume_metadata: orm.Mapped[dict | None] = orm.mapped_column(
        'metadata', sa.JSON)
    created_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)


class Snapshot(_Record, Base):
    """A snapshot; ``volume_type_id``, when given, lives in ``extra``."""

    __tablename__ = 'snapshots'
    FIELDS = _fields('id', 'volume_id', 'volume_size', 'name', 'status',
                     'project_id', 'created_at')

    seq: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True,
                                             autoincrement=True)
    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    volume_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36),
                                                          index=True)
    volume_size: orm.Mapped[int | None] = orm.mapped_column(sa.Integer)
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    status: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255),
                                                           index=True)
    created_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)


class Image(_Record, Base):
    """An image record of the fake image service."""

    __tablename__ = 'images'
    FIELDS = _fields('id', 'name', 'size', 'min_disk', 'status',
                     'project_id', 'is_public', 'properties', 'location',
                     'created_at')

    seq: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True,
                                             autoincrement=True)
    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    size: orm.Mapped[int | None] = orm.mapped_column(sa.BigInteger)
    min_disk: orm.Mapped[int | None] = orm.mapped_column(sa.Integer)
    status: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255),
                                                           index=True)
    is_public: orm.Mapped[bool | None] = orm.mapped_column(sa.Boolean)
    properties: orm.Mapped[dict | None] = orm.mapped_column(sa.JSON)
    location: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    created_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)


class VolumeType(Base):
    """A volume type; its extra specs are one JSON object."""

    __tablename__ = 'volume_types'

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    is_public: orm.Mapped[bool] = orm.mapped_column(
        sa.Boolean, default=True, server_default=sa.true())
    qos_specs_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36),
                                                             index=True)
    extra_specs: orm.Mapped[dict | None] = orm.mapped_column(sa.JSON)
    #: The encryption of the type's volumes (provider, cipher, ...).
    encryption: orm.Mapped[dict | None] = orm.mapped_column(sa.JSON)

    def to_dict(self):
        return {'id': self.id, 'name': self.name,
                'description': self.description,
                'is_public': bool(self.is_public),
                'qos_specs_id': self.qos_specs_id,
                'encryption': self.encryption,
                'extra_specs': dict(self.extra_specs or {})}


class VolumeTypeProject(Base):
    """A project given access to a private volume type."""

    __tablename__ = 'volume_type_projects'

    volume_type_id: orm.Mapped[str] = orm.mapped_column(sa.String(36),
                                                        primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255),
                                                    primary_key=True)


class QualityOfServiceSpecs(Base):
    """QoS specs: a name, a consumer and the specs, one JSON object."""

    __tablename__ = 'quality_of_service_specs'

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    consumer: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    specs: orm.Mapped[dict | None] = orm.mapped_column(sa.JSON)
    created_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)

    def to_dict(self):
        return {'id': self.id, 'name': self.name, 'consumer': self.consumer,
                'specs': dict(self.specs or {}),
                'created_at': self.created_at}


class Message(Base):
    """A user message: why an asynchronous request failed."""

    __tablename__ = 'messages'

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255),
                                                           index=True)
    request_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    resource_type: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(255))
    resource_uuid: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))
    event_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    message_level: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(255))
    action_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(10))
    detail_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(10))
    created_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, index=True)
    expires_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)

    def to_dict(self):
        return {column.key: getattr(self, column.key)
                for column in self.__table__.columns}


class Quota(Base):
    """A limit set explicitly for one project and resource."""

    __tablename__ = 'quotas'

    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255),
                                                    primary_key=True)
    resource: orm.Mapped[str] = orm.mapped_column(sa.String(255),
                                                  primary_key=True)
    hard_limit: orm.Mapped[int] = orm.mapped_column(sa.Integer)


class QuotaUsage(Base):
    """What one project uses of one resource; unique per pair."""

    __tablename__ = 'quota_usages'

    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255),
                                                    primary_key=True)
    resource: orm.Mapped[str] = orm.mapped_column(sa.String(255),
                                                  primary_key=True)
    in_use: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    reserved: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)

    def to_dict(self):
        return {'in_use': self.in_use, 'reserved': self.reserved}


class Reservation(Base):
    """A delta reserved and not yet committed nor rolled back."""

    __tablename__ = 'reservations'

    seq: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True,
                                             autoincrement=True)
    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255),
                                                    index=True)
    resource: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    delta: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    expire: orm.Mapped[datetime.datetime] = orm.mapped_column(sa.DateTime,
                                                              index=True)

    def to_dict(self):
        return {'id': self.id, 'project_id': self.project_id,
                'resource': self.resource, 'delta': self.delta,
                'expire': self.expire}


class CommittedReservation(Base):
    """The id of a committed reservation, kept for a while.

    Flows resumed after a crash may commit again, or reserve again under
    the same key (:meth:`volflow.db.api.API.quota_reserve`): this record
    tells a committed reservation from one rolled back or expired.
    """

    __tablename__ = 'committed_reservations'

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    committed_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, index=True)


class Service(Base):
    """A long-running service and its last report (Cinder's ``services``).

    One row per ``(host, binary)``; the service adds 1 to
    ``report_count`` and sets ``updated_at`` every ``report_interval``.
    """

    __tablename__ = 'services'
    __table_args__ = (sa.UniqueConstraint('host', 'binary',
                                          name='uniq_services0host0binary'),)

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True,
                                            autoincrement=True)
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    binary: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    topic: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    availability_zone: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(255))
    report_count: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    disabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean,
                                                   default=False)
    disabled_reason: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(255))
    created_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)

    def to_dict(self):
        return {name: getattr(self, name) for name in (
            'id', 'host', 'binary', 'topic', 'availability_zone',
            'report_count', 'disabled', 'disabled_reason', 'created_at',
            'updated_at')}
