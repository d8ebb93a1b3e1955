"""The jobboard rpc: chosen by configuration, configured from it."""

import os

from oslo_config import cfg

from volflow.conf import backend as backend_conf
from volflow.conf import core
from volflow.conf import taskflow
from volflow.db import fake as fake_db
from volflow.rpc import jobboard
from volflow.rpc import local
from volflow.volume import backends
from volflow import wiring

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SAMPLE = os.path.join(ROOT, 'etc', 'volflow',
                      'volflow-conductor.conf.sample')


def _conf(*files):
    conf = cfg.ConfigOpts()
    for module in (core, backend_conf, taskflow):
        module.register_opts(conf)
    conf(args=[], default_config_files=list(files))
    return conf


def test_the_conductor_sample_configures_jobboard_database_backends():
    conf = _conf(SAMPLE)
    assert conf.taskflow.jobboard_enabled
    assert conf.database.connection.startswith('postgresql+psycopg2://')
    assert jobboard.board_conf(conf) == {
        'board': 'redis', 'host': 'redis.example.org', 'port': 6379,
        'namespace': 'volflow_jobboard', 'password': 'CHANGE_ME'}
    assert [b['name'] for b in backends.get_backends(conf)] == ['fast',
                                                                'bulk']


def test_no_password_is_sent_when_none_is_set():
    conf = _conf()
    assert 'password' not in jobboard.board_conf(conf)


def test_creates_become_jobs_and_calls_stay_in_process(tmp_path):
    # Configured from files, not overrides: groups' overrides would leak
    # into the global CONF, whose option groups a private ConfigOpts
    # shares.
    db = fake_db.FakeAPI()
    plain = tmp_path / 'plain.conf'
    plain.write_text(f'[DEFAULT]\nstate_path = {tmp_path}\n')
    scheduler_rpcapi, _volume_rpcapi = wiring.get_rpcapis(db, None,
                                                          _conf(plain))
    assert isinstance(scheduler_rpcapi, local.SchedulerAPI)
    jobs = tmp_path / 'jobs.conf'
    jobs.write_text(f'[DEFAULT]\nstate_path = {tmp_path}\n'
                    f'[taskflow]\njobboard_enabled = true\n')
    scheduler_rpcapi, volume_rpcapi = wiring.get_rpcapis(db, None, _conf(jobs))
    assert isinstance(scheduler_rpcapi, jobboard.SchedulerAPI)
    assert isinstance(volume_rpcapi, jobboard.VolumeAPI)
    assert isinstance(volume_rpcapi._calls, local.VolumeAPI)
    local.reset()


def test_sentinel_options_become_taskflows(tmp_path):
    config = tmp_path / 'sentinel.conf'
    config.write_text(
        '[taskflow]\n'
        'jobboard_backend_hosts = s1.example.org, s2.example.org:26380,'
        '[::1]:26381\n'
        'jobboard_backend_port = 26379\n'
        'jobboard_backend_password = master-secret\n'
        'jobboard_redis_sentinel = volflow-master\n'
        'jobboard_redis_sentinel_password = sentinel-secret\n'
        'jobboard_redis_backend_ssl_options = ssl:true,ssl_ca_certs:/ca\n'
        'jobboard_redis_sentinel_ssl_options = ssl:false\n')
    conf = _conf(config)
    assert jobboard.board_conf(conf) == {
        'board': 'redis', 'host': 's1.example.org', 'port': 26379,
        'namespace': 'volflow_jobboard', 'password': 'master-secret',
        'ssl': True, 'ssl_ca_certs': '/ca',
        'sentinel': 'volflow-master',
        'sentinel_fallbacks': ['s2.example.org:26380', '[::1]:26381'],
        'sentinel_kwargs': {'ssl': False, 'password': 'sentinel-secret'}}
    assert jobboard.describe(conf) == (
        'Redis Sentinel master volflow-master via s1.example.org:26379, '
        's2.example.org:26380, [::1]:26381')
    assert 'secret' not in jobboard.describe(conf)


def test_a_host_may_carry_its_own_port(tmp_path):
    config = tmp_path / 'port.conf'
    config.write_text('[taskflow]\njobboard_backend_hosts = 10.0.0.5:6380\n')
    settings = jobboard.board_conf(_conf(config))
    assert (settings['host'], settings['port']) == ('10.0.0.5', 6380)
    assert 'sentinel' not in settings
