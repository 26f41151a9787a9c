"""The DOCX and PDF readers on files made by real tools give back the same book.

The DOCX is pandoc's (real Word footnotes, heading styles, tables, definition lists); the
PDF is WeasyPrint's typesetting of pandoc's HTML (running heads, folios, justified and
hyphenated text, superscript markers, notes under "References", tables across pages).
Where those tools themselves drop something, the comparison says so explicitly.
"""

from __future__ import annotations

import re

import pytest

from conftest import NS, xid
from pipeline.config import load_config
from pipeline.docbook import text_of
from pipeline.extract import extract_book
from pipeline.safety import parse_xml

BODY = ("db:para[not(ancestor::db:footnote) and not(ancestor::db:info) and not(ancestor::db:table)"
        " and not(ancestor::db:informaltable) and not(ancestor::db:glossdef)]")


def clean(text: str) -> str:
    """Whitespace as a reader sees it; a space pandoc puts before punctuation after a link is not content."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r" ([.,;:])", r"\1", text)


def summary(root) -> dict:
    """What must survive a round trip through another format: per chapter, its title, outline,
    paragraphs and notes."""
    chapters = {}
    for chapter in root.xpath("db:chapter", namespaces=NS):
        title = text_of(chapter.xpath("db:info/db:title", namespaces=NS)[0]).strip()
        sections = [(len(s.xpath("ancestor::db:section", namespaces=NS)),
                     clean(text_of(s.xpath("db:title", namespaces=NS)[0]))) for s in chapter.xpath(".//db:section", namespaces=NS)]
        paragraphs = [clean(text_of(p)) for p in chapter.xpath(".//" + BODY, namespaces=NS)]
        notes = [clean(text_of(n)) for n in chapter.xpath(".//db:footnote | .//db:bibliomixed", namespaces=NS)]
        chapters[title] = dict(sections=sections, paragraphs=paragraphs, notes=notes)
    return chapters


def read_back(path, tmp_path):
    result = extract_book(load_config(), manuscript=path, output=tmp_path / "book.xml")
    return parse_xml(result.output.read_bytes()), result


@pytest.fixture(scope="module")
def docx_book(book_docx, tmp_path_factory):
    return read_back(book_docx, tmp_path_factory.mktemp("from-docx"))


@pytest.fixture(scope="module")
def pdf_book(book_pdf, tmp_path_factory):
    return read_back(book_pdf, tmp_path_factory.mktemp("from-pdf"))


@pytest.mark.slow
@pytest.mark.parametrize("which", ["docx_book", "pdf_book"])
def test_same_chapters_sections_paragraphs_and_notes(which, book, request):
    root, _ = request.getfixturevalue(which)
    original, again = summary(book), summary(root)
    assert list(again) == list(original)
    for title in original:
        assert again[title]["sections"] == original[title]["sections"], title
        assert again[title]["paragraphs"] == original[title]["paragraphs"], title
        assert again[title]["notes"] == original[title]["notes"], title


@pytest.mark.slow
def test_docx_footnotes_are_real_word_footnotes(book_docx, docx_book):
    from pipeline.safety import open_zip
    package = open_zip(book_docx)
    assert "word/footnotes.xml" in package.names()
    root, _ = docx_book
    assert len(root.xpath("//db:footnote", namespaces=NS)) == 186


@pytest.mark.slow
def test_docx_keeps_tables_lists_and_the_abbreviation_list(docx_book):
    root, _ = docx_book
    ch3 = root.xpath("db:chapter[3]", namespaces=NS)[0]
    tables = ch3.xpath(".//db:table", namespaces=NS)
    assert [len(t.xpath(".//db:row", namespaces=NS)) for t in tables] == [5, 11]
    assert [len(items.xpath("db:listitem", namespaces=NS)) for items in ch3.xpath(".//db:itemizedlist",
                                                                              namespaces=NS)] == [3]
    ch4 = root.xpath("db:chapter[4]", namespaces=NS)[0]
    assert len(ch4.xpath(".//db:glossentry", namespaces=NS)) == 48


@pytest.mark.slow
def test_pdf_furniture_is_gone_and_words_are_whole(pdf_book):
    root, result = pdf_book
    text = " ".join(text_of(p) for p in root.xpath("//db:para", namespaces=NS))
    assert "\u2010" not in text and "\u00ad" not in text  # every hyphenated line end mended
    assert "↩" not in text  # back-links in the notes are furniture too
    first = root.xpath("db:chapter[1]//db:section[1]/db:para[1]", namespaces=NS)[0]
    assert text_of(first).startswith("Japan and ASEAN have been the cornerstones of stability")
    assert result.book.findings.of_type("page-break-join")
    # running heads (chapter titles at the page top) and folios do not turn up as paragraphs
    assert not any(re.fullmatch(r"\d{1,3}", text_of(p).strip()) for p in root.xpath("//db:para", namespaces=NS))


@pytest.mark.slow
def test_pdf_headings_markers_and_tables_are_recognised(pdf_book):
    root, _ = pdf_book
    assert [xid(c) for c in root.xpath("db:chapter", namespaces=NS)] == [f"ch{n}" for n in range(1, 7)]
    ch1 = root.xpath("db:chapter[1]", namespaces=NS)[0]
    assert ch1.xpath("string(db:info/db:author/db:personname/db:surname)", namespaces=NS) == "SUOS"
    labels = [n.get("label") for n in ch1.xpath(".//db:footnote", namespaces=NS)]
    assert labels == [str(n) for n in range(1, 49)]
    tables = root.xpath("db:chapter[3]//db:table", namespaces=NS)
    assert [t.get("label") for t in tables] == ["1", "2"]
    assert [len(t.xpath("db:tgroup/db:thead/db:row/db:entry", namespaces=NS)) for t in tables] == [4, 4]
    assert len(root.xpath("db:chapter[5]//db:figure", namespaces=NS)) == 2


# --------------------------------------------------------------------------- our EPUBs, made into Word files


def _book_titles(root) -> list[str]:
    return [clean(text_of(chapter.find("db:info/db:title", NS))).translate(_STRAIGHT)
            for chapter in root.xpath("db:chapter", namespaces=NS)]


def _entries(root) -> int:
    """Notes and reference entries: in a Word file made from an EPUB, each chapter's notes are a numbered list."""
    return int(root.xpath("count(//db:footnote | //db:bibliomixed)", namespaces=NS))


