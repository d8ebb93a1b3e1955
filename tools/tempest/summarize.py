"""Summarise a Tempest run's subunit stream (stdin) per test module.

Prints one line per module (passed, failed, skipped), then each failed
test with the last line of its traceback, then the totals as
``tempest: N passed, N failed, N skipped``. Arguments: seconds spent
installing and seconds spent running, for the header.
"""

import collections
import re
import sys

import subunit
import testtools

_ATTRS = re.compile(r'\[.*\]$')


#: Lines that say why, best first: a schema's complaint, the server's
#: answer, an exception's message.
_TELLING = (re.compile(r'HTTP response body is invalid \((.*)'),
            re.compile(r'(Details: .*)'),
            re.compile(r'^\w[\w.]*(?:Error|Exception|Fault|Found|'
                       r'Request|Conflict|Limit|Forbidden|TimeoutException)'
                       r'\b.*'))


def _why(text):
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for pattern in _TELLING:
        for line in reversed(lines):
            match = pattern.search(line)
            if match:
                return (match.group(1) if match.groups() else
                        match.group(0))[:300]
    return lines[-1][:300] if lines else ''


def main(installed, ran):
    stream = subunit.ByteStreamToStreamResult(sys.stdin.buffer,
                                              non_subunit_name='stdout')
    results = {}
    details = collections.defaultdict(list)

    class _Sink(testtools.StreamResult):
        def status(self, test_id=None, test_status=None, file_name=None,
                   file_bytes=None, **kwargs):
            if test_id and file_bytes and file_name in ('traceback',
                                                        'reason'):
                details[test_id].append(
                    bytes(file_bytes).decode('utf-8', 'replace'))
            if test_id and test_status in ('success', 'fail', 'skip',
                                           'xfail', 'uxsuccess'):
                results[test_id] = test_status

    stream.run(_Sink())
    modules = collections.OrderedDict()
    for test_id in sorted(results):
        name = _ATTRS.sub('', test_id)
        match = re.search(r'\((.*)\)$', name)
        dotted = match.group(1) if match else name
        parts = dotted.split('.')
        module = '.'.join(parts[:-2]) if not match else '.'.join(
            parts[:-1])
        counts = modules.setdefault(module, collections.Counter())
        counts[{'success': 'passed', 'xfail': 'passed',
                'skip': 'skipped'}.get(results[test_id], 'failed')] += 1
    total = collections.Counter()
    print(f'Tempest run: install {installed} s, run {ran} s')
    print(f'{"module":70} passed failed skipped')
    for module, counts in modules.items():
        total.update(counts)
        print(f'{module:70} {counts["passed"]:6} {counts["failed"]:6} '
              f'{counts["skipped"]:7}')
    failed = [t for t, s in results.items()
              if s not in ('success', 'xfail', 'skip')]
    if failed:
        print('\nfailed:')
        for test_id in sorted(failed):
            print(f'  {_ATTRS.sub("", test_id)}: '
                  f'{_why("".join(details.get(test_id, [])))}')
    print(f'\ntempest: {total["passed"]} passed, {total["failed"]} failed, '
          f'{total["skipped"]} skipped')


if __name__ == '__main__':
    main(*sys.argv[1:3])
