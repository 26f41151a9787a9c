"""The print editions, opened as a reader and a typesetter would: fonts, outline, contents page
numbers, metadata, copy-and-paste of Khmer and Japanese, line breaking, and bad input.

One project copy is built once for the session (all three languages). Its Khmer and Japanese
catalogs get reviewed translations for the first chapter's title and first section, written
with Babel the way a PO editor would save them, so the translated editions carry real Khmer
and Japanese text through the real pipeline.
"""

from __future__ import annotations

import itertools
from collections import Counter
import re
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pypdf
from lxml import etree
import pytest
from babel.messages.pofile import read_po, write_po

from conftest import ROOT, copy_built, copy_project, need, run_press
from pipeline.config import load_config
from pipeline.errors import EnvironmentProblem, ExitCode
from pipeline.render.khmer import ZWSP

LANGUAGES = ("en", "km", "ja")
SLUG = "rise-of-global-south"
# Real Khmer and Japanese prose (about Japan–ASEAN relations), cut into phrases to stand in for
# each run of words between a sentence's placeholders. The Khmer ones have no spaces at all.
KHMER = ["ជប៉ុននិងអាស៊ានគឺជាសសរស្តម្ភនៃស្ថិរភាពនិងកំណើនសេដ្ឋកិច្ចនៅក្នុងតំបន់អាស៊ីប៉ាស៊ីហ្វិក",
         "ចាប់តាំងពីសម័យកសាងប្រទេសឡើងវិញក្រោយសង្គ្រាមលោកលើកទីពីរទំនាក់ទំនងនេះបានរីកចម្រើនជាភាពជាដៃគូដ៏រឹងមាំ",
         "កិច្ចសហប្រតិបត្តិការនេះពង្រឹងពាណិជ្ជកម្មការវិនិយោគនិងសន្តិសុខតំបន់សម្រាប់ប្រជាជនទាំងអស់",
         "សមិទ្ធផលទាំងនេះបង្ហាញពីការប្តេជ្ញាចិត្តរួមគ្នាចំពោះសន្តិភាពនិងវិបុលភាពក្នុងតំបន់ឥណ្ឌូប៉ាស៊ីហ្វិក",
         # loanwords whose ICU syllables end on a coeng: a break there would drop the subscript
         "ស្ត្រាតេហ្ស៊ីឥណ្ឌូប៉ាស៊ីហ្វិកនិងហ្វ្រេមវើកសេដ្ឋកិច្ចឌីជីថលអ៊ីនធឺណិតប្រូតូកូលស្ត្រាតេហ្ស៊ីហ្វ្រេមវើក"]
JAPANESE = ["日本とASEANは、アジア太平洋地域の安定と成長の礎となってきた",
            "戦後復興期以来、両者の関係は経済協力を深め、安全保障上の課題に取り組む多面的な関係へと発展した",
            "この対話は、地域の勢力均衡の緊張を和らげ、ASEANの中心性を強化している",
            "こうした成果は、インド太平洋地域の平和と繁栄に向けた共通の決意を示している",
            "ちょっとしたきっかけで、ジャカルタやバンコクのショッピングモールにもっと多くのキャッシュレス決済が広がった"]
TRANSLATED = re.compile(r"^ch1-(title|s1-title|s1-p\d+)\.\d+$")


def translation_keeping_placeholders(source: str, words: Iterator[str], end: str) -> str:
    """A translation that keeps the sentence's placeholders exactly, with real phrases between them."""
    pieces = re.split(r"(</?[a-z]\d+/?>)", source)
    text = "".join(piece if piece.startswith("<") else next(words) if re.search(r"\w", piece) else ""
                   for piece in pieces)
    return re.sub(r"((?:<n\d+/>)*)$", lambda match: end + match.group(1), text, count=1)


def review_catalog(path: Path, lang: str) -> list[str]:
    """Give chapter 1's title and first section reviewed translations; returns the phrases used."""
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    phrases, end = (KHMER, "។") if lang == "km" else (JAPANESE, "。")
    words = itertools.cycle(phrases)
    for message in catalog:
        if message.id and message.context and TRANSLATED.match(message.context):
            message.string = translation_keeping_placeholders(message.id, words, "" if "title" in message.context else end)
            message.flags.discard("fuzzy")
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0)
    return phrases


