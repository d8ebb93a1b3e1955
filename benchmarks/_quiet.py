"""Library warnings are not a benchmark's output: drop them.

Imported first by each benchmark, before what warns on import (eventlet,
dnspython through taskflow's oslo.utils), as the command line does
(:mod:`volflow.pywarnings`), but with nowhere to show them.
"""

from volflow import pywarnings

pywarnings.capture()
pywarnings.release(shown=False)
