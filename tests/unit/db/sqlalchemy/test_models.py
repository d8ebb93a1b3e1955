"""The conversion of new rows for Core inserts."""

import sqlalchemy as sa

from volflow.db.sqlalchemy import models


def test_insert_row_has_every_column_but_the_sequence():
    row, record = models.Volume.insert_row({'id': 'v1', 'size': 2,
                                            'metadata': {'k': 'v'},
                                            'bootable': True})
    columns = {c.name for c in models.Volume.__table__.columns} - {'seq'}
    assert set(row) == columns
    assert row['metadata'] == {'k': 'v'}
    assert row['extra'] == {'bootable': True}
    assert row['multiattach'] is False  # the column's default
    assert row['host'] is None
    assert record == dict(dict.fromkeys(models.Volume.FIELDS),
                          id='v1', size=2, metadata={'k': 'v'},
                          multiattach=False, bootable=True)


def test_insert_row_is_what_the_entity_reads_back():
    engine = sa.create_engine('sqlite://')
    models.Base.metadata.create_all(engine, tables=[models.Volume.__table__])
    row, record = models.Volume.insert_row({'id': 'v1', 'name': 'n',
                                            'multiattach': True,
                                            'launched': 'x'})
    with engine.begin() as conn:
        conn.execute(sa.insert(models.Volume.__table__), row)
    with sa.orm.Session(engine) as session:
        volume = session.scalars(sa.select(models.Volume)).one()
        assert volume.to_dict() == record
    row, record = models.Volume.insert_row({'id': 'v2'})
    assert row['extra'] is None and 'launched' not in record