@pytest.fixture(scope="session")
def editions(reviewed_editions) -> Path:
    """A copy of the built project with reviewed Khmer and Japanese for chapter 1's opening (review_catalog),
    built again (conftest.reviewed_editions: made once for every worker; tests read it, never change it)."""
    return reviewed_editions


def pdf_of(project: Path, lang: str) -> Path:
    return project / "output" / lang / f"{SLUG}.pdf"


def page_text(pdf: Path, page: int) -> str:
    """One page's text as pdftotext reads it (1-based page numbers)."""
    need("pdftotext")
    return subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


def number(text: str) -> int:
    """A folio in any script's digits, or in lower-case roman numerals."""
    if re.fullmatch(r"[ivxlc]+", text):
        values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
        total = 0
        for here, after in zip(text, text[1:] + " "):
            total += -values[here] if values.get(after, 0) > values[here] else values[here]
        return total
    return int("".join(str(unicodedata.digit(c)) for c in text))


def folio(pdf: Path, page: int) -> int | None:
    """The folio printed at the foot of a page, if it prints one."""
    lines = [line.strip() for line in page_text(pdf, page).splitlines() if line.strip()]
    if lines and re.fullmatch(r"[0-9\u17e0-\u17e9]+|[ivxlc]+", lines[-1]):
        return number(lines[-1])
    return None


def outline(reader: pypdf.PdfReader) -> list[tuple[int, str, int]]:
    """(depth, title, 0-based page) for every bookmark."""
    entries = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                entries.append((depth, item.title, reader.get_destination_page_number(item)))
    walk(reader.outline, 0)
    return entries


# --------------------------------------------------------------------------- what the PDFs hold


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_font_is_embedded_and_subset(editions, lang):
    need("pdffonts")
    listing = subprocess.run(["pdffonts", str(pdf_of(editions, lang))], capture_output=True, text=True,
                             check=True).stdout.splitlines()[2:]
    assert listing, "the PDF uses fonts"
    for line in listing:
        name, columns = line.split()[0], line.split()[-5:]
        embedded, subset = columns[0], columns[1]
        assert embedded == "yes", f"{name} is not embedded"
        assert subset == "yes" and re.match(r"[A-Z]{6}\+", name), f"{name} is not a subset"
    families = " ".join(line.split()[0] for line in listing).replace("-", "")
    expected = {"en": "NotoSerif", "km": "KhmerOS", "ja": "NotoSerifCJK"}[lang]
    assert expected in families, families


