"""The create-volume flows: API, scheduler and volume manager.

Each package's ``create_volume.py`` holds its tasks in flow order,
``build_flow()`` and ``get_flow()``; :mod:`volflow.flows.common` what they
share, :mod:`volflow.flows.jobs` a create as jobboard steps and
:mod:`volflow.flows.factories` the rebuilding of recorded flows.
"""
