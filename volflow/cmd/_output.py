"""How the command line shows records: one JSON document or a table.

The JSON shapes are part of the command line's contract (README):
each ``*_view`` function returns exactly the documented fields, with
datetimes as ISO 8601 strings, so ``--format json`` output can be parsed
by scripts. Tables are for people and may change.
"""

import datetime
import json
import sys

import prettytable

from volflow.db import api as db_api

#: Volume fields shown by ``--format json``: the contract's, plus the
#: reason a volume ended in ``error``.
VOLUME_VIEW_FIELDS = db_api.VOLUME_FIELDS + ('reason',)

_LIST_COLUMNS = {
    'volume': ('id', 'name', 'status', 'size', 'volume_type',
               'availability_zone', 'host'),
    'snapshot': db_api.SNAPSHOT_FIELDS,
    'image': db_api.IMAGE_FIELDS,
    'volume_type': db_api.VOLUME_TYPE_FIELDS,
}


def _plain(value):
    """A JSON-ready copy of ``value``: datetimes become ISO 8601 text."""
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _view(record, fields):
    return {field: _plain(record.get(field)) for field in fields}


def volume_view(volume):
    """The JSON shape of a volume."""
    view = _view(volume, VOLUME_VIEW_FIELDS)
    view['metadata'] = view['metadata'] or {}
    return view


def snapshot_view(snapshot):
    """The JSON shape of a snapshot."""
    return _view(snapshot, db_api.SNAPSHOT_FIELDS)


def image_view(image):
    """The JSON shape of an image (``size`` in bytes)."""
    view = _view(image, db_api.IMAGE_FIELDS)
    view['is_public'] = bool(view['is_public'])
    return view


def volume_type_view(volume_type):
    """The JSON shape of a volume type."""
    view = _view(volume_type, db_api.VOLUME_TYPE_FIELDS)
    view['extra_specs'] = view['extra_specs'] or {}
    return view


def to_json(document):
    """Serialise one document, deterministic and human-readable."""
    return json.dumps(_plain(document), indent=2, sort_keys=False)


_ACRONYMS = {'id': 'ID', 'gb': 'GB', 'az': 'AZ'}


def _cell(value):
    if value is None:
        return '-'
    if isinstance(value, dict):
        return '\n'.join(f'{key}={item}' for key, item
                         in sorted(value.items())) or '-'
    if isinstance(value, bool):
        return 'True' if value else 'False'
    return str(value)


def _table(columns, rows):
    table = prettytable.PrettyTable([_heading(col) for col in columns])
    table.align = 'l'
    for row in rows:
        table.add_row([_cell(item) for item in row])
    return table.get_string()


def _heading(field):
    return ' '.join(_ACRONYMS.get(part, part.capitalize())
                    for part in field.split('_'))


def record_table(view):
    """A Property/Value table of one record."""
    return _table(('property', 'value'), view.items())


def list_table(kind, views):
    """A table of records of one kind, one row each."""
    columns = _LIST_COLUMNS[kind]
    return _table(columns, [[view.get(col) for col in columns]
                            for view in views])


def quota_table(summary):
    """The quota-show table: one row per resource."""
    return _table(('resource', 'limit', 'in_use', 'reserved'),
                  [[name, usage['limit'], usage['in_use'], usage['reserved']]
                   for name, usage in summary.items()])


def rows_table(columns, rows):
    """A table of dicts, for the shapes without a kind of their own."""
    return _table(columns, [[row.get(col) for col in columns]
                            for row in rows])


def emit(document, fmt, table, stream=None):
    """Print ``document`` as JSON, or the text ``table()`` returns."""
    stream = stream or sys.stdout
    text = to_json(document) if fmt == 'json' else table()
    stream.write(text + '\n')
    stream.flush()
