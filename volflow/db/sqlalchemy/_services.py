"""Service records in SQL: what each long-running service reports.

Each write is one short transaction on one row; the unique ``(host,
binary)`` constraint makes a second process creating the same record fail
with ``ServiceExists`` instead of adding a twin.
"""

from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa

from volflow.db import rules
from volflow.db.sqlalchemy import models
from volflow import exception


class ServicesMixin:
    """The service methods of :class:`volflow.db.api.API` in SQL."""

    def service_create(self, context, values):
        record = rules.new_service(values, timeutils.utcnow())
        try:
            with self._transaction(write=True) as session:
                service = models.Service(**record)
                session.add(service)
                session.flush()
                return service.to_dict()
        except db_exc.DBDuplicateEntry:
            raise exception.ServiceExists(host=record['host'],
                                          binary=record['binary']) from None

    def service_get_by_host_and_binary(self, context, host, binary):
        with self._transaction() as session:
            service = session.scalars(sa.select(models.Service).where(
                models.Service.host == host,
                models.Service.binary == binary)).first()
            if service is None:
                raise exception.ServiceNotFound(
                    service=f'{binary} on host {host}')
            return service.to_dict()

    def service_get_all(self, context, filters=None):
        stmt = sa.select(models.Service).order_by(models.Service.id)
        for key, value in (filters or {}).items():
            stmt = stmt.where(getattr(models.Service, key) == value)
        with self._transaction() as session:
            return [s.to_dict() for s in session.scalars(stmt)]

    def service_update(self, context, service_id, values):
        with self._transaction(write=True) as session:
            service = session.get(models.Service, service_id)
            if service is None:
                raise exception.ServiceNotFound(service=service_id)
            for key, value in values.items():
                if key != 'id':
                    setattr(service, key, value)
            session.flush()
            return service.to_dict()
