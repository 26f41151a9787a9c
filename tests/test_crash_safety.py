"""Crash safety: a run killed with SIGKILL at any moment leaves every file either as it was or as the
finished run writes it, never half-written; the next run clears the debris and completes.

Each test kills the real command line (its whole process group, render workers included) at
moments spread over a full run, snapshots the project after each kill, and then checks every
snapshot against the files before the kills ("old") and after one run allowed to finish ("new").
The build is killed on its own progress lines (a stage has started) plus a random moment, and each
kill records where it landed, so the test does not depend on how fast the machine is.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from lxml import etree
from pypdf import PdfReader

from conftest import CHILD_PYTHONPATH, copy_built, copy_project, run_press

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


def _kill_at(command: list[str], project: Path, delay: float) -> int:
    process = subprocess.Popen([sys.executable, "-m", "pipeline", *command], cwd=project, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=dict(os.environ, PYTHONPATH=CHILD_PYTHONPATH))
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return process.returncode


def _kill_repeatedly(project: Path, command: list[str], full_run: float, seed: int):
    """Kill the command at KILLS moments spread over a run (one random moment per slice of it);
    returns the project's files after each kill and how many runs were really killed."""
    chance = random.Random(seed)
    snapshots, killed = [], 0
    for index in range(KILLS):
        delay = full_run * (index + chance.random()) / KILLS
        killed += _kill_at(command, project, delay) == -signal.SIGKILL
        snapshots.append(_files(project))
    return snapshots, killed


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


# Where the build's kills land: after a progress line of the run, plus a random moment of at most this many
# seconds. Each killed run resumes what the last one left, printing the same stage lines whether a stage runs
# or is reused, so each point comes later in the work than the one before.
KILL_POINTS = (
    (r"^build: project ", 0.6),  # reading, structuring, repairing the manuscript
    (r"^extract: ", 0.4),  # the book and the repair reports written (or reused), the catalogs next
    (r"^catalogs: ", 0.5),  # merging the catalogs, checking the translations
    (r"^render: ", 2.0),  # the editions rendering (in parallel workers)
    (r"^render: \w+ (PDF|EPUB): ", 0.5),  # an edition written or reused, the others still rendering
    (r"^(build: wrote output/manifest\.json|edition )", 0.05),  # the manifest and the summary
)


def _kill_after_line(command: list[str], project: Path, pattern: str, within: float,
                     chance: random.Random) -> tuple[bool, str]:
    """Run the command until a progress line matches ``pattern``, then kill it at a random moment up to
    ``within`` seconds later; returns whether it was killed and the last line it printed (where it landed)."""
    process = subprocess.Popen([sys.executable, "-m", "pipeline", *command], cwd=project, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, PYTHONPATH=CHILD_PYTHONPATH))
    last = "(nothing printed)"
    with process:
        for line in process.stderr:
            last = line.rstrip()
            if re.search(pattern, line):
                time.sleep(chance.random() * within)
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                break
        process.wait(timeout=600)
    return process.returncode == -signal.SIGKILL, last


def test_a_build_killed_at_random_moments_leaves_old_or_new_files(tmp_path, built_project):
    project = copy_built(built_project, tmp_path / "project")
    command = ["build", "--lang", "en", "--lang", "km", "-q"]
    assert run_press(*command, cwd=project, timeout=600).returncode == 0  # the English and Khmer editions as built
    manuscript = project / "source" / "manuscript.txt"
    text = manuscript.read_text(encoding="utf-8")
    marker = "It is my great honour to contribute a foreword"
    assert marker in text
    manuscript.write_text(text.replace(marker, "It is my great and lasting honour to contribute a foreword", 1),
                          encoding="utf-8")  # the next build changes the book, the catalogs and every edition
    old = _files(project)
    for name, data in old.items():
        _check_whole(name, data)

    chance = random.Random(len(text))
    snapshots, landings = [], []
    for index in range(KILLS):
        pattern, within = KILL_POINTS[index * len(KILL_POINTS) // KILLS]
        landings.append(_kill_after_line(command[:-1], project, pattern, within, chance))  # without -q: progress
        snapshots.append(_files(project))
    where = "\n".join(f"  kill {number + 1}: {'killed' if killed else 'finished'} after {line!r}"
                      for number, (killed, line) in enumerate(landings))
    print(f"where the kills landed:\n{where}")
    assert sum(killed for killed, _ in landings) >= min(3, KILLS), f"the kills landed while the build ran:\n{where}"
    stages = {line.split(":")[0] for killed, line in landings if killed}
    assert len(stages) >= 2, f"the kills landed in more than one stage:\n{where}"
    result = run_press(*command, cwd=project, timeout=600)
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


def test_a_translation_run_killed_at_random_moments_keeps_every_catalog_whole(tmp_path, extracted, tiny_models):
    """Drafting saves as it goes: whatever a killed run saved is whole, reviewers' entries are untouched,
    and every draft is the one the finished run writes (the engine is deterministic)."""
    from pipeline.config import load_config
    from pipeline.i18n.catalogs import catalog_path, read_catalog, write_catalog
    from conftest import FAST, translation_project
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

    command = ["translate", "km", "-q"]
    probe = translation_project(tmp_path / "probe", extracted.output, **slow)
    subprocess.run(["cp", "-a", f"{project}/locales/.", f"{probe}/locales/"], check=True)
    assert run_press("models", "install", str(tiny_models["km"]), cwd=probe).returncode == 0
    started = time.monotonic()
    assert run_press(*command, cwd=probe, timeout=600).returncode == 0
    full_run = time.monotonic() - started

    snapshots, killed = _kill_repeatedly(project, command, full_run * 0.6, seed=17)
    assert killed >= 2  # each killed run resumes, so later runs are shorter and may finish first
    result = run_press(*command, cwd=project, timeout=600)
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
    command = ["review", "import", *map(str, packages), "-q"]
    probe = copy_project(tmp_path / "probe")
    started = time.monotonic()
    assert run_press(*command, cwd=probe, timeout=300).returncode == 0
    full_run = time.monotonic() - started

    snapshots, killed = _kill_repeatedly(project, command, full_run, seed=11)
    assert killed >= 2
    result = run_press(*command, cwd=project, timeout=300)
    assert result.returncode == 0, result.stderr
    assert not _debris(project)
    new = _files(project)
    changed = {name for name in new if name.startswith("locales/") and new[name] != old.get(name)}
    assert len(changed) == 11, changed
    assert any(snapshot != old and snapshot != new for snapshot in snapshots), "some kills landed mid-import"
    _assert_old_or_new(snapshots, old, new)
