"""``python -m analysis`` runs the command line."""

import sys

from analysis.cli import main

sys.exit(main())
