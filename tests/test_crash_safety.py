"""Crash safety: a run killed (SIGKILL) or stopped (SIGTERM) at any moment leaves every file either as it
was or as the finished run writes it, never half-written; it never leaves the project locked, its render
workers do not outlive it, and the next run clears the debris and completes.

Each test signals the real command line's own pid (as the OOM killer, ``kill PID`` or a service manager
would; the render workers get nothing and must die with the build or be stopped by it) at points spread
over a run, snapshots the project after each signal, and then checks every snapshot against the files
before ("old") and after one run allowed to finish ("new"). Each signal is sent once the run is seen to
have reached its point (a progress line, its render workers existing, a catalog saved), and where it landed
is measured and printed (the last progress line, the workers alive then, the exit status), so no assertion
depends on how fast or busy the machine is. ``PRESS_CRASH_KILLS=50`` runs a campaign (default 6 a test).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import signal
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from lxml import etree
from pypdf import PdfReader

from conftest import copy_built, copy_project, run_press
from pipeline.errors import ExitCode
from processes import Landing, Run, alive, children, wait_until

KILLS = int(os.environ.get("PRESS_CRASH_KILLS", "6"))


def _files(project: Path) -> dict[str, bytes]:
    """The files a person or a reader relies on: editions, book, reports, manifest, catalogs."""
    found = {}
    for top in ("output", "locales"):
        for path in (project / top).rglob("*"):
            relative = path.relative_to(project).as_posix()
            if path.is_file() and "/.cache/" not in f"/{relative}" and not path.name.startswith("."):
                found[relative] = path.read_bytes()
    return found


def _debris(project: Path) -> list[str]:
    return [p.relative_to(project).as_posix() for top in ("output", "locales") for p in (project / top).rglob(".*.tmp")]


def _check_whole(name: str, data: bytes) -> None:
    """The file parses as what its name says it is."""
    suffix = Path(name).suffix
    if suffix == ".po":
        read_po(io.BytesIO(data))
        result = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", "-"], input=data, capture_output=True)
        assert result.returncode == 0, f"{name}: {result.stderr.decode()}"
    elif suffix == ".xml":
        etree.fromstring(data)
    elif suffix == ".pdf":
        assert data.rstrip().endswith(b"%%EOF"), name
        assert len(PdfReader(io.BytesIO(data)).pages) > 0
    elif suffix == ".epub":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.testzip() is None, name
    elif suffix == ".json":
        json.loads(data)


def _signal_after_line(project: Path, command: list[str], pattern: str, count: int, number: int) -> Landing:
    """Run the command until ``count`` of its progress lines match ``pattern``, then signal it at once."""
    run = Run(command, project)
    try:
        reached = run.wait_for_line(pattern, count=count)
        landing = run.signal(number) if reached else Landing(signal.Signals(number).name, run.last_line(), [],
                                                             run.wait())
    finally:
        run.clean_up()
    return landing


def _signal_after_saves(project: Path, command: list[str], directory: Path, saves: int, number: int,
                        after_line: str | None = None) -> Landing:
    """Run the command until it has printed ``after_line`` and then replaced files in ``directory``
    ``saves`` times (a catalog saved: a new inode renamed into place), then signal it at once."""
    def state() -> list[tuple[str, int, int]]:
        found = []
        for path in sorted(directory.glob("*.po")):
            try:
                status = path.stat()
            except FileNotFoundError:
                continue
            found.append((path.name, status.st_ino, status.st_mtime_ns))
        return found

    run = Run(command, project)
    try:
        if after_line is not None:
            run.wait_for_line(after_line)
        seen, last = 0, state()
        while seen < saves and run.process.poll() is None:
            time.sleep(0.005)
            now = state()
            seen, last = seen + (now != last), now
        landing = run.signal(number) if seen >= saves else Landing(signal.Signals(number).name, run.last_line(), [],
                                                                   run.wait())
    finally:
        run.clean_up()
    return landing


def _assert_old_or_new(snapshots, old: dict[str, bytes], new: dict[str, bytes]) -> None:
    for number, snapshot in enumerate(snapshots):
        for name, data in snapshot.items():
            if data == old.get(name) or data == new.get(name):
                continue
            _check_whole(name, data)  # a file outside old and new must at least be whole
            pytest.fail(f"after kill {number + 1}, {name} is neither the old nor the new file "
                        f"({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:12]})")
        for name in old:
            if name not in snapshot and name in new:
                pytest.fail(f"after kill {number + 1}, {name} had disappeared")


# The build's campaign: each signal is sent once the run shows it has reached a point (a progress line, or
# its render workers seen to exist), plus a random moment of at most the given seconds, to the build's own
# pid (as the OOM killer, ``kill PID`` or a service manager sends it; the render workers get nothing, they
# must die with the build or be stopped by it). Each killed run resumes what the last one left, so a round
# moves through the whole build. Where each signal landed is measured (the last progress line before it,
# the workers alive then), never assumed from timing.
WORKERS_SEEN = "render workers seen"
ROUND = (
    (r"^build: project ", 0.6, signal.SIGKILL),  # reading, structuring, repairing the manuscript
    (r"^catalogs: ", 0.0, signal.SIGTERM),  # drafting and checking the translations (the merge just done; the
    # English editions may already be under way beside them, so any later moment can land in 'render')
    (WORKERS_SEEN, 0.0, signal.SIGKILL),  # among the render workers, none finished yet
    (WORKERS_SEEN, 1.0, signal.SIGTERM),  # among the render workers, a moment later
    (r"^render: \w+ (PDF|EPUB|printer's PDF): ", 0.5, signal.SIGKILL),  # a language written, others rendering
    (r"^(build: wrote output/manifest\.json|edition )", 0.05, signal.SIGTERM),  # the manifest and the summary
)


def _signal_at(project: Path, command: list[str], point: str, within: float, number: int,
               chance: random.Random) -> Landing:
    """Run the command until it reaches ``point``, send ``number`` to it a random moment up to ``within``
    seconds later, and return where it landed; the run's workers must be gone once it has ended."""
    run = Run(command, project)
    try:
        if point == WORKERS_SEEN:
            reached = run.wait_for_line(r"^render: .* parallel processes") and \
                wait_until(lambda: bool(children(run.pid)) or run.process.poll() is not None, 60) and \
                run.process.poll() is None
        else:
            reached = run.wait_for_line(point)
        if reached:
            time.sleep(chance.random() * within)
        landing = run.signal(number) if reached else Landing(signal.Signals(number).name, run.last_line(), [],
                                                             run.wait())
        assert wait_until(lambda: not any(alive(worker) for worker in landing.workers), 60), \
            f"render workers outlived their build: {landing.describe()}"
    finally:
        run.clean_up()
    return landing


