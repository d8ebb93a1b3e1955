"""RPC between the API, the scheduler and the volume managers.

Three pairs of rpc apis with Cinder's signatures: in process
(:mod:`volflow.rpc.local`, the default), over oslo.messaging
(:mod:`volflow.rpc.messaging`, with ``[DEFAULT] transport_url``) and over
a taskflow jobboard (:mod:`volflow.rpc.jobboard`, with ``[taskflow]
jobboard_enabled``). :func:`volflow.wiring.get_rpcapis` picks the pair
the configuration asks for.
"""
