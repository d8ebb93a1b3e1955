"""Running the command line in a subprocess, against a throwaway state.

:class:`Cli` runs ``python -m volflow --config-file <tmp>/cli.conf``
with ``HOME`` and ``XDG_DATA_HOME`` inside the temporary directory, so no
user configuration or state is read or written. Tests of one module share
one state (``cli`` fixture) and keep out of each other's way by acting for
projects of their own.
"""

from concurrent import futures
import json
import os
import subprocess
import sys
import uuid

import pytest

from volflow import context as volflow_context
from volflow.db.sqlalchemy import api as sql_api


class Result:
    """What one run of the command line did."""

    def __init__(self, args, completed):
        self.args = args
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr

    @property
    def json(self):
        return json.loads(self.stdout)

    @property
    def err_lines(self):
        return self.stderr.splitlines()

    def __repr__(self):
        return (f'Result(args={self.args!r}, rc={self.rc}, '
                f'stdout={self.stdout!r}, stderr={self.stderr!r})')


class Cli:
    """The command line acting on one state directory."""

    def __init__(self, root, extra_config='', connection=None):
        self.root = str(root)
        self.state_path = os.path.join(self.root, 'state')
        self.config_file = os.path.join(self.root, 'cli.conf')
        self.connection = connection or (
            f'sqlite:///{self.state_path}/volflow.sqlite')
        with open(self.config_file, 'w') as config:
            config.write(f'[DEFAULT]\nstate_path = {self.state_path}\n'
                         f'{extra_config}')
            if connection:
                config.write(f'[database]\nconnection = {connection}\n')
        self._db = None
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith(('OS_', 'VOLFLOW_'))}
        self.env.update(HOME=self.root,
                        XDG_DATA_HOME=os.path.join(self.root, 'xdg'))

    def run(self, *args, env=None, config=True, timeout=120):
        """Run ``volflow [--config-file F] ARGS``; return a Result."""
        argv = [sys.executable, '-m', 'volflow']
        if config:
            argv += ['--config-file', self.config_file]
        argv += [str(arg) for arg in args]
        completed = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout,
            env=dict(self.env, **(env or {})), stdin=subprocess.DEVNULL)
        return Result(args, completed)

    def run_all(self, calls, workers=4):
        """Run several command lines at once.

        :param calls: ``(argv, run keyword arguments)`` pairs.
        :returns: their Results, in the same order.
        """
        with futures.ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(
                lambda call: self.run(*call[0], **call[1]), calls))

    def parallel(self, *argvs):
        """Run independent command lines at once; their Results."""
        return self.run_all([(list(argv), {}) for argv in argvs])

    def ok(self, *args, **kwargs):
        """Run and insist on success; return the parsed JSON output."""
        result = self.run(*args, '--format', 'json', **kwargs)
        assert result.rc == 0, result
        return result.json

    # Looking at the state directly, as a test oracle ----------------------
    @property
    def db(self):
        """The state's database, opened in this process (after a run)."""
        if self._db is None:
            self._db = sql_api.SQLAPI(self.connection)
        return self._db

    def close(self):
        if self._db is not None:
            self._db.dispose()

    def volumes(self, project_id=None):
        ctx = volflow_context.get_admin_context()
        return sorted(
            (v for v in self.db.volume_get_all(ctx)
             if project_id is None or v['project_id'] == project_id),
            key=lambda v: v['id'])

    def usages(self, project_id):
        ctx = volflow_context.get_admin_context()
        return self.db.quota_usage_get_all(ctx, project_id)

    def limits(self, project_id):
        ctx = volflow_context.get_admin_context()
        return self.db.quota_get_all(ctx, project_id)

    def reservations(self, project_id=None):
        ctx = volflow_context.get_admin_context()
        return self.db.reservation_get_all(ctx, project_id)

    def snapshots(self, project_id):
        ctx = volflow_context.get_admin_context()
        return [s for s in self.db.snapshot_get_all(ctx)
                if s['project_id'] == project_id]

    def images(self):
        return self.db.image_get_all(volflow_context.get_admin_context())

    def types(self):
        ctx = volflow_context.get_admin_context()
        return [t['name'] for t in self.db.volume_type_get_all(ctx)]

    def files(self):
        """Every file under ``state_path/volumes``."""
        top = os.path.join(self.state_path, 'volumes')
        return sorted(os.path.join(path, name)
                      for path, _dirs, names in os.walk(top)
                      for name in names)

    def make_available(self, volume_id):
        """Stand in for a manager when no scheduler is configured.

        A volume the pipeline left ``creating`` (the API flow alone) is
        marked ``available`` so that snapshot and clone tests can run; a
        volume the pipeline finished is left as it is.
        """
        ctx = volflow_context.get_admin_context()
        volume = self.db.volume_get(ctx, volume_id)
        if volume['status'] == 'creating':
            volume = self.db.volume_update(ctx, volume_id,
                                           {'status': 'available'})
        assert volume['status'] == 'available', volume
        return volume

    def set_status(self, volume_id, status):
        ctx = volflow_context.get_admin_context()
        return self.db.volume_update(ctx, volume_id, {'status': status})


def new_project():
    """A project id no other test uses."""
    return f'p-{uuid.uuid4().hex[:12]}'


@pytest.fixture
def project():
    """A project of the test's own, in a shared state."""
    return new_project()


@pytest.fixture(scope='module')
def cli(tmp_path_factory):
    """One state shared by the tests of a module."""
    state = Cli(tmp_path_factory.mktemp('cli'))
    yield state
    state.close()
