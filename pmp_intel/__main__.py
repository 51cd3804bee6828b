"""``python -m pmp_intel``: the same as the ``pmp-intel`` command."""

import sys

from pmp_intel.cli import main

sys.exit(main())
