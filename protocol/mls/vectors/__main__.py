"""``python -m protocol.mls.vectors FILE...``."""

import sys

from protocol.mls.vectors.cli import main

sys.exit(main())
