"""``python -m runway_ext`` is ``runway-ext``."""

import sys

from runway_ext.cli import main

sys.exit(main())
