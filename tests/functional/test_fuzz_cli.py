"""Fuzzing the command line: exit 1 or 2, one line, and nothing changed.

Command lines are drawn from every short-lived command of the command
line (the services and ``resume`` run until stopped and are left out), with
their options in any order, repeated or missing, given as ``--opt value``
or ``--opt=value``, with values that are well-formed, odd (NUL excepted:
an OS command line can't carry it) or the ids of real records of the
caller's or another project, plus unknown options and commands.

Each example runs :func:`volflow.cmd.main.main` in this process, on a
fresh in-memory deployment (``tests.fuzz_world``) and checks what a user
would see:

* the exit status is 0, 1 or 2 and ``main`` never raises;
* a failure (1 or 2) writes exactly one line on stderr (``delete`` of
  several ids: one for each that failed), no traceback;
* a success writes nothing on stderr but ``create --count``'s summary
  line, and ``--format json`` prints one JSON document;
* a refused request changes nothing: volumes, snapshots, images, types,
  quota limits, usage, reservations and image files are as they were;
* the invariants (``tests/invariants.py``) hold afterwards.

How it runs in process without leaking state: ``main`` parses into a
``ConfigOpts`` of the test's own (its groups registered by name, so that
no override ``main`` makes reaches the global one), the volume API it
builds is the world's, the working directory, ``HOME`` and
``XDG_DATA_HOME`` are temporary, and the root logger, the logger levels,
the warnings capture and ``sys.excepthook`` that ``main``'s logging setup
changes are put back after every example. Log
options (``--debug``, ``--log-file``...) are not drawn: their output is
checked by the unit tests of ``main``.
"""

import contextlib
import io
import json
import logging
import os
import re
import shutil
import sys

import hypothesis
from hypothesis import strategies as st
from oslo_config import cfg
import pytest

from tests import fuzz_world as world
from tests import invariants
from volflow.cmd import main
from volflow import context as volflow_context
from volflow import opts
from volflow.volume import api as volume_api

#: Options of oslo.config and oslo.log the command line moves before the
#: command: never drawn as values, which would turn logging on.
_GLOBAL = ('--config-file', '--config-dir', '--debug', '-d', '--nodebug',
           '--verbose', '-v', '--noverbose', '--log-file', '--log-dir',
           '--log-config-append')


#: How a failure's one line starts (argparse names the command too).
REASON = re.compile(r'volflow( [^ ]+)?: error: ')


def _not_global(text):
    return text.split('=', 1)[0] not in _GLOBAL


# What the command line's values are drawn from ---------------------------
TEXT = st.one_of(
    st.text(st.characters(blacklist_characters='\x00'), max_size=30),
    world.NASTY.filter(lambda text: '\x00' not in text),
    st.text(st.characters(blacklist_characters='\x00'), min_size=250,
            max_size=300)).filter(_not_global)
NUMBER = st.one_of(
    st.sampled_from(['-2', '-1', '0', '1', '2', '5', '10', '1000',
                     '2147483647', '99999999999999999999', '1.5', '1e3',
                     ' 3 ', '0x10', '1_0', '\u0661', '']),
    st.integers().map(str), TEXT)
SIZE = world.mostly(st.sampled_from(['1', '2', '3', '5']), NUMBER)
#: ``--count`` only ever small: a number it accepts is that many creates.
COUNT = st.sampled_from(['1', '2', '3', '0', '-1', 'x', '', '1.5', ' 2'])
PAIR = st.one_of(
    st.builds('{}={}'.format, st.text(min_size=1, max_size=10),
              st.text(max_size=10)),
    st.sampled_from(['k=v', 'password=s3cret', '=v', 'k=', 'lonely',
                     'a=b=c', f"{'k' * 256}=v", f"k={'v' * 256}"]),
    TEXT)
PROJECT = world.mostly(st.sampled_from(world.PROJECTS), TEXT)
TYPE = st.one_of(st.sampled_from(world.TYPE_NAMES), TEXT)
ZONE = st.one_of(st.just('nova'), TEXT)
FORMAT = world.mostly(st.sampled_from(['table', 'json']), TEXT)
FLAG = None  # an option that takes no value
#: The project of a command line without --project-id ($OS_PROJECT_ID).
DEFAULT_PROJECT = 'p1'

_PROJECT_OPTIONS = {'--project-id': PROJECT, '--user-id': TEXT,
                    '--admin': FLAG, '--format': FORMAT}


