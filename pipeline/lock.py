"""One run at a time per project, and a run that dies or is stopped never leaves the project locked.

Builds, translation runs and review imports all write catalogs and outputs, so each holds the lock:
an ``flock`` on ``output/.press.lock``, which records the holder's pid, command and process start.
The kernel drops an flock only when every descriptor of the open file is closed, and a forked
process inherits the descriptor; so:

* a forked child (the render workers) closes its copy at once (``os.register_at_fork``): only the
  run itself ever holds the lock;
* a render worker dies with the run that started it (``die_with_parent``: ``PR_SET_PDEATHSIG`` on
  Linux, a thread watching the parent elsewhere), so a killed build leaves no worker writing files;
* a lock whose recorded holder is gone (no such process, a zombie, or the pid reused by another
  process) never blocks: whatever still holds that file (a stray process of an older press, say) is
  left with it, and a fresh lock file takes its place.

SIGTERM and SIGINT stop a run the same way (the command line turns them into ``errors.Stopped``): the
run unwinds, its workers are stopped, and the lock tells the command line which files the run had
finished and kept.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .config import BookConfig
from .errors import BusyError, Stopped
from .safety import open_lock_file, remove_stale_temporaries

LOCK_NAME = ".press.lock"

_held: list[IO[str]] = []  # the lock files this process holds (a forked child closes its copies)


def _close_inherited_locks() -> None:
    """In a forked child: close the copies of the parent's lock files. Closing a copy never releases the
    parent's lock (an flock lives while any descriptor of the open file does); keeping it would."""
    for handle in _held:
        try:
            handle.close()
        except OSError:
            pass
    _held.clear()


os.register_at_fork(after_in_child=_close_inherited_locks)


# --------------------------------------------------------------------------- who holds the lock


def process_start(pid: int) -> str | None:
    """The process's start time (clock ticks since boot, from /proc), "" where /proc is not there, or
    None when no live process has this pid (none at all, or a zombie whose parent has not reaped it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # someone else's live process
        return ""
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces and parentheses
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


@dataclass(frozen=True)
class Holder:
    """Who holds the lock, as its lock file records it: ``pid 4126, press build`` and a start line."""

    pid: int | None
    command: str
    started: str | None = None

    @classmethod
    def read(cls, handle: IO[str]) -> Holder:
        handle.seek(0)
        lines = handle.read().splitlines()
        first = lines[0].strip() if lines else ""
        started = lines[1].removeprefix("start ").strip() if len(lines) > 1 else None
        pid_text, _, command = first.partition(", ")
        if pid_text.startswith("pid ") and pid_text[4:].isdigit():
            return cls(int(pid_text[4:]), command or "press", started or None)
        return cls(None, first or "another process")

    def is_gone(self) -> bool:
        """True only when the recorded process has certainly ended; an unreadable record counts as alive."""
        if self.pid is None:
            return False
        started = process_start(self.pid)
        if started is None:
            return True
        return bool(self.started and started and started != self.started)

    def describe(self) -> str:
        return f"{self.command} (pid {self.pid})" if self.pid is not None else self.command


@contextmanager
def _acquisition_guard(directory: Path) -> Iterator[None]:
    """Serialise the few milliseconds of taking the lock (an flock on the output directory itself), so
    that replacing a dead holder's lock file can never race another run taking the new one. It is
    never held while anything forks, so no worker can inherit it."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _try_lock(path: Path, activity: str) -> tuple[IO[str] | None, Holder | None]:
    """Take the lock at once, or return who holds it. A lock held on behalf of a process that is gone
    is not waited for: a fresh lock file replaces it (the stale holder keeps the unlinked old one)."""
    with _acquisition_guard(path.parent):
        handle = open_lock_file(path)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = Holder.read(handle)
            handle.close()
            if not holder.is_gone():
                return None, holder
            path.unlink(missing_ok=True)
            handle = open_lock_file(path)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # a press outside this protocol took the new file meanwhile
                holder = Holder.read(handle)
                handle.close()
                return None, holder
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, {activity}\nstart {process_start(os.getpid()) or ''}\n")
        handle.flush()
        return handle, None


@contextmanager
def project_lock(config: BookConfig, wait_seconds: float = 0.0, activity: str = "press build") -> Iterator[None]:
    """Hold the project's lock (builds, translation runs and review imports all write catalogs and
    outputs); a second run waits ``wait_seconds`` and then says which command holds it. Once held, the
    debris of runs that were killed mid-write is removed. A run stopped by a signal (``Stopped``) is told
    which files it had finished, so the command line can say what was kept."""
    config.output_dir.mkdir(parents=True, exist_ok=True)
    path = config.output_dir / LOCK_NAME
    deadline = time.monotonic() + wait_seconds
    while True:
        handle, holder = _try_lock(path, activity)
        if handle is not None:
            break
        assert holder is not None
        if time.monotonic() >= deadline:
            raise BusyError(f"{holder.describe()} is running in this project", path,
                            hint="wait for it to finish, or pass --wait SECONDS")
        time.sleep(0.2)
    _held.append(handle)
    started = time.time_ns() - 20_000_000  # file times come from a coarser clock (a jiffy behind at most)
    try:
        remove_stale_temporaries(config.output_dir, config.locales_dir)
        yield
    except Stopped as stopped:
        stopped.kept = files_written_since(started, (config.output_dir, config.locales_dir), config.project_dir)
        raise
    finally:
        if handle in _held:
            _held.remove(handle)
        handle.close()


def files_written_since(started_ns: int, directories: tuple[Path, ...], project: Path) -> list[str]:
    """The outputs and catalogs a run finished (modified since it began; dot-files and the cache aside):
    what a stopped run kept. Everything is written by renaming a finished file into place, so each one
    listed is whole."""
    kept = []
    for directory in directories:
        if not directory.is_dir():
            continue
        for file in directory.rglob("*"):
            relative = file.relative_to(project) if file.is_relative_to(project) else file
            if any(part.startswith(".") for part in relative.parts):
                continue
            try:
                if file.is_file() and file.stat().st_mtime_ns >= started_ns:
                    kept.append(relative.as_posix())
            except OSError:
                continue
    return sorted(kept)


# --------------------------------------------------------------------------- signals and workers


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent: int) -> None:
    """Make this (forked worker) process end when ``parent`` ends, however it ends (SIGKILL, the OOM
    killer): on Linux the kernel sends SIGKILL (``PR_SET_PDEATHSIG``); elsewhere a daemon thread checks
    the parent every 0.2 s. SIGINT and SIGTERM are the parent's to handle (a Ctrl-C reaches the whole
    process group, a service manager may signal every process): the worker ignores them, and the
    parent, stopping, kills its workers first."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="press-parent-watch").start()
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(128 + signal.SIGKILL)


def kill_workers(pool) -> None:
    """Kill a process pool's workers and wait for them to be gone: a build stopped, failed or over its time
    limit writes nothing more (an edition or part being written leaves only its temporary file, which the
    next run removes), instead of the pool's shutdown waiting for every task submitted to finish.
    ProcessPoolExecutor has no public way to do this before Python 3.14's ``kill_workers``."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        process.kill()
    for process in processes:
        process.join()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(128 + signal.SIGKILL)
