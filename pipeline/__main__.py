"""``python -m pipeline`` runs the ``press`` command line (one line, not a traceback, on the wrong Python)."""

import sys

if sys.version_info < (3, 11):
    sys.exit(f"error: environment: press needs Python 3.11 or newer, and {sys.executable} is "
             f"{sys.version.split()[0]} — run ./press, or . .venv/bin/activate first (scripts/setup creates .venv)")

from .cli import main  # noqa: E402

sys.exit(main())