@pytest.mark.parametrize("lang", LANGUAGES)
def test_outline_has_front_matter_every_chapter_and_section(editions, lang, book):
    from pipeline.docbook import NS, text_of
    reader = pypdf.PdfReader(pdf_of(editions, lang))
    entries = outline(reader)
    top = [title for depth, title, _ in entries if depth == 0]
    chapters = book.xpath("db:chapter", namespaces=NS)
    assert len([t for t in top]) >= len(chapters) + 4
    straight = [title.replace("’", "'") for title in top]
    for chapter in chapters[1:]:  # chapter 1's title is translated in km and ja
        assert " ".join(text_of(chapter.find("db:info/db:title", NS)).split()) in straight
    # Second level: each chapter's sections, its abbreviations and bibliography, and its notes
    # under the heading the book gives them ("References").
    second = book.xpath("db:chapter/db:section | db:chapter/db:bibliography | db:chapter/db:glosslist",
                        namespaces=NS)
    notes = book.xpath("db:chapter[.//db:footnote]/db:info/db:bibliomisc[@role='notes-title']", namespaces=NS)
    assert len([e for e in entries if e[0] == 1]) == len(second) + len(notes)
    pages = [page for _, _, page in entries]
    assert pages == sorted(pages), "bookmarks follow the page order"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_contents_page_numbers_are_where_the_chapters_start(editions, lang, book):
    from pipeline.docbook import NS
    pdf = pdf_of(editions, lang)
    reader = pypdf.PdfReader(pdf)
    entries = outline(reader)
    contents_page = entries[0][2] + 1
    contents = page_text(pdf, contents_page) + page_text(pdf, contents_page + 1)
    leader = "…" if lang == "ja" else "."  # Japanese contents use a three-dot leader
    printed = [number(m.group(1)) for m in re.finditer(rf"{re.escape(leader)}\s*([0-9\u17e0-\u17e9ivxlc]+)\s*$",
                                                       contents, re.M)]
    starts = [page for depth, _, page in entries if depth == 0][1:]  # after the contents itself
    assert len(printed) == len(starts) == len(book.xpath("db:preface|db:acknowledgements|db:chapter", namespaces=NS))
    for shown, start in zip(printed, starts):
        # Chapter openers and blank versos print no folio: read the next page that does, and count back.
        page = start + 1
        while (found := folio(pdf, page)) is None:
            page += 1
        assert found - (page - start - 1) == shown, (lang, shown, start)
    chapter_one = printed[-6]
    assert chapter_one == 1 and (starts[-6] % 2 == 0), "chapter 1 is page 1, on a right-hand page"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_metadata_names_the_book_its_editors_and_language(editions, lang):
    reader = pypdf.PdfReader(pdf_of(editions, lang))
    config = load_config(editions)
    meta = reader.metadata
    assert meta.title.startswith("The Rise of Global South")
    assert "CHHENG Kimlong" in meta.author and "LIM Menghour" in meta.author
    assert meta.subject == config.subject_for(lang)  # in the edition's language where [metadata] gives it
    assert meta.get("/Keywords") == ", ".join(config.keywords_for(lang))
    if lang != "en":
        assert meta.subject != config.subject, "book.toml gives this language its own subject"
    label = {"en": "Machine draft", "km": "សេចក្តីព្រាង", "ja": "機械翻訳の下書き"}[lang]
    assert not any(label in (value or "") for value in (meta.title, meta.subject, meta.get("/Keywords"))), \
        "a final edition never calls itself a draft (test_draft_editions checks that a draft does)"
    assert reader.trailer["/Root"]["/Lang"] == lang
    assert "/StructTreeRoot" in reader.trailer["/Root"], "a tagged PDF"


@pytest.mark.parametrize("lang", ["km", "ja"])
def test_translated_text_copies_out_as_the_right_unicode(editions, lang):
    pdf = pdf_of(editions, lang)
    phrases = KHMER if lang == "km" else JAPANESE
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", text.replace(ZWSP, ""))
    for phrase in phrases:
        assert phrase in flat, phrase
    if lang == "ja":  # pypdf reads the glyph map only; Khmer needs the /ActualText that poppler reads
        reader = pypdf.PdfReader(pdf)
        pypdf_flat = re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages[10:20]))
        assert phrases[0] in pypdf_flat


def test_khmer_labels_and_folios_use_khmer_digits(editions):
    pdf = pdf_of(editions, "km")
    entries = outline(pypdf.PdfReader(pdf))
    contents = page_text(pdf, entries[0][2] + 1)
    assert "មាតិកា" in contents and "ជំពូកទី" in contents.replace(" ", "").replace(ZWSP, "")
    chapter_one = [page for depth, _, page in entries if depth == 0][5]
    last_line = [line for line in page_text(pdf, chapter_one + 2).splitlines() if line.strip()][-1].strip()
    assert last_line == "២"


def _words_with_boxes(pdf: Path, page: int) -> list[tuple[str, float, float, float, float]]:
    """(word, xMin, yMin, xMax, yMax) of one page, as poppler reads them."""
    html = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    return [(m.group(5), *map(float, m.group(1, 2, 3, 4))) for m in re.finditer(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html)]


def _page_containing(pdf: Path, needle: str) -> int:
    pages = len(pypdf.PdfReader(pdf).pages)
    return next(page for page in range(1, pages + 1) if needle in page_text(pdf, page))


