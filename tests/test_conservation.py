"""Nothing is lost, and the build says so: the word balance of the extract stage.

Every word a reader read is in the DocBook book once, or in the repair report as dropped on
purpose; a book that lost or doubled a word is refused (exit 6, nothing written). Checked on
the real manuscript, on pandoc's DOCX test corpus, on small documents that do not look like our
book, and by a property test: random DocBook-shaped books written as DOCX (python-docx) and PDF
(WeasyPrint) and read back keep every word.

Examples per property: PRESS_PROPERTY_EXAMPLES (default 6 per format, enough for CI; a longer
campaign: ``PRESS_PROPERTY_EXAMPLES=200 .venv/bin/python -m pytest tests/test_conservation.py -q``).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NS, ROOT, run_press
from pipeline.config import load_config
from pipeline.conservation import book_words, words
from pipeline.docbook import text_of
from pipeline.errors import ExitCode, InputError, ValidationError
from pipeline.extract import extract_book
from pipeline.safety import parse_xml

CORPUS = ROOT.parent / "shared" / "corpora" / "pandoc-docx"
EXAMPLES = int(os.environ.get("PRESS_PROPERTY_EXAMPLES", "6"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


def extract(path: Path, directory: Path, **kwargs):
    return extract_book(load_config(ROOT), manuscript=path, output=directory / "book.xml", **kwargs)


def book_of(result):
    return parse_xml(result.output.read_bytes(), result.output)


def in_book(result) -> Counter:
    """The book's words as the balance counts them: its text, and what a stage kept as markup."""
    counts = book_words(book_of(result))
    for item in result.findings.markup:
        counts.update(words(item.text))
    return counts


# --------------------------------------------------------------------------- what a word is


def test_a_word_is_letters_and_digits_in_any_script():
    assert words("The inter-national ﬁnal, 2026!") == ["the", "inter", "national", "final", "2026"]
    assert words("Straße café") == ["strasse", "café"]
    # Khmer and Japanese write no spaces between words: each letter counts (vowel signs belong to their letter)
    assert words("ភាសា") == ["ភ", "ស"]
    assert words("日本の協力") == ["日", "本", "の", "協", "力"]
    assert words("ASEANと日本") == ["asean", "と", "日", "本"]
    assert words("— … ¶ ") == []


# --------------------------------------------------------------------------- the real manuscript


def test_the_manuscript_balances_and_the_summary_says_so(extracted):
    balance = extracted.words
    assert balance is not None and balance.holds
    assert balance.read > 30_000
    assert balance.read == balance.in_book + balance.dropped_total + balance.removed_by_repairs
    # note numbers, chapter labels and contents page numbers are kept as markup, not lost
    assert balance.as_markup > 2 * 186
    # the URL repairs are what took words out: tracking parameters, text fragments, proxy hosts
    assert 0 < balance.removed_by_repairs < 200
    assert balance.summary().startswith(f"words: {balance.read:,} read, {balance.in_book:,} in the book")


def test_the_report_carries_the_balance(extracted):
    report = json.loads((extracted.output.parent / "repair.json").read_text(encoding="utf-8"))
    assert report["words"]["read"] == extracted.words.read
    assert report["words"]["missing"] == {} and report["words"]["extra"] == {}
    markdown = (extracted.output.parent / "repair.md").read_text(encoding="utf-8")
    assert f"Words: {extracted.words.read:,} read" in markdown


def test_the_cli_prints_the_balance(tmp_path):
    result = run_press("extract", "-o", str(tmp_path / "book.xml"))
    assert result.returncode == 0, result.stderr
    assert re.search(r"^extract: words: [\d,]+ read, [\d,]+ in the book", result.stderr, re.MULTILINE)


# --------------------------------------------------------------------------- a stage that loses text is refused


SMALL_TEXT = "Harbour Notes\n\nShips arrived early in the morning.\n\nThe zebra crossing was painted twice.\n"


def test_a_lost_word_is_an_error_and_nothing_is_written(tmp_path, monkeypatch):
    from pipeline.structure import body
    manuscript = tmp_path / "small.txt"
    manuscript.write_text(SMALL_TEXT, encoding="utf-8")
    original = body.BodyBuilder._element_para

    def losing(self, unit):  # a bug: the last word of one paragraph goes missing
        para = original(self, unit)
        if para[-1].tail and "zebra" in para[-1].tail:
            para[-1].tail = para[-1].tail.replace(" twice", "")
        return para

    monkeypatch.setattr(body.BodyBuilder, "_element_para", losing)
    with pytest.raises(ValidationError) as raised:
        extract(manuscript, tmp_path)
    assert raised.value.exit_code == ExitCode.INVALID == 6
    assert "'twice'" in raised.value.message and "not in the book" in raised.value.message
    assert raised.value.where == "line 5"  # the paragraph that lost it
    assert not (tmp_path / "book.xml").exists()


