"""Secrets never reach a log line.

* :class:`volflow.flow_utils.DynamicLogListener` masks passwords, tokens,
  encryption keys and the credentials of URLs in every line it writes:
  the results of successful tasks (which oslo.utils' ``mask_password``
  alone leaves ``scheme://user:password@host`` in), one-line refusals,
  failures (their reason cut short after masking) with their traceback.
* Every configuration option holding a secret is ``secret=True``, so
  oslo.config masks it when a service logs its configuration.
"""

import logging

from oslo_config import cfg
from oslo_db import options as oslo_db_options
from oslo_messaging.notify import notifier as messaging_notifier
from oslo_messaging import transport as messaging_transport
import pytest
from taskflow.patterns import linear_flow

from volflow import conf as volflow_conf
from volflow import engines
from volflow import exception
from volflow import flow_utils
from volflow import opts
from volflow import redaction

LOGGER = 'tests.redaction'

#: What tasks return, fail with and refuse with: secret -> what it may
#: show instead.
DB_URL = 'postgresql+psycopg2://volflow:Db-S3cret@db.example:5432/volflow'
RABBIT_URL = 'rabbit://guest:Mq-S3cret@mq1:5672,admin:Mq2-S3cret@mq2:5672/'
REDIS_URL = 'redis://:Rd-S3cret@redis.example:6379/0'
AT_SIGN_URL = 'mysql://root:p@ss-S3cret@db.example/volflow'
SECRETS = ('Db-S3cret', 'Mq-S3cret', 'Mq2-S3cret', 'Rd-S3cret',
           'p@ss-S3cret', 'ss-S3cret', 'Pw-S3cret', 'Tk-S3cret',
           'Key-S3cret')


class Connect(flow_utils.VolflowTask):
    """Succeeds with every kind of secret in its result."""

    default_provides = 'settings'

    def execute(self):
        return {'connection': DB_URL, 'transport_url': RABBIT_URL,
                'jobboard': REDIS_URL, 'backup': AT_SIGN_URL,
                'password': 'Pw-S3cret', 'auth_token': 'Tk-S3cret',
                'encryption_key': 'Key-S3cret',
                'metadata': {'password': 'Pw-S3cret',
                             'url': AT_SIGN_URL}}


class Crash(flow_utils.VolflowTask):
    """Fails unexpectedly, naming the secrets in its error."""

    def execute(self, settings):
        raise RuntimeError(f"cannot reach {DB_URL} nor {RABBIT_URL} "
                           f"(password=Pw-S3cret)")


class Refuse(flow_utils.VolflowTask):
    """Refuses, naming a secret in the reason."""

    def execute(self, settings):
        raise exception.InvalidInput(
            reason=f"backup target {AT_SIGN_URL} is not allowed")


@pytest.fixture
def conf():
    return volflow_conf.load()


@pytest.fixture
def log(caplog):
    # TRACE: the level of the tasks' results, below DEBUG.
    caplog.set_level(flow_utils.TRACE, logger=LOGGER)
    return caplog


def _run(conf, *tasks):
    flow = linear_flow.Flow('secret_flow').add(*tasks)
    engine = engines.load_engine(flow, {}, conf=conf)
    engines.run_engine(engine, logger=logging.getLogger(LOGGER))


def _text(caplog):
    """Everything the handlers would write: messages and tracebacks."""
    handler = logging.StreamHandler()
    return '\n'.join(handler.format(record) for record in caplog.records)


def _assert_masked(text):
    for secret in SECRETS:
        assert secret not in text


def test_success_lines_mask_every_secret(conf, log):
    _run(conf, Connect())
    text = _text(log)
    assert "with result" in text
    _assert_masked(text)
    assert 'postgresql+psycopg2://volflow:***@db.example:5432' in text
    assert 'redis://:***@redis.example:6379/0' in text
    assert "'encryption_key': '***'" in text


def test_failure_traceback_and_predecessors_mask_every_secret(conf, log):
    with pytest.raises(RuntimeError):
        _run(conf, Connect(), Crash())
    failures = [r for r in log.records if r.exc_info]
    assert failures, 'the failure is logged with its traceback'
    text = _text(log)
    assert 'Traceback (most recent call last)' in text
    assert 'cannot reach' in text and "into state 'REVERTED'" in text
    _assert_masked(text)


