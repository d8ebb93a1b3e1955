"""Every example runs and prints what its ``.out.txt`` says it prints."""

import glob
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, 'examples', '*.py')))


def test_there_are_examples():
    assert EXAMPLES


@pytest.mark.parametrize('path', EXAMPLES, ids=os.path.basename)
def test_example_says_what_it_teaches(path):
    """Each example opens with a paragraph of what it teaches."""
    with open(path) as f:
        source = f.read()
    assert source.startswith('"""')
    assert 'Run it with' in source.split('"""')[1]


def _needs_redis(path):
    with open(path) as f:
        return 'REDIS_PORT' in f.read()


def example_env(path, tmp_path, request, **extra):
    """The environment an example runs in: a fresh home, Redis if needed."""
    env = dict(os.environ, HOME=str(tmp_path),
               XDG_DATA_HOME=str(tmp_path / 'data'), **extra)
    if _needs_redis(path):
        server = request.getfixturevalue('redis_server')
        env.update(REDIS_PORT=str(server.port),
                   REDIS_PASSWORD=server.password)
    return env


@pytest.mark.parametrize('path', EXAMPLES, ids=os.path.basename)
def test_example_output(path, tmp_path, request):
    expected_path = path[:-len('.py')] + '.out.txt'
    with open(expected_path) as f:
        expected = f.read()
    env = example_env(path, tmp_path, request)
    result = subprocess.run([sys.executable, path], capture_output=True,
                            text=True, env=env, cwd=str(tmp_path),
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected
