"""The command-line contract: help, exit codes, default paths, and what a run prints."""

from __future__ import annotations

import os
import re

from conftest import ROOT, copy_built, copy_project, run_press
from pipeline.errors import ExitCode


def test_help_lists_commands_and_exit_codes():
    result = run_press("--help")
    assert result.returncode == 0
    for word in ("extract", "build", "exit status", "input", "limit", "invalid"):
        assert word in result.stdout
    extract = run_press("extract", "--help")
    assert extract.returncode == 0
    assert "MANUSCRIPT" in extract.stdout.upper() and "--output" in extract.stdout and "book.xml" in extract.stdout
    assert run_press("build", "--help").returncode == 0


def test_python_dash_m_and_version():
    result = run_press("--version")
    assert result.returncode == 0 and result.stdout.startswith("press ")


def test_usage_errors_exit_2():
    assert run_press().returncode == ExitCode.USAGE
    assert run_press("extract", "--no-such-option").returncode == ExitCode.USAGE
    assert run_press("frobnicate").returncode == ExitCode.USAGE


def test_extract_defaults_to_the_configured_manuscript_and_output(tmp_path):
    project = copy_project(tmp_path)
    result = run_press("extract", cwd=project)
    assert result.returncode == 0, result.stderr
    output = project / "output" / "xml" / "book.xml"
    assert output.is_file()
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "extract: read source/manuscript.txt (text, 760 blocks)"
    assert "6 chapters" in lines[1] and "186 notes" in lines[1] and "DocBook 5.0 valid" in lines[1]
    # the word balance: 33,459 = the raw file's 33,463 tokens, less 8 <i>/<b> tags, plus 4 note markers
    # glued to their word ("war³"); 89 words are URL parts the repairs removed (see test_conservation)
    assert lines[2].startswith("extract: words: 33,459 read, 33,370 in the book")
    assert lines[3] == "extract: wrote output/xml/book.xml"
    assert lines[4].startswith("repair: repaired ") and "needs the editor" in lines[4]
    assert lines[4].endswith("(see output/reports/repair.md)")
    assert (project / "output" / "reports" / "repair.json").is_file()


def test_an_unchanged_rebuild_rewrites_nothing(tmp_path, built_project):
    project = copy_built(built_project, tmp_path / "project")
    first = run_press("build", "--lang", "en", cwd=project)
    assert first.returncode == 0, first.stderr
    assert "inputs unchanged, reused output/xml/book.xml" in first.stderr, "a copied project keeps its cache"
    assert re.search(r"^en +pdf +reused", first.stderr, re.M), first.stderr
    outputs = [project / "output" / "xml" / "book.xml", project / "output" / "en" / "rise-of-global-south.pdf"]
    before = [path.stat().st_mtime_ns for path in outputs]
    again = run_press("build", "--lang", "en", "--project", str(project), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "inputs unchanged, reused output/xml/book.xml" in again.stderr
    assert re.search(r"^en +pdf +reused", again.stderr, re.M), again.stderr
    assert [path.stat().st_mtime_ns for path in outputs] == before


def test_output_option_and_quiet(tmp_path):
    target = tmp_path / "elsewhere" / "my.xml"
    result = run_press("extract", str(ROOT / "source" / "manuscript.txt"), "-o", str(target), "-q")
    assert result.returncode == 0
    assert result.stderr == ""
    assert target.read_bytes().startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<book ")


def test_no_project_is_a_configuration_error(tmp_path):
    result = run_press("build", cwd=tmp_path)
    assert result.returncode == ExitCode.CONFIG
    assert result.stderr.startswith("error: config: no source/book.toml found")


def test_broken_configuration_names_the_problem(tmp_path):
    project = copy_project(tmp_path)
    config = project / "source" / "book.toml"
    config.write_text(config.read_text().replace('trim = "B5"', 'trim = "B55"'))
    result = run_press("extract", cwd=project)
    assert result.returncode == ExitCode.CONFIG
    assert "unknown trim size 'B55'" in result.stderr and "book.toml" in result.stderr
    config.write_text("[book\nmanuscript = 1")
    result = run_press("extract", cwd=project)
    assert result.returncode == ExitCode.CONFIG and "not valid TOML" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(tmp_path):
    result = run_press("extract", str(tmp_path / "missing.txt"), "--debug")
    assert result.returncode == ExitCode.INPUT
    assert "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: input: manuscript not found")


