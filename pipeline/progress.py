"""What a run tells its user: one line per step on stderr, quieter or chattier on request."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Reporter:
    """Prints step lines (``stage: message``); ``--quiet`` keeps only warnings, ``--verbose`` adds detail."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False, verbose: bool = False):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.verbose = verbose
        self.started = time.monotonic()
        self.warnings = 0

    def step(self, stage: str, message: str) -> None:
        if not self.quiet:
            print(f"{stage}: {message}", file=self.stream, flush=True)

    def detail(self, stage: str, message: str) -> None:
        if self.verbose and not self.quiet:
            print(f"{stage}:   {message}", file=self.stream, flush=True)

    def warn(self, stage: str, message: str) -> None:
        self.warnings += 1
        print(f"{stage}: warning: {message}", file=self.stream, flush=True)

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (plural_form or singular + 's')}"
