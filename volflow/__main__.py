"""``python -m volflow``: the command line."""

import sys

from volflow.cmd import main

sys.exit(main.main())
