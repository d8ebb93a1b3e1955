"""Backends as ``backend-list`` shows them.

The capacity arithmetic is :mod:`volflow.volume.backends`' (the one the
scheduler's capacity filter and weigher use), so what the command line
shows as free is what the scheduler will find free.
"""

from volflow import context as volflow_context
from volflow.volume import backends as volume_backends


def _number(value):
    """An int when whole, else a float rounded to 2 decimals."""
    rounded = round(value, 2)
    return int(rounded) if rounded == int(rounded) else rounded


def backend_views(db_api, conf):
    """The ``backend-list`` JSON shape: one dict per configured backend."""
    allocated = volume_backends.allocated_by_backend(
        db_api, volflow_context.get_admin_context())
    views = []
    for backend in volume_backends.get_backends(conf):
        used = allocated.get(backend['name'], 0)
        views.append({
            'name': backend['name'],
            'volume_backend_name': backend['volume_backend_name'],
            'availability_zone': backend['availability_zone'],
            'total_capacity_gb': backend['total_capacity_gb'],
            'free_capacity_gb': _number(
                volume_backends.free_capacity_gb(backend, used)),
            'allocated_capacity_gb': used,
        })
    return views