def test_khmer_title_page_stays_centred(editions):
    """The Khmer paragraph rule (ragged right) must not pull the title page's credit and editors left."""
    pdf = pdf_of(editions, "km")
    width = float(pypdf.PdfReader(pdf).pages[0].trimbox.width)
    words = _words_with_boxes(pdf, 1)
    for name in ("CHHENG", "Kimlong"):
        _, left, _, right, _ = next(word for word in words if word[0] == name)
        line = [w for w in words if abs(w[2] - next(x for x in words if x[0] == name)[2]) < 1]
        centre = (min(w[1] for w in line) + max(w[3] for w in line)) / 2
        assert abs(centre - width / 2) < width * 0.06, (name, centre, width)


def test_khmer_notes_share_the_calls_numbering_and_english_notes_keep_latin_leading(editions):
    pdf = pdf_of(editions, "km")
    page = _page_containing(pdf, "Hiroyuki")
    text = page_text(pdf, page)
    assert re.search(r"^\s*១\.\s+Hiroyuki", text, re.M), "note 1 is numbered in Khmer digits, as its call is"
    assert not re.search(r"^\s*[0-9]+\.\s+[A-Z]", text, re.M), "no note numbered in Latin digits"
    words = _words_with_boxes(pdf, page)
    start = next(i for i, word in enumerate(words) if word[0] == "Hiroyuki,")
    tops = sorted({round(word[2], 1) for word in words[start:start + 60] if word[0].isascii()})
    gaps = [b - a for a, b in zip(tops, tops[1:]) if b - a > 3]
    assert gaps and min(gaps) < 13, f"English notes are set at Latin leading (~11.6 pt), not Khmer's: {gaps}"


def test_khmer_captions_use_the_khmer_separator(editions):
    text = subprocess.run(["pdftotext", str(pdf_of(editions, "km")), "-"], capture_output=True, text=True,
                          check=True).stdout.replace(ZWSP, "")
    assert re.search(r"តារាងទី[០-៩]+៖", text) and not re.search(r"តារាងទី[០-៩]+:", text)


def _structure(pdf: Path) -> dict:
    """What an accessibility checker reads from the structure tree."""
    import pikepdf
    found = {"lang": Counter(), "th_scope": Counter(), "li": Counter(), "headings": [], "ids": 0}

    def walk(node) -> None:
        if not isinstance(node, pikepdf.Dictionary):
            return
        kind = str(node.get("/S", ""))
        if "/Lang" in node:
            found["lang"][str(node.Lang)] += 1
        if kind == "/TH":
            found["th_scope"][str(node.A.get("/Scope"))] += 1
        if re.fullmatch(r"/H[1-6]", kind):
            found["headings"].append(int(kind[2]))
        kids = node.get("/K")
        kids = kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []
        if kind == "/LI":
            found["li"][tuple(str(k.get("/S")) for k in kids if isinstance(k, pikepdf.Dictionary))] += 1
        for kid in kids:
            walk(kid)
    with pikepdf.open(pdf) as document:
        walk(document.Root.StructTreeRoot)
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_structure_tree_says_each_blocks_language_and_is_well_formed(editions, lang):
    found = _structure(pdf_of(editions, lang))
    if lang != "en":  # English notes and untranslated passages are tagged English, for the reader's voice
        assert found["lang"]["en"] > 300, found["lang"]
    assert found["th_scope"] and set(found["th_scope"]) == {"/Column"}, "every header cell has its scope"
    assert found["li"] and all("/LBody" in kids and set(kids) <= {"/Lbl", "/LBody"} for kids in found["li"]), \
        found["li"]
    jumps = [(a, b) for a, b in zip(found["headings"], found["headings"][1:]) if b - a > 1]
    assert jumps == [], "no heading skips a level"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_page_labels_show_the_printed_folios_and_the_page_count_is_even(editions, lang):
    import pikepdf
    with pikepdf.open(pdf_of(editions, lang)) as document:
        labels = [page.label for page in document.pages]
        assert len(labels) % 2 == 0, "printed on sheets of two pages"
        chapter_one = [page for depth, _, page in outline(pypdf.PdfReader(pdf_of(editions, lang))) if depth == 0][5]
        assert labels[:3] == ["i", "ii", "iii"] and labels[chapter_one] == "1" and labels[chapter_one - 1] != "1"
        assert labels[-1] == str(len(labels) - chapter_one)


