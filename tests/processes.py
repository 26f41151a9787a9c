"""Watching the real command line's processes from a test: a run started in the background whose
progress lines are read as they come, its render workers (its child processes, read from /proc),
and a signal sent at a moment the test observes, recording where it landed.

Tests wait on what they observe (a progress line, a worker that exists, a process that is gone),
never on a fixed sleep, so they do not depend on how fast or busy the machine is.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from conftest import CHILD_PYTHONPATH


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first), or None if there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (a dead process its parent has not reaped yet)."""
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def _command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return b""


def children(pid: int) -> list[int]:
    """The live forked children of ``pid`` (for a build: its render workers); a tool it runs (msgfmt,
    a converter) has its own command line and is left out."""
    found = []
    command = _command_line(pid)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and fields[1] == str(pid) and fields[0] not in ("Z", "X") \
                    and _command_line(int(entry)) == command:
                found.append(int(entry))
    return found


def descendants(pid: int) -> list[int]:
    """The live forked processes below ``pid``, at any depth (for a build whose book changed: the zygote its
    render workers fork from, and those workers, pipeline/zygote.py)."""
    found, frontier = [], [pid]
    while frontier:
        below = [child for parent in frontier for child in children(parent)]
        found += below
        frontier = below
    return found


def open_files(pid: int) -> list[str]:
    """What the process's file descriptors point to."""
    names = []
    directory = Path(f"/proc/{pid}/fd")
    try:
        descriptors = list(directory.iterdir())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return names
    for descriptor in descriptors:
        try:
            names.append(os.readlink(descriptor))
        except OSError:
            continue
    return names


def wait_until(predicate, deadline_s: float, step_s: float = 0.05) -> bool:
    """Poll ``predicate`` until it holds or ``deadline_s`` passes (a bound for a failing run, never the
    measure of a passing one)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step_s)
    return predicate()


@dataclass
class Landing:
    """Where a signal landed: the run's last progress line before it, its live workers then, and how the
    run ended (-9 killed, 143/130 stopped by press, 0 finished before the signal took effect)."""

    signal_name: str
    last_line: str
    workers: list[int]
    returncode: int | None = None
    stop_seconds: float | None = None  # from the signal to the process's exit
    stderr_tail: list[str] = field(default_factory=list)

    @property
    def stage(self) -> str:
        return self.last_line.split(":", 1)[0] if ":" in self.last_line else "start"

    @property
    def landed(self) -> bool:
        """The signal stopped the run (rather than arriving as it finished)."""
        return self.returncode in (-signal.SIGKILL, 128 + signal.SIGTERM, 128 + signal.SIGINT)

    def describe(self) -> str:
        where = f"during {self.stage!r} with {len(self.workers)} render workers" if self.workers else \
            f"during {self.stage!r}"
        took = f", stopped in {self.stop_seconds:.2f} s" if self.stop_seconds is not None else ""
        return f"{self.signal_name} {where} (after {self.last_line[:90]!r}): exit {self.returncode}{took}"


class Run:
    """``press ARGS`` in the background, in its own session, its stderr read line by line as it comes."""

    def __init__(self, args: list[str], cwd: Path):
        self.process = subprocess.Popen([sys.executable, "-m", "pipeline", *args], cwd=cwd, start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                        env=dict(os.environ, PYTHONPATH=CHILD_PYTHONPATH))
        self.pid = self.process.pid
        self.lines: list[str] = []
        self._new_line = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._new_line:
                self.lines.append(line.rstrip("\n"))
                self._new_line.notify_all()
        with self._new_line:
            self.lines.append("")  # end of output
            self._new_line.notify_all()

    @property
    def finished_output(self) -> bool:
        return bool(self.lines) and self.lines[-1] == "" and not self._reader.is_alive()

    def wait_for_line(self, pattern: str, deadline_s: float = 600, count: int = 1) -> bool:
        """Wait until ``count`` progress lines match ``pattern``; False if the run ended before."""
        seen = matched = 0
        end = time.monotonic() + deadline_s
        with self._new_line:
            while time.monotonic() < end:
                for line in self.lines[seen:]:
                    matched += bool(re.search(pattern, line))
                    if matched >= count:
                        return True
                seen = len(self.lines)
                if not self._reader.is_alive():
                    return False
                self._new_line.wait(timeout=0.5)
        return False

    def last_line(self) -> str:
        printed = [line for line in self.lines if line]
        return printed[-1] if printed else "(nothing printed)"

    def signal(self, number: int, group: bool = False) -> Landing:
        """Send ``number`` to the run's own process (as the OOM killer, ``kill PID`` or a service manager
        would), or to its whole process group (as a terminal's Ctrl-C does), and wait for it to end."""
        # every process below the run: its render workers, or the zygote and the workers forked from it
        landing = Landing(signal.Signals(number).name, self.last_line(), descendants(self.pid))
        sent = time.monotonic()
        if self.process.poll() is None:
            (os.killpg if group else os.kill)(self.pid, number)
        landing.returncode = self.process.wait(timeout=600)
        landing.stop_seconds = time.monotonic() - sent
        self._reader.join(timeout=60)
        landing.stderr_tail = [line for line in self.lines if line][-3:]
        return landing

    def wait(self) -> int:
        code = self.process.wait(timeout=600)
        self._reader.join(timeout=60)
        return code

    def clean_up(self) -> None:
        """Kill whatever a failing run left behind: its process group (the run and its workers, even
        after they lost their parent)."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.process.poll() is None:
            self.process.wait(timeout=60)
