"""gettext's and the merge's verdicts kept across builds (issue 15: edit to proof in seconds).

Every ``press build`` is a new process: before the verdicts were kept in the build cache
(``output/.cache/catalog-verdicts.json``), a one-sentence edit, which changes two of the 22 catalogs, ran msgfmt
and msgcat on all 22 again, and read all 22 into Babel to merge them. The tools are counted by wrappers first on
PATH that log each run and then run the real program. A kept verdict must never hide a broken catalog, a damaged
memo file is ignored and written again, and a verdict made by another msgfmt, or by other code, is not trusted.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from conftest import copy_project, run_press
from pipeline.cache import code_fingerprint
from pipeline.config import load_config
from pipeline.errors import CatalogError, ExitCode
from pipeline.i18n import catalogs, prepare_catalogs
from pipeline.i18n.catalogs import catalog_path, existing_parts, kept_verdicts_in, read_catalog
from pipeline.progress import Reporter
from pipeline.stages import CatalogsStage, catalog_verdicts_file

GETTEXT = ("msgfmt", "msgcat")
EDIT = ("cornerstones of stability", "cornerstones (1) of stability")  # chapter 1: ja/ch1.po and km/ch1.po change


def counting_tools(folder: Path) -> Path:
    """msgfmt and msgcat wrappers: each run appends the tool's name to ``folder/runs.log``, then runs the real one."""
    folder.mkdir(parents=True, exist_ok=True)
    for tool in GETTEXT:
        real = shutil.which(tool)
        if real is None:
            pytest.skip(f"{tool} is not installed")
        script = folder / tool
        script.write_text(f'#!/bin/sh\necho {tool} >> "{folder}/runs.log"\nexec "{real}" "$@"\n')
        script.chmod(0o755)
    return folder


def runs(tools: Path) -> Counter:
    """How often each tool ran since the last call (the log is emptied)."""
    log = tools / "runs.log"
    counted = Counter(log.read_text().split()) if log.exists() else Counter()
    log.write_text("")
    return counted


