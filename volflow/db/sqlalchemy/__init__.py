"""The database API on SQLAlchemy: SQLite and PostgreSQL.

:mod:`~volflow.db.sqlalchemy.api` implements :class:`volflow.db.api.API`
with the quota (``_quota``), capacity-claim (``_capacity``) and flow-claim
(``_flows``) mixins, over the tables of ``models`` and the engine of
``_engine``.
"""
