"""``python -m runway_ext`` is ``runway-ext``."""

import sys

from .cli import main

sys.exit(main())
