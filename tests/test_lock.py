"""The project lock outlives nothing: a build killed mid-render leaves no worker and no lock behind, a
lock whose holder is gone never blocks, a refused run names the command holding the lock, and
SIGTERM or SIGINT stop a build (workers included) with one line saying what was kept.

Each run is watched as it goes (tests/processes.py): the signal is sent once the render workers are
seen to exist, never after a fixed sleep.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import copy_built, run_press
from pipeline.config import load_config
from pipeline.errors import ExitCode
from pipeline.lock import project_lock
from processes import Run, alive, children, descendants, open_files, wait_until

PARALLEL_RENDER = r"^render: .* in \d+ parallel processes"


def _outputs(project: Path) -> dict[str, bytes]:
    """Every edition, book, report, manifest and catalog (the cache and dot-files aside)."""
    found = {}
    for top in ("output", "locales"):
        for path in sorted((project / top).rglob("*")):
            relative = path.relative_to(project)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                found[relative.as_posix()] = path.read_bytes()
    return found


def _without_pdfs(built_project: Path, destination: Path) -> Path:
    """The built project with its English and Khmer PDFs gone: the next build renders those two languages
    in parallel workers and must end byte-equal to the project as built."""
    project = copy_built(built_project, destination)
    for lang in ("en", "km"):
        (project / "output" / lang / "rise-of-global-south.pdf").unlink()
    return project


def _edited(built_project: Path, destination: Path) -> Path:
    """The built project after an edit that changes the book, the catalogs and every edition."""
    project = copy_built(built_project, destination)
    manuscript = project / "source" / "manuscript.txt"
    text = manuscript.read_text(encoding="utf-8")
    marker = "It is my great honour to contribute a foreword"
    assert marker in text
    manuscript.write_text(text.replace(marker, "It is my great and lasting honour to contribute a foreword", 1),
                          encoding="utf-8")
    return project


def _locked(path: Path) -> bool:
    """Whether some process holds an flock on the file (tried from a descriptor of our own)."""
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


@pytest.mark.slow
def test_a_build_killed_mid_render_leaves_no_worker_and_no_lock(tmp_path, built_project):
    """Issue 18, must fix 1: SIGKILL to the build's own pid (as the OOM killer or ``kill -9 PID`` sends
    it) while its render workers run. The workers never held the lock, die with the build, and the next
    build runs at once (no --wait) and ends byte-equal to the uninterrupted build."""
    project = _without_pdfs(built_project, tmp_path / "project")
    lock = os.path.realpath(project / "output" / ".press.lock")
    run = Run(["build"], project)
    try:
        assert run.wait_for_line(PARALLEL_RENDER), run.lines
        assert wait_until(lambda: len(children(run.pid)) == 2, 60), "the English and Khmer editions render in two workers"
        assert lock in open_files(run.pid), "the build holds the lock (the check below can fail)"
        _killed_leaves_no_process_and_no_lock(run, project, children(run.pid))
    finally:
        run.clean_up()
    assert _outputs(project) == _outputs(built_project)


@pytest.mark.slow
def test_a_build_killed_while_the_zygotes_workers_render_leaves_none_of_them(tmp_path, built_project):
    """After an edit the render workers fork from the zygote (pipeline/zygote.py), a child of the build forked
    before extract, not from the build itself: SIGKILL to the build still ends the zygote and every worker,
    none of them holds the lock, and the next build runs at once."""
    project = _edited(built_project, tmp_path / "project")
    run = Run(["build"], project)
    try:
        assert run.wait_for_line(PARALLEL_RENDER), run.lines
        assert wait_until(lambda: len(descendants(run.pid)) == 4, 60), \
            "the zygote and a worker for each of the three languages"
        [zygote] = children(run.pid)
        workers = children(zygote)
        assert len(workers) == 3, (zygote, workers)
        _killed_leaves_no_process_and_no_lock(run, project, [zygote, *workers])
    finally:
        run.clean_up()


def _killed_leaves_no_process_and_no_lock(run: Run, project: Path, processes: list[int]) -> None:
    """SIGKILL to the build while ``processes`` (its render workers, or the zygote and its workers) run: none of
    them held the project lock, none outlives the build, nothing holds the lock after it, and the next build
    runs at once (no --wait)."""
    lock = os.path.realpath(project / "output" / ".press.lock")
    for process in processes:  # (a worker closes its copy as it starts: allow it the moment after its fork)
        assert wait_until(lambda process=process: lock not in open_files(process), 10), \
            f"process {process} below the build holds the project lock"
    landing = run.signal(signal.SIGKILL)
    print(landing.describe())
    assert landing.returncode == -signal.SIGKILL
    assert wait_until(lambda: not any(alive(process) for process in processes), 60), \
        f"processes outlived their build: {[p for p in processes if alive(p)]}"
    assert not _locked(project / "output" / ".press.lock"), "nothing holds the lock of the dead build"
    result = run_press("build", cwd=project, timeout=900)
    assert result.returncode == 0, result.stderr


def test_a_lock_whose_holder_is_gone_never_blocks(tmp_path, built_project):
    """A stray process (here ``flock sleep``, as a worker of an older press would) still holds the lock
    file of a build that is gone: the next build does not wait for it, and leaves the stray alone."""
    project = copy_built(built_project, tmp_path / "project")
    lock = project / "output" / ".press.lock"
    ended = subprocess.Popen(["true"])
    ended.wait()  # its pid now names no process: the build that wrote the lock file is gone
    lock.write_text(f"pid {ended.pid}, press build\nstart 1\n", encoding="utf-8")
    stray = subprocess.Popen(["flock", "--nonblock", "--no-fork", str(lock), "sleep", "600"])
    try:
        assert wait_until(lambda: _locked(lock), 60), "the stray process holds the lock"
        result = run_press("build", "--lang", "en", "--format", "epub", cwd=project)
        assert result.returncode == 0, result.stderr
        assert stray.poll() is None, "the stray process was left alone"
        assert not _locked(lock), "the stray holds only the old, replaced lock file"
    finally:
        stray.kill()
        stray.wait()


def test_a_reused_pid_is_not_taken_for_the_holder(tmp_path, built_project):
    """The lock file names a live pid (this test's own) but another process start: the process that
    held it is gone and its pid was reused, so the lock is free."""
    project = copy_built(built_project, tmp_path / "project")
    lock = project / "output" / ".press.lock"
    lock.write_text(f"pid {os.getpid()}, press translate\nstart 1\n", encoding="utf-8")
    stray = subprocess.Popen(["flock", "--nonblock", "--no-fork", str(lock), "sleep", "600"])
    try:
        assert wait_until(lambda: _locked(lock), 60)
        result = run_press("build", "--lang", "en", "--format", "epub", cwd=project)
        assert result.returncode == 0, result.stderr
    finally:
        stray.kill()
        stray.wait()


@pytest.mark.parametrize("activity", ["press translate", "press review import", "press build"])
def test_a_refused_run_names_the_command_holding_the_lock(tmp_path, built_project, activity):
    project = copy_built(built_project, tmp_path / "project")
    with project_lock(load_config(project), activity=activity):
        result = run_press("build", "--lang", "en", "--format", "epub", cwd=project)
    assert result.returncode == ExitCode.BUSY
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert f"{activity} (pid {os.getpid()}) is running in this project" in errors[0]


@pytest.mark.parametrize(("number", "code", "to_group"), [
    (signal.SIGTERM, 143, False),  # ``kill PID``: ExitCode.TERMINATED
    (signal.SIGTERM, 143, True),  # a service manager stopping every process of the run
    (signal.SIGINT, 130, True),  # Ctrl-C, which a terminal sends to the whole process group: ExitCode.INTERRUPTED
])
def test_a_signal_stops_the_build_and_its_workers_and_says_what_was_kept(tmp_path, built_project, number, code,
                                                                       to_group):
    """SIGTERM and SIGINT mid-render: the build stops its workers before it exits (so nothing is written
    after), prints one line counting the files it had finished, and exits with its documented code."""
    project = _edited(built_project, tmp_path / "project")
    before = _outputs(project)
    run = Run(["build", "--lang", "en", "--lang", "km"], project)
    try:
        assert run.wait_for_line(PARALLEL_RENDER), run.lines
        # (the book changed: the workers fork from the zygote, pipeline/zygote.py; it and they are the build's
        # descendants)
        assert wait_until(lambda: len(descendants(run.pid)) >= 3, 60), "the zygote and the render workers run"
        workers = descendants(run.pid)
        landing = run.signal(number, group=to_group)
        print(landing.describe())
        assert landing.returncode == code, run.lines
        assert not [worker for worker in workers if alive(worker)], "the build exited before its workers"
    finally:
        run.clean_up()
    printed = "\n".join(run.lines)
    assert "Traceback" not in printed
    errors = [line for line in run.lines if line.startswith("error:")]
    assert len(errors) == 1, printed
    after = _outputs(project)
    changed = sorted(name for name in after if after[name] != before.get(name))
    assert changed, "the run had finished the book before the editions"
    match = re.match(rf"error: stopped: {signal.Signals(number).name} stopped the run; kept the (\d+) files? it had "
                     r"finished \((.*?)(?: and \d+ more)?\), none half-written", errors[0])
    assert match, errors[0]
    assert int(match[1]) == len(changed), (errors[0], changed)
    assert all(name in changed for name in match[2].split(", ")), (errors[0], changed)
