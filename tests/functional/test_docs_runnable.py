"""The documentation's runnable examples run, as a reader pastes them.

The convention (also told in the contributor guide, "Tests"):

* Markdown: the line ``<!-- runnable -->`` immediately before a fenced
  block (```` ```sh ````, ```` ```ini ```` or ```` ```python ````) marks
  it runnable.
* reStructuredText (``doc/source/**/*.rst``): the comment line
  ``.. runnable`` immediately before a ``.. code-block:: sh`` (``ini``,
  ``python``) directive marks the block runnable.

Every marked block of ``README.md`` and, when the folder exists, of
``doc/source/**/*.rst`` runs here, each document's blocks in order:

* a shell block runs under ``bash -e -o pipefail`` in a new directory
  (holding a link to the checkout's ``examples/``, as a reader runs
  them from the checkout), with a fresh ``HOME`` and ``XDG_DATA_HOME``;
  ``volflow``, ``python3`` and ``python`` on its ``PATH`` are the code
  under test. It must exit 0,
  with no traceback and no Python warning on stderr.
* an ini block is written to a file and checked by the command line:
  oslo.config parses it and volflow checks its values (``volflow
  --config-file FILE backend-list`` exits 0). The shell blocks after it
  in the same document find it as ``volflow.conf`` in their directory.
* a python block runs as ``python -c BLOCK`` in a new directory with a
  fresh ``HOME`` and ``XDG_DATA_HOME`` and must exit 0.
"""

import glob
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
LANGUAGES = ('sh', 'ini', 'python')

_MD_MARK = '<!-- runnable -->'
_MD_FENCE = re.compile(r'^```(\w+)\s*$')
_RST_MARK = '.. runnable'
_RST_DIRECTIVE = re.compile(r'^(\s*)\.\. code-block::\s*(\w+)\s*$')


class Block:
    """One marked block: where it is, its language and its text."""

    def __init__(self, path, line, language, text):
        self.path = path
        self.line = line
        self.language = language
        self.text = text

    @property
    def name(self):
        return f'{os.path.relpath(self.path, ROOT)}:{self.line}'


def markdown_blocks(path):
    """The runnable blocks of a Markdown file, in order."""
    with open(path) as f:
        lines = f.read().splitlines()
    blocks = []
    for index, line in enumerate(lines[:-1]):
        if line.strip() != _MD_MARK:
            continue
        fence = _MD_FENCE.match(lines[index + 1])
        assert fence and fence.group(1) in LANGUAGES, (
            f'{path}:{index + 1}: {_MD_MARK} must come right before a '
            f'```sh, ```ini or ```python fence')
        end = lines.index('```', index + 2)
        blocks.append(Block(path, index + 2, fence.group(1),
                            '\n'.join(lines[index + 2:end]) + '\n'))
    return blocks


def rst_blocks(path):
    """The runnable blocks of a reStructuredText file, in order."""
    with open(path) as f:
        lines = f.read().splitlines()
    blocks = []
    for index, line in enumerate(lines[:-1]):
        if line.strip() != _RST_MARK:
            continue
        directive = _RST_DIRECTIVE.match(lines[index + 1])
        assert directive and directive.group(2) in LANGUAGES, (
            f'{path}:{index + 1}: {_RST_MARK} must come right before a '
            f'.. code-block:: sh, ini or python directive')
        indent = len(directive.group(1))
        body, position = [], index + 2
        while position < len(lines):
            text = lines[position]
            if text.strip() and len(text) - len(text.lstrip()) <= indent:
                break
            body.append(text)
            position += 1
        # Options (``:caption: ...``) come first, then a blank line.
        while body and body[0].strip().startswith(':'):
            body.pop(0)
        content = [text for text in body]
        while content and not content[0].strip():
            content.pop(0)
        margin = min((len(t) - len(t.lstrip()) for t in content if t.strip()),
                     default=0)
        blocks.append(Block(path, index + 2, directive.group(2),
                            '\n'.join(t[margin:] for t in content).rstrip()
                            + '\n'))
    return blocks


def documents():
    """``(path, blocks)`` of every document holding runnable blocks."""
    found = [(os.path.join(ROOT, 'README.md'),
              markdown_blocks(os.path.join(ROOT, 'README.md')))]
    for path in sorted(glob.glob(os.path.join(ROOT, 'doc', 'source', '**',
                                              '*.rst'), recursive=True)):
        found.append((path, rst_blocks(path)))
    return [(path, blocks) for path, blocks in found if blocks]


