"""Cinder's list parameters: ``limit``, ``marker``, ``offset``, ``sort``...

``offset`` skips that many records (after ``marker``, if any).
``sort`` is ``key[:dir][,key[:dir]...]`` (or the older ``sort_key`` and
``sort_dir``); the default is ``created_at:desc`` as in Cinder. ``limit``
is capped at ``[api] max_limit``. A bad value is refused with 400 naming
it and the rule; a ``marker`` that names no record listed is 404, as in
Cinder. ``display_name`` sorts by ``name`` (Cinder's older name).
"""

import functools

from volflow import exception

SORT_KEYS = ('id', 'name', 'size', 'status', 'created_at', 'updated_at',
             'availability_zone', 'volume_type', 'volume_id')

#: Cinder's older names of sort keys, and the key each one sorts by.
_SORT_ALIASES = {'display_name': 'name', 'display_description':
                 'description'}


def _limit(req, max_limit):
    text = req.GET.get('limit')
    if text is None:
        return max_limit
    if not text.strip().isdigit():
        raise exception.InvalidInput(
            reason=f"limit '{text}' must be an integer of at least 0")
    return min(int(text), max_limit)


def _sort_keys(req):
    if 'sort' in req.GET:
        pairs = []
        for item in req.GET['sort'].split(','):
            key, _sep, direction = item.strip().partition(':')
            pairs.append((key.strip(), direction.strip() or 'desc'))
    else:
        keys = req.GET.get('sort_key', 'created_at').split(',')
        dirs = req.GET.get('sort_dir', 'desc').split(',')
        pairs = [(key.strip(), (dirs[i] if i < len(dirs) else dirs[-1])
                  .strip()) for i, key in enumerate(keys)]
    pairs = [(_SORT_ALIASES.get(key, key), direction)
             for key, direction in pairs]
    for key, direction in pairs:
        if key not in SORT_KEYS and key not in _SORT_ALIASES.values():
            raise exception.InvalidInput(
                reason=f"sort key '{key}' must be one of "
                       f"{', '.join(SORT_KEYS)}")
        if direction.lower() not in ('asc', 'desc'):
            raise exception.InvalidInput(
                reason=f"sort direction '{direction}' must be asc or desc")
    return [(key, direction.lower()) for key, direction in pairs]


def _compare(pairs, left, right):
    for key, direction in pairs:
        a, b = left.get(key), right.get(key)
        if a == b:
            continue
        if a is None or b is None:
            order = -1 if a is None else 1
        else:
            a, b = (str(a), str(b)) if type(a) is not type(b) else (a, b)
            order = -1 if a < b else 1
        return order if direction == 'asc' else -order
    return 0


def page(req, records, max_limit, filters=()):
    """Filter, sort and paginate ``records``; return ``(page, limit)``."""
    limit = _limit(req, max_limit)
    for field in filters:
        if field in req.GET:
            wanted = req.GET[field]
            records = [r for r in records if str(r.get(field)) == wanted]
    pairs = _sort_keys(req) + [('id', 'asc')]
    records = sorted(records, key=functools.cmp_to_key(
        functools.partial(_compare, pairs)))
    marker = req.GET.get('marker')
    if marker is not None:
        ids = [record['id'] for record in records]
        if marker not in ids:
            raise exception.MarkerNotFound(marker=marker)
        records = records[ids.index(marker) + 1:]
    return records[_offset(req):][:limit], limit


def _offset(req):
    text = req.GET.get('offset')
    if text is None:
        return 0
    if not text.strip().isdigit():
        raise exception.InvalidInput(
            reason=f"offset '{text}' must be an integer of at least 0")
    return int(text)
