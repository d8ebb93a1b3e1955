"""volflow.transport: "unset" told from "set" for ``transport_url``."""

import subprocess
import sys

from volflow import transport


def test_unset_is_none_though_oslo_messaging_has_a_default(conf):
    assert transport.transport_url(conf) is None


def test_a_set_url_is_returned(conf, conf_override):
    conf_override('transport_url', 'rabbit://u:p@broker:5672/')
    assert transport.transport_url(conf) == 'rabbit://u:p@broker:5672/'


def test_an_override_of_the_default_itself_counts_as_unset(conf,
                                                           conf_override):
    conf_override('transport_url', transport._default_transport_url())
    assert transport.transport_url(conf) is None


def test_importing_it_loads_no_oslo_messaging():
    code = ('import sys, volflow.transport; '
            'print("oslo_messaging" in sys.modules)')
    result = subprocess.run([sys.executable, '-W', 'ignore', '-c', code],
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == 'False', result.stderr
