"""The documentation builds without a warning, and its commands run.

``sphinx-build -W`` fails on any warning, among them a ``literalinclude``
whose ``:pyobject:`` no longer exists: the guide cannot drift from the
code. Each page's blocks marked runnable (a ``.. runnable`` comment just
before a ``.. code-block:: sh``) are run in order in one shell, as a
reader pasting them would, in a fresh state with the default quotas.
"""

import glob
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SOURCE = os.path.join(ROOT, 'doc', 'source')
_RUNNABLE = re.compile(
    r'^\.\. runnable\n\.\. code-block:: sh\n\n((?:(?:   .*)?\n)+)', re.M)


def runnable_blocks(path):
    """The shell blocks of a page marked runnable, dedented."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    return ['\n'.join(line[3:] for line in block.splitlines()).strip()
            for block in _RUNNABLE.findall(text)]


PAGES = sorted(path for path in glob.glob(
    os.path.join(SOURCE, '**', '*.rst'), recursive=True)
    if runnable_blocks(path))


def test_the_docs_build_without_a_warning(tmp_path):
    result = subprocess.run(
        [sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-q', '-b',
         'html', SOURCE, str(tmp_path / 'html')],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ''


def test_the_guide_includes_code_by_name():
    """Every literalinclude of a module names its object (``:pyobject:``)."""
    path = os.path.join(SOURCE, 'guide', 'cinder-taskflow.rst')
    with open(path, encoding='utf-8') as f:
        text = f.read()
    includes = re.findall(r'\.\. literalinclude:: (\S+)\n   :(\w+):', text)
    assert len(includes) >= 15
    assert {option for _path, option in includes} == {'pyobject'}


def test_there_are_runnable_blocks():
    names = {os.path.relpath(path, SOURCE) for path in PAGES}
    assert {'guide/cinder-taskflow.rst', 'user/index.rst',
            'user/watching.rst', 'user/examples.rst'} <= names


@pytest.mark.parametrize('path', PAGES,
                         ids=lambda p: os.path.relpath(p, SOURCE))
def test_runnable_blocks_run_in_a_fresh_state(path, tmp_path):
    os.symlink(os.path.join(ROOT, 'examples'), tmp_path / 'examples')
    script = '\n'.join(['set -e'] + runnable_blocks(path))
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(('OS_', 'VOLFLOW_'))}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / 'data'),
               PYTHONPATH=os.pathsep.join(
                   filter(None, [ROOT, os.environ.get('PYTHONPATH')])))
    result = subprocess.run(['bash', '-c', script], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (script, result.stdout, result.stderr)
