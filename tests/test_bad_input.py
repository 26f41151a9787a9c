"""Broken and hostile manuscripts: one clear line, a documented exit code, seconds and modest memory,
and the book.xml that was already there left exactly as it was.

Every hostile file is generated here by real tools (python-docx, pypdf, WeasyPrint, Pillow);
nothing binary is committed.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from conftest import CHILD_PYTHONPATH, MANUSCRIPT, copy_project
from pipeline.errors import ExitCode

SENTINEL = b"<previous book.xml, which must survive>"
# Peak memory of the child itself: VmHWM starts afresh at exec (ru_maxrss would include the
# memory of the test process that forked it).
WRAPPER = """
import os, sys
from pipeline.cli import main
try:
    code = main(sys.argv[1:])
finally:
    peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:")).split()[1]
    with open(os.environ["PRESS_RSS_FILE"], "w") as handle:
        handle.write(peak)
sys.exit(code)
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("project"))


def extract(project: Path, manuscript: Path, *extra: str, expect_output: bool = False):
    """Run ``press extract`` on ``manuscript`` over an existing book.xml; return (result, seconds, MiB)."""
    output = project / "output" / "xml" / "book.xml"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(SENTINEL)
    rss_file = project / "rss.txt"
    env = dict(os.environ, PYTHONPATH=CHILD_PYTHONPATH, PRESS_RSS_FILE=str(rss_file))
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", WRAPPER, "extract", str(manuscript), *extra], cwd=project,
                            capture_output=True, text=True, timeout=120, env=env)
    seconds = time.monotonic() - started
    megabytes = int(rss_file.read_text()) / 1024
    if not expect_output:
        assert output.read_bytes() == SENTINEL, "the existing book.xml was touched"
        assert not [p for p in output.parent.iterdir() if p.name != "book.xml"], "temporary files left behind"
    return result, seconds, megabytes


def assert_refused(result, seconds, megabytes, code: ExitCode, *words: str, name: str):
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith(f"error: {code.name.lower() if code != ExitCode.INPUT else 'input'}") or \
        line.startswith("error: "), line
    assert name in line, line
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in line, line
    assert " — " in line, "every refusal says what to do"
    assert seconds < 20
    assert megabytes < 400


# --------------------------------------------------------------------------- real small documents


@pytest.fixture(scope="module")
def small_pdf(tmp_path_factory) -> bytes:
    weasyprint = pytest.importorskip("weasyprint")
    html = ("<h1>Chapter 1</h1><h1>A Title</h1><h2>Introduction</h2>"
            "<p>" + "Japan and ASEAN have worked together for decades. " * 30 + "</p>")
    return weasyprint.HTML(string=html).write_pdf()


