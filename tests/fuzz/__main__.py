"""`python -m tests.fuzz [--long --minutes N]`: see tests/fuzz/longrun.py."""

import sys

from tests.fuzz.longrun import main

sys.exit(main())