def on_path(tools: Path) -> dict[str, str]:
    return {"PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}


def snapshot(project: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in sorted((project / "locales").glob("*/*.po"))}


def book_catalogs(project: Path) -> list[Path]:
    return [path for path in snapshot(project) if path.parent.name != "ui"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """The project built once (the stages before the editions) with the counting tools first on PATH; tests copy
    it. The wrappers stay where they are, so every copy's kept verdicts name the same tools."""
    directory = tmp_path_factory.mktemp("kept-verdicts")
    tools = counting_tools(directory / "bin")
    project = copy_project(directory / "project")
    result = run_press("build", "--no-editions", "-q", cwd=project, env=on_path(tools), timeout=600)
    assert result.returncode == 0, result.stderr
    first = runs(tools)
    assert first["msgfmt"] >= 22 and first["msgcat"] >= 22, f"a first build checks and lays out every catalog: {first}"
    assert catalog_verdicts_file(load_config(project)).is_file()
    return project, tools


@pytest.fixture
def project(built, tmp_path) -> Path:
    shutil.copytree(built[0], tmp_path / "project", symlinks=True)
    return tmp_path / "project"


@pytest.fixture
def tools(built, monkeypatch) -> Path:
    """The counting tools first on this process's PATH, and its in-process memos empty: as a new build process."""
    monkeypatch.setenv("PATH", on_path(built[1])["PATH"])
    for memo in ("_PASSED_MSGFMT", "_PASSED_CHECKS"):
        monkeypatch.setattr(catalogs, memo, set())
    for memo in ("_LAID_OUT", "_PARSED"):
        monkeypatch.setattr(catalogs, memo, {})
    runs(built[1])
    return built[1]


def new_process() -> None:
    """This process's own memos forgotten, as the next 'press build' starts without them."""
    for memo in (catalogs._PASSED_MSGFMT, catalogs._PASSED_CHECKS, catalogs._LAID_OUT, catalogs._PARSED):
        memo.clear()


def edit_one_sentence(project: Path) -> None:
    manuscript = project / "source" / "manuscript.txt"
    text = manuscript.read_text(encoding="utf-8")
    assert text.count(EDIT[0]) == 1
    manuscript.write_text(text.replace(*EDIT), encoding="utf-8")


def check_every_catalog(project: Path) -> None:
    """What every stage that reads the catalogs does first: each one checked (and read), in a build's memo."""
    config = load_config(project)
    with kept_verdicts_in(catalog_verdicts_file(config)):
        for language in ("km", "ja"):
            for part in existing_parts(config, language):
                read_catalog(catalog_path(config, language, part), language)


# --------------------------------------------------------------------------- an edit


def test_after_a_one_sentence_edit_gettext_runs_only_on_the_catalogs_that_changed(project, built):
    tools = built[1]
    before = snapshot(project)
    edit_one_sentence(project)
    result = run_press("build", "--no-editions", cwd=project, env=on_path(tools), timeout=600)
    assert result.returncode == 0, result.stderr
    changed = sorted(path.relative_to(project).as_posix() for path, data in snapshot(project).items()
                     if before[path] != data)
    assert changed == ["locales/ja/ch1.po", "locales/km/ch1.po"]
    # each changed catalog laid out once and its new bytes checked once; the 20 others, not at all
    assert runs(tools) == Counter(msgcat=2, msgfmt=2)
    assert "wrote 2, unchanged 20" in result.stderr


def test_the_same_verdicts_in_a_new_process_run_nothing_and_another_msgfmt_runs_again(project, tools, tmp_path,
                                                                                      monkeypatch):
    check_every_catalog(project)
    assert runs(tools) == Counter(), "the build that made the copy checked all of them"
    other = counting_tools(tmp_path / "other-gettext")  # another gettext first on PATH: its verdicts are its own
    monkeypatch.setenv("PATH", on_path(other)["PATH"])
    new_process()
    check_every_catalog(project)
    assert runs(other)["msgfmt"] == 22
    (other / "msgfmt").write_text((other / "msgfmt").read_text() + "# upgraded\n")  # same path, new size and time
    new_process()
    check_every_catalog(project)
    assert runs(other)["msgfmt"] == 22, "a verdict of the msgfmt before the upgrade is not trusted"
    new_process()
    check_every_catalog(project)
    assert runs(other)["msgfmt"] == 0


# --------------------------------------------------------------------------- a broken catalog


def break_with_a_bad_escape(path: Path) -> None:
    """A translator's slip the line guard lets through (the string is closed) and msgfmt refuses: a bad escape."""
    text = path.read_text(encoding="utf-8")
    assert '\nmsgstr ""\n\n' in text  # an entry's (the header's is followed by its fields)
    path.write_text(text.replace('\nmsgstr ""\n\n', '\nmsgstr "ភាពរីកចម្រើន\\q"\n\n', 1), encoding="utf-8")


def test_a_catalog_a_translator_broke_is_refused_with_msgfmts_own_message_every_time(project, built, tmp_path):
    tools = built[1]
    path = project / "locales" / "km" / "ch1.po"  # an earlier version of it passed: its verdict is kept
    break_with_a_bad_escape(path)
    never_kept = tmp_path / "never-kept"  # the same project without any kept verdict
    shutil.copytree(project, never_kept, symlinks=True)
    catalog_verdicts_file(load_config(never_kept)).unlink()
    refusals = []
    for where in (project, project, never_kept):
        result = run_press("build", "--no-editions", "-q", cwd=where, env=on_path(tools), timeout=600)
        assert result.returncode == ExitCode.CATALOG and "Traceback" not in result.stderr, result.stderr
        assert runs(tools)["msgfmt"] >= 1, "msgfmt ran on the broken bytes: a failure is never kept"
        refusals.append(result.stderr.strip().splitlines()[-1].replace(str(never_kept), str(project)))
    assert refusals[0] == refusals[1] == refusals[2]
    assert "msgfmt --check fails: " in refusals[0] and "ch1.po:line " in refusals[0], refusals[0]
    kept = json.loads(catalog_verdicts_file(load_config(project)).read_text())
    broken = hashlib.sha256(path.read_bytes()).hexdigest()
    assert broken not in kept["msgfmt"] and broken not in kept["checked"]


# --------------------------------------------------------------------------- a damaged memo


def _damage(memo: Path, how: str) -> None:
    data = memo.read_bytes()
    kept = json.loads(data)
    if how == "truncated":
        memo.write_bytes(data[: len(data) // 2])
    elif how == "random bytes":
        memo.write_bytes(os.urandom(len(data)))
    elif how == "empty":
        memo.write_bytes(b"")
    elif how == "a JSON list":
        memo.write_text("[1, 2, 3]")
    elif how == "wrong types":
        memo.write_text(json.dumps({"tools": {"msgfmt": 7}, "msgfmt": "abc", "checked": None, "msgcat": []}))
    elif how == "entries that are not digests":  # the right tools, so only the entries themselves are refused
        memo.write_text(json.dumps({"tools": kept["tools"], "msgfmt": [1, "../../etc/passwd", None],
                                    "checked": [{"a": 1}], "msgcat": {"x": 5, "0" * 64: ["y"]},
                                    "merged": [None, "1" * 63], "states": {"2" * 64: [1, -2, 3, 4, 5], "x": []}}))
    elif how == "a link to a whole memo":  # never followed: a link in the cache could make press read any file
        elsewhere = memo.parent.parent / "elsewhere.json"
        shutil.move(memo, elsewhere)
        memo.symlink_to(elsewhere)
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["truncated", "random bytes", "empty", "a JSON list", "wrong types",
                                 "entries that are not digests", "a link to a whole memo"])
def test_a_damaged_memo_is_ignored_and_written_again_whole(project, tools, how):
    config = load_config(project)
    memo = catalog_verdicts_file(config)
    before = snapshot(project)
    _damage(memo, how)
    with kept_verdicts_in(memo):
        update = prepare_catalogs(config)
    assert snapshot(project) == before, "the merge of an unchanged book writes nothing"
    assert len(update.segments) > 1000
    ran = runs(tools)
    assert ran["msgfmt"] >= 22 and ran["msgcat"] == 22, f"nothing in a damaged memo was trusted ({how}): {ran}"
    assert not memo.is_symlink()
    kept = json.loads(memo.read_text())
    assert set(kept) == {"tools", "msgfmt", "checked", "msgcat", "merged", "states"} and len(kept["checked"]) == 22
    new_process()
    with kept_verdicts_in(memo):
        prepare_catalogs(config)
    assert runs(tools) == Counter(), "the memo written again serves the next run"


def test_a_folder_where_the_memo_belongs_only_means_the_tools_run(project, tools):
    config = load_config(project)
    memo = catalog_verdicts_file(config)
    memo.unlink()
    memo.mkdir()
    before = snapshot(project)
    with kept_verdicts_in(memo):
        prepare_catalogs(config)
    assert snapshot(project) == before and memo.is_dir()
    assert runs(tools)["msgcat"] == 22


# --------------------------------------------------------------------------- layouts and a missing gettext


def test_a_catalog_a_translators_tool_laid_out_otherwise_is_still_left_alone(project, tools):
    """The kept layout is a shortcut for press's own layout only: a file msgcat wrapped at 60 columns holds the
    same entries, so it is compared entry by entry and kept byte for byte, as before."""
    path = project / "locales" / "ja" / "ch3.po"
    rewrapped = subprocess.run([shutil.which("msgcat") or "msgcat", "--width=60", str(path)],
                                        capture_output=True, check=True).stdout
    assert rewrapped != path.read_bytes()
    path.write_bytes(rewrapped)
    runs(tools)
    before = snapshot(project)
    config = load_config(project)
    with kept_verdicts_in(catalog_verdicts_file(config)):
        prepare_catalogs(config)
    assert snapshot(project) == before
    assert runs(tools)["msgcat"] == 1, "the 21 others by their kept layout, the rewrapped one by msgcat"


def test_without_gettext_the_kept_verdicts_are_neither_used_nor_changed(project, tools, tmp_path, monkeypatch):
    config = load_config(project)
    memo = catalog_verdicts_file(config)
    kept = memo.read_bytes()
    empty = tmp_path / "no-gettext"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    before = snapshot(project)
    with kept_verdicts_in(memo):
        prepare_catalogs(config)
    assert snapshot(project) == before and memo.read_bytes() == kept
    path = project / "locales" / "km" / "ch2.po"  # the line guard still runs, as it did without gettext
    path.write_text(path.read_text(encoding="utf-8").replace('msgstr ""\n', 'msgstr "\n', 2), encoding="utf-8")
    with kept_verdicts_in(memo), pytest.raises(CatalogError, match="unterminated string"):
        prepare_catalogs(config)


# --------------------------------------------------------------------------- two processes


def test_two_processes_keeping_verdicts_at_once_keep_both(tmp_path, built):
    """The language workers of a build each keep what they checked (the editions' labels, locales/ui); one that
    only ran msgfmt must not drop the layouts the catalogs stage kept, nor the other's passes."""
    tools = built[1]
    msgfmt, msgcat = str(tools / "msgfmt"), str(tools / "msgcat")
    memo = tmp_path / "catalog-verdicts.json"
    first, second = catalogs.KeptVerdicts(memo), catalogs.KeptVerdicts(memo)  # both read it before either wrote
    digests = [hashlib.sha256(bytes([n])).hexdigest() for n in range(4)]
    first.remember_pass(msgfmt, digests[0])
    first.remember_layout(msgcat, digests[1], digests[2])
    second.remember_pass(msgfmt, digests[3])
    first.save()
    second.save()
    kept = catalogs.KeptVerdicts(memo)
    assert kept.passed(msgfmt, digests[0]) and kept.passed(msgfmt, digests[3])
    assert kept.layout(msgcat, digests[1]) == digests[2]


# --------------------------------------------------------------------------- press's own verdicts: merges and states


def run_catalogs_stage(project: Path):
    """The catalogs stage as 'press build' runs it (merge, drafting, the states count), in this process."""
    config = load_config(project)
    return CatalogsStage(config.target_languages).run(config, Reporter(io.StringIO(), quiet=True))


def without_kept_verdicts(project: Path, destination: Path) -> Path:
    """A copy of the project without any kept verdict: what the stage does there is the reference."""
    shutil.copytree(project, destination, symlinks=True)
    catalog_verdicts_file(load_config(destination)).unlink()
    return destination


def counting_parses(monkeypatch) -> list[str]:
    """The catalogs Babel reads from now on ("km/ch1.po"), however they are reached."""
    parsed: list[str] = []
    real = catalogs._parse_catalog

    def counted(data, path, language):
        parsed.append("/".join(Path(path).parts[-2:]))
        return real(data, path, language)

    monkeypatch.setattr(catalogs, "_parse_catalog", counted)
    return parsed


def extract_again(project: Path) -> None:
    result = run_press("extract", cwd=project, timeout=600)
    assert result.returncode == 0, result.stderr


def test_after_an_edit_the_stage_reads_only_the_changed_catalogs_into_babel_and_does_what_it_did(
        project, tools, monkeypatch, tmp_path):
    edit_one_sentence(project)
    extract_again(project)
    reference = without_kept_verdicts(project, tmp_path / "reference")
    parsed = counting_parses(monkeypatch)
    outcome = run_catalogs_stage(project)
    assert sorted(set(parsed)) == ["ja/ch1.po", "km/ch1.po"], "the 20 others: merged, drafted and counted as kept"
    new_process()
    parsed.clear()
    expected = run_catalogs_stage(reference)
    assert len(set(parsed)) == 22, "without kept verdicts every catalog is read"
    assert outcome.states == expected.states and outcome.states["km"]["untranslated"] > 1000
    assert {p.relative_to(project): d for p, d in snapshot(project).items()} == {
        p.relative_to(reference): d for p, d in snapshot(reference).items()}


@pytest.mark.parametrize("change", ["contact", "team", "code"])
def test_a_changed_merge_input_outside_the_book_and_the_files_merges_its_catalogs_again(
        project, tools, monkeypatch, tmp_path, change):
    """The header's settings in book.toml and the stage's code are part of what a kept merge is keyed by."""
    if change == "contact":
        toml = project / "source" / "book.toml"
        toml.write_text(toml.read_text().replace('# contact = "Asian', 'contact = "Asian'))
    elif change == "team":
        toml = project / "source" / "book.toml"
        toml.write_text(toml.read_text().replace('# team = "Japanese <https://...>"', 'team = "Japanese <j@example.org>"'))
    reference = without_kept_verdicts(project, tmp_path / "reference")
    before = snapshot(project)
    parsed = counting_parses(monkeypatch)
    config = load_config(project)
    code = "another version of press" if change == "code" else code_fingerprint(
        CatalogsStage(config.target_languages).inputs(config).code())
    with kept_verdicts_in(catalog_verdicts_file(config), code=code):
        prepare_catalogs(config)
    merged_again = {"contact": 22, "team": 11, "code": 22}[change]  # the team is Japanese's only
    assert len(set(parsed)) == merged_again, f"no kept merge was trusted ({change}): {sorted(set(parsed))}"
    new_process()
    prepare_catalogs(load_config(reference))
    assert {p.relative_to(project): d for p, d in snapshot(project).items()} == {
        p.relative_to(reference): d for p, d in snapshot(reference).items()}
    if change == "contact":
        assert b"Report-Msgid-Bugs-To: Asian Vision Institute" in (project / "locales" / "km" / "ch3.po").read_bytes()
    changed = [path for path, data in snapshot(project).items() if before[path] != data]
    # (the catalogs' Language-Team was written by a person's tool, which the setting never overrides)
    assert len(changed) == {"contact": 22, "team": 0, "code": 0}[change], changed


def test_a_translators_work_in_one_catalog_is_merged_and_counted(project, tools, monkeypatch, tmp_path):
    path = project / "locales" / "km" / "ch2.po"
    text = path.read_text(encoding="utf-8")
    entry = '\nmsgstr ""\n\n'
    assert entry in text
    path.write_text(text.replace(entry, '\nmsgstr "ភាពរីកចម្រើន"\n\n', 1), encoding="utf-8")
    reference = without_kept_verdicts(project, tmp_path / "reference")
    parsed = counting_parses(monkeypatch)
    outcome = run_catalogs_stage(project)
    assert set(parsed) == {"km/ch2.po"}
    assert outcome.states["km"]["reviewed"] == 1 and outcome.states["ja"]["reviewed"] == 0
    new_process()
    assert run_catalogs_stage(reference).states == outcome.states
    assert snapshot(project)[path] == snapshot(reference)[reference / "locales" / "km" / "ch2.po"]


def test_the_memo_keeps_the_latest_entries_up_to_its_bound(tmp_path, built):
    """Bounded: each edit adds a few digests, so a long-lived project keeps the latest (those used last)."""
    msgfmt = str(built[1] / "msgfmt")
    memo = tmp_path / "catalog-verdicts.json"
    digests = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(catalogs.KEPT_VERDICTS_LIMIT + 100)]
    earlier = catalogs.KeptVerdicts(memo)
    earlier.remember_pass(msgfmt, digests[0])
    earlier.save()
    kept = catalogs.KeptVerdicts(memo)  # the next run: uses that one again after many new ones
    for digest in digests[1:]:
        kept.remember_pass(msgfmt, digest)
    assert kept.passed(msgfmt, digests[0])
    kept.save()
    saved = json.loads(memo.read_text())["msgfmt"]
    assert len(saved) == catalogs.KEPT_VERDICTS_LIMIT
    assert saved[-1] == digests[0] and digests[-1] in saved and digests[1] not in saved
