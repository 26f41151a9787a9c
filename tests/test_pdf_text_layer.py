"""The PDF reader's text layer on PDFs made by real tools: every letter pdftotext sees is read,
furniture is recorded, ligatures spelt out, columns read in order, superscripts told apart,
damaged files read with a warning.

The PDFs come from press itself (its English edition), WeasyPrint (HTML with columns, ligature
characters, images), GNU troff (``groff -ms -Tpdf``: a paper in Type 1 fonts with a custom
encoding, ligature glyphs and words placed one by one, as LaTeX does) and LibreOffice.
pdftotext (poppler) is the independent witness of what a file's text layer holds.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from conftest import need
from pipeline.errors import InputError
from pipeline.ingest.pdf import read_pdf
from pipeline.ingest.pdf_text import Fonts, folio_number, page_lines
from pipeline.ingest.model import Kind


def read(path: Path):
    return read_pdf(path.read_bytes(), path)


def pdftotext(path: Path) -> str:
    result = subprocess.run([need("pdftotext"), str(path), "-"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def letters(text: str) -> Counter:
    return Counter(char for char in text if char.isalnum())


def read_letters(manuscript) -> Counter:
    """Every letter and digit the reader kept (blocks, list markers, table cells, foot notes hung on
    their markers) or dropped on purpose (a foot note's printed number, now its label, is dropped)."""
    kept: list[str] = []

    def walk(blocks) -> None:
        for block in blocks:
            kept.append((block.bullet or "") + block.text)
            for span in list(block.spans) + [span for cell in block.cells or [] for span in cell]:
                if span.note is not None:
                    walk(span.note)

    walk(manuscript.blocks)
    return letters("".join(kept)) + letters("".join(dropped.text for dropped in manuscript.dropped))


def weasyprint_pdf(html: str, path: Path, base: Path | None = None) -> Path:
    weasyprint = pytest.importorskip("weasyprint")
    weasyprint.HTML(string=html, base_url=str(base or path.parent)).write_pdf(path)
    return path


def page_runs(path: Path, number: int = 1):
    from pypdf import PdfReader
    reader = PdfReader(str(path))
    return page_lines(reader.pages[number - 1], number, Fonts())


# --------------------------------------------------------------------------- press's own edition


@pytest.fixture(scope="module")
def edition(english_edition) -> Path:
    """press's English PDF edition, built by press from the real manuscript (the session's build)."""
    return english_edition


@pytest.fixture(scope="module")
def edition_read(edition):
    """The edition as the PDF reader reads it (read once: the tests below only look at it)."""
    return read(edition)


@pytest.mark.slow
def test_edition_every_letter_pdftotext_sees_is_read_or_dropped_as_furniture(edition, edition_read):
    manuscript = edition_read
    assert read_letters(manuscript) == letters(pdftotext(edition))


@pytest.mark.slow
def test_edition_folios_roman_and_arabic_and_running_heads_are_recorded(edition_read):
    manuscript = edition_read
    folios = [(dropped.where.page, dropped.text) for dropped in manuscript.dropped if dropped.reason == "folio"]
    roman = [(page, text) for page, text in folios if folio_number(text)[0] == "roman"]
    # the front matter is numbered i, ii, iii... from the first page: each folio is its page's number
    assert [text for _, text in roman][:4] == ["iii", "v", "vii", "viii"]
    assert all(folio_number(text)[1] == page for page, text in roman)
    arabic = [(page, int(text)) for page, text in folios if text.isdigit()]
    assert len(arabic) > 80 and len({number - page for page, number in arabic}) == 1  # in step with the pages
    heads = Counter(dropped.text for dropped in manuscript.dropped if dropped.reason == "running-head")
    assert heads["Japan-ASEAN Relations: Past, Present, and Future"] >= 5  # a chapter title on its pages
    assert heads["SUOS Yara"] >= 5  # the author on the facing pages
    text = {block.text.strip() for block in manuscript.blocks}
    assert not any(folio_number(line) for line in text)
    assert "SUOS Yara" in text  # the byline under the chapter title is text, not furniture


@pytest.mark.slow
def test_a_libreoffice_pdf_without_furniture_loses_no_line(book_office_pdf):
    """LibreOffice's pages start and end at the same heights, as every book's do: that alone made
    the first and last line of each page "furniture" before. (The session's LibreOffice print of the
    book's DOCX, conftest.book_office_pdf.)"""
    pdf = book_office_pdf
    manuscript = read(pdf)
    assert {dropped.reason for dropped in manuscript.dropped} <= {"note-number"}, "no furniture, no line lost"
    assert read_letters(manuscript) == letters(pdftotext(pdf))


# --------------------------------------------------------------------------- furniture or text


def test_a_lone_word_on_an_image_page_is_text(tmp_path):
    from PIL import Image
    Image.new("RGB", (600, 400), (90, 120, 160)).save(tmp_path / "picture.png")
    page = "<div style='break-after: page'><img src='picture.png' style='width: 150mm'>{}</div>"
    html = ("<html><body style='font-family: DejaVu Serif'>" + page.format("") + page.format("<p>Background</p>")
            + page.format("") + page.format("") + "</body></html>")
    pdf = weasyprint_pdf(html, tmp_path / "images.pdf")
    manuscript = read(pdf)
    assert [block.text for block in manuscript.blocks] == ["Background"]
    assert manuscript.dropped == []


def test_a_line_repeated_at_the_page_head_is_a_running_head_and_page_numbers_are_folios(tmp_path):
    css = ("@page { size: A5; margin: 25mm 20mm; @top-center { content: 'A Treatise on Rivers'; font-size: 8pt }"
           " @bottom-center { content: counter(page, lower-roman); font-size: 8pt } }"
           " body { font-family: 'DejaVu Serif'; font-size: 10pt }")
    paragraphs = "".join(f"<p>Paragraph {n} about the river and its many fords, banks and ferries.</p>"
                         for n in range(90))
    pdf = weasyprint_pdf(f"<html><head><style>{css}</style></head><body>{paragraphs}</body></html>",
                         tmp_path / "treatise.pdf")
    manuscript = read(pdf)
    pages = len(re.findall(r"\f", pdftotext(pdf)))
    assert pages >= 4
    assert [(d.text, d.where.page) for d in manuscript.dropped if d.reason == "folio"] == [
        (numeral, page) for page, numeral in enumerate(["i", "ii", "iii", "iv", "v", "vi", "vii"][:pages], 1)]
    assert [d.where.page for d in manuscript.dropped if d.reason == "running-head"] == list(range(1, pages + 1))
    assert "A Treatise on Rivers" not in " ".join(block.text for block in manuscript.blocks)
    assert read_letters(manuscript) == letters(pdftotext(pdf))


def test_roman_looking_words_are_not_folios():
    assert folio_number("xiv") == ("roman", 14) and folio_number("XII") == ("roman", 12)
    assert folio_number("- 7 -") == ("arabic", 7) and folio_number("Page 3 of 9") == ("arabic", 3)
    for word in ("did", "civil", "mild", "Dim", "lid", "vice", "iiii", "Xi"):
        assert folio_number(word) is None, word


# --------------------------------------------------------------------------- glyphs and words


def test_ligature_presentation_forms_are_spelt_out(tmp_path):
    """Text pasted from another PDF keeps ﬁ, ﬂ, ﬀ as characters; WeasyPrint writes them to the text
    layer as they are (pypdf's own extraction shows them), the reader spells them out."""
    html = ("<html><body style='font-family: DejaVu Serif'><p>We \ufb01nd the \ufb02ow of a\ufb00airs e\ufb03cient; "
            "the ba\ufb04ed o\ufb05 and \ufb06ar.</p></body></html>")
    pdf = weasyprint_pdf(html, tmp_path / "ligatures.pdf")
    from pypdf import PdfReader
    raw = PdfReader(str(pdf)).pages[0].extract_text()
    assert "\ufb01" in raw and "\ufb03" in raw  # the file really holds presentation forms
    text = " ".join(block.text for block in read(pdf).blocks)
    assert text == "We find the flow of affairs efficient; the baffled ost and star."
    assert not re.search("[\ufb00-\ufb06]", text)


@pytest.fixture(scope="module")
def paper(tmp_path_factory) -> Path:
    """A short paper typeset by GNU troff: Type 1 fonts with a /Differences encoding, ligature glyphs
    (fi, fl, ffi), words placed one by one with kerning, and exponents raised with \\u."""
    groff = need("groff")
    directory = tmp_path_factory.mktemp("paper")
    source = directory / "paper.ms"
    source.write_text(".TL\nOn the Efficiency of Financial Flows\n.AU\nA. Author\n.NH\nIntroduction\n.PP\n"
                      "The first finding is that fluent officers find efficient ways to fill the office.\n"
                      "We define E = mc\\u2\\d and 10\\u3\\d units, as Smith showed.\\u1\\d\n"
                      ".NH\nMethod\n.PP\nA second paragraph, with different words, flowing on and on to fill "
                      "the line so that it wraps over several lines of text in the paper.\n")
    result = subprocess.run([groff, "-ms", "-Tpdf", str(source)], capture_output=True, timeout=60)
    if result.returncode or not result.stdout.startswith(b"%PDF"):
        pytest.skip("groff cannot write PDF here (the groff package, not groff-base, has -Tpdf)")
    path = directory / "paper.pdf"
    path.write_bytes(result.stdout)
    return path


def test_a_troff_paper_reads_word_for_word_as_pdftotext_does(paper):
    manuscript = read(paper)
    ours = " ".join((block.bullet or "") + " " + block.text for block in manuscript.blocks)
    # in reading order, letter for letter (line breaks and a hyphen at a line end aside)
    assert re.sub(r"[\s-]", "", ours) == re.sub(r"[\s-]", "", pdftotext(paper))
    assert "Introduction" in ours and "We define" in ours and "efficient ways" in ours  # not "Intr oduction"


def test_exponents_and_note_markers_are_superscripts_told_apart(paper, tmp_path):
    raised = [run for line in page_runs(paper) for run in line.runs if run.superscript]
    assert [(run.text.strip(), run.exponent) for run in raised] == [("2", True), ("3", True), ("1", False)]
    assert raised[0].attached_to.endswith("E = mc") and raised[1].attached_to.endswith("10")
    assert raised[2].attached_to.endswith("showed.")
    line = next(line for line in page_runs(paper) if any(run.superscript for run in line.runs))
    assert "E = mc2 and 103" in line.text  # each attached to its word, the space after kept
    html = ("<html><body style='font-family: DejaVu Serif'><p>The area is 12 km<sup>2</sup> and x<sup>2</sup> "
            "grows, as the landscape.<sup>4</sup> shows.</p></body></html>")
    pdf = weasyprint_pdf(html, tmp_path / "sup.pdf")
    raised = [run for line in page_runs(pdf) for run in line.runs if run.superscript]
    assert [(run.text.strip(), run.exponent) for run in raised] == [("2", True), ("2", True), ("4", False)]


# --------------------------------------------------------------------------- columns


def test_two_columns_are_read_column_by_column(tmp_path):
    left = " ".join(f"Alpha{n} sentence in the first column flows on." for n in range(40))
    right = " ".join(f"Beta{n} words of the second column continue here." for n in range(40))
    css = ("@page { size: A4; margin: 2cm } body { font-family: 'DejaVu Serif'; font-size: 10pt }"
           " .columns { column-count: 2; column-gap: 1cm; text-align: justify }")
    html = (f"<html><head><style>{css}</style></head><body><h1>A Two-Column Article</h1>"
            "<p>An abstract across the whole page above both columns, long enough to be a paragraph.</p>"
            f"<div class='columns'><p>{left}</p><p>{right}</p></div></body></html>")
    pdf = weasyprint_pdf(html, tmp_path / "columns.pdf")
    manuscript = read(pdf)
    assert not [block for block in manuscript.blocks if block.kind is Kind.ROW]
    text = " ".join(block.text for block in manuscript.blocks)
    assert text.index("An abstract") < text.index("Alpha0")
    words = re.findall(r"(Alpha|Beta)(\d+)", text)
    assert words == [("Alpha", str(n)) for n in range(40)] + [("Beta", str(n)) for n in range(40)]
    assert read_letters(manuscript) == letters(pdftotext(pdf))
    lines = page_runs(pdf)
    assert {line.column for line in lines if "Alpha1 " in line.text} == {1}
    assert {line.column for line in lines if "Beta30" in line.text} == {2}


def _groff(source: str, path: Path) -> Path:
    groff = need("groff")
    result = subprocess.run([groff, "-ms", "-Tpdf"], input=source.encode(), capture_output=True, timeout=60)
    if result.returncode or not result.stdout.startswith(b"%PDF"):
        pytest.skip("groff cannot write PDF here (the groff package, not groff-base, has -Tpdf)")
    path.write_bytes(result.stdout)
    return path


def test_a_troff_paper_in_two_columns_reads_as_it_does_in_one(tmp_path):
    """troff's two-column mode: words placed one by one, a heading in one column shifting its
    baselines against the other's. Read column by column, the text comes out as the one-column
    typesetting of the same source does (line breaks and their hyphens aside)."""
    import random
    chooser = random.Random(7)
    vocabulary = ("the of financial flows efficient office fluent findings market policy region trade model "
                  "data results we show that affluent").split()
    source = [".TL", "On the Efficiency of Financial Flows", ".AU", "A. Author", ".AB",
              "This abstract defines the scope of the study.", ".AE", "COLUMNS"]
    for title in ("Introduction", "Related Work", "Method", "Results", "Conclusion"):
        source += [".NH", title] + [line for _ in range(4) for line in
                                    (".PP", " ".join(chooser.choice(vocabulary) for _ in range(90)) + ".")]
    text = "\n".join(source) + "\n"
    one = _groff(text.replace("COLUMNS\n", ""), tmp_path / "one.pdf")
    two = _groff(text.replace("COLUMNS\n", ".2C\n"), tmp_path / "two.pdf")

    def flat(path: Path) -> str:
        return re.sub(r"[\s-]", "", " ".join((block.bullet or "") + block.text for block in read(path).blocks))

    assert {line.column for line in page_runs(two)} == {0, 1, 2}
    assert flat(two) == flat(one)
    assert read_letters(read(two)) == letters(pdftotext(two))


def test_a_table_is_not_taken_for_columns(tmp_path):
    rows = "".join(f"<tr><td>Country {n}</td><td>Infrastructure loans and human resource development number {n}"
                   f"</td><td>Transport corridors and rural electrification</td></tr>" for n in range(12))
    html = ("<html><body style='font-family: DejaVu Serif; font-size: 9pt'><table style='width: 100%'>"
            f"{rows}</table></body></html>")
    pdf = weasyprint_pdf(html, tmp_path / "table.pdf")
    assert {line.column for line in page_runs(pdf)} == {0}


# --------------------------------------------------------------------------- damaged files


def _after_header(data: bytes) -> int:
    return data.index(b"\n", data.index(b"\n") + 1) + 1  # past "%PDF-1.4" and the binary comment


DAMAGE = {  # the first three pdftotext (poppler) takes in its stride; the last one stops it, not press
    "cut before startxref": lambda data: data[:data.rfind(b"startxref")],
    "startxref pointing nowhere": lambda data: data[:data.rfind(b"startxref")] + b"startxref\n999999\n%%EOF\n",
    "offsets shifted": lambda data: (data[:_after_header(data)] + b"% a line an editor added, moving every object\n"
                                     + data[_after_header(data):]),
    "cross-reference table cut": lambda data: data[:data.rfind(b"\nxref") + 60] + data[data.rfind(b"startxref"):],
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_pdf_is_read_with_one_warning(paper, tmp_path, damage):
    data = DAMAGE[damage](paper.read_bytes())
    path = tmp_path / "damaged.pdf"
    path.write_bytes(data)
    try:
        witness = pdftotext(path)
    except AssertionError:  # poppler refuses it
        witness = None
    assert (witness is None) == (damage == "cross-reference table cut")
    manuscript = read(path)
    assert [warning.kind for warning in manuscript.warnings].count("tolerant-read") == 1
    if witness is not None:  # poppler reads it too: the same letters
        assert read_letters(manuscript) == letters(witness)
    assert read_letters(manuscript) == letters(pdftotext(paper))


@pytest.mark.parametrize("data", [b"%PDF-1.4\n" + bytes(range(256)) * 8, b"%PDF-1.7\n1 0 obj\n<< /Type /Cat"],
                         ids=["noise", "one broken object"])
def test_an_unreadable_pdf_is_refused_in_one_line(tmp_path, data):
    path = tmp_path / "broken.pdf"
    path.write_bytes(data)
    with pytest.raises(InputError) as refused:
        read(path)
    assert "\n" not in str(refused.value) and "broken.pdf" in str(refused.value)


def test_a_troff_paper_makes_a_book_with_its_text(paper, tmp_path):
    """A paper without "Chapter N" lines, in its own fonts, is a book with its words, not an empty one."""
    from pipeline.config import load_config
    from pipeline.docbook import NS, text_of
    from pipeline.extract import extract_book
    from pipeline.safety import parse_xml
    result = extract_book(load_config(), manuscript=paper, output=tmp_path / "book.xml")
    root = parse_xml(result.output.read_bytes())
    assert root.xpath("db:chapter", namespaces=NS)
    body = " ".join(text_of(para) for para in root.xpath("//db:para", namespaces=NS))
    assert "The first finding is that fluent officers find efficient ways to fill the office." in body


@pytest.mark.parametrize("content, expected", [
    (b"BT /F5 10 Tf 72 700 Td (Nested (twice (deep)) here) Tj ET", "Nested (twice (deep)) here"),
    (b"BT /F5 10 Tf 72 700 Td (Kept before) Tj 0 -14 Td (never closed \\( " + b"\\(" * 5000, "Kept before"),
])
def test_strings_with_deep_parentheses_or_never_closed(paper, tmp_path, content, expected):
    """Content streams as a hand-edited or damaged file has them: parentheses nested deeper than
    usual, a string that runs to the end of the stream (read in linear time, the rest given up)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ContentStream
    writer = PdfWriter(clone_from=PdfReader(str(paper)))
    page = writer.pages[0]
    stream = ContentStream(None, writer)
    stream.set_data(content)
    page.replace_contents(stream)
    path = tmp_path / "edited.pdf"
    with path.open("wb") as output:
        writer.write(output)
    assert [line.text for line in page_runs(path)][0] == expected


def test_a_font_without_a_unicode_map_is_reported(tmp_path):
    """Without its ToUnicode map a font's two-byte codes are glyph numbers (pdftotext prints the
    same gibberish): the reader says so for the page instead of passing the guess off as text."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject
    intact = weasyprint_pdf("<p style='font-family: DejaVu Serif'>Text whose font lost its map.</p>",
                            tmp_path / "intact.pdf")
    writer = PdfWriter(clone_from=PdfReader(str(intact)))
    for font in writer.pages[0]["/Resources"]["/Font"].values():
        del font.get_object()[NameObject("/ToUnicode")]
    stripped = tmp_path / "stripped.pdf"
    with stripped.open("wb") as output:
        writer.write(output)
    assert "Text whose font" not in pdftotext(stripped)
    assert [warning.kind for warning in read(intact).warnings] == []
    assert [(warning.kind, warning.where.page) for warning in read(stripped).warnings
            if warning.kind == "font-encoding"] == [("font-encoding", 1)]
