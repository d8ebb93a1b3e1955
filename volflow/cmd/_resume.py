"""``resume``: finish or revert the flows a crash left unfinished.

Runs :func:`volflow.recovery.resume_all` - every recorded flow that is
neither finished nor reverted, and not running in another live process,
is finished or reverted; expired quota reservations are rolled back; old
records are removed - then waits for the flows the resumed ones handed
on in this process (the in-process rpc), and shows where each volume
ended.

Exit status 0, or 1 when a flow had to be given up (its volume is then
``error``, with the reason).
"""

from volflow.cmd import _output
from volflow import context as volflow_context
from volflow import db
from volflow import exception
from volflow import recovery
from volflow.rpc import local
from volflow import transport


def _status(db_api, volume_id):
    try:
        return db_api.volume_get(volflow_context.get_admin_context(),
                                 volume_id)['status']
    except exception.VolumeNotFound:
        return 'deleted'


def _table(summary):
    lines = [f"{f['outcome']:<9} {f['kind']:<9} flow {f['uuid']} of volume "
             f"{f['volume_id']}: {f['status']}" for f in summary['flows']]
    lines.append(f"{len(summary['flows'])} unfinished flows; "
                 f"{summary['expired_reservations']} expired reservations "
                 f"rolled back; {summary['removed_logbooks']} old records "
                 f"removed.")
    return '\n'.join(lines)


def resume(args, api, ctx, conf):
    """Resume every unfinished flow; show what became of each volume."""
    db_api = db.get_api(conf=conf)
    summary = recovery.resume_all(conf, db_api)
    if (transport.transport_url(conf) is None and
            not conf.taskflow.jobboard_enabled):
        local.wait_idle(conf.create_timeout)
    for flow in summary['flows']:
        flow['status'] = _status(db_api, flow['volume_id'])
    _output.emit(summary, args.format, lambda: _table(summary))
    abandoned = any(f['outcome'] == 'abandoned' for f in summary['flows'])
    return 1 if abandoned else 0


def add_parser(subparsers):
    """Add ``resume`` (it needs neither a volume API nor a context)."""
    help_text = ('Finish or revert the flows a crash left unfinished, and '
                 'roll back expired quota reservations.')
    parser = subparsers.add_parser('resume', help=help_text,
                                   description=help_text)
    parser.set_defaults(func=resume, needs='nothing')
    parser.add_argument('--format', choices=('table', 'json'),
                        default='table',
                        help='Output format (default: table).')
