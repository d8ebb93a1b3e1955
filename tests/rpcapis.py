"""Stand-ins for the rpc apis, for tests that run one flow alone.

:class:`Scheduler` stands for the rest of the pipeline behind the API
flow: it records each cast and, given a database, marks the volume
``available`` as a scheduler and a manager that succeed would. The API
flow hands the volume rpcapi along and never calls it:
:class:`UnusedVolumeRpc` says so if it is called.
"""


class Scheduler:
    """A scheduler rpcapi that records casts and finishes the volume.

    :param db_api: the database to mark the volume ``available`` in
        (None: the volume is left as the cast found it).
    :param finish: False leaves the volume as the API flow left it.
    :param fail_with: an exception every cast raises.
    """

    def __init__(self, db_api=None, finish=True, fail_with=None):
        self.db = db_api
        self.finish = finish
        self.fail_with = fail_with
        self.casts = []

    def create_volume(self, ctxt, volume, snapshot_id=None, image_id=None,
                      request_spec=None, filter_properties=None,
                      backup_id=None):
        if self.fail_with is not None:
            raise self.fail_with
        self.casts.append({'volume': volume, 'volume_id': volume['id'],
                           'request_spec': request_spec,
                           'filter_properties': filter_properties})
        if self.finish and self.db is not None:
            self.db.volume_update(ctxt, volume['id'],
                                  {'status': 'available'})


class UnusedVolumeRpc:
    """A volume rpcapi the API flow passes along and never calls."""

    def create_volume(self, ctxt, volume, request_spec, filter_properties,
                      allow_reschedule=True):
        raise AssertionError('the API flow casts to the scheduler only')
