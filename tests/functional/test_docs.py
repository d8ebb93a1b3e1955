"""The guide includes the code it teaches by name.

The build itself is ``tox -e docs`` (``sphinx-build -W``, which fails on
any warning, among them a ``literalinclude`` whose ``:pyobject:`` no
longer exists), so that the guide cannot drift from the code; the blocks
marked runnable run in ``test_docs_runnable.py``.
"""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SOURCE = os.path.join(ROOT, 'doc', 'source')


def test_the_guide_includes_code_by_name():
    """Every literalinclude of a module names its object (``:pyobject:``)."""
    path = os.path.join(SOURCE, 'guide', 'cinder-taskflow.rst')
    with open(path, encoding='utf-8') as f:
        text = f.read()
    includes = re.findall(r'\.\. literalinclude:: (\S+)\n   :(\w+):', text)
    assert len(includes) >= 15
    assert {option for _path, option in includes} == {'pyobject'}