def test_stale_editorial_decision_is_reported(tmp_path):
    project = copy_project(tmp_path)
    editorial = project / "source" / "editorial.toml"
    editorial.write_text(editorial.read_text() + '"ch2: A Heading That Is Not There" = 2\n')
    from pipeline.config import load_config
    from pipeline.extract import extract_book
    result = extract_book(load_config(project), output=tmp_path / "b.xml")
    stale = result.findings.of_type("editorial-decision")
    assert [f.before for f in stale] == ["ch2: a heading that is not there"]
    assert os.path.exists(tmp_path / "b.xml")


def test_no_editions_runs_the_stages_before_the_editions_and_renders_none(tmp_path, built_project):
    """`--no-editions` is the first job of a CI matrix (.github/workflows/fanout.yml): the book, catalogs and
    checks made and cached, no edition laid out; the build after it renders from that cache."""
    project = copy_project(tmp_path)
    result = run_press("build", "--no-editions", cwd=project)
    assert result.returncode == 0, result.stderr
    output = project / "output"
    assert (output / "xml" / "book.xml").is_file() and (output / "reports" / "repair.json").is_file()
    entries = {p.stem for p in (output / ".cache").glob("*.json")}
    assert {"extract", "catalogs", "review"} <= entries
    assert not {entry for entry in entries if entry.split("-")[0] in ("pdf", "printer", "epub")}, entries
    assert not [p for p in output.rglob("*") if p.suffix in (".pdf", ".epub")]
    assert "render:" not in result.stderr
    assert (output / "xml" / "book.xml").read_bytes() == (built_project / "output" / "xml" / "book.xml").read_bytes()
    both = run_press("build", "--no-editions", "--format", "pdf", cwd=project)
    assert both.returncode == ExitCode.USAGE and "--no-editions" in both.stderr


def test_a_workers_progress_lines_are_shown_while_it_works():
    """A render worker's lines reach the build's stream as it prints them, not when it is done: the forked
    worker here waits, after its first line, until the parent has shown that line (a worker whose lines were
    kept for the end would wait forever, and the test fail at its bound)."""
    import io
    import threading

    from pipeline.progress import LinePipe, Reporter

    class Watched(io.StringIO):
        def __init__(self) -> None:
            super().__init__()
            self.seen = threading.Event()

        def write(self, text: str) -> int:
            written = super().write(text)
            if "km PDF …" in self.getvalue():
                self.seen.set()
            return written

    shown = Watched()
    lines = LinePipe(shown)
    go_on_r, go_on_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker
        try:
            reporter = Reporter(lines.writer())
            reporter.step("render", "km PDF …")
            os.read(go_on_r, 1)  # until the parent has shown the line
            reporter.step("render", "km PDF: 110 pages " + "x" * 5000)  # longer than a pipe writes whole
        finally:
            os._exit(0)
    lines.start()
    try:
        assert shown.seen.wait(60), "the worker's first line was not shown while it worked"
        os.write(go_on_w, b"1")
    finally:
        os.waitpid(pid, 0)
        lines.close()
    printed = shown.getvalue().splitlines()
    assert printed[0] == "render: km PDF …"
    assert printed[1].startswith("render: km PDF: 110 pages xxx") and printed[1].endswith("…")
    assert len(printed[1].encode()) <= LinePipe.LIMIT + len("…".encode()) and len(printed) == 2
