"""What a run tells its user: one line per step on stderr, quieter or chattier on request."""

from __future__ import annotations

import os
import sys
import threading
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
            self.line(f"{stage}: {message}")

    def detail(self, stage: str, message: str) -> None:
        if self.verbose and not self.quiet:
            self.line(f"{stage}:   {message}")

    def warn(self, stage: str, message: str) -> None:
        self.warnings += 1
        self.line(f"{stage}: warning: {message}")

    def line(self, text: str) -> None:
        """One line, written whole (one write: the render workers' lines are printed from another thread)."""
        self.stream.write(text + "\n")
        self.stream.flush()

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


class LinePipe:
    """Worker processes' progress lines, shown as they are written rather than when the worker is done.

    A plain pipe made before the workers fork: each worker writes whole lines, one ``write`` each, which the
    kernel keeps whole up to ``PIPE_BUF`` bytes, so no lock is shared with the workers (a worker killed
    mid-line cannot leave the others waiting on it). A thread of the parent prints the lines as they come."""

    LIMIT = 4000  # bytes of one line (under Linux's PIPE_BUF of 4096)
    _END = b"\0press-lines-end\n"

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.read_fd, self.write_fd = os.pipe()
        self._thread = threading.Thread(target=self._print_lines, name="press-worker-lines", daemon=True)
        self._printing = threading.Lock()

    def paused(self) -> threading.Lock:
        """Held while the process forks more workers: the printing thread is then not inside a write, whose
        stream lock a forked child would inherit taken."""
        return self._printing

    def start(self) -> None:
        """Begin printing; after the workers have forked (no thread may run while a process forks)."""
        if self._thread.ident is None:
            self._thread.start()

    def writer(self) -> TextIO:
        """The stream a worker's Reporter writes to (in the forked worker)."""
        return _PipeWriter(self.write_fd, self.LIMIT)  # type: ignore[return-value]

    def _print_lines(self) -> None:
        pending = b""
        while True:
            chunk = os.read(self.read_fd, 65536)
            if not chunk:
                return
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line + b"\n" == self._END:
                    return
                with self._printing:
                    self.stream.write(line.decode("utf-8", "replace") + "\n")
                    self.stream.flush()

    def close(self) -> None:
        """Print what the workers wrote so far and stop (call once they are done or gone)."""
        if self._thread.ident is None:  # never started: print what is there
            self._thread.start()
        if self._thread.is_alive():
            os.write(self.write_fd, self._END)
            self._thread.join()
        for fd in (self.read_fd, self.write_fd):
            try:
                os.close(fd)
            except OSError:
                pass


class _PipeWriter:
    """A text stream writing each completed line to a pipe in one call (see LinePipe)."""

    def __init__(self, fd: int, limit: int) -> None:
        self.fd, self.limit, self.pending = fd, limit, ""

    def write(self, text: str) -> int:
        self.pending += text
        while "\n" in self.pending:
            line, self.pending = self.pending.split("\n", 1)
            data = line.encode("utf-8")
            if len(data) > self.limit:
                data = data[:self.limit].decode("utf-8", "ignore").encode("utf-8") + "…".encode()
            os.write(self.fd, data + b"\n")
        return len(text)

    def flush(self) -> None:
        pass