def _check_landing(number: int, landing: Landing) -> None:
    """A run ends killed, stopped by press with one line, or finished; never locked out, never a traceback."""
    assert landing.returncode in (-signal.SIGKILL, ExitCode.TERMINATED, 0), \
        f"signal {number}: {landing.describe()}: {landing.stderr_tail}"
    if landing.returncode == ExitCode.TERMINATED:
        assert landing.stderr_tail[-1].startswith("error: stopped: SIGTERM stopped the run; "), landing.stderr_tail
        assert not any("Traceback" in line for line in landing.stderr_tail)


@pytest.mark.slow
def test_a_build_killed_or_stopped_at_moments_spread_over_it_leaves_old_or_new_files(tmp_path, built_project):
    """SIGKILL and SIGTERM, KILLS of them in rounds of six spread over a build (render workers included),
    each round starting again from the project as it was before the edit."""
    pristine = copy_built(built_project, tmp_path / "pristine")
    command = ["build", "--lang", "en", "--lang", "km"]
    assert run_press(*command, "-q", cwd=pristine, timeout=600).returncode == 0  # the editions as built
    manuscript = pristine / "source" / "manuscript.txt"
    text = manuscript.read_text(encoding="utf-8")
    marker = "It is my great honour to contribute a foreword"
    assert marker in text
    manuscript.write_text(text.replace(marker, "It is my great and lasting honour to contribute a foreword", 1),
                          encoding="utf-8")  # the next build changes the book, the catalogs and every edition
    old = _files(pristine)
    for name, data in old.items():
        _check_whole(name, data)

    project = tmp_path / "project"
    chance = random.Random(len(text))
    snapshots, landings = [], []
    for index in range(KILLS):
        if index % len(ROUND) == 0:  # a new round: the project as it was before the build
            shutil.rmtree(project, ignore_errors=True)
            shutil.copytree(pristine, project, symlinks=True)
        point, within, number = ROUND[index % len(ROUND)]
        if (index // len(ROUND)) % 2:  # odd rounds swap the signals, so each point gets both
            number = signal.SIGTERM if number == signal.SIGKILL else signal.SIGKILL
        landing = _signal_at(project, command, point, within, number, chance)
        landings.append(landing)
        snapshots.append(_files(project))
        _check_landing(number, landing)

    where = "\n".join(f"  {number + 1:>3}: {landing.describe()}" for number, landing in enumerate(landings))
    stopped = [landing.stop_seconds for landing in landings if landing.returncode == ExitCode.TERMINATED]
    print(f"where the signals landed ({sum(landing.landed for landing in landings)} of {len(landings)} stopped a "
          f"run; SIGTERM stopped runs in at most {max(stopped, default=0):.2f} s):\n{where}")
    if KILLS >= len(ROUND):  # the round's signals among the render workers land there whatever the machine's speed
        among_workers = {landing.signal_name for landing in landings if landing.workers and landing.landed}
        assert among_workers == {"SIGKILL", "SIGTERM"}, f"signals landed among the render workers:\n{where}"
        stages = {landing.stage for landing in landings if landing.landed}
        assert len(stages) >= 3, f"the signals landed in several stages:\n{where}"
    result = run_press(*command, "-q", cwd=project, timeout=600)
    assert result.returncode == 0, result.stderr
    assert not _debris(project), "the finished run removed what the killed ones left"
    new = _files(project)
    assert new != old
    for name, data in new.items():
        _check_whole(name, data)
    _assert_old_or_new(snapshots, old, new)


def test_the_check_tells_a_torn_file_from_old_and_new(tmp_path):
    """The comparison above can fail: a truncated PDF or catalog is caught."""
    old = {"output/en/book.pdf": b"%PDF-1.7\n" + b"x" * 100 + b"\n%%EOF\n", "locales/km/ch1.po": b'msgid ""\nmsgstr ""\n'}
    new = {name: data + b"\n" for name, data in old.items()}
    torn = {"output/en/book.pdf": old["output/en/book.pdf"][:50], "locales/km/ch1.po": old["locales/km/ch1.po"]}
    with pytest.raises((pytest.fail.Exception, AssertionError)):
        _assert_old_or_new([torn], old, new)
    _assert_old_or_new([old, new], old, new)


@pytest.mark.slow
def test_a_translation_run_killed_at_random_moments_keeps_every_catalog_whole(tmp_path, extracted, tiny_models):
    """Drafting saves as it goes: whatever a killed run saved is whole, reviewers' entries are untouched,
    and every draft is the one the finished run writes (the engine is deterministic)."""
    from pipeline.config import load_config
    from pipeline.i18n.catalogs import catalog_path, read_catalog, write_catalog
    from conftest import FAST, configure_translation, translation_project
    slow = dict(FAST, batch_size=8, checkpoint_seconds=0.05)  # saves often: kills land between and during saves
    project = translation_project(tmp_path / "project", extracted.output, **slow)
    assert run_press("models", "install", str(tiny_models["km"]), cwd=project).returncode == 0
    config = load_config(project)
    path = catalog_path(config, "km", "ch1")
    catalog = read_catalog(path, "km")
    reviewed = {}
    for message in [m for m in catalog if m.id][::7]:
        message.string, message.flags = f"ការពិនិត្យ {message.context}", set()
        reviewed[message.context] = message.string
    write_catalog(path, catalog)
    old = _files(project)

    command = ["translate", "km"]
    # the probe and the finishing run are never signalled: they save at the usual pace (saving every 0.05 s
    # cost three quarters of each full run's time), which changes when a draft is saved, never what it is
    steady = dict(slow, checkpoint_seconds=5)
    probe = translation_project(tmp_path / "probe", extracted.output, **steady)
    subprocess.run(["cp", "-a", f"{project}/locales/.", f"{probe}/locales/"], check=True)
    assert run_press("models", "install", str(tiny_models["km"]), cwd=probe).returncode == 0
    assert run_press(*command, "-q", cwd=probe, timeout=600).returncode == 0  # the drafts a finished run writes

    snapshots, landings = [], []
    for index in range(KILLS):  # the first while catalogs are prepared, the others while drafts are being saved
        number = signal.SIGKILL if index % 2 == 0 else signal.SIGTERM
        drafting = r"^translate: km: drafting " if index % len(ROUND) else None
        landings.append(_signal_after_saves(project, command, project / "locales" / "km", 1 + index % 3, number,
                                            drafting))
        snapshots.append(_files(project))
        _check_landing(number, landings[-1])
    print("where the signals landed:\n" + "\n".join(f"  {n + 1}: {landing.describe()}"
                                                     for n, landing in enumerate(landings)))
    killed = sum(landing.landed for landing in landings)
    assert killed >= min(2, KILLS)  # a run seen saving has more to save: the signal lands mid-run
    configure_translation(project, checkpoint_seconds=steady["checkpoint_seconds"])
    result = run_press(*command, "-q", cwd=project, timeout=600)
    assert result.returncode == 0, result.stderr
    assert not _debris(project)
    new = _files(project)
    catalogs = {name: data for name, data in new.items() if name.startswith("locales/")}
    assert catalogs == {name: data for name, data in _files(probe).items() if name.startswith("locales/")}

    assert any(snapshot != old and snapshot != new for snapshot in snapshots), "some kills landed mid-run"
    finished = {m.context: m.string for m in read_catalog(path, "km") if m.id}
    assert all(finished[context] == text for context, text in reviewed.items())
    for number, snapshot in enumerate(snapshots):
        for name, data in snapshot.items():
            _check_whole(name, data)
        ch1 = snapshot["locales/km/ch1.po"]
        entries = {m.context: m.string for m in read_po(io.BytesIO(ch1)) if m.id}
        for context, text in entries.items():
            assert text in ("", finished[context]), f"kill {number + 1}: {context} holds a draft the run never wrote"
        assert all(entries[context] == text for context, text in reviewed.items()), f"kill {number + 1}"


@pytest.mark.slow
def test_a_review_import_killed_at_random_moments_leaves_each_catalog_old_or_new(tmp_path):
    """Eleven reviewed Word files imported in one run: each catalog is written once, whole, or not yet."""
    import docx
    project = copy_project(tmp_path / "project")
    exported = run_press("review", "export", "ja", "--format", "docx", cwd=project)
    assert exported.returncode == 0, exported.stderr
    packages = sorted((project / "output" / "review" / "ja").glob("*.docx"))
    assert len(packages) == 11
    for number, package in enumerate(packages):
        document = docx.Document(str(package))
        row = document.tables[0].rows[1]
        cell = row.cells[2]
        for paragraph in cell.paragraphs:
            for run in list(paragraph.runs):
                run._r.getparent().remove(run._r)
        cell.paragraphs[0].add_run(f"校閲者の訳 {number}")
        document.save(str(package))
    old = _files(project)
    command = ["review", "import", *map(str, packages)]
    snapshots, landings = [], []
    for index in range(KILLS):  # after the first to the tenth file's line, so an import is always under way
        imported = 1 + index * 9 // max(KILLS - 1, 1)
        number = signal.SIGKILL if index % 2 == 0 else signal.SIGTERM
        landings.append(_signal_after_line(project, command, r"→ ja/", imported, number))
        snapshots.append(_files(project))
        _check_landing(number, landings[-1])
    print("where the signals landed:\n" + "\n".join(f"  {n + 1}: {landing.describe()}"
                                                     for n, landing in enumerate(landings)))
    assert sum(landing.landed for landing in landings) >= min(2, KILLS)
    result = run_press(*command, cwd=project, timeout=300)
    assert result.returncode == 0, result.stderr
    assert not _debris(project)
    new = _files(project)
    changed = {name for name in new if name.startswith("locales/") and new[name] != old.get(name)}
    assert len(changed) == 11, changed
    assert any(snapshot != old and snapshot != new for snapshot in snapshots), "some kills landed mid-import"
    _assert_old_or_new(snapshots, old, new)