def test_refusal_line_masks_every_secret(conf, log):
    with pytest.raises(exception.InvalidInput):
        _run(conf, Connect(), Refuse())
    text = _text(log)
    assert 'InvalidInput: ' in text
    _assert_masked(text)


def test_a_cut_reason_masks_before_it_cuts(conf, log):
    class LongCrash(flow_utils.VolflowTask):
        def execute(self):
            raise RuntimeError('x' * 70 + f' cannot reach {DB_URL}')

    with pytest.raises(RuntimeError):
        _run(conf, LongCrash())
    (line,) = [r.getMessage() for r in log.records
               if "into state 'FAILURE'" in r.getMessage()]
    assert 'Db-S3cret' not in line and 'Db-S3' not in line


@pytest.mark.parametrize('text, masked', [
    (DB_URL, 'postgresql+psycopg2://volflow:***@db.example:5432/volflow'),
    (RABBIT_URL, 'rabbit://guest:***@mq2:5672/'),
    (AT_SIGN_URL, 'mysql://root:***@db.example/volflow'),
    ("{'url': 'redis://:pw@h:1'}", "{'url': 'redis://:***@h:1'}"),
    ('"url": "amqp://u:pw@h/"', '"url": "amqp://u:***@h/"'),
    ('password=pw token=tk', 'password=*** token=***'),
    ("{'encryption_key': 'k'}", "{'encryption_key': '***'}"),
    ('Encryption-Key=k', 'Encryption-Key=***'),
    # Nothing secret: left alone.
    ('sqlite:////var/lib/volflow/volflow.sqlite',
     'sqlite:////var/lib/volflow/volflow.sqlite'),
    ('postgresql://volflow@db/volflow', 'postgresql://volflow@db/volflow'),
    ('http://host:8080/path', 'http://host:8080/path'),
    ('user:name@example', 'user:name@example'),
])
def test_mask_secrets(text, masked):
    assert redaction.mask_secrets(text) == masked


# Configuration -----------------------------------------------------------
#: ``(group, option)`` of every option that holds a secret.
SECRET_OPTIONS = [
    ('database', 'connection'),
    ('taskflow', 'persistence_connection'),
    ('taskflow', 'jobboard_backend_password'),
]
_SECRET_WORDS = ('password', 'connection', 'secret', 'token', 'credential',
                 'transport_url', '_key')


def _option_lists():
    """volflow's options and oslo.db's ``[database]`` ones, which it uses."""
    return opts.list_opts() + oslo_db_options.list_opts()


def _volflow_options(lists=None):
    for group, options in lists or _option_lists():
        for option in options:
            yield getattr(group, 'name', group) or 'DEFAULT', option


def test_known_secret_options_are_secret():
    found = {(group, option.name): option.secret
             for group, option in _volflow_options()}
    for name in SECRET_OPTIONS:
        assert found[name] is True, name


def test_every_option_named_like_a_secret_is_secret():
    # volflow's own names (oslo.db's include connection_recycle_time).
    for group, option in _volflow_options(opts.list_opts()):
        if any(word in option.name for word in _SECRET_WORDS):
            assert option.secret, f'[{group}] {option.name}'


@pytest.mark.parametrize('options, name', [
    (messaging_transport._transport_opts, 'transport_url'),
    (messaging_notifier._notifier_opts, 'transport_url'),
])
def test_oslo_messaging_transport_urls_are_secret(options, name):
    assert [o.secret for o in options if o.name == name] == [True]


def test_logged_configuration_masks_secrets(caplog):
    """What a service logs at start: ``CONF.log_opt_values``."""
    conf = cfg.ConfigOpts()
    for group, options in _option_lists():
        # By name: overrides made through a group object registered on
        # two ConfigOpts reach both (oslo.config copies it shallowly).
        conf.register_opts(options, group=getattr(group, 'name', group))
    conf.register_opts(messaging_transport._transport_opts)
    conf([], project='volflow', default_config_files=[])
    conf.set_override('connection', DB_URL, group='database')
    conf.set_override('persistence_connection', REDIS_URL, group='taskflow')
    conf.set_override('jobboard_backend_password', 'Pw-S3cret',
                      group='taskflow')
    conf.set_override('transport_url', RABBIT_URL)
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    conf.log_opt_values(logging.getLogger(LOGGER), logging.DEBUG)
    text = _text(caplog)
    assert 'database.connection' in text
    _assert_masked(text)