def test_a_doubled_paragraph_is_an_error(tmp_path, monkeypatch):
    from pipeline.structure import body
    manuscript = tmp_path / "small.txt"
    manuscript.write_text(SMALL_TEXT, encoding="utf-8")
    original = body.BodyBuilder.build

    def doubling(self, blocks, allow_headings=True):
        elements = original(self, blocks, allow_headings)
        from copy import deepcopy
        return elements + [deepcopy(elements[-1])]

    monkeypatch.setattr(body.BodyBuilder, "build", doubling)
    with pytest.raises(ValidationError, match="appear more often") as raised:
        extract(manuscript, tmp_path)
    assert "'zebra'" in raised.value.message


def test_a_word_rejoined_across_a_line_break_balances(tmp_path):
    # "inter‐" (a real hyphen, U+2010) at a line's end and "national" on the next: joined, not lost
    manuscript = tmp_path / "joined.txt"
    manuscript.write_text("Harbour Notes\n\nThe inter\u2010\nnational order changed.\n", encoding="utf-8")
    result = extract(manuscript, tmp_path)
    assert result.words.holds and result.words.rejoined == 2
    assert "The international order changed." in text_of(book_of(result).find(".//db:para", NS))


def test_a_url_broken_by_a_space_is_reported(tmp_path):
    manuscript = tmp_path / "url.txt"
    manuscript.write_text("Harbour Notes\n\nSee <https://example.org/harbour notes> for more.\n", encoding="utf-8")
    result = extract(manuscript, tmp_path)
    broken = result.findings.of_type("broken-url")
    assert [(f.action, f.line, f.before) for f in broken] == [("flagged", 3, "https://example.org/harbour notes")]


# --------------------------------------------------------------------------- reader warnings reach the user


def damaged_pdf(path: Path) -> Path:
    """A real WeasyPrint PDF whose startxref points a few bytes off: readable, with pypdf's warnings."""
    weasyprint = pytest.importorskip("weasyprint")
    data = weasyprint.HTML(string="<h1>Harbour Notes</h1><p>Ships arrived early in the morning.</p>").write_pdf()
    at = data.rindex(b"startxref")
    offset = int(re.match(rb"startxref\s+(\d+)", data[at:]).group(1))
    path.write_bytes(data[:at] + b"startxref\n" + str(offset + 7).encode() + b"\n%%EOF\n")
    return path


def test_reader_warnings_reach_the_summary_and_the_report(tmp_path):
    pdf = damaged_pdf(tmp_path / "damaged.pdf")
    result = run_press("extract", str(pdf), "-o", str(tmp_path / "out" / "book.xml"))
    assert result.returncode == 0, result.stderr
    assert re.search(r"^extract: warning: tolerant-read ×\d+ \(see the report\), first: .*incorrect startxref",
                     result.stderr, re.MULTILINE)
    report = json.loads((tmp_path / "out" / "repair.json").read_text(encoding="utf-8"))
    warnings = [f for f in report["findings"] if f["type"] == "reader-warning"]
    assert warnings and all(f["action"] == "flagged" and f["message"].startswith("tolerant-read: ") for f in warnings)
    assert "ships" in words(" ".join(text_of(p) for p in parse_xml((tmp_path / "out" / "book.xml").read_bytes())
                                     .iterfind(".//db:para", NS)))


# --------------------------------------------------------------------------- books that do not look like ours


def corpus(name: str) -> Path:
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"pandoc's DOCX corpus is not at {CORPUS}")
    return path


def test_four_plain_paragraphs_are_a_book_of_one_chapter(tmp_path):
    result = extract(corpus("comments.docx"), tmp_path)
    root = book_of(result)
    chapters = root.findall("db:chapter", NS)
    assert len(chapters) == 1
    remarks = [text_of(remark).strip() for remark in chapters[0].iterfind(".//db:remark", NS)]
    paragraphs = [" ".join("".join(t for t in p.xpath(".//text()[not(ancestor::db:remark)]", namespaces=NS)).split())
                  for p in chapters[0].iterfind(".//db:para", NS)]
    assert paragraphs == ["I want some text to have a comment on it.", "This is a new paragraph.",
                          "And so is this.", "One more. And this is one with a comment in a comment."]
    assert remarks and all(remarks), "the comments are kept, as remarks"
    assert result.words.holds and result.words.in_book == result.words.read


