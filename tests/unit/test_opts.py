"""The sample configuration is generated from volflow's own options."""

import os

from oslo_config import generator

from volflow.conf import core
from volflow.conf import quota
from volflow.conf import taskflow
from volflow import opts

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def test_list_opts_covers_every_registered_option():
    listed = {(getattr(group, 'name', group) or 'DEFAULT', opt.name)
              for group, group_opts in opts.list_opts()
              for opt in group_opts}
    for group, module_opts in ((None, core.core_opts),
                               (None, quota.quota_opts),
                               ('taskflow', taskflow.taskflow_opts)):
        for opt in module_opts:
            assert (group or 'DEFAULT', opt.name) in listed


def test_help_strings_are_sentences():
    for _group, group_opts in opts.list_opts():
        for opt in group_opts:
            assert opt.help and opt.help.rstrip().endswith('.'), opt.name


def test_generator_writes_every_volflow_option(tmp_path):
    out = tmp_path / 'volflow.conf.sample'
    generator.main(['--config-file',
                    os.path.join(ROOT, 'etc', 'volflow',
                                 'volflow-config-generator.conf'),
                    '--output-file', str(out)])
    text = out.read_text()
    for name in ('state_path', 'default_volume_type', 'quota_volumes',
                 'per_volume_size_limit', 'enabled_backends',
                 'jobboard_backend_password', 'persistence_connection',
                 'volume_driver', 'debug', 'connection', 'max_pool_size',
                 'connection_recycle_time', 'max_retries'):
        assert f'#{name} = ' in text, name
    assert '[taskflow]' in text and '[database]' in text
    # Machine-specific defaults must not leak into the sample.
    assert os.path.expanduser('~') not in text
