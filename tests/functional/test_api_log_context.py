"""Every log line of ``volflow api`` names its own request.

``volflow api --debug`` in a subprocess takes 100 creates at once, each
from a user and project of its own. oslo.log prints the thread's current
request context on every line (``[global-id req-… USER PROJECT …]``);
threads serve one request after another (cheroot's, the executor's), so a
context left behind by one request would name it on the lines of the
next. The test reads the whole log: every line that names one of the
requests names its user and project, every line about one of the
volumes names the request that created it, and every request has lines
from all three flows.
"""

from concurrent import futures
import json
import re
import urllib.request

from tests.functional import test_api_clients

REQUESTS = 100
#: oslo.log's context fields: global request id, request id, user, project.
_CONTEXT = re.compile(r' \[\S+ (req-[0-9a-f-]+) (\S+) (\S+) ')
_UUID = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
                   r'[0-9a-f]{12}')
#: A line from each flow, by a task only that flow runs.
_FLOW_TASKS = ('EntryCreateTask', 'ScheduleCreateVolumeTask',
               'CreateVolumeOnFinishTask')


def _create(server, index):
    user, project = f'user{index}', f'proj{index}'
    request = urllib.request.Request(
        f'{server.url}/v3/{project}/volumes', method='POST',
        data=json.dumps({'volume': {'size': 1}}).encode(),
        headers={'X-Auth-Token': f'{user}:{project}',
                 'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=300) as response:
        assert response.status == 202
        volume = json.loads(response.read())['volume']
        return (response.headers['x-openstack-request-id'], user, project,
                volume['id'])


def test_no_line_names_another_request(tmp_path):
    server = test_api_clients.ApiServer(
        tmp_path, extra_config='[taskflow]\nmax_workers = 16\n',
        args=('--debug',))
    try:
        with futures.ThreadPoolExecutor(max_workers=25) as pool:
            made = list(pool.map(lambda i: _create(server, i),
                                 range(REQUESTS)))
        for _request_id, _user, _project, volume_id in made:
            server.wait_available(volume_id, timeout=300)
    finally:
        assert server.stop() == 0
    who = {request_id: (user, project)
           for request_id, user, project, _volume in made}
    request_of_volume = {volume: request_id
                         for request_id, _user, _project, volume in made}
    assert len(who) == REQUESTS
    wrong, flows = [], {request_id: set() for request_id in who}
    for line in server.logged().splitlines():
        found = _CONTEXT.search(line)
        request_id = found.group(1) if found else None
        if request_id in who:
            if found.group(2, 3) != who[request_id]:
                wrong.append(line)
            flows[request_id].update(
                task for task in _FLOW_TASKS if task in line)
        for volume in set(_UUID.findall(line)) & set(request_of_volume):
            if request_of_volume[volume] != request_id:
                wrong.append(line)
    assert wrong == [], f'{len(wrong)} lines name another request: ' + (
        '\n'.join(wrong[:5]))
    missing = {request_id: sorted(set(_FLOW_TASKS) - seen)
               for request_id, seen in flows.items()
               if seen != set(_FLOW_TASKS)}
    assert missing == {}
