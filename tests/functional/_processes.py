"""Long-running ``volflow`` processes beside the command line.

Schedulers, volume services and conductors, each ``python -m volflow``
in a subprocess logging to ``<root>/<name>.log``, sharing one
configuration file and one SQL database (given by URL) with the command
line.
"""

import os
import re
import signal
import subprocess
import sys
import time

from tests.functional import conftest as functional
from volflow.db.sqlalchemy import api as sql_api

_START_TIMEOUT = 60


class Processes(functional.Cli):
    """Long-running ``volflow`` processes and the command line, one db."""

    def __init__(self, root, db_url, extra_config):
        super().__init__(root, extra_config=extra_config)
        self.db_url = db_url
        self.processes = {}

    @property
    def db(self):
        if self._db is None:
            self._db = sql_api.SQLAPI(self.db_url)
        return self._db

    def log(self, name):
        with open(os.path.join(self.root, f'{name}.log')) as log:
            return log.read()

    def start(self, name, *command):
        with open(os.path.join(self.root, f'{name}.log'), 'a') as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, '-m', 'volflow', '--config-file',
                 self.config_file, *command], env=self.env,
                stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT)

    def wait_for(self, name, pattern, timeout=_START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.log(name)):
            process = self.processes[name]
            assert process.poll() is None, (
                f'{name} exited {process.returncode}:\n'
                f'{self.log(name)[-3000:]}')
            assert time.monotonic() < deadline, (
                f'{name}: no {pattern!r} after {timeout}s:\n'
                f'{self.log(name)[-3000:]}')
            time.sleep(0.05)

    def stop_all(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()

    def close(self):
        self.stop_all()
        super().close()