_STRAIGHT = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})


def _words_pandoc_reads(path) -> set[str]:
    """The words pandoc's own reader finds in a Word file, less the numbers it generates (list numbers,
    note references): an independent count of what the file holds."""
    import subprocess
    from conftest import need
    from pipeline.conservation import words
    text = subprocess.run([need("pandoc"), str(path), "-t", "plain", "--wrap=none"], capture_output=True,
                          text=True, check=True, timeout=120).stdout
    text = re.sub(r"(?m)^\s*(?:\d+|[a-z]|[ivx]+)[.)]\s", " ", text)
    return set(words(re.sub(r"\[\^?\d+\]", " ", text)))


@pytest.fixture(scope="module")
def epub_docx(built_project, tmp_path_factory):
    """pandoc's DOCX of each EPUB edition (made once, on first use)."""
    import subprocess
    from conftest import need
    made: dict[str, object] = {}

    def make(lang: str):
        if lang not in made:
            [epub] = (built_project / "output" / lang).glob("*.epub")
            target = tmp_path_factory.mktemp(f"epub-docx-{lang}") / f"book-{lang}.docx"
            subprocess.run([need("pandoc"), str(epub), "-o", str(target)], check=True, capture_output=True, timeout=120)
            made[lang] = target
        return made[lang]
    return make


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "km", "ja"])
def test_pandocs_docx_of_each_epub_reads_back(lang, epub_docx, book, built_project, tmp_path):
    """`pandoc book.epub -o book.docx`: a valid, balanced book with the six chapters, and every word pandoc
    reads in the file read by press too. It stopped with exit 6: pandoc leaves a bookmark for each print
    page, some inside reference entries, where DocBook allows none. pandoc's EPUB reader drops the markers
    of EPUB endnotes, so each chapter's notes come back as its numbered "References" list: 186 entries."""
    from pipeline.conservation import manuscript_words
    from pipeline.ingest import read_manuscript
    path = epub_docx(lang)
    result = extract_book(load_config(built_project), manuscript=path, output=tmp_path / "book.xml")
    root = parse_xml(result.output.read_bytes())
    assert result.words.holds and result.words.read > 32_000
    assert _book_titles(root) == _book_titles(book)
    assert _entries(root) == _entries(book) == 186 + 10  # each note, and chapter 4's references, an entry
    lost = _words_pandoc_reads(path) - set(manuscript_words(read_manuscript(path)))
    assert not lost, f"press did not read {sorted(lost)[:20]}"


@pytest.mark.slow
def test_libreoffices_docx_and_pdf_of_the_khmer_epub_read_back(epub_docx, book, built_project, tmp_path):
    """LibreOffice's DOCX of that Khmer Word file, and its PDF of it, read back with the six chapters; the
    PDF used to stop with exit 6: the placeholder of a missing image, set there as a heading, was lost."""
    import shutil
    import subprocess
    from conftest import need
    office = need("libreoffice")
    source = tmp_path / "khmer.docx"
    shutil.copy(epub_docx("km"), source)
    profile = f"-env:UserInstallation=file://{tmp_path}/profile"
    for kind, origin in (("docx", source), ("pdf", tmp_path / "office" / "khmer.docx")):
        subprocess.run([office, profile, "--headless", "--convert-to", kind, "--outdir", str(tmp_path / "office"),
                        str(origin)], check=True, capture_output=True, timeout=300)
    for made in ("khmer.docx", "khmer.pdf"):
        result = extract_book(load_config(built_project), manuscript=tmp_path / "office" / made,
                              output=tmp_path / f"read-{made}" / "book.xml")
        root = parse_xml(result.output.read_bytes())
        assert result.words.holds and result.words.read > 32_000, made
        assert _book_titles(root) == _book_titles(book), made
        assert _entries(root) == _entries(book), made  # LibreOffice sets some numbers on a line of their own
        assert root.xpath("count(//db:textobject[@role='missing-image'])", namespaces=NS) == 2, made
