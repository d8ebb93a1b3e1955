"""The documentation builds without a warning.

``sphinx-build -W`` fails on any warning, among them a ``literalinclude``
whose ``:pyobject:`` no longer exists: the guide cannot drift from the
code. The blocks marked runnable run in ``test_docs_runnable.py``.
"""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SOURCE = os.path.join(ROOT, 'doc', 'source')


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
