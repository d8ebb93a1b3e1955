"""volflow's command line.

Importing this package routes Python warnings into the log
(:func:`volflow.pywarnings.capture`) before anything the command line
imports can warn: libraries warn when first imported (eventlet when
taskflow's engines import oslo.utils' ``eventletutils``, dnspython and
cryptography through eventlet), and the command line's stderr carries
only the reason of a failure. ``main`` releases them into the log once
logging is configured: they show with ``--debug`` or in ``--log-file``.
"""

from volflow import pywarnings

pywarnings.capture()
