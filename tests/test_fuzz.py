"""Fuzzing: Hypothesis harnesses for every reader of untrusted files.

The contract each harness checks: whatever the bytes, the reader either returns a result the
next stage accepts (for manuscripts: a book valid against the DocBook 5.0 schema) or raises one
of the pipeline's errors (a PipelineError, printed as one line); never another exception, never
a half-applied import, always within seconds. Inputs are grown from real material (the
manuscript's lines, a Word file from python-docx, a PDF from WeasyPrint, the committed catalogs,
review packages exported by press) and then damaged.

Examples per harness: PRESS_FUZZ_EXAMPLES (default 40, enough for CI); a campaign runs thousands:
    PRESS_FUZZ_EXAMPLES=3000 .venv/bin/python -m pytest tests/test_fuzz.py -q
Anything a campaign finds is fixed and pinned below with @example, so every run replays it.
"""

from __future__ import annotations

import copy
import io
import os
import random
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import MANUSCRIPT, copy_project
from pipeline.docbook import validate
from pipeline.errors import PipelineError, ValidationError
from pipeline.findings import Findings
from pipeline.repair import repair_book
from pipeline.structure import structure_book

EXAMPLES = int(os.environ.get("PRESS_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
SECONDS = 20  # one input, however hostile, is handled within this (the real book takes well under 1 s)
LINES = MANUSCRIPT.read_text(encoding="utf-8").splitlines()
TRICKY = ["Chapter 1", "CHAPTER 7", "Notes", "References", "Ibid.", "Ibid., p. 4.", "1.", "12 ", "¹", "[3]",
          "<img src=\"file:///etc/passwd\">", "<a rel=\"attachment\" href=\"file:///etc/passwd\">x</a>",
          "http://", "https://doi.org/10.1000/(x", "ISBN 978-0-00-000000-0", "Table 1:", "Figure 2.",
          "\u200b", "\ufeff", "\x00", "\x1b[31m", "&amp;", "]]>", "\u202e", "ក្នុង", "日本", "Foreword", "Contents",
          " " * 200, "—" * 50, "1" * 400]


def _xml_safe(text: str) -> str:
    """Text python-docx and lxml can store (XML 1.0 characters), as a real editor would produce."""
    return "".join(ch for ch in text if ch in "\t\n" or (ord(ch) >= 32 and not 0xD800 <= ord(ch) <= 0xDFFF
                                                         and ch not in "\ufffe\uffff"))


def _bounded(function, *args):
    started = time.monotonic()
    try:
        return function(*args)
    finally:
        assert time.monotonic() - started < SECONDS, "an input took too long"


def _book_from(manuscript) -> None:
    """Structure, repair and validate: what extract does after reading, without writing."""
    findings = Findings()
    book = structure_book(manuscript, findings=findings)
    repair_book(book.root, findings)
    problems = validate(book.root)
    assert not problems, f"the pipeline built invalid DocBook: {problems[:3]}"


def _read_or_refuse(reader, data: bytes, name: str) -> None:
    """Read and build the book; any PipelineError is a refusal, except a ValidationError (our own bug)."""
    try:
        _bounded(_book_from, _bounded(reader, data, Path(name)))
    except ValidationError:
        raise
    except PipelineError:
        return


# --------------------------------------------------------------------------- text manuscripts

manuscript_lines = st.one_of(st.sampled_from(LINES), st.sampled_from(TRICKY), st.text(max_size=60))
text_manuscripts = st.lists(manuscript_lines, max_size=80).map("\n".join)


@FUZZ
@given(text=text_manuscripts, encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
@example(text="\n".join(LINES[:400]), encoding="utf-8")
@example(text="Chapter 1\nNotes\n1 Ibid.\n", encoding="utf-8")
@example(text="\n".join(LINES[:359]), encoding="utf-8")  # found: a last heading with nothing under it
@example(text="\n".join(LINES[:52]), encoding="utf-8")  # found: a contents page cut after "Chapter 1"
@example(text="Chapter 1\nChapter 1", encoding="utf-8")  # found: two chapters with one number
def test_text_reader_gives_a_valid_book_or_one_error(text, encoding):
    from pipeline.ingest.text import read_text
    _read_or_refuse(lambda data, path: read_text(data, path), text.encode(encoding, "surrogatepass"), "m.txt")


@FUZZ
@given(data=st.binary(max_size=4096))
@example(data=b"\xff\xfe\x00")
@example(data=b"Chapter 1\r\n\x00\x00\xc3")
def test_text_reader_takes_any_bytes(data):
    from pipeline.ingest.text import read_text
    _read_or_refuse(lambda raw, path: read_text(raw, path), data, "m.txt")


# --------------------------------------------------------------------------- Word manuscripts


def _word_file(paragraphs: list[tuple[str, str]]) -> bytes:
    import docx
    document = docx.Document()
    for style, text in paragraphs:
        clean = _xml_safe(text)
        if style.startswith("Heading"):
            document.add_heading(clean, level=int(style[-1]))
        elif style == "List Number":
            document.add_paragraph(clean, style="List Number")
        elif style == "bold":
            document.add_paragraph().add_run(clean).bold = True
        else:
            document.add_paragraph(clean)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _damage(data: bytes, cuts: list[tuple[int, int, bytes]]) -> bytes:
    """Overwrite, cut or insert at positions scaled to the data, the way transfers and tools damage files."""
    data = bytearray(data)
    for position, length, chunk in cuts:
        if not data:
            break
        at = position % len(data)
        data[at:at + length % 64] = chunk
    return bytes(data)


damage = st.lists(st.tuples(st.integers(0, 1 << 30), st.integers(0, 200), st.binary(max_size=16)), max_size=4)
word_paragraphs = st.lists(st.tuples(st.sampled_from(["Heading 1", "Heading 2", "Normal", "List Number", "bold"]),
                                     manuscript_lines), max_size=30)


@FUZZ
@given(paragraphs=word_paragraphs, cuts=damage, member_damage=st.booleans())
def test_docx_reader_gives_a_valid_book_or_one_error(paragraphs, cuts, member_damage):
    from pipeline.ingest.docx import read_docx
    data = _word_file(paragraphs)
    if member_damage:  # damage document.xml inside an intact zip: XML errors rather than zip errors
        source = zipfile.ZipFile(io.BytesIO(data))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                body = source.read(info)
                target.writestr(info.filename, _damage(body, cuts) if info.filename == "word/document.xml" else body)
        data = buffer.getvalue()
    else:
        data = _damage(data, cuts)
    _read_or_refuse(lambda raw, path: read_docx(raw, path), data, "m.docx")


# --------------------------------------------------------------------------- PDF manuscripts


@pytest.fixture(scope="module")
def small_pdf() -> bytes:
    import weasyprint
    html = ("<h1>Chapter 1</h1><h1>Japan and ASEAN</h1><h2>Introduction</h2>"
            + "".join(f"<p>{line}</p>" for line in LINES[200:260] if line.strip())
            + "<ol><li>First note, https://example.org/a</li><li>Ibid.</li></ol>")
    return weasyprint.HTML(string=html).write_pdf()


@FUZZ
@given(cuts=damage, truncate=st.one_of(st.none(), st.floats(0, 1)))
@example(cuts=[(25893, 7, b"")], truncate=None)  # found: control characters from a broken text layer
@example(cuts=[(34, 1, b"")], truncate=None)  # found: a damaged filter name (pypdf: NotImplementedError)
def test_pdf_reader_gives_a_valid_book_or_one_error(small_pdf, cuts, truncate):
    from pipeline.ingest.pdf import read_pdf
    data = _damage(small_pdf, cuts)
    if truncate is not None:
        data = data[:int(len(data) * truncate)]
    _read_or_refuse(lambda raw, path: read_pdf(raw, path), data, "m.pdf")


# --------------------------------------------------------------------------- catalogs


CATALOG = (Path(__file__).resolve().parents[1] / "locales" / "km" / "foreword.po").read_bytes()
po_edits = st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(
    ['"', '\\', 'msgid "x"', 'msgstr ""', '#, fuzzy', '#~ msgid "', 'msgctxt "a"', "\x00", "\\u", '""', "\n", ""])),
    max_size=6)


@FUZZ
@given(edits=po_edits, cuts=damage)
@example(edits=[(40, '"')], cuts=[])
def test_catalog_reader_gives_a_catalog_msgfmt_accepts_or_one_error(tmp_path, edits, cuts):
    from pipeline.errors import CatalogError
    from pipeline.i18n.catalogs import read_catalog, render_catalog
    lines = CATALOG.decode("utf-8").split("\n")
    for position, text in edits:
        lines.insert(position % (len(lines) + 1), text)
    path = tmp_path / f"fuzz-{random.random()}.po"
    path.write_bytes(_damage("\n".join(lines).encode("utf-8"), cuts))
    try:
        catalog = _bounded(read_catalog, path, "km")
    except CatalogError:
        return
    from pipeline.i18n.catalogs import check_po_bytes
    check_po_bytes(render_catalog(catalog), path)  # what we would write back is a catalog msgfmt accepts


# --------------------------------------------------------------------------- review packages


@pytest.fixture(scope="module")
def review_project(tmp_path_factory) -> Path:
    from conftest import run_press
    project = copy_project(tmp_path_factory.mktemp("fuzz-review") / "project")
    for fmt in ("xliff", "docx"):
        result = run_press("review", "export", "ja", "--format", fmt, "--part", "foreword", cwd=project)
        assert result.returncode == 0, result.stderr
    return project


def _fresh_copy(review_project: Path, tmp_path: Path, package: str) -> tuple[Path, Path]:
    """One project per example (Hypothesis reuses the test's tmp_path), and its exported package."""
    project = Path(tempfile.mkdtemp(dir=tmp_path)) / "p"
    shutil.copytree(review_project, project)
    return project, project / "output" / "review" / "ja" / package


def _import_or_refuse(project: Path, package: Path) -> None:
    from pipeline.config import load_config
    from pipeline.i18n.catalogs import check_po_bytes
    from pipeline.review import import_review
    catalog = project / "locales" / "ja" / "foreword.po"
    before = catalog.read_bytes()
    try:
        _bounded(import_review, load_config(project), package)
    except PipelineError:
        assert catalog.read_bytes() == before, "a refused package changed the catalog"
        return
    check_po_bytes(catalog.read_bytes(), catalog)


xml_edits = st.lists(st.tuples(st.sampled_from(["drop", "dup", "attr", "text", "tail", "rename"]),
                               st.integers(0, 10_000), st.text(max_size=20)), min_size=1, max_size=5)


@FUZZ
@given(edits=xml_edits, cuts=damage)
def test_xliff_import_applies_whole_or_refuses_whole(review_project, tmp_path, edits, cuts):
    from lxml import etree
    project, package = _fresh_copy(review_project, tmp_path, "foreword.xlf")
    root = etree.fromstring(package.read_bytes())
    for action, number, text in edits:
        elements = list(root.iter())
        element = elements[number % len(elements)]
        clean = _xml_safe(text)
        parent = element.getparent()
        if action == "drop" and parent is not None:
            parent.remove(element)
        elif action == "dup" and parent is not None:
            parent.insert(parent.index(element), copy.deepcopy(element))
        elif action == "attr" and element.attrib:
            name = sorted(element.attrib)[number % len(element.attrib)]
            element.set(name, clean)
        elif action == "text":
            element.text = clean
        elif action == "tail" and parent is not None:
            element.tail = clean
        elif action == "rename":
            element.tag = etree.QName(element).namespace and f"{{{etree.QName(element).namespace}}}x{number % 3}" or "x"
    package.write_bytes(_damage(etree.tostring(root, xml_declaration=True, encoding="utf-8"), cuts))
    _import_or_refuse(project, package)


cell_edits = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 4), manuscript_lines), min_size=1, max_size=5)


@FUZZ
@given(edits=cell_edits, cuts=damage)
@example(edits=[(0, 0, "")], cuts=[(49, 4, b"\x00\x00\x00\x00")])  # found: zlib.error from a damaged member
def test_docx_review_import_applies_whole_or_refuses_whole(review_project, tmp_path, edits, cuts):
    import docx
    project, package = _fresh_copy(review_project, tmp_path, "foreword.docx")
    document = docx.Document(str(package))
    rows = document.tables[0].rows
    for row_number, column, text in edits:
        clean = _xml_safe(text)
        cell = rows[row_number % len(rows)].cells[column]
        for paragraph in cell.paragraphs:
            for run in list(paragraph.runs):
                run._r.getparent().remove(run._r)
        cell.paragraphs[0].add_run(clean)
    document.save(str(package))
    package.write_bytes(_damage(package.read_bytes(), cuts))
    _import_or_refuse(project, package)
