"""PDFs of the book read back: press's own print edition, and LibreOffice's PDF of a DOCX of it.

press's edition must come back as the book the text manuscript gives, element by element
(tests/bookdiff.py says where it does not). LibreOffice sets a book differently: notes at the
page foot with each number on a line of its own, tables with all their rows, the abbreviations
as a definition list. In every PDF, each letter of the text layer is in a block or recorded as
dropped; and a few rules are shown on one small page each (paragraph ends, powers and markers).
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter

import pytest

import bookdiff
from conftest import NS
from pipeline.config import load_config
from pipeline.docbook import text_of
from pipeline.extract import extract_book
from pipeline.ingest import read_manuscript
from pipeline.ingest.pdf import _text_pages
from pipeline.safety import DEFAULT_LIMITS, parse_xml

pytestmark = pytest.mark.slow


def _read_back(pdf, tmp_path_factory, name: str):
    output = tmp_path_factory.mktemp(name) / "book.xml"
    project = pdf.parents[2] if (pdf.parents[2] / "source").is_dir() else None
    result = extract_book(load_config(project), manuscript=pdf, output=output)
    return parse_xml(output.read_bytes()), result


@pytest.fixture(scope="module")
def edition_book(english_edition):
    """The book the edition was made from (the build's own book.xml)."""
    path = english_edition.parents[1] / "xml" / "book.xml"
    return parse_xml(path.read_bytes(), path)


@pytest.fixture(scope="module")
def read_back(english_edition, tmp_path_factory):
    return _read_back(english_edition, tmp_path_factory, "edition-read-back")


@pytest.fixture(scope="module")
def office_read_back(book_office_pdf, tmp_path_factory):
    return _read_back(book_office_pdf, tmp_path_factory, "office-read-back")


# --------------------------------------------------------------------------- press's own edition


def test_the_edition_read_back_is_the_same_book(book, edition_book, read_back):
    root, _ = read_back
    expected, actual = bookdiff.outline(edition_book), bookdiff.outline(root)
    assert bookdiff.outline(book) == expected  # the edition was made from the text manuscript's book
    assert len(expected) == 2 + 4 + 6  # editors, printed contents, four front-matter parts, six chapters
    differences = bookdiff.differences(expected, actual)
    assert not differences, "the edition read back differs from its book:\n" + "\n".join(differences)


def test_the_comparison_names_a_merged_paragraph_a_lost_row_and_a_lost_part(edition_book):
    """The round trip's comparison is only as good as what it notices."""
    damaged = copy.deepcopy(edition_book)
    chapter = damaged.xpath("db:chapter[@label='3']", namespaces=NS)[0]
    first, second = chapter.xpath(".//db:section[1]/db:para", namespaces=NS)[:2]
    second.getparent().remove(second)  # two paragraphs merged into one
    if len(first):
        first[-1].tail = (first[-1].tail or "") + " " + text_of(second)
    else:
        first.text = (first.text or "") + " " + text_of(second)
    row = chapter.xpath(".//db:table[1]//db:tbody/db:row", namespaces=NS)[-1]
    row.getparent().remove(row)
    foreword = damaged.xpath("db:preface[@role='foreword']", namespaces=NS)[0]
    damaged.remove(foreword)
    differences = bookdiff.differences(bookdiff.outline(edition_book), bookdiff.outline(damaged))
    report = "\n".join(differences)
    assert "missing: preface foreword" in report
    assert any(line.startswith("chapter 3 / paragraphs: 31 expected, 30 read back") for line in differences)
    assert any(line.startswith("chapter 3 / tables:") for line in differences)


def test_the_printed_contents_is_kept_with_its_folios(english_edition, read_back):
    """The contents page is a printed contents region, its roman and arabic folios as printed."""
    root, _ = read_back
    folios = {name: folio for _, folio, name in json.loads(
        (english_edition.parent / "pagemap.json").read_text())["starts"]}
    [toc] = root.xpath("db:toc[@role='printed']", namespaces=NS)
    entries = {re.sub(r"\s+", " ", text_of(entry)).strip(): entry.get("pagenum")
               for entry in toc.xpath(".//db:tocentry", namespaces=NS)}
    for title, target in [("Foreword", "foreword"), ("Acknowledgements", "acknowledgements"),
                          ("Book Outline", "book-outline"), ("Executive Summary", "executive-summary")]:
        assert entries[title] == folios[target], title
    assert folios["foreword"] == "v"
    chapters = toc.xpath("db:tocdiv[@role='chapter']", namespaces=NS)
    assert [division.get("pagenum") for division in chapters] == [folios[f"ch{n}"] for n in range(1, 7)]
    assert [xid for xid in root.xpath("db:chapter/@xml:id", namespaces=NS)] == [f"ch{n}" for n in range(1, 7)]


def test_what_the_reader_leaves_out_of_the_edition_is_recorded(english_edition):
    manuscript = read_manuscript(english_edition)
    leaders = [item for item in manuscript.dropped if item.reason == "contents-leader"]
    assert len(leaders) == 10  # four front-matter parts and six chapters on the contents page
    assert all(item.where.page == 3 and set(item.text) <= {".", " "} for item in leaders)
    assert len([item for item in manuscript.dropped if item.reason == "back-link"]) == 186  # one per note
    words = " ".join(block.text for block in manuscript.blocks)
    assert ". . ." not in words and "↩" not in words


def _characters(text: str) -> Counter:
    return Counter(char for char in text if char.isalnum())


def _block_characters(blocks) -> Counter:
    """Every letter and digit a block stream holds: text, cells, list markers and attached notes (the
    number printed before a foot note is recorded as dropped, reason note-number: it became the label)."""
    found: Counter = Counter()
    for block in blocks:
        spans = list(block.spans) + [span for cell in block.cells or [] for span in cell]
        found += _characters("".join(span.text for span in spans) + (block.bullet or ""))
        for span in spans:
            found += _block_characters(span.note or [])
    return found


@pytest.mark.parametrize("which", ["english_edition", "book_office_pdf", "book_pdf"])
def test_the_assembler_places_or_records_every_letter(which, request):
    """Conservation at the block level: every letter and digit of the PDF's text layer is in a block
    (a paragraph, a cell, a list marker, a note) or recorded as dropped, with its reason."""
    path = request.getfixturevalue(which)
    pages, _, _ = _text_pages(path.read_bytes(), path, DEFAULT_LIMITS, "")
    read = _characters("".join(run.text for lines in pages for line in lines for run in line.runs))
    manuscript = read_manuscript(path)
    kept = _block_characters(manuscript.blocks)
    dropped = _characters("".join(item.text for item in manuscript.dropped))
    assert kept + dropped == read, (
        f"lost: {dict((read - kept - dropped).most_common(10))}, extra: {dict((kept + dropped - read).most_common(10))}")


# --------------------------------------------------------------------------- every edition press makes


EDITIONS = {"printer": ("en", "-print"), "km": ("km", ""), "ja": ("ja", "")}  # the printer's PDF, and the translations


def _edition_pdf(built_project, name: str):
    lang, suffix = EDITIONS[name]
    [pdf] = [path for path in (built_project / "output" / lang).glob("*.pdf") if path.stem.endswith(suffix)
             and (suffix or not path.stem.endswith("-print"))]
    return pdf


@pytest.mark.parametrize("name", list(EDITIONS))
def test_every_edition_reads_back_as_its_book(name, built_project, edition_book, tmp_path_factory):
    """The printer's PDF (crop marks, bleed) and the Khmer and Japanese editions (their own labels: មាតិកា,
    ជំពូកទី១ and Khmer digits; 目次, 第1章 and ellipsis leaders) read back valid, balanced, and the same book.
    The Khmer edition used to stop with exit 6 (ids and note labels made of Khmer digits)."""
    root, result = _read_back(_edition_pdf(built_project, name), tmp_path_factory, f"{name}-read-back")
    assert result.words.holds and result.words.read > 33_000
    differences = bookdiff.differences(bookdiff.outline(edition_book), bookdiff.outline(root))
    assert not differences, f"the {name} edition read back differs from its book:\n" + "\n".join(differences)
    labels = root.xpath("//db:footnote/@label | //db:chapter/@label | //db:table/@label", namespaces=NS)
    assert len(labels) == 186 + 6 + 2 and all(label.isascii() for label in labels)


def _unspaced_letters(counter: Counter) -> Counter:
    """The letters the word balance counts one by one (Khmer, Japanese: no spaces between words)."""
    return Counter({word: count for word, count in counter.items()
                    if len(word) == 1 and ord(word) > 0x1000 and word.isalpha()})


@pytest.mark.parametrize("name", ["km", "ja"])
def test_khmer_and_japanese_letters_are_read_as_pdftotext_reads_them(name, built_project):
    """Each Khmer and Japanese letter of the edition, as poppler reads it (it follows the /ActualText
    the Khmer edition puts on each line), is what press reads: before, a Khmer glyph that stands in
    two clusters gave "ពុម្រ្ព" for "ពុម្ព", so the imprint's "published by" was not recognised."""
    import subprocess
    from conftest import need
    from pipeline.conservation import manuscript_words, words
    pdf = _edition_pdf(built_project, name)
    text = subprocess.run([need("pdftotext"), "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    theirs = _unspaced_letters(Counter(words(text)))
    ours = _unspaced_letters(manuscript_words(read_manuscript(pdf)))
    assert sum(theirs.values()) >= 60  # the labels, the imprint, the edition line, (Khmer) the numbers' letters
    assert ours == theirs, f"missing {dict(theirs - ours)}, extra {dict(ours - theirs)}"


@pytest.mark.parametrize("lang", ["km", "ja"])
def test_the_editions_labels_are_in_the_readers_vocabulary(lang):
    """Every label an edition prints (locales/ui/LANG.po) is one the structuring rules know, so a new
    translation of a label cannot silently stop its editions (or an author's file) from reading back."""
    from conftest import ROOT
    from pipeline.render.strings import ui_strings
    from pipeline.structure import rules
    say = ui_strings(lang, ROOT / "locales")
    assert say("Contents") != "Contents"  # the catalog is there and translated
    assert rules.TOC_TITLE.match(say("Contents"))
    chapter = rules.CHAPTER_LABEL.match(say("Chapter {number}", number=12))
    assert chapter and int(chapter.group("number")) == 12
    assert rules.CREDIT_LINE.match(say("Edited by") + " Dr. CHHENG Kimlong").group("rest") == "Dr. CHHENG Kimlong"
    assert rules.PUBLISHED_BY.match(say("Published by") + " Asian Vision Institute").group("rest") == \
        "Asian Vision Institute"
    copyright_line = rules.COPYRIGHT_LINE.match(say("Copyright © {year} {holder}", year=2026, holder="AVI"))
    assert copyright_line and int(copyright_line.group("year")) == 2026
    assert rules.is_notes_title(say("Notes"))
    for kind, pattern in (("Table", rules.TABLE_TITLE), ("Figure", rules.FIGURE_TITLE)):
        caption = pattern.match(say("{label}: ", label=say(f"{kind} {{number}}", number=3)) + "Trade flows")
        assert caption and int(caption.group("number")) == 3 and caption.group("title") == "Trade flows", kind
    assert rules.is_missing_image_text(say("Image not supplied with the manuscript"))


def test_a_khmer_page_reads_back_letter_for_letter(tmp_path):
    """Khmer text as the Khmer edition sets it (each line in an /ActualText span, subscripts and vowel signs
    drawn up to half a size off the baseline, list numbers in Khmer digits): every letter of the source
    comes back, and the list starting at ៣ is a valid DocBook list starting at 3. Before, a line whose
    glyphs stood apart fell back to the font's glyph map (30 letters too many, 6 lost) and the list's
    startingnumber="៣" made the book invalid (exit 6)."""
    weasyprint = pytest.importorskip("weasyprint")
    from pipeline.conservation import manuscript_words, words
    from pipeline.render.pdf import actual_text_for_reordering_scripts
    vocabulary = ["សហប្រតិបត្តិការ", "ប្រទេស", "ជប៉ុន", "និង", "អាស៊ាន", "ក្នុង", "តំបន់", "ខាងត្បូង", "យុទ្ធសាស្ត្រ",
                  "សន្តិសុខ", "អភិវឌ្ឍន៍", "ពាណិជ្ជកម្ម"]
    paragraph = "".join(vocabulary[(i * 7) % 12] + (" " if i % 5 == 4 else "") for i in range(90)) + "។"
    items = ["".join(vocabulary[(i + k) % 12] for k in range(6)) + "។" for i in range(3)]
    html = ("<html lang='km'><head><style>@page { size: A5; margin: 2cm } body { font-family: 'Khmer OS', "
            "'Noto Serif Khmer'; font-size: 10.5pt; line-height: 1.95 } ol { list-style: khmer; "
            "counter-reset: list-item 2 }</style></head><body>"
            f"<h1>ជំពូកទី១</h1><h2>សហប្រតិបត្តិការ</h2><p>{paragraph}</p>"
            "<ol>" + "".join(f"<li>{item}</li>" for item in items) + "</ol></body></html>")
    pdf = tmp_path / "khmer.pdf"
    with actual_text_for_reordering_scripts():
        weasyprint.HTML(string=html).write_pdf(pdf)
    printed = "ជំពូកទី១ សហប្រតិបត្តិការ " + paragraph + " " + " ".join(items) + " ៣ ៤ ៥"
    assert _unspaced_letters(manuscript_words(read_manuscript(pdf))) == _unspaced_letters(Counter(words(printed)))
    output = tmp_path / "book.xml"
    result = extract_book(load_config(), manuscript=pdf, output=output)
    assert result.words.holds
    root = parse_xml(output.read_bytes())
    assert root.xpath("//db:orderedlist/@startingnumber", namespaces=NS) == ["3"]
    assert [re.sub(r"\s+", "", text_of(item)) for item in root.xpath("//db:listitem", namespaces=NS)] == items


def test_a_japanese_paragraph_comes_back_without_spaces_at_its_line_breaks(tmp_path):
    """Japanese is written without spaces, so a line break inside a paragraph is no word space: the
    paragraph read back is the one written (lines were joined with a space: "安 全保障")."""
    weasyprint = pytest.importorskip("weasyprint")
    vocabulary = ["協力", "日本", "地域", "経済", "安全保障", "開発", "戦略的", "パートナーシップ", "の", "と", "は", "を"]
    paragraph = "".join(vocabulary[(i * 5) % 12] + ("、" if i % 7 == 6 else "") for i in range(160)) + "。"
    html = ("<html lang='ja'><head><style>@page { size: A5; margin: 2cm } body { font-family: 'Noto Serif CJK JP'; "
            f"font-size: 10pt; line-height: 1.75 }}</style></head><body><h1>第1章</h1><h2>日本</h2><p>{paragraph}</p>"
            "</body></html>")
    pdf = tmp_path / "japanese.pdf"
    weasyprint.HTML(string=html).write_pdf(pdf)
    texts = [block.text for block in read_manuscript(pdf).blocks]
    assert paragraph in texts, texts


@pytest.mark.parametrize("listed", [3, 4])
def test_a_translated_notes_heading_is_known_by_the_notes_under_it(listed, tmp_path):
    """A translated edition's notes heading ("注記", any language) is not in the vocabulary: the chapter's
    last heading is its notes heading when a list numbered 1..N ends the chapter under it and the text
    calls notes 1..N (the translated Khmer and Japanese editions read back with 0 of 186 notes). A list
    the markers do not call in full stays a list."""
    weasyprint = pytest.importorskip("weasyprint")
    sentence = "日本と地域の協力は経済の開発と安全保障を結ぶ戦略的なパートナーシップである"
    calls = "".join(f"<p>{sentence * 3}。<sup>{n}</sup>{sentence}。</p>" for n in (1, 2, 3))
    notes = "".join(f"<li>Author {n}. “Title {n}”. Tokyo: Press. 2025.</li>" for n in range(1, listed + 1))
    html = ("<html lang='ja'><head><style>@page { size: A5; margin: 2cm } body { font-family: 'Noto Serif CJK JP'; "
            "font-size: 10pt; line-height: 1.75 } sup { font-size: 0.6em }</style></head><body>"
            "<h1 style='font-size: 24pt; break-after: page'>本の題名</h1>"
            f"<p>第1章</p><h1>日本と地域</h1><h2>序論</h2>{calls}<h2>注記</h2><ol>{notes}</ol></body></html>")
    pdf = tmp_path / "notes.pdf"
    weasyprint.HTML(string=html).write_pdf(pdf)
    output = tmp_path / "book.xml"
    extract_book(load_config(), manuscript=pdf, output=output)
    root = parse_xml(output.read_bytes())
    footnotes = root.xpath("//db:footnote", namespaces=NS)
    if listed == 3:
        assert [text_of(note).strip() for note in footnotes] == [f"Author {n}. “Title {n}”. Tokyo: Press. 2025."
                                                                  for n in (1, 2, 3)]
    else:
        assert not footnotes and len(root.xpath("//db:orderedlist/db:listitem", namespaces=NS)) == 4


# --------------------------------------------------------------------------- LibreOffice's PDF


def test_libreoffice_notes_are_all_found_and_linked(office_read_back, book):
    root, result = office_read_back
    notes = root.xpath("//db:footnote", namespaces=NS)
    assert len(notes) == 186
    expected = [bookdiff.normalise(text_of(note)) for note in book.xpath("//db:footnote", namespaces=NS)]
    assert [bookdiff.normalise(text_of(note)) for note in notes] == expected
    assert not result.findings.of_type("marker-without-note")


def test_libreoffice_note_text_is_not_body_text(office_read_back, book):
    root, _ = office_read_back
    paragraphs = [bookdiff.normalise(text_of(p)) for p in root.xpath(bookdiff.BODY_PARAS, namespaces=NS)]
    starts = {bookdiff.normalise(text_of(note))[:60] for note in book.xpath("//db:footnote", namespaces=NS)}
    assert not [p for p in paragraphs if p[:60] in starts or re.match(r"^\d{1,3} [A-Z]", p)]


def test_libreoffice_tables_and_abbreviations(office_read_back, book):
    root, _ = office_read_back
    expected = [len(table.xpath(".//db:row", namespaces=NS)) for table in book.xpath("//db:table", namespaces=NS)]
    tables = root.xpath("//db:table | //db:informaltable", namespaces=NS)
    assert [len(table.xpath(".//db:row", namespaces=NS)) for table in tables] == expected
    chapter4 = root.xpath("db:chapter[4]", namespaces=NS)[0]
    sections = chapter4.xpath(".//db:section", namespaces=NS)
    assert len(sections) == len(book.xpath("db:chapter[4]//db:section", namespaces=NS))
    terms = [text_of(term) for term in chapter4.xpath(".//db:glossterm", namespaces=NS)]
    assert terms == [text_of(term) for term in book.xpath("db:chapter[4]//db:glossterm", namespaces=NS)]


# --------------------------------------------------------------------------- exponents and markers


def test_an_exponent_stays_a_superscript_and_a_note_marker_gets_its_note(tmp_path):
    """km² and x² are powers, not notes; the raised 1 after a word of prose is note 1 at the page foot."""
    weasyprint = pytest.importorskip("weasyprint")
    html = ("<html><head><style>@page { size: A5; margin: 2cm } body { font-family: 'DejaVu Serif'; "
            "font-size: 10pt } .notes { margin-top: 18em } sup { font-size: 0.6em }</style></head><body>"
            "<h1>Chapter 1: Land</h1><p>The area is 12 km<sup>2</sup> and x<sup>2</sup> grows with it, as the "
            "survey of the landscape showed.<sup>1</sup> The rest of the paragraph runs on to the end.</p>"
            "<p class='notes'><sup>1</sup> Survey of the land, 2024.</p></body></html>")
    pdf = tmp_path / "powers.pdf"
    weasyprint.HTML(string=html).write_pdf(pdf)
    output = tmp_path / "book.xml"
    result = extract_book(load_config(), manuscript=pdf, output=output)
    root = parse_xml(output.read_bytes())
    [chapter] = root.xpath("db:chapter", namespaces=NS)
    assert [text_of(sup) for sup in chapter.xpath(".//db:superscript", namespaces=NS)] == ["2", "2"]
    assert not chapter.xpath(".//db:superscript[@role='noteref']", namespaces=NS)  # not taken for markers
    assert not result.findings.of_type("marker-without-note")
    [note] = chapter.xpath(".//db:footnote", namespaces=NS)
    assert note.get("label") == "1" and text_of(note).strip() == "Survey of the land, 2024."
    assert "Survey of the land" not in " ".join(text_of(p) for p in root.xpath(bookdiff.BODY_PARAS, namespaces=NS))


# --------------------------------------------------------------------------- the rules, one small page each


def test_paragraphs_end_at_indents_and_early_line_ends_and_centred_lines_stay_apart(tmp_path):
    weasyprint = pytest.importorskip("weasyprint")
    long = ("The partnership has grown over five decades into a dense web of trade, investment and "
            "trust, and it now faces a world in which power is more widely spread than before. ")
    css = ("@page { size: A5; margin: 2cm } body { font-family: 'DejaVu Serif'; font-size: 10pt; line-height: 1.4 }"
           " p { margin: 0; text-indent: 1.5em; text-align: justify } h2 + p { text-indent: 0 }"
           " .title { text-align: center; break-after: page } .title h1 { font-size: 20pt }"
           " .title p, .sign p { text-indent: 0; text-align: center } .sign p { text-align: right }")
    html = (f"<html><head><style>{css}</style></head><body><div class='title'>"
            "<h1>The Rise of the South and Its Implications for an Old Partnership</h1>"
            "<p>Edited by</p><p>Dr. CHHENG Kimlong</p><p>LIM Menghour</p></div>"
            f"<h2>Foreword</h2><p>{long * 3}</p><p>{long * 2}</p><p>{long * 2}</p><p>Short one.</p><p>{long * 2}</p>"
            "<div class='sign'><p>Dr. CHHENG Kimlong</p><p>President of the Institute</p></div></body></html>")
    pdf = tmp_path / "rules.pdf"
    weasyprint.HTML(string=html).write_pdf(pdf)
    blocks = [(block.kind.value, block.text) for block in read_manuscript(pdf).blocks]
    assert blocks[:4] == [("heading", "The Rise of the South and Its Implications for an Old Partnership"),
                          ("text", "Edited by"), ("text", "Dr. CHHENG Kimlong"), ("text", "LIM Menghour")]
    assert blocks[4] == ("heading", "Foreword")
    assert [text for _, text in blocks[5:10]] == [(long * 3).strip()] + [(long * 2).strip()] * 2 + [
        "Short one.", (long * 2).strip()]
    assert blocks[10:] == [("text", "Dr. CHHENG Kimlong"), ("text", "President of the Institute")]