@pytest.fixture(scope="module")
def small_docx() -> bytes:
    import docx
    document = docx.Document()
    document.add_heading("Chapter 1: A Title", level=1)
    document.add_heading("Introduction", level=2)
    document.add_paragraph("Japan and ASEAN have worked together for decades.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def docx_with(small_docx: bytes, replacements: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """The small DOCX with some parts replaced; a replacement may be a list of chunks (streamed in)."""
    source = zipfile.ZipFile(io.BytesIO(small_docx))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as target:
        for info in source.infolist():
            replacement = replacements.get(info.filename, source.read(info.filename))
            if isinstance(replacement, bytes):
                target.writestr(info.filename, replacement)
            else:
                with target.open(info.filename, "w", force_zip64=True) as member:
                    for chunk in replacement:
                        member.write(chunk)
    return buffer.getvalue()


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


# --------------------------------------------------------------------------- text


def test_empty_file(project, tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert_refused(*extract(project, path), ExitCode.INPUT, "empty", name="empty.txt")


def test_binary_garbage(project, tmp_path):
    path = tmp_path / "garbage.txt"
    path.write_bytes(os.urandom(200_000))
    assert_refused(*extract(project, path), ExitCode.INPUT, name="garbage.txt")


def test_nul_bytes_in_text(project, tmp_path):
    path = tmp_path / "nul.txt"
    path.write_bytes(b"Chapter 1\n\nSome text\x00with a NUL.\n" * 10)
    assert_refused(*extract(project, path), ExitCode.INPUT, "binary", name="nul.txt")


def test_invalid_utf8_names_the_line(project, tmp_path):
    path = tmp_path / "broken.txt"
    path.write_bytes(MANUSCRIPT.read_bytes().replace("Fukuda Doctrine".encode(), b"Fukuda \xff Doctrine", 1))
    result, seconds, megabytes = extract(project, path)
    assert_refused(result, seconds, megabytes, ExitCode.INPUT, "not UTF-8", "line 107", name="broken.txt")


def test_cp1252_is_refused_then_decoded_when_named(project, tmp_path):
    text = "Chapter 1\n\nJapan’s “heart-to-heart” diplomacy.\n"
    path = tmp_path / "legacy.txt"
    path.write_bytes(text.encode("cp1252"))
    assert_refused(*extract(project, path), ExitCode.INPUT, "not UTF-8", "--encoding", name="legacy.txt")
    result, _, _ = extract(project, path, "--encoding", "cp1252", expect_output=True)
    assert result.returncode == 0, result.stderr
    assert "Japan’s “heart-to-heart” diplomacy." in (project / "output/xml/book.xml").read_text(encoding="utf-8")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig"])
def test_other_unicode_encodings_give_the_same_book(project, tmp_path, encoding):
    path = tmp_path / f"manuscript-{encoding}.txt"
    path.write_bytes(MANUSCRIPT.read_text(encoding="utf-8").encode(encoding))
    result, _, _ = extract(project, path, expect_output=True)
    assert result.returncode == 0, result.stderr
    from_unicode = (project / "output/xml/book.xml").read_bytes()
    baseline, _, _ = extract(project, MANUSCRIPT, expect_output=True)
    assert baseline.returncode == 0
    assert from_unicode == (project / "output/xml/book.xml").read_bytes()


def test_an_enormous_single_line(project, tmp_path):
    path = tmp_path / "oneline.txt"
    path.write_bytes(b"Chapter 1\n\n" + b"word " * 600_000)  # 3 MB on one line
    assert_refused(*extract(project, path), ExitCode.LIMIT, "characters long", name="oneline.txt")


def test_missing_file_directory_and_legacy_word(project, tmp_path):
    assert_refused(*extract(project, tmp_path / "nowhere.txt"), ExitCode.INPUT, "not found", name="nowhere.txt")
    assert_refused(*extract(project, tmp_path), ExitCode.INPUT, "directory", name=tmp_path.name)
    legacy = tmp_path / "old.doc"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000)
    assert_refused(*extract(project, legacy), ExitCode.INPUT, ".docx", name="old.doc")


def test_markup_in_the_manuscript_stays_text(project, tmp_path):
    path = tmp_path / "markup.txt"
    path.write_text('Chapter 1\n\nA Title\n\nIntroduction\n\nIt said <img src="file:///etc/passwd"> and '
                    '<a rel="attachment" href="file:///etc/passwd">this</a> plainly.\n', encoding="utf-8")
    result, _, _ = extract(project, path, expect_output=True)
    assert result.returncode == 0, result.stderr
    xml = (project / "output/xml/book.xml").read_text(encoding="utf-8")
    assert '&lt;img src="file:///etc/passwd"&gt;' in xml
    assert "<img" not in xml and "<a " not in xml and "root:" not in xml


# --------------------------------------------------------------------------- PDF


def test_encrypted_pdf(project, tmp_path, small_pdf):
    from pypdf import PdfReader, PdfWriter
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(small_pdf)))
    writer.encrypt(user_password="secret", owner_password="owner")
    path = tmp_path / "locked.pdf"
    with open(path, "wb") as handle:
        writer.write(handle)
    assert_refused(*extract(project, path), ExitCode.INPUT, "encrypted", name="locked.pdf")


def test_pdf_without_a_text_layer(project, tmp_path):
    from PIL import Image, ImageDraw
    image = Image.new("RGB", (800, 1100), "white")
    ImageDraw.Draw(image).text((50, 50), "A scanned page of the manuscript", fill="black")
    path = tmp_path / "scan.pdf"
    image.save(path)
    assert_refused(*extract(project, path), ExitCode.INPUT, "no text layer", "OCR", name="scan.pdf")


@pytest.mark.parametrize("cut", [0, 200, 0.6])
def test_empty_and_truncated_pdf(project, tmp_path, small_pdf, cut):
    path = tmp_path / "cut.pdf"
    path.write_bytes(small_pdf[:int(len(small_pdf) * cut) if isinstance(cut, float) else cut])
    result, seconds, megabytes = extract(project, path)
    assert_refused(result, seconds, megabytes, ExitCode.INPUT, name="cut.pdf")


def test_pdf_decompression_bomb(project, tmp_path):
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject, StreamObject
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    bomb = StreamObject()
    bomb._data = zlib.compress(b"BT /F1 12 Tf (x) Tj ET " * 5_000_000, 9)  # ~115 MB inflated
    bomb[NameObject("/Filter")] = NameObject("/FlateDecode")
    page[NameObject("/Contents")] = writer._add_object(bomb)
    assert DecodedStreamObject  # the module really is pypdf's
    path = tmp_path / "bomb.pdf"
    with open(path, "wb") as handle:
        writer.write(handle)
    assert path.stat().st_size < 2_000_000
    result, seconds, megabytes = extract(project, path)
    assert_refused(result, seconds, megabytes, ExitCode.LIMIT, name="bomb.pdf")


# --------------------------------------------------------------------------- DOCX


def test_truncated_and_corrupt_docx(project, tmp_path, small_docx):
    truncated = tmp_path / "truncated.docx"
    truncated.write_bytes(small_docx[: len(small_docx) // 2])
    assert_refused(*extract(project, truncated), ExitCode.INPUT, name="truncated.docx")
    corrupt = tmp_path / "corrupt.docx"
    corrupt.write_bytes(os.urandom(30_000))
    assert_refused(*extract(project, corrupt), ExitCode.INPUT, "not a DOCX", name="corrupt.docx")
    hollow = tmp_path / "hollow.docx"
    hollow.write_bytes(docx_with(small_docx, {"word/document.xml": b"<w:document " + W.encode() + b"><w:body"}))
    assert_refused(*extract(project, hollow), ExitCode.INPUT, "malformed XML", name="hollow.docx")


def test_docx_zip_bomb(project, tmp_path, small_docx):
    chunks = [f"<w:document {W}><w:body>".encode()] + [b" " * 1_000_000] * 300 + [b"</w:body></w:document>"]
    path = tmp_path / "bomb.docx"
    path.write_bytes(docx_with(small_docx, {"word/document.xml": chunks}))
    assert path.stat().st_size < 1_000_000
    result, seconds, megabytes = extract(project, path)
    assert_refused(result, seconds, megabytes, ExitCode.LIMIT, name="bomb.docx")
    assert seconds < 5 and megabytes < 200


def test_docx_with_external_entity(project, tmp_path, small_docx):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-BYTES")
    body = (f'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY x SYSTEM "file://{secret}">]>'
            f'<w:document {W}><w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>').encode()
    path = tmp_path / "xxe.docx"
    path.write_bytes(docx_with(small_docx, {"word/document.xml": body}))
    result, seconds, megabytes = extract(project, path)
    assert_refused(result, seconds, megabytes, ExitCode.INPUT, "entities", name="xxe.docx")
    assert "TOP-SECRET" not in result.stderr + result.stdout


def test_docx_billion_laughs(project, tmp_path, small_docx):
    entities = '<!ENTITY a "lol">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    body = (f'<?xml version="1.0"?><!DOCTYPE w:document [{entities}]><w:document {W}><w:body><w:p><w:r>'
            f'<w:t>&j;</w:t></w:r></w:p></w:body></w:document>').encode()
    path = tmp_path / "laughs.docx"
    path.write_bytes(docx_with(small_docx, {"word/document.xml": body}))
    result, seconds, megabytes = extract(project, path)
    assert_refused(result, seconds, megabytes, ExitCode.INPUT, name="laughs.docx")
    assert seconds < 5


def test_docx_member_that_escapes_the_package(project, tmp_path, small_docx):
    path = tmp_path / "traversal.docx"
    path.write_bytes(docx_with(small_docx, {}) [:0] + _add_member(docx_with(small_docx, {}), "../../evil.txt"))
    assert_refused(*extract(project, path), ExitCode.INPUT, "unsafe", name="traversal.docx")


def _add_member(data: bytes, name: str) -> bytes:
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(name, "x")
    return buffer.getvalue()


def test_good_small_documents_still_pass(project, tmp_path, small_docx, small_pdf):
    """The limits refuse hostile files, not ordinary ones."""
    for name, data in (("fine.docx", small_docx), ("fine.pdf", small_pdf)):
        path = tmp_path / name
        path.write_bytes(data)
        result, _, _ = extract(project, path, expect_output=True)
        assert result.returncode == 0, result.stderr
        assert b"Introduction" in (project / "output/xml/book.xml").read_bytes()