@pytest.fixture(scope="module")
def printer_pdf(built_project) -> Path:
    """The English printer's PDF the session's build made (press build renders it by default)."""
    return built_project / "output" / "en" / f"{SLUG}-print.pdf"


@pytest.mark.slow
def test_the_printers_pdf_has_trim_bleed_marks_and_a_cmyk_output_intent(printer_pdf):
    import pikepdf
    config = load_config(ROOT)
    points = 72 / 25.4
    with pikepdf.open(printer_pdf) as document:
        assert len(document.pages) % 2 == 0
        for page in document.pages[:: max(1, len(document.pages) // 9)]:
            trim = [float(value) for value in page.obj.TrimBox]
            bleed = [float(value) for value in page.obj.BleedBox]
            media = [float(value) for value in page.obj.MediaBox]
            assert trim[2] - trim[0] == pytest.approx(config.print.width_mm * points, abs=0.1)
            assert trim[3] - trim[1] == pytest.approx(config.print.height_mm * points, abs=0.1)
            assert [t - b for t, b in zip(trim[:2], bleed[:2])] == pytest.approx([3 * points] * 2, abs=0.05)
            assert [b - t for t, b in zip(trim[2:], bleed[2:])] == pytest.approx([3 * points] * 2, abs=0.05)
            assert media[0] < bleed[0] and media[2] > bleed[2], "room for the crop marks beyond the bleed"
            content = page.obj.Contents.read_bytes()
            assert not re.search(rb"(^|\s)[\d.]+ [\d.]+ [\d.]+ (rg|RG)\s", content), "no DeviceRGB colour"
            assert re.search(rb"[\d.]+ [\d.]+ [\d.]+ [\d.]+ k\s", content), "text on the CMYK plates"
        intent = document.Root.OutputIntents[0]
        assert intent.S == "/GTS_PDFX" and intent.DestOutputProfile.read_bytes()[36:40] == b"acsp"
        assert intent.DestOutputProfile.read_bytes()[16:20] == b"CMYK"
        with document.open_metadata() as xmp:
            assert xmp.get("pdfxid:GTS_PDFXVersion") == "PDF/X-4"
            assert xmp.get("xmp:ModifyDate", "").startswith(config.epub.modified[:10]), "a fixed date: same bytes"
        assert [page.label for page in document.pages][:2] == ["i", "ii"]
        assert set(document.pages[0].obj.Resources.Font.keys()) and all(
            "/FontFile2" in font.FontDescriptor or "/FontFile3" in font.FontDescriptor or "/FontFile" in
            font.FontDescriptor for font in _fonts(document)), "every font embedded"


def _fonts(document):
    for page in document.pages[:12]:
        for font in page.obj.Resources.get("/Font", {}).values():
            font = font.DescendantFonts[0] if "/DescendantFonts" in font else font
            if "/FontDescriptor" in font:
                yield font


@pytest.mark.slow
def test_the_printers_pdf_is_the_same_bytes_each_time(printer_pdf, built_project, tmp_path):
    """Rendered again, the printer's PDF is byte-identical: WeasyPrint gives a PDF/X file a random
    xmpMM:DocumentID, which made each render differ (and a build killed after writing it, before its
    cache entry, leave a file the next build would not reproduce). Rendered here in a copy of the built
    project whose cache lost the front matter (the document's metadata), chapter 1 and the folio layer:
    WeasyPrint lays those out again and the stitching takes the rest from the cache."""
    from pipeline.i18n.localize import localize
    from pipeline.render.pdf import render_printer_pdf
    from pipeline.safety import parse_xml
    project = copy_built(built_project, tmp_path / "project")
    parts = project / "output" / ".cache" / "parts" / "en-printer"
    forgotten = [path for name in ("front", "ch1", "folios") for path in parts.glob(f"{name}.*")]
    assert len(forgotten) == 6, sorted(path.name for path in parts.iterdir())
    for path in forgotten:
        path.unlink()
    config = load_config(project)
    book = parse_xml(config.book_xml.read_bytes(), config.book_xml)
    again = tmp_path / "print.pdf"
    render_printer_pdf(localize(book, "en", config).book, "en", config, again)
    assert {path.name for path in parts.iterdir()} >= {path.name for path in forgotten}, "laid out again"
    assert again.read_bytes() == printer_pdf.read_bytes()


def test_the_printers_pdf_is_built_for_the_source_language_by_default_only(tmp_path):
    from pipeline.stages import editions
    config = load_config(ROOT)
    chosen = [(edition.lang, edition.format) for edition in editions(config, config.languages, ("pdf", "printer"))]
    assert ("en", "printer") in chosen and ("km", "printer") not in chosen and ("ja", "printer") not in chosen
    assert not any(edition.format == "printer" for edition in editions(config, ("km",), ("printer",), drafts=True))


def test_japanese_chapter_labels_read_dai_n_sho(editions):
    pdf = pdf_of(editions, "ja")
    entries = outline(pypdf.PdfReader(pdf))
    contents = page_text(pdf, entries[0][2] + 1)
    assert "目次" in contents and "第1章" in contents and "第6章" in contents


def test_japanese_lines_never_start_with_closing_punctuation_or_small_kana(editions):
    text = subprocess.run(["pdftotext", "-layout", str(pdf_of(editions, "ja")), "-"], capture_output=True, text=True,
                          check=True).stdout
    japanese_lines = [line.strip() for line in text.splitlines() if re.search(r"[\u3040-\u30ff]", line)]
    assert len(japanese_lines) > 20
    forbidden = "、。，．」』）〕】・ーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
    starts = [line for line in japanese_lines if line[0] in forbidden]
    assert starts == []


def test_long_unspaced_khmer_stays_inside_the_text_block(editions):
    log = (editions / "build.log").read_text(encoding="utf-8")
    km_line = next(line for line in log.splitlines() if line.startswith("render: km PDF:"))
    assert "overflowing" not in km_line and "missing glyph" not in km_line, km_line
    assert "splitting a Khmer cluster" not in km_line, km_line
    summary = next(line for line in log.splitlines() if re.match(r"^km +pdf", line))
    assert "overflowing" not in summary


def test_without_word_breaks_the_same_khmer_would_overflow(editions, monkeypatch, tmp_path):
    """The check above can fail: the same translated chapter, its zero-width spaces withheld."""
    from pipeline.render import html as html_module
    from pipeline.i18n.localize import localize
    from pipeline.render.pdf import render_pdf
    from pipeline.safety import parse_xml
    config = load_config(copy_built(editions, tmp_path / "project"))  # the layout saves its page map there
    root = parse_xml(config.book_xml.read_bytes(), config.book_xml)
    localized = localize(root, "km", config)
    assert localized.translated >= 5
    book = localized.book
    for other in book.xpath("*[local-name()='chapter'][position()>1] | *[local-name()='preface' or "
                            "local-name()='acknowledgements']"):
        book.remove(other)
    monkeypatch.setattr(html_module, "break_khmer", lambda text: text)
    result = render_pdf(book, "km", config, tmp_path / "unbroken.pdf")
    assert result.layout.overflows, "unbreakable Khmer lines overflow the margin"
    assert all(o.excess_pt > 0.75 for o in result.layout.overflows)


def test_japanese_body_lines_are_justified_to_the_measure(editions, monkeypatch, tmp_path):
    """WeasyPrint widens only spaces, and Japanese has none: press spreads a short line's gap
    between its characters. Chapter 1 in Japanese, laid out with and without that."""
    import contextlib

    from pipeline.i18n.localize import localize
    from pipeline.render import pdf as pdf_module
    from pipeline.render.layout import check_layout
    from pipeline.safety import parse_xml
    config = load_config(copy_built(editions, tmp_path / "project"))  # the layout saves its page map there
    root = parse_xml(config.book_xml.read_bytes(), config.book_xml)
    book = localize(root, "ja", config).book
    for other in book.xpath("*[local-name()='chapter'][position()>1] | *[local-name()='preface' or "
                            "local-name()='acknowledgements']"):
        book.remove(other)
    justified = check_layout(pdf_module.lay_out_print(book, "ja", config).rendered)
    assert justified.cjk_lines >= 5 and justified.short_cjk_lines == [], justified.short_cjk_lines[:5]
    monkeypatch.setattr(pdf_module, "inter_character_justification", contextlib.nullcontext)
    ragged = check_layout(pdf_module.lay_out_print(book, "ja", config).rendered)
    assert len(ragged.short_cjk_lines) > 0.1 * ragged.cjk_lines, "without it, many lines end short"
    assert "justified CJK line(s) ending short" in ragged.summary()


def _paragraphs_with_calls(hold: bool) -> str:
    """Japanese and English paragraphs with note calls after 。 and after a closing quote, in 40 column
    widths, so that some line end falls just before a call; the calls held to their words or not."""
    from pipeline.render.html import h, keep_calls_with_their_words
    body = h("body")
    for width in range(40):
        for text, after, lang in (("日本とASEANは地域の安定と成長の礎となってきた。", "戦後復興期以来、両者の関係は深まった。", "ja"),
                                  ("the initiation of the sectoral dialogue was called “a turning point.”",
                                   " Further summits followed.", "en")):
            paragraph = h("p", text * 2, lang=lang, style=f"width: {30 + width * 1.5}mm")
            call = h("a", h("sup", str(width + 1)), class_="noteref", href="#n")
            call.tail = after
            paragraph.append(call)
            body.append(keep_calls_with_their_words(paragraph) if hold else paragraph)
    return etree.tostring(h("html", body), method="html", encoding="unicode")


def test_no_line_opens_with_a_note_call_and_the_check_sees_one_when_calls_are_not_held():
    """Japanese allows a break after 。, English after a closing quote: an unheld call can open a line."""
    from weasyprint import HTML

    from pipeline.render.layout import check_layout
    style = "<style>body { font-family: 'Noto Serif CJK JP'; font-size: 10pt } .nobreak { white-space: nowrap }" \
            "sup { font-size: 0.7em; vertical-align: super; line-height: 0 }</style>"
    held = check_layout(HTML(string=style + _paragraphs_with_calls(True)).render())
    assert held.isolated_calls == [], held.isolated_calls
    loose = check_layout(HTML(string=style + _paragraphs_with_calls(False)).render())
    assert loose.isolated_calls and "opening with a note call" in loose.summary()


# --------------------------------------------------------------------------- bad input


def test_a_missing_font_names_the_debian_package_and_leaves_the_pdf(editions, monkeypatch, tmp_path):
    from pipeline.render import pdf as pdf_module
    from pipeline.safety import parse_xml
    config = load_config(editions)
    root = parse_xml(config.book_xml.read_bytes(), config.book_xml)
    target = tmp_path / "km.pdf"
    target.write_bytes(b"%PDF- previous edition")
    fonts = pdf_module.installed_fonts() - {"Khmer OS"}
    monkeypatch.setattr(pdf_module, "installed_fonts", lambda: fonts)
    with pytest.raises(EnvironmentProblem) as error:
        pdf_module.render_pdf(root, "km", config, target)
    assert "Khmer OS" in str(error.value) and "fonts-khmeros" in error.value.hint
    assert target.read_bytes() == b"%PDF- previous edition"


def test_a_missing_stylesheet_is_one_message_and_no_pdf(tmp_path):
    project = copy_project(tmp_path)
    (project / "templates" / "print.css").unlink()
    result = run_press("build", "--lang", "en", cwd=project)
    assert result.returncode == ExitCode.RENDER
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "templates/print.css" in errors[0]
    assert not (project / "output" / "en" / f"{SLUG}.pdf").exists()


def test_a_configured_image_that_is_not_an_image_is_refused(tmp_path):
    project = copy_project(tmp_path)
    images = project / "source" / "images"
    images.mkdir()
    (images / "ch5-figure1.png").write_text("not a picture", encoding="utf-8")
    first = run_press("build", "--lang", "en", cwd=project)
    assert first.returncode != 0
    errors = [line for line in first.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "ch5-figure1.png" in errors[0], first.stderr
    assert not (project / "output" / "en" / f"{SLUG}.pdf").exists()


@pytest.mark.slow
def test_manuscript_markup_cannot_reach_files(tmp_path, built_project):
    """An <img> typed in the manuscript is text in the book, never a request for a local file."""
    project = copy_built(built_project, tmp_path)  # its parts cache: only the edited chapter is laid out again
    manuscript = project / "source" / "manuscript.txt"
    text = manuscript.read_text(encoding="utf-8")
    hostile = ('See <img src="file:///etc/passwd"> and <link rel=stylesheet href="file:///etc/hostname"> '
               "for details.")
    marker = "Japan and ASEAN have been the cornerstones"
    manuscript.write_text(text.replace(marker, hostile + " " + marker, 1), encoding="utf-8")
    result = run_press("build", "--lang", "en", "--format", "pdf", cwd=project)
    assert result.returncode == 0, result.stderr
    pdf = project / "output" / "en" / f"{SLUG}.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert 'src="file:///etc/passwd"' in re.sub(r"\s+", " ", text).replace("“", '"').replace("”", '"')
    assert "root:x:0:0" not in text
    reader = pypdf.PdfReader(pdf)
    images = [name for page in reader.pages for name in page.images]
    assert images == [], "no image was fetched into the PDF"


@pytest.mark.slow
def test_footnotes_at_the_page_foot_as_the_alternative(tmp_path, built_project, book):
    from pipeline.docbook import NS, text_of
    project = copy_built(built_project, tmp_path)  # the book extracted already; the edition laid out again
    toml = project / "source" / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("[print]\n", '[print]\nnotes = "footnotes"\n', 1),
                    encoding="utf-8")
    result = run_press("build", "--lang", "en", "--format", "pdf", cwd=project)
    assert result.returncode == 0, result.stderr
    pdf = project / "output" / "en" / f"{SLUG}.pdf"
    reader = pypdf.PdfReader(pdf)
    note = book.xpath("//db:chapter[@label='1']//db:footnote", namespaces=NS)[0]
    words = " ".join(text_of(note).split()).split('"')[0]  # before the quotes the renderer curls
    marker_page = next(page for page in range(len(reader.pages))
                       if "Japan and ASEAN have been the cornerstones" in reader.pages[page].extract_text())
    foot = re.sub(r"\s+", " ", page_text(pdf, marker_page + 1))
    assert len(words) > 10 and f"1. {words}" in foot, (words, foot[-400:])
    titles = [title for _, title, _ in outline(reader)]
    assert "References" not in titles[:20], "no endnotes section in chapter 1"


def test_arabic_folios_start_at_the_first_chapter_whatever_its_id(tmp_path):
    """The renderer finds the first chapter in the book, not by the id "ch1" (a DocBook book from elsewhere
    names its chapters as it likes)."""
    from conftest import small_project
    from pipeline.config import load_config
    from pipeline.docbook import NS as DB
    from pipeline.extract import extract_book
    from pipeline.i18n.localize import localize
    from pipeline.render.pdf import lay_out_print
    from pipeline.safety import parse_xml
    project = small_project(tmp_path)
    config = load_config(project)
    result = extract_book(config)
    root = parse_xml(result.output.read_bytes(), result.output)
    chapter = root.xpath("db:chapter", namespaces=DB)[0]
    xml_id = "{http://www.w3.org/XML/1998/namespace}id"
    for element in chapter.iter():
        if isinstance(element.tag, str) and (element.get(xml_id) or "").startswith("ch1"):
            element.set(xml_id, element.get(xml_id).replace("ch1", "opening", 1))
    layout = lay_out_print(localize(root, "en", config).book, "en", config, notes=config.notes)
    start = next(start for start in layout.starts if start.element == "opening")
    assert start.label == "1", layout.starts