def _commands(files):
    """command -> (positional strategies, {option: strategy or FLAG}).

    The first option of a command is given three times out of four (a
    create without ``--size`` is refused at once).
    """
    volume_ids = world.ids_or_text(world.VOLUMES, TEXT)
    return {
        'create': ([], {
            '--size': SIZE, '--name': TEXT, '--description': TEXT,
            '--volume-type': TYPE, '--availability-zone': ZONE,
            '--snapshot-id': world.ids_or_text(world.SNAPSHOTS, TEXT),
            '--source-volid': volume_ids,
            '--image-id': world.ids_or_text(world.IMAGES, TEXT),
            '--metadata': PAIR, '--count': COUNT, '--no-wait': FLAG}),
        'list': ([], {}),
        'show': ([volume_ids], {}),
        'delete': ([volume_ids], {'--force': FLAG}),
        'snapshot-create': ([volume_ids], {'--name': TEXT}),
        'snapshot-list': ([], {}),
        'image-create': ([TEXT], {
            '--file': world.mostly(st.sampled_from(files), TEXT),
            '--min-disk': NUMBER, '--public': FLAG}),
        'image-list': ([], {}),
        'type-create': ([TEXT], {'--property': PAIR}),
        'type-list': ([], {}),
        'quota-show': ([], {}),
        'quota-update': ([], {
            '--volumes': NUMBER, '--gigabytes': NUMBER,
            '--snapshots': NUMBER, '--volume-type': TYPE}),
        'backend-list': ([], {'--format': FORMAT}),
        'graph': ([st.one_of(st.sampled_from(['api', 'scheduler',
                                              'manager']), TEXT)], {}),
    }


_NO_PROJECT = ('backend-list', 'graph')


def _creates(count):
    """How many volumes ``--count`` asks for (1 if it isn't a number)."""
    try:
        return max(1, int(count))
    except ValueError:
        return 1


@st.composite
def command_lines(draw, commands):
    """``(argv, facts)``: a command line and what the test must know.

    ``facts``: the command, the project, the format and how many creates
    it asks for, as the last of each option given says.
    """
    name = draw(world.mostly(st.sampled_from(sorted(commands)), TEXT))
    positionals, options = commands.get(name, ([], {}))
    if name in commands and name not in _NO_PROJECT:
        options = dict(_PROJECT_OPTIONS, **options)
    groups = []
    for strategy in positionals:  # now and then missing
        if draw(world.mostly(st.just(True), st.just(False))):
            groups.append((None, None, [draw(strategy)]))
    chosen = draw(st.lists(st.sampled_from(sorted(options)),
                           max_size=5)) if options else []
    first = next(iter(commands.get(name, ([], {}))[1]), None)
    if first and draw(world.mostly(st.just(True), st.just(False))):
        chosen.insert(0, first)
    for option in chosen:
        strategy = options[option]
        if strategy is FLAG:
            groups.append((option, None, [option]))
            continue
        value = draw(strategy)
        tokens = ([f'{option}={value}'] if draw(st.booleans())
                  else [option, value])
        groups.append((option, value, tokens))
    extra = None
    if not draw(st.integers(0, 7)):
        extra = draw(st.sampled_from(['--nope', 'extra', '-x']))
        groups.append((None, None, [extra]))
    groups = draw(st.permutations(groups))
    given = {option: value for option, value, _tokens in groups}
    facts = {'command': name,
             'project': given.get('--project-id', DEFAULT_PROJECT),
             'format': given.get('--format', 'table'),
             'creates': _creates(given.get('--count', '1')),
             # 'delete ID extra' deletes two: one line for each that fails.
             'deletes': 2 if name == 'delete' and extra == 'extra' else 1}
    argv = [name] + [token for _o, _v, tokens in groups for token in tokens]
    return argv, facts


# Running main in this process --------------------------------------------
@pytest.fixture
def cli_conf(monkeypatch, tmp_path):
    """A ConfigOpts of the test's own for ``main`` (see the docstring)."""
    monkeypatch.setenv('OS_PROJECT_ID', DEFAULT_PROJECT)
    monkeypatch.delenv('OS_USER_ID', raising=False)
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    monkeypatch.setenv('XDG_DATA_HOME', str(tmp_path / 'xdg'))
    work = tmp_path / 'work'
    work.mkdir()
    monkeypatch.chdir(work)
    conf = cfg.ConfigOpts()
    for group, options in opts.list_opts():
        # By name: a group object is shared with the global CONF, and so
        # would be the overrides main makes (oslo.config copies a group
        # registered as an object shallowly).
        conf.register_opts(options, group=getattr(group, 'name', group))
    monkeypatch.setattr(main, 'CONF', conf)
    return conf


