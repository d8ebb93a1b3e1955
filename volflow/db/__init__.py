"""volflow's database layer: one interface, two implementations."""

from volflow.db.api import API  # noqa: F401
from volflow.db.api import get_api  # noqa: F401
