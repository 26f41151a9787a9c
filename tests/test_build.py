"""The build's bookkeeping: one build at a time per project, and a manifest of what made what."""

from __future__ import annotations

import hashlib
import re
import json
import threading
import time

import pytest
from lxml import etree

from conftest import copy_built, copy_project, run_press, small_project
from pipeline.config import load_config
from pipeline.errors import ExitCode
from pipeline.lock import project_lock


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_second_build_says_one_is_running_and_changes_nothing(tmp_path):
    project = copy_project(tmp_path)
    config = load_config(project)
    with project_lock(config):
        result = run_press("build", "--lang", "en", cwd=project)
    assert result.returncode == ExitCode.BUSY
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "press build (pid " in errors[0] and "is running in this project" in errors[0]
    assert not (project / "output" / "xml").exists(), "the refused build wrote nothing"


def test_a_build_told_to_wait_runs_when_the_first_finishes(tmp_path, built_project):
    project = copy_built(built_project, tmp_path)
    config = load_config(project)
    released = threading.Event()

    def hold():
        with project_lock(config):
            time.sleep(2)
        released.set()

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.3)
    result = run_press("build", "--lang", "en", "--format", "pdf", "--wait", "60", cwd=project)
    holder.join()
    assert released.is_set()
    assert result.returncode == 0, result.stderr
    assert (project / "output" / "en" / "rise-of-global-south.pdf").is_file()


@pytest.mark.slow
def test_the_manifest_names_each_output_with_its_inputs_and_tools(tmp_path, built_project):
    project = copy_built(built_project, tmp_path)
    assert run_press("build", "--lang", "en", cwd=project).returncode == 0
    manifest_path = project / "output" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    pdf = project / "output" / "en" / "rise-of-global-south.pdf"
    assert manifest["outputs"]["output/en/rise-of-global-south.pdf"]["sha256"] == sha256(pdf)
    assert manifest["outputs"]["output/xml/book.xml"]["sha256"] == sha256(project / "output" / "xml" / "book.xml")
    assert "output/reports/translation-status.html" not in manifest["outputs"], "English alone reads no catalogs"
    assert manifest["inputs"]["source/manuscript.txt"] == sha256(project / "source" / "manuscript.txt")
    assert "templates/print.css" in manifest["inputs"] and "locales/ui/km.po" in manifest["inputs"]
    assert manifest["tools"]["weasyprint"] and manifest["tools"]["press"]
    assert "Noto Serif" in manifest["fonts"]["en"]
    before = manifest_path.stat().st_mtime_ns
    assert run_press("build", "--lang", "en", cwd=project).returncode == 0
    assert manifest_path.stat().st_mtime_ns == before, "an unchanged build leaves the manifest alone"
    stylesheet = project / "templates" / "epub.css"  # an input of the EPUB alone: one quick edition made again
    stylesheet.write_text(stylesheet.read_text(encoding="utf-8") + "\n/* edited */\n", encoding="utf-8")
    assert run_press("build", "--lang", "en", "--format", "epub", cwd=project).returncode == 0
    changed = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert changed["inputs"]["templates/epub.css"] != manifest["inputs"]["templates/epub.css"]
    epub = "output/en/rise-of-global-south.epub"
    assert changed["outputs"][epub]["sha256"] == sha256(project / epub) != manifest["outputs"][epub]["sha256"]


def _build(project, *args):
    result = run_press("build", "--format", "pdf", *args, cwd=project, timeout=600)
    assert result.returncode == 0, result.stderr
    return result.stderr


@pytest.mark.slow
def test_only_what_an_edit_touches_is_rebuilt_and_a_damaged_cache_is_not_trusted(tmp_path, built_project):
    project = copy_built(built_project, tmp_path)
    _build(project, "--lang", "en", "--lang", "ja")
    pdfs = {lang: project / "output" / lang / "rise-of-global-south.pdf" for lang in ("en", "ja")}
    stamps = {lang: path.stat().st_mtime_ns for lang, path in pdfs.items()}

    log = _build(project, "--lang", "en", "--lang", "ja")
    assert "reused output/xml/book.xml" in log and "nothing to merge or draft" in log
    assert {lang: path.stat().st_mtime_ns for lang, path in pdfs.items()} == stamps, "a no-op build writes nothing"

    ui = project / "locales" / "ui" / "ja.po"  # a label only the Japanese edition uses
    ui.write_text(ui.read_text(encoding="utf-8").replace('msgstr "目次"', 'msgstr "もくじ"'), encoding="utf-8")
    log = _build(project, "--lang", "en", "--lang", "ja")
    assert "en PDF: inputs unchanged" in log and "ja PDF: inputs unchanged" not in log
    assert pdfs["en"].stat().st_mtime_ns == stamps["en"] and pdfs["ja"].stat().st_mtime_ns != stamps["ja"]

    entry = project / "output" / ".cache" / "pdf-en.json"
    entry.write_text(entry.read_text(encoding="utf-8")[:40], encoding="utf-8")  # damaged
    log = _build(project, "--lang", "en")
    assert "en PDF: inputs unchanged" not in log and "render: en PDF:" in log
    pdfs["en"].write_bytes(b"%PDF-1.7 tampered")  # an output changed behind the cache's back
    log = _build(project, "--lang", "en")
    assert "render: en PDF:" in log and "inputs unchanged, reused rise" not in log
    assert pdfs["en"].read_bytes().startswith(b"%PDF-1.7\n")


@pytest.mark.slow
def test_a_one_sentence_edit_touches_only_that_entry_and_keeps_reviewed_work(tmp_path, built_project):
    from babel.messages.pofile import read_po, write_po
    project = copy_built(built_project, tmp_path)
    _build(project, "--lang", "km")
    locales = project / "locales" / "km"

    def catalog(name):
        with (locales / name).open("rb") as handle:
            return read_po(handle, locale="km")

    reviewed = {"ch1.po": ("ch1-s1-p1.1", "ជប៉ុននិងអាស៊ានគឺជាសសរស្តម្ភនៃស្ថិរភាព។"),
                "ch2.po": ("ch2-s1-p1.1", "ពិភពលោកកំពុងផ្លាស់ប្តូរ។")}
    for name, (context, text) in reviewed.items():
        po = catalog(name)
        message = next(m for m in po if m.context == context)
        message.string = text
        message.flags.discard("fuzzy")
        with (locales / name).open("wb") as handle:
            write_po(handle, po, width=0)
    def entries(name):
        return {(m.context, m.id): (m.string, m.fuzzy, tuple(m.previous_id or ())) for m in catalog(name) if m.id}

    before = {path.name: entries(path.name) for path in locales.glob("*.po")}
    ch1_before = {m.context: (m.id, m.string, m.fuzzy) for m in catalog("ch1.po") if m.id}

    manuscript = project / "source" / "manuscript.txt"
    manuscript.write_text(manuscript.read_text(encoding="utf-8").replace(
        "Japan and ASEAN have been the cornerstones of stability", "Japan and ASEAN have long been the pillars of "
        "stability", 1), encoding="utf-8")
    log = _build(project, "--lang", "km")
    assert "render: km PDF:" in log, "the edition showing the paragraph is rendered again"
    assert re.search(r"^translators \(km\): [\d,]+ untranslated, 0 machine draft, 1 needs review, 1 reviewed segments",
                     log, re.M), log
    assert re.search(r"^reviewers \(km\): \d+ translation findings? \(output/reports/translation-check-km\.txt\)$",
                     log, re.M), log
    manifest = json.loads((project / "output" / "manifest.json").read_text(encoding="utf-8"))
    status = project / "output" / "reports" / "translation-status.html"
    assert manifest["outputs"]["output/reports/translation-status.html"]["sha256"] == sha256(status)
    assert "output/reports/translation-check-km.json" in manifest["outputs"]

    after = {path.name: entries(path.name) for path in locales.glob("*.po")}
    assert [name for name in before if before[name] != after[name]] == ["ch1.po"]
    ch1_after = {m.context: m for m in catalog("ch1.po") if m.id}
    changed = [context for context in ch1_before
               if (ch1_after[context].id, ch1_after[context].string, ch1_after[context].fuzzy) != ch1_before[context]]
    assert changed == ["ch1-s1-p1.1"], changed
    edited = ch1_after["ch1-s1-p1.1"]
    assert edited.fuzzy and edited.string == reviewed["ch1.po"][1], "the reviewer's words are kept, for review"
    assert edited.id.startswith("Japan and ASEAN have long been the pillars")
    raw = (locales / "ch1.po").read_text(encoding="utf-8")  # Babel's reader drops #| lines; msgfmt keeps them
    previous = re.search(r'#, fuzzy\n((?:#\| .*\n)+)msgctxt "ch1-s1-p1\.1"\n', raw)
    assert previous and "cornerstones" in previous.group(1)
    assert next(m for m in catalog("ch2.po") if m.context == "ch2-s1-p1.1").string == reviewed["ch2.po"][1]


OLD_EDITION = b"%PDF-1.7 the previous edition\n%%EOF\n"


def _refused_english_pdf(project) -> str:
    """Build the English PDF over a previous edition, expecting a limit: the one error line; the previous
    edition must be untouched, with nothing beside it."""
    old = project / "output" / "en" / "rise-of-global-south.pdf"
    old.parent.mkdir(parents=True)
    old.write_bytes(OLD_EDITION)
    result = run_press("build", "--lang", "en", "--format", "pdf", cwd=project)
    assert result.returncode == ExitCode.LIMIT, result.stderr
    assert "Traceback" not in result.stderr
    # stopped where the limit fell, not after laying out the book (its render workers went on to the end):
    # measured by what was laid out, not by the clock, so a busy machine does not change the answer
    book = project / "output" / "xml" / "book.xml"
    chapters = len(etree.fromstring(book.read_bytes()).findall("{http://docbook.org/ns/docbook}chapter"))
    laid_out = list((project / "output" / ".cache" / "parts" / "en").glob("ch*.pdf"))
    assert chapters == 6 and len(laid_out) < chapters, [path.name for path in laid_out]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, errors
    assert old.read_bytes() == OLD_EDITION
    assert not [p for p in old.parent.iterdir() if p.name != old.name], "no debris beside the edition"
    return errors[0]


@pytest.mark.slow
def test_a_render_over_the_time_limit_stops_with_one_line_and_keeps_the_old_edition(tmp_path):
    project = copy_project(tmp_path)
    toml = project / "source" / "book.toml"
    text = toml.read_text(encoding="utf-8")
    if "[limits]" in text:
        text = text.replace("[limits]", "[limits]\nrender_timeout_s = 1", 1)
    else:
        text += "\n[limits]\nrender_timeout_s = 1\n"
    toml.write_text(text, encoding="utf-8")
    error = _refused_english_pdf(project)
    assert "longer than 1 s" in error and "render_timeout_s" in error, error


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims to be huge but holds almost nothing: a decompression bomb's shape."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
            + chunk(b"IEND", b""))


def test_a_huge_image_is_refused_before_decoding_and_the_old_edition_kept(tmp_path):
    import resource
    for width, height, message in ((50_000, 50_000, "too large to decode safely"),
                                   (8_000, 6_000, "over the limit of 40,000,000")):
        project = copy_project(tmp_path / f"p{width}")
        (project / "source" / "images").mkdir(exist_ok=True)
        (project / "source" / "images" / "ch1-opener.png").write_bytes(_png_header_only(width, height))
        error = _refused_english_pdf(project)
        assert message in error and "ch1-opener.png" in error, error
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 1_500_000  # KiB: nothing was decoded


@pytest.mark.slow
def test_strict_fails_on_a_character_no_font_can_draw(tmp_path):
    clean = small_project(tmp_path / "clean")
    result = run_press("build", "--lang", "en", "--format", "pdf", "--strict", cwd=clean)
    assert result.returncode == 0, result.stderr  # the test's book is clean: strict judges only the glyph
    project = small_project(tmp_path / "glyph", extra=", and a sign no font has: \ue000")
    result = run_press("build", "--lang", "en", "--format", "pdf", "--strict", cwd=project)
    assert result.returncode == ExitCode.STRICT, result.stderr
    strict = [line for line in result.stderr.splitlines() if line.startswith("error: strict:")]
    assert len(strict) == 1 and "1 missing-glyph" in strict[0], result.stderr
    assert (project / "output" / "en" / "rise-of-global-south.pdf").is_file(), "strict still writes the edition"
    report = json.loads((project / "output" / "reports" / "diagnostics.json").read_text(encoding="utf-8"))
    glyphs = [d for d in report["diagnostics"] if d["kind"] == "missing-glyph"]
    assert len(glyphs) == 1 and glyphs[0]["severity"] == "warning" and "U+E000" in glyphs[0]["message"]
    assert glyphs[0]["location"] == "en PDF" and report["counts"]["warning"] == 1


def test_a_stylesheet_reaching_outside_the_project_is_a_warning_strict_fails_on(tmp_path):
    """The render fetcher refuses the file; the refusal is a typed warning, not a line nobody reads."""
    project = small_project(tmp_path)
    css = project / "templates" / "print.css"
    css.write_text(css.read_text(encoding="utf-8") + "\n@font-face { font-family: Leak; src: url(file:///etc/hostname) }"
                   "\nbody { font-family: Leak, serif }\n", encoding="utf-8")
    result = run_press("build", "--lang", "en", "--format", "pdf", "--strict", cwd=project)
    assert result.returncode == ExitCode.STRICT, result.stderr
    report = json.loads((project / "output" / "reports" / "diagnostics.json").read_text(encoding="utf-8"))
    refused = [d for d in report["diagnostics"] if d["kind"] == "refused-fetch"]
    assert refused and "/etc/hostname" in refused[0]["message"] and refused[0]["severity"] == "warning"
    manifest = json.loads((project / "output" / "manifest.json").read_text(encoding="utf-8"))
    assert "output/reports/diagnostics.json" in manifest["outputs"]


def _damaged_pdf(path) -> None:
    """A real PDF (WeasyPrint) whose startxref pointer is off: pypdf reads it tolerantly and warns."""
    import weasyprint
    html = ("<html><body><h1>A Small Book</h1><p>Edited by John Smith</p><h1 style='break-before:page'>Chapter 1</h1>"
            "<h2>Introduction</h2><p>This short paragraph says something plain about the world.</p></body></html>")
    data = weasyprint.HTML(string=html).write_pdf()
    match = re.search(rb"startxref\s+(\d+)", data)
    path.write_bytes(data[:match.start(1)] + str(int(match.group(1)) + 7).encode() + data[match.end(1):])


def test_a_readers_warnings_reach_the_summary_and_strict(tmp_path):
    project = copy_project(tmp_path)
    _damaged_pdf(project / "source" / "book.pdf")
    toml = project / "source" / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('manuscript = "manuscript.txt"',
                                                             'manuscript = "book.pdf"'), encoding="utf-8")
    result = run_press("build", "--lang", "en", "--format", "pdf", "--strict", cwd=project)
    assert result.returncode == ExitCode.STRICT, result.stderr
    assert "incorrect startxref pointer" in result.stderr, result.stderr
    strict = [line for line in result.stderr.splitlines() if line.startswith("error: strict:")]
    assert len(strict) == 1 and "tolerant-read" in strict[0], result.stderr  # the reader's kind of warning
    again = run_press("build", "--lang", "en", "--format", "pdf", "--strict", cwd=project)
    assert "reused output/xml/book.xml" in again.stderr
    assert "incorrect startxref pointer" in again.stderr, "a reused extract still reports its reader's warnings"


def test_a_render_workers_error_reaches_the_build_as_it_was_raised(tmp_path, monkeypatch):
    """Two languages render in parallel worker processes; an error raised in one reaches the build with its
    class, category, exit code, place and hint (not rebuilt from its class name), and the build stops."""
    import io
    import os
    from pipeline import errors
    from pipeline.build import BuildOptions, build
    from pipeline.progress import Reporter
    from pipeline.render import pdf
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the languages render in this process, not in workers")
    project = copy_project(tmp_path)
    raised = errors.PipelineError("the printer's profile is unreadable", "templates/print.icc", "byte 12",
                                  "export it again", category="colour", exit_code=ExitCode.ENVIRONMENT)

    def failing_render(*args, **kwargs):
        raise raised

    monkeypatch.setattr(pdf, "render_pdf", failing_render)  # the workers are forked: they inherit it
    with pytest.raises(errors.PipelineError) as caught:
        build(project, reporter=Reporter(io.StringIO(), quiet=True),
              options=BuildOptions(languages=("en", "ja"), formats=("pdf",)))
    assert type(caught.value) is errors.PipelineError
    assert caught.value.one_line() == raised.one_line() and caught.value.exit_code == ExitCode.ENVIRONMENT


def test_drafting_without_a_model_is_a_warning_strict_fails_on_also_when_reused(tmp_path):
    """Drafting prints "warning:" when a language's model is not installed; that line is a typed diagnostic
    (diagnostics.json, the summary's warnings, --strict), and a reused catalogs stage still reports it."""
    from pipeline.i18n.models import READY, language_status
    project = small_project(tmp_path)
    if language_status(load_config(project), "km").state == READY:
        pytest.skip("a Khmer model is installed here: drafting has nothing to warn about")
    for attempt in ("first", "reused"):
        result = run_press("build", "--lang", "km", "--format", "epub", "--strict", cwd=project, timeout=600)
        assert result.returncode == ExitCode.STRICT, (attempt, result.stderr)
        strict = [line for line in result.stderr.splitlines() if line.startswith("error: strict:")]
        assert len(strict) == 1 and "1 no-model" in strict[0], (attempt, result.stderr)
        report = json.loads((project / "output" / "reports" / "diagnostics.json").read_text(encoding="utf-8"))
        missing = [d for d in report["diagnostics"] if d["kind"] == "no-model"]
        assert len(missing) == 1 and missing[0]["severity"] == "warning" and missing[0]["location"] == "locales/km"
        assert "press models install" in missing[0]["message"], missing[0]
    assert "book and catalogs unchanged" in result.stderr, "the second build reused the catalogs stage"


def test_control_characters_the_pdf_reader_drops_are_warnings_per_page(tmp_path):
    """A control character in a PDF's text (here one WeasyPrint set, which breaks its font's text layer) is
    dropped by the reader and reported page by page: typed warnings, in diagnostics.json and for --strict."""
    import weasyprint
    project = small_project(tmp_path)
    html = ("<html><body><h1>A Small Book</h1><p>Edited by John Smith</p><h1 style='break-before:page'>Chapter 1"
            "</h1><h2>Introduction</h2><p>This short paragraph says some\x07thing plain about the world.</p>"
            "</body></html>")
    (project / "source" / "book.pdf").write_bytes(weasyprint.HTML(string=html).write_pdf())
    toml = project / "source" / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('manuscript = "manuscript.txt"',
                                                             'manuscript = "book.pdf"'), encoding="utf-8")
    result = run_press("build", "--lang", "en", "--format", "epub", "--strict", cwd=project)
    assert result.returncode == ExitCode.STRICT, result.stderr
    strict = [line for line in result.stderr.splitlines() if line.startswith("error: strict:")]
    assert len(strict) == 1 and "control-characters" in strict[0], result.stderr
    report = json.loads((project / "output" / "reports" / "diagnostics.json").read_text(encoding="utf-8"))
    dropped = [d for d in report["diagnostics"] if d["kind"] == "control-characters"]
    assert dropped and all(d["severity"] == "warning" and re.fullmatch(r"source/book\.pdf:page \d+", d["location"])
                           for d in dropped), dropped


@pytest.mark.slow
def test_a_translation_that_lost_placeholders_is_counted_once_when_one_edition_is_reused(tmp_path):
    """Localizing is shared by a language's editions; when the PDF is reused and the EPUB made again, both
    carry the finding, and the build's diagnostics count it once."""
    project = small_project(tmp_path, extra=", and *this* word")
    assert run_press("build", "--lang", "km", "--format", "epub", cwd=project).returncode == 0  # makes the catalogs
    catalog = project / "locales" / "km" / "ch1.po"
    source = '"Another paragraph follows with more words in it, and <e1>this</e1> word."\nmsgstr ""'
    text = catalog.read_text(encoding="utf-8")
    assert source in text, text
    catalog.write_text(text.replace(source, source[:-2] + '"កថាខណ្ឌមួយទៀត ពាក្យនេះ។"'), encoding="utf-8")

    def lost() -> list[dict]:
        report = json.loads((project / "output" / "reports" / "diagnostics.json").read_text(encoding="utf-8"))
        return [d for d in report["diagnostics"] if d["kind"] == "lost-placeholders"]

    assert run_press("build", "--lang", "km", cwd=project).returncode == 0
    assert len(lost()) == 1 and lost()[0]["severity"] == "warning", lost()
    css = project / "templates" / "epub.css"
    css.write_text(css.read_text(encoding="utf-8") + "\n/* the EPUB restyled */\n", encoding="utf-8")
    again = run_press("build", "--lang", "km", cwd=project)
    assert again.returncode == 0 and "km PDF: inputs unchanged" in again.stderr, again.stderr
    assert len(lost()) == 1, lost()
