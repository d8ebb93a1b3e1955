"""The Block Storage API v3 over HTTP: the layer above the volume API.

A subset of Cinder's Block Storage API, enough for unmodified
python-openstackclient, openstacksdk and python-cinderclient: version
discovery, volumes, snapshots, volume types, quota sets, availability
zones and pools. Every create goes through
:meth:`volflow.volume.api.API.create`, as the command line's does.

Layers: :mod:`volflow.api.app` builds the WSGI pipeline (oslo.middleware,
authentication, faults, microversions) around :mod:`volflow.api.router`,
which dispatches to the controllers of :mod:`volflow.api.v3`. Nothing
below this package imports it.
"""