@contextlib.contextmanager
def _logging_restored():
    """Undo what ``main``'s logging setup does to this process."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    loggers = {name: (logger.level, logger.propagate, list(logger.handlers))
               for name, logger in logging.root.manager.loggerDict.items()
               if isinstance(logger, logging.Logger)}
    excepthook = sys.excepthook
    try:
        yield
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, logger in logging.root.manager.loggerDict.items():
            if not isinstance(logger, logging.Logger):
                continue
            level_, propagate, own = loggers.get(
                name, (logging.NOTSET, True, []))
            logger.setLevel(level_)
            logger.propagate = propagate
            logger.handlers[:] = own
        sys.excepthook = excepthook
        logging.captureWarnings(False)


def run_main(argv):
    """``(status, stdout, stderr)`` of ``main(argv)``; it must not raise."""
    out, err = io.StringIO(), io.StringIO()
    with _logging_restored(), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        try:
            status = main.main(argv)
        except BaseException as exc:  # SystemExit included
            pytest.fail(f'main({argv!r}) raised {exc!r}')
    return status, out.getvalue(), err.getvalue()


def _everything(db_api, images_dir, projects):
    """All a refused request must leave as it was."""
    admin = volflow_context.get_admin_context()
    return {
        'state': invariants.state(db_api, projects),
        'images': sorted((i['id'], i['name']) for i in
                         db_api.image_get_all(admin)),
        'types': sorted((t['name'], tuple(sorted(t['extra_specs'].items())))
                        for t in db_api.volume_type_get_all(admin)),
        'limits': {p: db_api.quota_get_all(admin, p) for p in projects},
        'files': sorted(os.listdir(images_dir)) if os.path.isdir(
            images_dir) else [],
    }


def check_command_line(conf, root, argv, facts, monkeypatch):
    """One example: run ``main``, check what a user would see."""
    db_api = world.build_world(conf)
    images_dir = os.path.join(root, 'images')
    shutil.rmtree(images_dir, ignore_errors=True)
    api = world.make_api(db_api, conf, images_dir)
    monkeypatch.setattr(volume_api, 'API', lambda *args, **kwargs: api)
    projects = sorted({*world.PROJECTS, facts['project']} - {''})
    before = _everything(db_api, images_dir, projects)
    argv = ['--config-file', os.path.join(root, 'volflow.conf'), *argv]

    status, out, err = run_main(argv)

    hypothesis.event(f'exit {status}')
    lines = err.splitlines()
    assert 'Traceback' not in err, err
    assert status in (0, 1, 2), (status, err)
    deletes = facts['deletes']
    several = (facts['command'] == 'create' and facts['creates'] > 1
               or deletes > 1)
    if status:
        assert 1 <= len(lines) <= deletes, err
        if not several or deletes > 1:
            assert all(REASON.match(line) for line in lines), err
    else:
        assert len(lines) == (1 if several and deletes == 1 else 0), err
        if facts['format'] == 'json':
            json.loads(out)
    if status == 2 or (status and not several):
        assert _everything(db_api, images_dir, projects) == before
    invariants.assert_invariants(db_api, projects)


def _write_config(root):
    state = os.path.join(root, 'state')
    with open(os.path.join(root, 'volflow.conf'), 'w') as config:
        config.write(f'[DEFAULT]\nstate_path = {state}\n')
    image = os.path.join(root, 'image.raw')
    with open(image, 'wb') as data:
        data.write(b'\x01' * 4096)
    return [image, root, os.path.join(root, 'missing'), os.devnull]


def _fuzz(cli_conf, tmp_path, monkeypatch, settings):
    root = str(tmp_path)
    files = _write_config(root)

    @settings
    @hypothesis.given(line=command_lines(_commands(files)))
    def run(line):
        argv, facts = line
        with monkeypatch.context() as patch:
            check_command_line(cli_conf, root, argv, facts, patch)

    with world.volflow_logs_formatted_and_dropped():
        run()


def test_command_line_fails_cleanly_and_refusals_change_nothing(
        cli_conf, tmp_path, monkeypatch):
    _fuzz(cli_conf, tmp_path, monkeypatch, world.SHORT)


@pytest.mark.slow
def test_command_line_fuzz_long_run(cli_conf, tmp_path, monkeypatch):
    _fuzz(cli_conf, tmp_path, monkeypatch, world.LONG)
