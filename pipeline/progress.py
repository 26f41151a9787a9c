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


class Progress:
    """A long step's progress as occasional lines: done/total, rate and time left (a log-friendly bar)."""

    def __init__(self, reporter: Reporter, stage: str, total: int, unit: str, *, every_s: float = 2.0):
        self.reporter, self.stage, self.total, self.unit, self.every_s = reporter, stage, total, unit, every_s
        self.done = 0
        self.started = self.last = time.monotonic()

    def advance(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.last >= self.every_s and self.done < self.total:
            self.last = now
            self.reporter.step(self.stage, self.line())

    def rate(self) -> float:
        return self.done / max(time.monotonic() - self.started, 1e-9)

    def line(self) -> str:
        rate = self.rate()
        left = (self.total - self.done) / rate if rate else 0.0
        return (f"{self.done:,}/{self.total:,} {self.unit} ({self.done / max(self.total, 1):.0%}), "
                f"{rate:.1f} {self.unit}/s, about {duration(left)} left")


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes} min {seconds} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"
