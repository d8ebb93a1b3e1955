"""volflow's command line.

Importing this package silences the deprecation warnings eventlet and
oslo.utils' ``eventletutils`` print when taskflow (through futurist) is
first imported: they concern libraries volflow does not use, and the
command line's stderr carries only the reason of a failure. This runs
before ``volflow.cmd.main`` imports anything that imports taskflow.
"""

import warnings

warnings.filterwarnings('ignore', message='(?s).*Eventlet is deprecated')
warnings.filterwarnings('ignore', category=DeprecationWarning,
                        message='eventletutils module is deprecated')