DOCUMENTS = documents()


def _shims(directory):
    """``volflow`` and ``python3`` running this interpreter, this code."""
    os.makedirs(directory, exist_ok=True)
    for name, command in (('volflow', f'"{sys.executable}" -m volflow'),
                          ('python3', f'"{sys.executable}"'),
                          ('python', f'"{sys.executable}"')):
        shim = os.path.join(directory, name)
        with open(shim, 'w') as f:
            f.write(f'#!/bin/sh\nexec {command} "$@"\n')
        os.chmod(shim, 0o755)
    return directory


def _environment(tmp_path, shims):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(('OS_', 'VOLFLOW_'))}
    env.update(HOME=str(tmp_path / 'home'),
               XDG_DATA_HOME=str(tmp_path / 'data'),
               PATH=os.pathsep.join([shims, os.environ.get('PATH', '')]),
               PYTHONPATH=os.pathsep.join(
                   [ROOT] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
    return env


_NOISE = re.compile(r'Traceback|Warning:')


def _run_block(block, tmp_path, shims, ini):
    work = tmp_path / f'block-{block.line}'
    work.mkdir()
    os.symlink(os.path.join(ROOT, 'examples'), work / 'examples')
    env = _environment(work, shims)
    if block.language == 'ini':
        config = work / 'volflow.conf'
        config.write_text(block.text)
        argv = [sys.executable, '-m', 'volflow', '--config-file',
                str(config), 'backend-list']
        return block.text, subprocess.run(
            argv, capture_output=True, text=True, env=env, cwd=str(work),
            timeout=600, stdin=subprocess.DEVNULL)
    if block.language == 'python':
        argv = [sys.executable, '-c', block.text]
    else:
        if ini is not None:
            (work / 'volflow.conf').write_text(ini)
        argv = ['bash', '-e', '-o', 'pipefail', '-c', block.text]
    return ini, subprocess.run(argv, capture_output=True, text=True,
                               env=env, cwd=str(work), timeout=600,
                               stdin=subprocess.DEVNULL)


def test_the_docs_have_runnable_blocks_of_each_kind():
    languages = {block.language
                 for _path, blocks in DOCUMENTS for block in blocks}
    assert languages == set(LANGUAGES)


def test_the_guides_have_runnable_blocks():
    names = {os.path.relpath(path, ROOT) for path, _blocks in DOCUMENTS}
    assert {os.path.join('doc', 'source', page) for page in (
        'guide/cinder-taskflow.rst', 'user/index.rst', 'user/watching.rst',
        'user/examples.rst', 'reference/python.rst')} <= names


def test_the_readme_is_one_screen_with_its_two_commands():
    with open(os.path.join(ROOT, 'README.md')) as f:
        text = f.read()
    commands = re.findall(r'^```sh\n(.*?)\n```$', text, re.M | re.S)
    assert commands == [
        'python3 -m pip install . && python3 -m volflow create --size 1',
        'python3 -m pip install tox && tox -e py3,pep8,genconfig']
    assert len(text.splitlines()) <= 40


def test_rst_blocks_are_found(tmp_path):
    page = tmp_path / 'page.rst'
    page.write_text('Title\n=====\n\n.. runnable\n.. code-block:: sh\n'
                    '   :caption: two commands\n\n   volflow list\n'
                    '   volflow quota-show\n\nAfter.\n\n'
                    '.. code-block:: sh\n\n   not marked\n')
    [block] = rst_blocks(str(page))
    assert (block.language, block.text) == (
        'sh', 'volflow list\nvolflow quota-show\n')


@pytest.mark.parametrize(
    'path, blocks', DOCUMENTS,
    ids=[os.path.relpath(path, ROOT) for path, _blocks in DOCUMENTS])
def test_runnable_blocks_run(tmp_path, path, blocks):
    shims = _shims(str(tmp_path / 'bin'))
    ini = None
    for block in blocks:
        ini, completed = _run_block(block, tmp_path, shims, ini)
        report = (f'{block.name} ({block.language}) exited '
                  f'{completed.returncode}:\n{block.text}\nstdout:\n'
                  f'{completed.stdout[-3000:]}\nstderr:\n'
                  f'{completed.stderr[-3000:]}')
        assert completed.returncode == 0, report
        if block.language != 'python':
            assert not _NOISE.search(completed.stderr), report