def test_document_metadata_styles_make_the_info_and_the_body_stays(tmp_path):
    result = extract(corpus("metadata.docx"), tmp_path)
    root = book_of(result)
    assert text_of(root.find("db:info/db:title", NS)).strip() == "This Is the Title"
    assert [text_of(a).strip() for a in root.iterfind("db:info/db:author", NS)] == ["Mary Ann Evans", "Aurore Dupin"]
    assert text_of(root.find("db:info/db:pubdate", NS)).strip() == "July 28, 2014"
    assert text_of(root.find("db:info/db:abstract", NS)).startswith("This is a test of how this all works.")
    body = [text_of(p).strip() for p in root.iterfind("db:chapter//db:para", NS)]
    assert "And now this is normal text." in body
    assert result.words.holds and result.words.in_book == result.words.read


def test_heading_1_makes_chapters_and_lower_levels_sections(tmp_path):
    root = book_of(extract(corpus("headers.docx"), tmp_path))
    chapters = root.findall("db:chapter", NS)
    assert [text_of(c.find("db:info/db:title", NS)).strip() for c in chapters] == ["A Test of Headers"]
    assert text_of(root.find("db:info/db:title", NS)).strip() == "A Test of Headers"  # the first heading
    nested = [(len(s.xpath("ancestor::db:section", namespaces=NS)), text_of(s.find("db:title", NS)).strip())
              for s in chapters[0].iterfind(".//db:section", NS)]
    assert nested[:2] == [(0, "Second Level"), (1, "Third level")]


def test_the_top_heading_level_used_makes_chapters(tmp_path):
    # lists.docx has Heading 2 and no Heading 1: its Heading 2 is the chapter
    root = book_of(extract(corpus("lists.docx"), tmp_path))
    assert [text_of(c.find("db:info/db:title", NS)).strip() for c in root.findall("db:chapter", NS)] == \
        ["Some nested lists"]


def test_every_readable_corpus_file_balances(tmp_path):
    """The whole pandoc corpus: every file the DOCX reader reads gives a book holding every word."""
    files = sorted(corpus("comments.docx").parent.glob("*.docx"))
    read = kept = 0
    unreadable = []
    for index, path in enumerate(files):
        try:
            result = extract(path, tmp_path / str(index))
        except InputError:
            unreadable.append(path.name)  # the reader refuses it (its own issue); never a crash
            continue
        assert result.words.holds, path.name
        read += result.words.read
        kept += result.words.in_book + result.words.dropped_total
    assert read == kept > 2500
    assert len(unreadable) <= 3, unreadable


