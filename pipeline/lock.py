"""One run at a time per project: builds, translation runs and review imports all write catalogs and outputs.

The lock is an ``flock`` on ``output/.press.lock``: the kernel drops it when the process dies, so a
killed build never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .config import BookConfig
from .errors import BusyError
from .safety import open_lock_file, remove_stale_temporaries


@contextmanager
def project_lock(config: BookConfig, wait_seconds: float = 0.0, activity: str = "press build") -> Iterator[None]:
    """Hold the project's lock (builds, translation runs and review imports all write catalogs and
    outputs); a second run waits ``wait_seconds`` and then says who holds it. Once held, the debris of
    runs that were killed mid-write is removed."""
    config.output_dir.mkdir(parents=True, exist_ok=True)
    path = config.output_dir / ".press.lock"
    handle = open_lock_file(path)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise BusyError(f"another build is running in this project ({holder})", path,
                                    hint="wait for it to finish, or pass --wait SECONDS") from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, {activity}")
        handle.flush()
        remove_stale_temporaries(config.output_dir, config.locales_dir)
        yield
    finally:
        handle.close()
