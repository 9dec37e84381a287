"""``python -m runnerctl``: the same as the ``runnerctl`` console script."""

import sys

from runnerctl.cli import main

sys.exit(main())
