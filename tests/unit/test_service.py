"""volflow.service: one manager behind an rpc server, until a signal.

On oslo.messaging's in-process ``fake:/`` transport, with a recording
reporter: what a service does when it starts, when it is told to stop,
and when a stop signal comes while it is still starting (recovering, or
waiting for the broker).
"""

import os
import signal

import oslo_messaging
import pytest

from volflow import service


class _Reporter:
    def __init__(self):
        self.calls = []

    def start(self):
        self.calls.append('start')

    def stop(self):
        self.calls.append('stop')


class _Endpoint:
    target = oslo_messaging.Target(version='3.0')

    def ping(self, ctxt):
        return 'pong'


@pytest.fixture
def transport(conf):
    transport = oslo_messaging.get_rpc_transport(conf, url='fake:/')
    yield transport
    transport.cleanup()


def _service(conf, transport, **kwargs):
    return service.Service('test', 'volflow-test', _Endpoint(), 'host1',
                           conf=conf, transport=transport, **kwargs)


def test_a_stop_request_stops_the_server_and_the_reports(conf, transport):
    events = []

    class Reporter(_Reporter):
        def start(self):
            super().start()
            svc.request_stop('test over')  # as a signal handler would

    reporter = Reporter()
    svc = _service(conf, transport, reporter=reporter,
                   on_start=lambda: events.append('recovered'))
    assert svc.run() == 0
    assert events == ['recovered']
    assert reporter.calls == ['start', 'stop']
    assert svc.rpc_server is not None  # it listened, then stopped
    assert svc._why == 'test over'


def test_a_signal_while_starting_stops_before_listening(conf, transport):
    reporter = _Reporter()

    def recovering():
        os.kill(os.getpid(), signal.SIGTERM)

    svc = _service(conf, transport, reporter=reporter, on_start=recovering)
    before = signal.getsignal(signal.SIGTERM)
    assert svc.run() == 0
    assert svc.rpc_server is None  # it never listened
    assert reporter.calls == ['stop']  # nor reported
    assert svc._why == 'received SIGTERM'
    assert signal.getsignal(signal.SIGTERM) is before
