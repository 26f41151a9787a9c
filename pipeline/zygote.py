"""A process that has imported WeasyPrint and forks the build's render workers from itself.

Every render worker needs WeasyPrint imported (a quarter of a second of CPU). A worker forked from the build
inherits the build's import, but the build would make it on its own critical path: after an edit the Khmer and
Japanese workers waited for it behind the catalogs stage, the build's one interpreter lock shared between the
import and the stages. The zygote is forked before extract, imports WeasyPrint on the core extract leaves idle,
then forks a worker for each language the build hands it: the English editions as soon as the book is written,
the translated ones as soon as their catalogs are merged, none of them importing anything.

The workers are the zygote's children, not the build's. They die with it (``PR_SET_PDEATHSIG``), as it dies with
the build; stopping the zygote stops them (``stop``). Each worker's outcome comes back through a pipe of its own,
whose writing end the build passes to the zygote with the request (``SCM_RIGHTS``); the build reads it in a
thread and completes the request's future, so the build collects these workers as it collects a pool's.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from multiprocessing.reduction import recv_handle, send_handle

from .errors import RenderError
from .lock import process_start

__all__ = ["Zygote", "zygote_available"]


def zygote_available() -> bool:
    """Where the zygote can run: Linux (``fork``, ``PR_SET_PDEATHSIG``, passing a descriptor over a socket)."""
    return sys.platform.startswith("linux")


class Zygote:
    """The zygote process, from the build's side: ``submit`` a call, get a future of its result."""

    def __init__(self, start: Callable[[int], None]) -> None:
        """Fork the zygote now (no thread may run in this process meanwhile); it runs ``start(build_pid)`` (dying
        with the build, importing what the workers need), then waits for requests."""
        self._requests, theirs = Pipe(duplex=True)  # a socket pair: descriptors can pass through it
        build = os.getpid()
        pid = os.fork()
        if pid == 0:  # the zygote
            code = 0
            try:
                self._requests.close()
                _serve(theirs, start, build)
            except BaseException:  # noqa: BLE001 (the build sees its requests fail)
                code = 1
            finally:
                os._exit(code)
        theirs.close()
        self.pid = pid
        self._ended = False
        self._workers: list[tuple[int, str | None]] = []  # (pid, process start), to wait for them when stopped

    def submit(self, function: Callable, *args: object) -> Future:
        """``function(*args)`` in a worker forked from the zygote; its result (or the exception it raised, or
        a RenderError if the worker died without either) completes the future."""
        future: Future = Future()
        readable, writable = os.pipe()
        try:
            self._requests.send((function, args))
            send_handle(self._requests, writable, self.pid)
            pid = self._requests.recv()
        except (EOFError, OSError) as error:  # the zygote is gone: its start failed, or it was killed
            os.close(readable)
            raise RenderError(f"the process the render workers fork from (pid {self.pid}) has ended "
                              f"({type(error).__name__})", hint="run 'press doctor' to check WeasyPrint's "
                              "libraries, then build again") from error
        finally:
            os.close(writable)
        self._workers.append((pid, process_start(pid)))
        threading.Thread(target=_read_result, args=(readable, future, pid), daemon=True,
                         name=f"press-worker-{pid}").start()
        return future

    @property
    def pids(self) -> list[int]:
        return [pid for pid, _ in self._workers]

    def close(self) -> None:
        """No more requests: the zygote waits for its workers, then ends."""
        if self._ended:
            return
        self._ended = True
        try:
            self._requests.send(None)
        except OSError:
            pass
        os.waitpid(self.pid, 0)
        self._requests.close()

    def stop(self) -> None:
        """Kill the zygote, and with it every worker still running (the kernel signals them as it dies), and
        wait until they are gone: a stopped build writes nothing more."""
        if self._ended:
            return
        self._ended = True
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self._requests.close()
        waited = time.monotonic() + 10
        for pid, started in self._workers:
            while started is not None and process_start(pid) == started and time.monotonic() < waited:
                time.sleep(0.005)


def _read_result(readable: int, future: Future, pid: int) -> None:
    with os.fdopen(readable, "rb") as stream:
        data = stream.read()
    try:
        kind, value = pickle.loads(data) if data else ("died", None)
    except Exception as error:  # noqa: BLE001 (a worker killed mid-write leaves half a pickle)
        kind, value = "died", error
    if kind == "returned":
        future.set_result(value)
    elif kind == "raised":
        future.set_exception(value)
    else:
        future.set_exception(RenderError(f"a render worker (pid {pid}) ended without its result",
                                         hint="it was killed or crashed; run the build again, and report it if "
                                              "it recurs"))


def _serve(requests: Connection, start: Callable[[int], None], build: int) -> None:
    """The zygote: get ready, then fork a worker for each request until the build says there are no more."""
    start(build)
    children: list[int] = []
    while True:
        try:
            request = requests.recv()
        except (EOFError, OSError):
            break
        if request is None:
            break
        function, args = request
        writable = recv_handle(requests)
        zygote = os.getpid()
        pid = os.fork()
        if pid == 0:
            requests.close()
            _work(writable, function, args, zygote)
        os.close(writable)
        children.append(pid)
        requests.send(pid)
    for child in children:
        os.waitpid(child, 0)


def _work(writable: int, function: Callable, args: tuple, zygote: int) -> None:
    """A worker: run the call, send back what it returned or raised, and end (no teardown, no exit handlers:
    the zygote's own are the build's). It dies with the zygote, named by the pid it had before the fork: a
    zygote killed meanwhile has handed its children to another parent, which ``getppid`` would name."""
    code = 0
    try:
        from .render.parts import render_worker_start
        render_worker_start(zygote)
        try:
            payload = pickle.dumps(("returned", function(*args)))
        except BaseException as error:  # everything goes back to the build, which decides
            try:
                payload = pickle.dumps(("raised", error))
            except Exception:  # noqa: BLE001 (an exception that cannot be pickled: its text then)
                payload = pickle.dumps(("raised", RuntimeError("".join(traceback.format_exception(error)))))
        with os.fdopen(writable, "wb") as stream:
            stream.write(payload)
    except BaseException:  # noqa: BLE001 (nothing to send it to: the build sees a worker that died)
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
