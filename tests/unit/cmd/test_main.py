"""``main``: exit statuses, one-line reasons and where log lines go.

``main`` runs in this process against a configuration object of its own,
and the root logger is put back as it was after each test.
"""

import logging
import sys

from oslo_config import cfg
import pytest

from volflow.cmd import main
from volflow.conf import backend
from volflow.conf import core
from volflow.conf import quota
from volflow.conf import taskflow
from volflow import exception


@pytest.fixture(autouse=True)
def conf(monkeypatch, tmp_path):
    """A ConfigOpts of the test's own, and no user configuration."""
    monkeypatch.setenv('HOME', str(tmp_path))
    monkeypatch.setenv('XDG_DATA_HOME', str(tmp_path / 'xdg'))
    conf = cfg.ConfigOpts()
    for module in (core, quota, backend, taskflow):
        module.register_opts(conf)
    monkeypatch.setattr(main, 'CONF', conf)
    return conf


@pytest.fixture(autouse=True)
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logger.level
              for name, logger in logging.root.manager.loggerDict.items()
              if isinstance(logger, logging.Logger)}
    excepthook = sys.excepthook
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, logger in logging.root.manager.loggerDict.items():
        if isinstance(logger, logging.Logger):
            logger.setLevel(levels.get(name, logging.NOTSET))
    sys.excepthook = excepthook
    logging.captureWarnings(False)


def _raise(exc):
    def run(args):
        raise exc
    return run


def test_unexpected_error_is_one_line(monkeypatch, capsys):
    monkeypatch.setattr(main, 'run', _raise(RuntimeError('boom\nagain')))
    assert main.main(['list']) == 1
    captured = capsys.readouterr()
    assert captured.err == 'volflow: error: RuntimeError: boom again\n'
    assert captured.out == ''


def test_debug_adds_the_traceback(monkeypatch, capsys):
    monkeypatch.setattr(main, 'run', _raise(RuntimeError('boom')))
    assert main.main(['--debug', 'list']) == 1
    err = capsys.readouterr().err
    assert 'Traceback (most recent call last)' in err
    assert err.splitlines()[-1] == 'volflow: error: RuntimeError: boom'


def test_refusal_is_one_line(monkeypatch, capsys):
    monkeypatch.setattr(main, 'run', _raise(
        exception.VolumeNotFound(volume_id='v9')))
    assert main.main(['show', 'v9']) == 1
    assert capsys.readouterr().err == (
        'volflow: error: Volume v9 could not be found.\n')


def test_interrupt(monkeypatch, capsys):
    monkeypatch.setattr(main, 'run', _raise(KeyboardInterrupt()))
    assert main.main(['list']) == 130
    assert capsys.readouterr().err == 'volflow: error: interrupted\n'


def test_exit_status_of_the_handler(monkeypatch, conf):
    monkeypatch.setattr(main, 'run', lambda args: 0 if args.admin else 1)
    assert main.main(['list', '--admin']) == 0
    assert conf.command.name == 'list'
    assert main.main(['list']) == 1


@pytest.mark.parametrize('argv', [['nope'], ['list', '--nope'], []])
def test_usage_error_is_one_line(capsys, argv):
    assert main.main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.startswith('volflow: error: ')


def test_quiet_by_default(monkeypatch, capsys):
    def run(args):
        logging.getLogger('volflow.test').critical('not shown')
        return 0

    monkeypatch.setattr(main, 'run', run)
    assert main.main(['list']) == 0
    assert capsys.readouterr() == ('', '')
    assert [type(h) for h in logging.getLogger().handlers] == [
        logging.NullHandler]


@pytest.mark.parametrize('flag, shown, hidden', [
    ('--debug', ['DEBUG', 'WARNING'], []),
    ('--verbose', ['WARNING'], ['DEBUG']),
])
def test_debug_and_verbose_log_to_stderr(monkeypatch, capsys, flag, shown,
                                         hidden):
    def run(args):
        logging.getLogger('volflow.test').debug('DEBUG line')
        logging.getLogger('volflow.test').warning('WARNING line')
        return 0

    monkeypatch.setattr(main, 'run', run)
    assert main.main(['list', flag]) == 0
    captured = capsys.readouterr()
    assert captured.out == ''
    for text in shown:
        assert f'{text} line' in captured.err
    for text in hidden:
        assert f'{text} line' not in captured.err


def test_log_file_takes_the_lines(monkeypatch, capsys, tmp_path):
    def run(args):
        logging.getLogger('volflow.test').warning('to the file')
        return 0

    monkeypatch.setattr(main, 'run', run)
    log_file = tmp_path / 'volflow.log'
    assert main.main(['--log-file', str(log_file), 'list']) == 0
    assert capsys.readouterr() == ('', '')
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert 'to the file' in log_file.read_text()
