"""The zygote the build's render workers fork from (pipeline/zygote.py): results, raised errors and dead workers
come back through each request's future, the workers are the zygote's children made after its start ran once,
and stopping it ends a worker mid-task."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from pipeline.errors import RenderError
from pipeline.zygote import Zygote, zygote_available
from processes import alive, wait_until

pytestmark = pytest.mark.skipif(not zygote_available(), reason="the zygote runs on Linux")

STARTED = "press-test-zygote-started"


def _start(parent: int) -> None:
    """What the build's start does, in small: die with the parent, make something the workers inherit."""
    from pipeline.lock import die_with_parent
    die_with_parent(parent)
    os.environ[STARTED] = f"{os.getpid()} {parent}"


def _who() -> tuple[int, int, str | None]:
    return os.getpid(), os.getppid(), os.environ.get(STARTED)


def _fail() -> None:
    raise ValueError("a worker's own error")


def _die() -> None:
    os._exit(3)


def _sleep() -> None:
    time.sleep(120)


def _broken_start(parent: int) -> None:
    raise OSError("cannot load library 'libpango-1.0-0'")


@pytest.fixture
def zygote():
    made = Zygote(_start)
    yield made
    made.stop()


def test_each_call_runs_in_a_worker_forked_from_the_started_zygote(zygote):
    first, second = zygote.submit(_who).result(60), zygote.submit(_who).result(60)
    assert first[1] == second[1] == zygote.pid, "both workers are the zygote's children"
    assert first[0] != second[0] != zygote.pid
    assert first[2] == second[2] == f"{zygote.pid} {os.getpid()}", "the zygote's start ran once, before both"
    assert STARTED not in os.environ, "the start ran in the zygote, not in the build"
    zygote.close()
    assert not alive(zygote.pid) and not any(alive(pid) for pid in zygote.pids)


def test_an_error_comes_back_as_raised_and_a_dead_worker_as_a_render_error(zygote):
    with pytest.raises(ValueError, match="a worker's own error"):
        zygote.submit(_fail).result(60)
    with pytest.raises(RenderError, match="ended without its result"):
        zygote.submit(_die).result(60)
    assert zygote.submit(_who).result(60)[1] == zygote.pid, "the zygote serves on after a worker died"


def test_stopping_the_zygote_ends_its_workers_mid_task(zygote):
    future = zygote.submit(_sleep)
    [worker] = zygote.pids
    assert wait_until(lambda: alive(worker), 10)
    zygote.stop()
    assert not alive(worker), "the worker outlived the stopped zygote"
    with pytest.raises(RenderError):
        future.result(60)


def test_a_worker_dies_with_the_zygote_however_it_ends(zygote):
    """SIGKILL to the zygote (as the build's death brings it: PR_SET_PDEATHSIG) ends a running worker too."""
    zygote.submit(_sleep)
    [worker] = zygote.pids
    os.kill(zygote.pid, signal.SIGKILL)
    assert wait_until(lambda: not alive(worker), 30), "the worker outlived its zygote"
    assert sys.platform.startswith("linux")


def test_a_zygote_whose_start_failed_refuses_work_with_one_clear_error():
    """The zygote's start (importing WeasyPrint) failed, say Pango is missing: a request is refused with a
    RenderError naming the fix, not a broken pipe's traceback."""
    zygote = Zygote(_broken_start)
    try:
        with pytest.raises(RenderError, match="render workers fork from .* has ended") as raised:
            zygote.submit(_who)
        assert "press doctor" in raised.value.hint
    finally:
        zygote.stop()