def test_a_docx_paragraph_boundary_is_real_but_a_text_line_break_is_not(tmp_path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_paragraph("The harbour master wrote that the ships")
    document.add_paragraph("arrived early in the morning.")
    document.save(tmp_path / "two.docx")
    root = book_of(extract(tmp_path / "two.docx", tmp_path / "docx"))
    assert [text_of(p).strip() for p in root.iterfind(".//db:para", NS)] == [
        "The harbour master wrote that the ships", "arrived early in the morning."]
    (tmp_path / "two.txt").write_text("Harbour Notes\n\nThe harbour master wrote that the ships\n\n"
                                      "arrived early in the morning.\n", encoding="utf-8")
    root = book_of(extract(tmp_path / "two.txt", tmp_path / "text"))  # a blank line may be a page break
    assert [text_of(p).strip() for p in root.iterfind(".//db:para", NS)] == [
        "The harbour master wrote that the ships arrived early in the morning."]


def test_a_text_without_chapter_lines_gets_chapters_from_its_headings(tmp_path):
    manuscript = tmp_path / "plain.txt"
    manuscript.write_text("Harbour Notes\n\nEarly Tides\n\nShips arrived early in the morning.\n\n"
                          "Late Storms\n\nThunder rolled over the bay.\n", encoding="utf-8")
    result = extract(manuscript, tmp_path)
    root = book_of(result)
    assert text_of(root.find("db:info/db:title", NS)).strip() == "Harbour Notes"
    assert [text_of(c.find("db:info/db:title", NS)).strip() for c in root.findall("db:chapter", NS)] == \
        ["Early Tides", "Late Storms"]
    assert result.words.holds and result.words.read == result.words.in_book == 17


def test_a_title_page_line_nobody_recognises_is_kept(tmp_path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_heading("Harbour Notes", 0)
    document.add_paragraph("A field report written over three long winters by the keepers of the light.")
    document.add_heading("Early Tides", 1)
    document.add_paragraph("Ships arrived early in the morning.")
    document.save(tmp_path / "opening.docx")
    result = extract(tmp_path / "opening.docx", tmp_path)
    root = book_of(result)
    opening = root.find("db:preface[@role='opening']", NS)
    assert opening is not None and "three long winters" in text_of(opening)
    assert result.words.holds


# --------------------------------------------------------------------------- the property


VOCABULARY = ("harbour lantern tide anchor compass sailor island storm thunder bay cargo silk cork ledger river "
              "market winter spring summer autumn northern southern eastern western village council treaty "
              "partnership resilience cooperation économie naïve café Straße façade Zürich Ångström "
              "港 協力 東南アジア ភាសា ខ្មែរ សហប្រតិបត្តិការ").split()  # Japanese and Khmer: no spaces inside words
word = st.sampled_from(VOCABULARY)


def phrase(minimum: int, maximum: int):
    return st.lists(word, min_size=minimum, max_size=maximum).map(" ".join)


sentence = phrase(3, 12).map(lambda text: text[0].upper() + text[1:] + ".")
paragraph = st.lists(sentence, min_size=1, max_size=3).map(" ".join)
title = phrase(1, 4).map(lambda text: " ".join(part.capitalize() for part in text.split()))
block = st.one_of(
    st.tuples(st.just("para"), paragraph),
    st.tuples(st.sampled_from(["list", "olist"]), st.lists(phrase(1, 5), min_size=1, max_size=4)),
    st.tuples(st.just("table"), st.integers(2, 3).flatmap(
        lambda columns: st.lists(st.lists(phrase(1, 2), min_size=columns, max_size=columns), min_size=2, max_size=3))),
    st.tuples(st.just("note"), st.tuples(paragraph, paragraph)),
)
section = st.tuples(title, st.lists(block, min_size=1, max_size=3))
chapter = st.tuples(title, st.lists(block, min_size=1, max_size=3), st.lists(section, max_size=2))
book_shape = st.tuples(title, st.lists(chapter, min_size=1, max_size=3))


def generated_words(book) -> Counter:
    """Every word the generated book holds."""
    counts = Counter(words(book[0]))

    def add_blocks(blocks):
        for kind, value in blocks:
            if kind == "para":
                counts.update(words(value))
            elif kind in ("list", "olist"):
                counts.update(words(" ".join(value)))
            elif kind == "table":
                counts.update(words(" ".join(cell for row in value for cell in row)))
            else:
                counts.update(words(" ".join(value)))

    for chapter_title, blocks, sections in book[1]:
        counts.update(words(chapter_title))
        add_blocks(blocks)
        for section_title, section_blocks in sections:
            counts.update(words(section_title))
            add_blocks(section_blocks)
    return counts


def write_docx(book, path: Path) -> None:
    """The book as Word writes it (python-docx): Title, Heading 1/2, List Bullet, tables; a note stays inline."""
    import docx
    document = docx.Document()
    document.add_heading(book[0], 0)

    def add_blocks(blocks):
        for kind, value in blocks:
            if kind == "para":
                document.add_paragraph(value)
            elif kind in ("list", "olist"):
                for item in value:
                    document.add_paragraph(item, style="List Bullet" if kind == "list" else "List Number")
            elif kind == "table":
                table = document.add_table(rows=len(value), cols=len(value[0]))
                for r, row in enumerate(value):
                    for c, cell in enumerate(row):
                        table.cell(r, c).text = cell
                document.add_paragraph("")  # Word keeps a paragraph between two tables
            else:  # python-docx cannot write footnotes: the note follows its paragraph
                document.add_paragraph(value[0])
                document.add_paragraph(value[1])

    for chapter_title, blocks, sections in book[1]:
        document.add_heading(chapter_title, 1)
        add_blocks(blocks)
        for section_title, section_blocks in sections:
            document.add_heading(section_title, 2)
            add_blocks(section_blocks)
    document.save(path)


def write_pdf(book, path: Path) -> None:
    """The book typeset by WeasyPrint from simple HTML: notes as superscript markers and a chapter-end list."""
    import weasyprint
    out = ["<html lang='en'><head><meta charset='utf-8'><style>body { font-family: 'DejaVu Serif' } "
           "p { text-align: justify; hyphens: auto } h1 { font-size: 22pt } h2 { font-size: 15pt } "
           ".chapter { break-before: page }</style></head><body>",
           f"<h1>{html.escape(book[0])}</h1>"]
    for chapter_title, blocks, sections in book[1]:
        notes: list[str] = []

        def add_blocks(blocks, notes=notes):
            for kind, value in blocks:
                if kind == "para":
                    out.append(f"<p>{html.escape(value)}</p>")
                elif kind in ("list", "olist"):
                    tag = "ul" if kind == "list" else "ol"
                    out.append(f"<{tag}>" + "".join(f"<li>{html.escape(item)}</li>" for item in value) + f"</{tag}>")
                elif kind == "table":
                    out.append("<table>" + "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row)
                                                   + "</tr>" for row in value) + "</table>")
                else:
                    notes.append(value[1])
                    out.append(f"<p>{html.escape(value[0])}<sup>{len(notes)}</sup></p>")

        out.append(f"<h1 class='chapter'>{html.escape(chapter_title)}</h1>")
        add_blocks(blocks)
        for section_title, section_blocks in sections:
            out.append(f"<h2>{html.escape(section_title)}</h2>")
            add_blocks(section_blocks)
        if notes:
            out.append("<h2>Notes</h2>" + "".join(f"<p>{number} {html.escape(text)}</p>"
                                                  for number, text in enumerate(notes, 1)))
    out.append("</body></html>")
    weasyprint.HTML(string="".join(out)).write_pdf(path)


def read_back_keeps_every_word(book, writer, suffix: str) -> None:
    directory = Path(tempfile.mkdtemp(prefix="press-property-"))
    try:
        writer(book, directory / f"book.{suffix}")
        result = extract(directory / f"book.{suffix}", directory)  # raises ValidationError when unbalanced
        assert result.words.holds
        lost = generated_words(book) - in_book(result)
        assert not lost, f"generated words not in the book: {dict(lost)}"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@PROPERTY
@given(book=book_shape)
def test_a_random_book_written_as_docx_keeps_every_word(book):
    pytest.importorskip("docx")
    read_back_keeps_every_word(book, write_docx, "docx")


@pytest.mark.slow
@PROPERTY
@given(book=book_shape)
def test_a_random_book_typeset_as_pdf_keeps_every_word(book):
    pytest.importorskip("weasyprint")
    read_back_keeps_every_word(book, write_pdf, "pdf")


@pytest.mark.slow
def test_a_table_header_repeated_on_the_next_page_is_dropped_on_purpose_and_reported(book_pdf, tmp_path):
    """Our book typeset by WeasyPrint: each long table repeats its header row on the next page."""
    result = extract(book_pdf, tmp_path)
    assert result.words.holds
    repeated = [f for f in result.findings.of_type("dropped-text") if f.data["reason"] == "repeated-table-header"]
    assert len(repeated) == 2 and all(f.where.page for f in repeated)
    headers = [Counter(words(text_of(head))) for head in book_of(result).iterfind(".//db:thead", NS)]
    for finding in repeated:  # what was left out is exactly a header the table keeps
        assert any(not Counter(words(finding.before)) - header for header in headers), finding.before
    assert result.words.dropped["repeated-table-header"] == sum(len(words(f.before)) for f in repeated)
    assert re.search(r"\b\d+ (dropped )?as repeated table headers\b.*\(report\)", result.words.summary()), \
        result.words.summary()
    report = json.loads((tmp_path / "repair.json").read_text(encoding="utf-8"))
    assert report["types"]["dropped-text"] >= 2


LINES = (ROOT / "source" / "manuscript.txt").read_text(encoding="utf-8").splitlines()


@PROPERTY
@given(start=st.integers(0, len(LINES) - 1), length=st.integers(1, 250), shuffled=st.booleans(), order=st.randoms())
def test_any_cut_of_the_manuscript_balances(start, length, shuffled, order):
    """A piece of the real manuscript (its lines shuffled or not) is a book that does not look like ours: the
    front matter out of place, notes without a chapter, a contents list without a book. Every word stays."""
    from pipeline.conservation import balance
    from pipeline.ingest.text import read_text
    from pipeline.repair import repair_book
    from pipeline.structure import structure_book
    lines = LINES[start:start + length]
    if shuffled:
        order.shuffle(lines)
    if not "".join(lines).strip():
        return
    manuscript = read_text("\n".join(lines).encode("utf-8"), Path("piece.txt"))
    book = structure_book(manuscript)
    repair_book(book.root, book.findings)
    result = balance(manuscript, book.root, book.findings)
    assert result.holds, result.problem()


@pytest.mark.parametrize("lang", ["km", "ja"])
def test_khmer_and_japanese_manuscripts_balance_letter_by_letter(lang, tmp_path):
    """The editions' own Khmer and Japanese labels (locales/ui) as a manuscript: no spaces between words,
    so every letter is counted, and every one is in the book (text and DOCX alike)."""
    from babel.messages.pofile import read_po
    with open(ROOT / "locales" / "ui" / f"{lang}.po", "rb") as handle:
        strings = [message.string.replace("{number}", "3").replace("{year}", "2026").replace("{holder}", "AVI")
                   for message in read_po(handle) if message.id and message.string]
    stop = {"km": "។", "ja": "。"}[lang]
    text = "\n\n".join([strings[0]] + [" ".join(strings[i:i + 4]) + stop for i in range(1, len(strings), 4)])
    letters = len(words(text))
    assert letters > 40 and all(len(token) == 1 for token in words(strings[0]))  # one word per letter
    manuscript = tmp_path / f"{lang}.txt"
    manuscript.write_text(text + "\n", encoding="utf-8")
    result = extract(manuscript, tmp_path / "text")
    assert result.words.holds and result.words.read == result.words.in_book == letters
    docx = pytest.importorskip("docx")
    document = docx.Document()
    for paragraph in text.split("\n\n"):
        document.add_paragraph(paragraph)
    document.save(tmp_path / f"{lang}.docx")
    result = extract(tmp_path / f"{lang}.docx", tmp_path / "docx")
    assert result.words.holds and result.words.read == result.words.in_book == letters


def test_a_contents_list_of_three_columns_keeps_its_words_and_ends_at_the_first_chapter(tmp_path):
    manuscript = tmp_path / "toc.txt"
    manuscript.write_text("Harbour Notes\n\nContents\n\nEarly Tides\tAnna Smith\t3\n\nLate Storms\tJohn Doe\t9\n\n"
                          "Chapter 1: Early Tides\n\nShips arrived early in the morning.\n\n"
                          "Chapter 2: Late Storms\n\nThunder rolled over the bay.\n", encoding="utf-8")
    result = extract(manuscript, tmp_path)
    root = book_of(result)
    entries = [(e.get("pagenum"), " ".join(text_of(e).split())) for e in root.iterfind("db:toc/db:tocentry", NS)]
    assert entries == [("3", "Early Tides Anna Smith"), ("9", "Late Storms John Doe")]
    assert [text_of(c.find("db:info/db:title", NS)).strip() for c in root.findall("db:chapter", NS)] == \
        ["Early Tides", "Late Storms"]
    assert result.words.holds and result.words.read == result.words.in_book


def test_what_a_reader_leaves_out_is_counted_reported_and_grouped(tmp_path):
    """The contract with the readers: furniture in ``Manuscript.dropped`` is read, dropped on purpose, a
    ``dropped-text`` finding each, and one row per text in repair.md (the PDF readers fill it)."""
    from pipeline.conservation import balance
    from pipeline.ingest import Dropped, Where, read_manuscript
    from pipeline.repair import repair_book
    from pipeline.repair.report import markdown
    from pipeline.structure import structure_book
    pdf = tmp_path / "notes.pdf"
    pytest.importorskip("weasyprint").HTML(string="<h1>Harbour Notes</h1><p>Ships arrived early.</p>").write_pdf(pdf)
    manuscript = read_manuscript(pdf)
    manuscript.dropped += [Dropped("Harbour Notes", Where(page=page), "running-head") for page in (2, 3, 4, 7)]
    manuscript.dropped += [Dropped(str(page), Where(page=page), "folio") for page in (2, 3, 4, 7)]
    book = structure_book(manuscript)
    repair_book(book.root, book.findings)
    result = balance(manuscript, book.root, book.findings)
    assert result.holds and result.dropped == {"running-head": 8, "folio": 4}
    assert result.read == result.in_book + 12
    assert result.summary().endswith("8 dropped as running heads, 4 as folios (report)")
    assert [f.where.page for f in book.findings.of_type("dropped-text")] == [2, 3, 4, 7, 2, 3, 4, 7]
    report = markdown(book.findings, "notes.pdf", {}, result.as_dict())
    assert "| running-head | Harbour Notes | 4 | pages 2–4, 7 |" in report
    assert "| folio | (page numbers) | 4 | pages 2–4, 7 |" in report
