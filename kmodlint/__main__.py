import sys

from kmodlint.cli import main

sys.exit(main())
