"""``volflow.api.wsgi:application``: the entry point for WSGI servers.

For uwsgi, gunicorn or mod_wsgi, as Cinder's ``wsgi`` module. The
configuration is read, once, from the files named in
``$VOLFLOW_CONFIG_FILES`` (comma-separated; default
``/etc/volflow/volflow.conf`` when it exists) when the first request
arrives, so importing this module has no side effect.
"""

import os
import threading

from volflow.api import app
from volflow import conf as volflow_conf

DEFAULT_CONFIG_FILE = '/etc/volflow/volflow.conf'


def _config_files():
    named = os.environ.get('VOLFLOW_CONFIG_FILES')
    if named:
        return [path.strip() for path in named.split(',') if path.strip()]
    return [DEFAULT_CONFIG_FILE] if os.path.exists(
        DEFAULT_CONFIG_FILE) else []


def initialize_application():
    """Parse the configuration and build the application."""
    return app.build(volflow_conf.load(config_files=_config_files()))


class _Lazy:
    """A WSGI callable building the application on first use."""

    def __init__(self):
        self._application = None
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if self._application is None:
            with self._lock:
                if self._application is None:
                    self._application = initialize_application()
        return self._application(environ, start_response)


application = _Lazy()
