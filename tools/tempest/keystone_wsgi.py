"""Keystone's public application for gunicorn, for the Tempest run.

Keystone 30 ships no WSGI script of its own to point a server at, and
its configuration parser reads the process's command line: under
gunicorn that is gunicorn's own arguments, which it refuses. The
command line is emptied before Keystone is imported; the configuration
comes from ``OS_KEYSTONE_CONFIG_FILES``.
"""

import sys

sys.argv = sys.argv[:1]

from keystone.server import wsgi  # noqa: E402

application = wsgi.initialize_public_application()
