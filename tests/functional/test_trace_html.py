"""``trace VOLUME_ID --html FILE`` in a real headless browser.

The page is loaded by Debian's ``chromium`` (headless, no network) and
its DOM read back after the scripts ran: no script error, and a bar and a
row for every execute and revert the run recorded, across the three
flows. A machine without chromium skips, except under ``CI=true``.
"""

import html
import os
import re
import shutil
import subprocess

import pytest

from volflow import tracing


def _chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get('CI') == 'true':
        pytest.fail('chromium is not installed (apt-get install chromium)')
    pytest.skip('chromium is not installed (apt-get install chromium)')


def _dump_dom(browser, url, tmp_path):
    result = subprocess.run(
        [browser, '--headless', '--no-sandbox', '--disable-gpu',
         '--disable-dev-shm-usage', '--no-first-run',
         f'--user-data-dir={tmp_path / "profile"}',
         '--enable-logging=stderr', '--v=0', '--virtual-time-budget=5000',
         '--dump-dom', url],
        capture_output=True, text=True, timeout=120,
        env=dict(os.environ, HOME=str(tmp_path)))
    assert result.returncode == 0, result.stderr
    return result.stdout, result.stderr


def test_html_trace_loads_in_a_browser_and_shows_every_task(cli, project,
                                                            tmp_path):
    browser = _chromium()
    created = cli.run('create', '--project-id', project, '--size', '1',
                      '--fail-at', 'CreateVolumeFromSpecTask',
                      '--format', 'json')
    assert created.rc == 1, created
    volume_id = created.json['id']
    events = cli.run('trace', volume_id, '--format', 'json')
    assert events.rc == 0, events
    page = tmp_path / 'trace.html'
    result = cli.run('trace', volume_id, '--html', page)
    assert result.rc == 0, result
    assert result.stdout == ''
    text = page.read_text()
    assert 'http://' not in text and 'https://' not in text  # no CDN

    dom, log = _dump_dom(browser, f'file://{page}', tmp_path)
    assert 'data-errors' not in dom, dom
    assert 'Uncaught' not in log, log
    recorded = events.json
    assert f'data-events="{len(recorded)}"' in dom
    bars = re.findall(r'class="bar task ([^"]*)"[^>]*data-task="(\w+)"',
                      dom)
    assert len(bars) == len(recorded)
    shown = {task for _classes, task in bars}
    ran = {tracing.short_name(e['task']) for e in recorded}
    assert shown == ran
    assert set(tracing.task_names()) - shown == {'CreateVolumeOnFinishTask'}
    assert sum('revert' in classes for classes, _task in bars) == sum(
        e['action'] == 'revert' for e in recorded) > 0
    assert html.escape(volume_id) in dom

    # The first event's inputs and outputs, as a click on it shows them.
    dom, _log = _dump_dom(browser, f'file://{page}#event-0', tmp_path)
    detail = re.search(r'<div id="detail">(.*?)</div>', dom, re.S).group(1)
    assert detail.startswith('ExtractVolumeRequestTask execute')
    assert '"key": "raw_size"' in html.unescape(detail)
    assert '"volume_type_id"' in html.unescape(detail)
