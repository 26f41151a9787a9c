"""``python -m pipeline`` runs the ``press`` command line."""

import sys

from .cli import main

sys.exit(main())
