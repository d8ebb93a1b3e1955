"""RPC between the API, the scheduler and the volume managers.

:func:`get_rpcapis` returns the pair of rpc apis the configuration asks
for. Until a transport is configured the API flow ends after committing
quota, with no cast.
"""


def get_rpcapis(db_api, image_service, conf):
    """Return ``(scheduler_rpcapi, volume_rpcapi)`` for this process."""
    return None, None
