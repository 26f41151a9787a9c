"""Pandoc's whole DOCX test corpus through ``press extract``: pandoc's words kept, structure right.

The corpus lives beside the project (``../shared/corpora/pandoc-docx``, see tests/pandoc_corpus.py
for where each file's expected words come from); the tests skip only when it is absent. Each
file is extracted once, in-process (read, structure, repair, DocBook 5.0 validation, write).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from conftest import NS
from pandoc_corpus import CORPUS, book_words, corpus_files, expected_words, kept
from pipeline.config import load_config
from pipeline.docbook import text_of
from pipeline.extract import extract_book
from pipeline.safety import parse_xml

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"pandoc's DOCX corpus is not at {CORPUS}")

FILES = corpus_files() if CORPUS.is_dir() else []
# Files where press keeps fewer words than pandoc, each for a reason that is not the reader's:
# the share press keeps at least, and why.
SHORTFALLS = {
    # the printed contents page is recognised as page furniture (the book makes its own contents)
    "0_level_headers.docx": (0.5, "printed contents page"),
    # "Table 5:" is the table's label (label="5"), not title text
    "table_captions_no_field.docx": (0.85, "table label"),
    # pandoc prints "[DIAGRAM]" for a SmartArt diagram; there are no words in the file
    "diagram.docx": (0.6, "pandoc's placeholder"),
    # pandoc's expectation shows a tracked deletion; press reads tracked changes as accepted
    "track_changes_scrubbed_metadata.docx": (0.85, "tracked deletion"),
}
_OUTPUT = Path()


@pytest.fixture(scope="module", autouse=True)
def _output_directory(tmp_path_factory):
    global _OUTPUT
    _OUTPUT = tmp_path_factory.mktemp("pandoc-docx")


@lru_cache(maxsize=None)
def extracted(name: str):
    """(book root, extract result, output directory) of one corpus file, extracted once."""
    path = CORPUS / name
    output = _OUTPUT / name.replace("/", "__").removesuffix(".docx") / "book.xml"
    result = extract_book(load_config(), manuscript=path, output=output, reports=output.parent / "reports")
    return parse_xml(output.read_bytes(), output), result, output.parent


def _name(path: Path) -> str:
    return str(path.relative_to(CORPUS))


@pytest.mark.parametrize("name", [_name(path) for path in FILES])
def test_every_file_is_read_and_keeps_pandocs_words(name):
    root, result, _ = extracted(name)  # an internal error or an invalid book fails here, naming the file
    source, expected = expected_words(CORPUS / name)
    if expected is None:
        pytest.skip(f"{name}: no word expectation ({source})")
    total = sum(expected.values())
    share = kept(expected, book_words(root)) / total if total else 1.0
    floor, reason = SHORTFALLS.get(name, (1.0, ""))
    missing = expected - book_words(root)
    assert share >= floor, f"{name} keeps {share:.1%} of pandoc's {total} words ({source}); missing: " \
                           f"{dict(list(missing.items())[:12])}"


def test_the_corpus_as_a_whole_keeps_99_percent_of_pandocs_words():
    total = kept_words = 0
    for path in FILES:
        _, expected = expected_words(path)
        if expected is None:
            continue
        root, _, _ = extracted(_name(path))
        total += sum(expected.values())
        kept_words += kept(expected, book_words(root))
    assert total > 3000
    assert kept_words / total >= 0.99, f"{kept_words} of {total} words ({kept_words / total:.1%})"


def xpath(root, query: str):
    return root.xpath(query, namespaces=NS)


def texts(root, query: str) -> list[str]:
    return [" ".join(text_of(node).split()) for node in xpath(root, query)]


# --------------------------------------------------------------------------- the structure, per feature


def test_main_part_named_by_the_package_relationships():
    root, _, _ = extracted("alternate_document_path.docx")  # its main part is word/document2.xml
    assert "This is" in " ".join(texts(root, "//db:para"))
    assert xpath(root, "//db:emphasis[@role='underline']")


def test_text_boxes_and_shapes_are_read_once():
    root, _, _ = extracted("text_in_shape_format.docx")
    paras = texts(root, "//db:para")
    assert "Valter Kiisk" in paras and "Institute of Physics, University of Tartu" in paras
    assert sum(para.count("Valter Kiisk") for para in paras) == 1  # the VML fallback copy is not read again
    # the text box's title ("2007/2010<br/>for Writing") titles the book: its line break is a space there
    assert "2007/2010 for Writing" in xpath(root, "string(db:info/db:title)")
    root, _, media = extracted("image_with_textbox_caption.docx")  # a picture captioned by a text box beside it
    assert "Diagonalverfahren" in texts(root, "//db:figure/db:title")[0]
    fileref = xpath(root, "//db:figure/db:mediaobject/db:imageobject/db:imagedata/@fileref")[0]
    assert (media / fileref).stat().st_size > 0


def test_block_quotes_by_style_and_by_indentation_stay_apart_from_their_neighbours():
    root, _, _ = extracted("block_quotes.docx")
    quotes = xpath(root, "//db:blockquote")
    assert len(quotes) == 3
    assert [len(xpath(quote, "db:para")) for quote in quotes] == [1, 1, 1]
    assert texts(root, "//db:blockquote[3]/db:para")[0].startswith("I just indented this")
    assert "And back to the normal style." in texts(root, "//db:para[not(ancestor::db:blockquote)]")


def test_code_blocks_keep_their_lines_and_adjacent_lines_are_one_listing():
    root, _, _ = extracted("codeblock.docx")
    listing = xpath(root, "//db:programlisting")
    assert len(listing) == 1
    assert text_of(listing[0]).startswith("readDocx :: ReaderOptions\n         -> B.ByteString")
    # code paragraphs in a row (blank ones too) are one listing, line for line as pandoc reads it
    root, _, _ = extracted("adjacent_codeblocks.docx")
    listings = xpath(root, "//db:programlisting")
    assert len(listings) == 2
    first, second = (text_of(listing) for listing in listings)
    assert first.count("\n") == 26 and "Interrupt:19 Base address:0x2000 \n\nlo " in first
    assert second == "# ls /sys/class/ieee80211/\nphy0"
    root, _, _ = extracted("inline_code.docx")
    assert texts(root, "//db:para/db:code") == ["inline code"]


def test_nested_lists_levels_continuations_and_adjacent_lists():
    root, _, _ = extracted("lists.docx")
    section = xpath(root, "//db:chapter")[0]  # its one Heading 1 makes the book's chapter
    top = xpath(section, "db:orderedlist | db:itemizedlist")
    assert [element.tag.split("}")[1] for element in top] == ["orderedlist", "itemizedlist", "itemizedlist"]
    numbered, bulleted, adjacent = top
    assert texts(numbered, "db:listitem/db:para") == ["one", "two"]
    lettered = xpath(numbered, "db:listitem[2]/db:orderedlist")[0]
    assert lettered.get("numeration") == "loweralpha" and texts(lettered, "db:listitem/db:para") == ["a", "b"]
    deepest = xpath(bulleted, "db:listitem[2]/db:itemizedlist/db:listitem/db:itemizedlist/db:listitem")[0]
    assert texts(deepest, "db:para") == ["four", "Sub paragraph"]  # the continuation stays in its item
    assert texts(bulleted, "db:listitem/db:para") == ["one", "two", "Same list"]
    assert texts(adjacent, "db:listitem/db:para") == ["Different list adjacent to the one above."]


def test_numbering_goes_on_after_an_interruption_and_restarts_when_told():
    root, _, _ = extracted("lists_continuing.docx")  # Foo Bar Baz, a paragraph, then 4. Bop
    assert [(ol.get("startingnumber"), texts(ol, "db:listitem/db:para")) for ol in xpath(root, "//db:orderedlist")] \
        == [(None, ["Foo", "Bar", "Baz"]), ("4", ["Bop"])]
    assert texts(root, "//db:chapter/db:para") == ["Interruption."]
    root, _, _ = extracted("lists_restarting.docx")  # a list starting at 2, a quote, a list restarted at 1
    assert [(ol.get("startingnumber"), texts(ol, "db:listitem/db:para")) for ol in xpath(root, "//db:orderedlist")] \
        == [("2", ["Foo", "Bar", "Baz"]), (None, ["Bop."])]
    assert texts(root, "//db:blockquote/db:para") == ["Interruption"]
    root, _, _ = extracted("lists_restart_8367.docx")  # two instances of one list definition, the first restarted
    assert [texts(ol, "db:listitem/db:para") for ol in xpath(root, "//db:orderedlist")] == [
        ["Item 1", "Item 2", "Item 3"], ["Item 1", "Item 2", "Item 3", "Item 4"]]
    assert [ol.get("startingnumber") for ol in xpath(root, "//db:orderedlist")] == [None, None]
    root, _, _ = extracted("task_list.docx")  # a list level without a marker is the item's next paragraph
    assert texts(root, "//db:listitem[db:para = 'Checked']/db:para") == ["Checked", "with continuation paragraph"]


def test_each_table_is_separate_with_its_header_rows():
    root, _, _ = extracted("tables.docx")
    tables = xpath(root, "//db:informaltable")
    assert len(tables) == 3
    assert texts(tables[0], ".//db:thead/db:row/db:entry") == ["Name", "Game", "Fame", "Blame"]
    assert len(xpath(tables[0], ".//db:tbody/db:row")) == 3
    assert not xpath(tables[1], ".//db:thead") and not xpath(tables[2], ".//db:thead")
    root, _, _ = extracted("table_one_header_row.docx")  # header rows only: CALS needs a body, so it is the body
    assert texts(root, "//db:tbody/db:row/db:entry") == ["One", "Row", "Table"]
    root, _, _ = extracted("table_one_row.docx")
    assert not xpath(root, "//db:thead") and texts(root, "//db:tbody/db:row/db:entry") == ["One", "Row", "Table"]
    root, _, _ = extracted("table_header_rowspan.docx")
    assert len(xpath(root, "//db:thead/db:row")) == 2  # the header's cells span two rows
    assert xpath(root, "//db:thead//db:entry[@namest='c5'][@nameend='c7']")


def test_word_caption_style_titles_the_table_above_or_below_it():
    root, _, _ = extracted("table_captions_with_field.docx")  # one caption above its table, one below
    tables = xpath(root, "//db:table")
    assert [text_of(table.find("{http://docbook.org/ns/docbook}title")) for table in tables] == ["Table 1", "Table 2"]
    assert [len(xpath(table, ".//db:row")) for table in tables] == [3, 1]
    assert not xpath(root, "//db:figure")  # a table caption is not a figure
    for link in xpath(root, "//db:link[@linkend]"):  # "See Table 2" reaches the caption's bookmark
        assert xpath(root, f"//db:table/db:title/db:anchor[@xml:id='{link.get('linkend')}']")


def test_lists_inside_table_cells():
    root, _, _ = extracted("table_with_list_cell.docx")
    assert texts(root, "//db:entry/db:itemizedlist/db:listitem/db:para") == ["Cell with", "A", "Bullet list"]
    assert texts(root, "//db:entry/db:orderedlist/db:listitem/db:para") == ["Cell with", "A", "Numbered list."]


def test_footnotes_and_endnotes_stay_distinct():
    root, _, _ = extracted("notes.docx")
    assert texts(root, "//db:footnote[not(@role)]/db:para") == ["My note."]
    assert texts(root, "//db:footnote[@role='endnote']/db:para") == ["This is an endnote at the end of the document."]


def test_comments_are_editors_remarks():
    root, _, _ = extracted("comments.docx")
    remarks = xpath(root, "//db:remark[@role='comment']")
    assert texts(root, "//db:remark[@role='comment']")[:2] == ["I left a comment.", "A comment across paragraphs."]
    assert all(r.xpath("processing-instruction('comment-by')") for r in remarks)
    assert "I want some text to have a comment on it." in [
        " ".join("".join(p.xpath("text() | *[not(self::db:remark)]//text()", namespaces=NS)).split())
        for p in xpath(root, "//db:para")]


def test_tracked_changes_read_as_accepted():
    root, _, _ = extracted("track_changes_deletion.docx")
    assert texts(root, "//db:para") == ["This is a text with a deletion."]
    root, _, _ = extracted("track_changes_insertion.docx")
    assert texts(root, "//db:para") == ["This is a text with two exciting insertions."]
    root, _, _ = extracted("paragraph_insertion_deletion.docx")  # a deleted paragraph mark joins two paragraphs
    assert texts(root, "//db:para") == ["This is a", "split Paragraph."]
    from pipeline.ingest import read_manuscript
    warnings = read_manuscript(CORPUS / "track_changes_deletion.docx").warnings  # said, for the report
    assert [w.kind for w in warnings] == ["tracked-deletions"] and "excessively" in warnings[0].message


def test_links_with_fragments_bookmarks_and_field_codes():
    root, _, _ = extracted("links.docx")
    hrefs = [link.get("{http://www.w3.org/1999/xlink}href") for link in xpath(root, "//db:link[@xlink:href]")]
    assert "http://pandoc.org/README.html#synopsis" in hrefs
    internal = xpath(root, "//db:link[@linkend]")
    assert len(internal) == 2
    for link in internal:  # each internal link meets its bookmark
        assert xpath(root, f"//db:anchor[@xml:id='{link.get('linkend')}']")
    root, _, _ = extracted("instrText_hyperlink.docx")
    assert xpath(root, "//db:link[starts-with(@xlink:href, 'http')]")
    root, _, _ = extracted("nested_anchors_in_header.docx")  # contents entries and cross-links to headings
    links = xpath(root, "//db:link[@linkend]")
    assert len(links) == 6 and all(xpath(root, f"//db:title/db:anchor[@xml:id='{link.get('linkend')}']")
                                   for link in links)
    assert texts(root, "//db:link[@linkend]")[4] == "Open remote folder"  # a cross-link in the text to a heading


def test_pictures_saved_beside_the_book_with_alt_text_inline_kept_inline():
    root, _, directory = extracted("inline_images.docx")
    images = xpath(root, "//db:para//db:inlinemediaobject")
    assert len(images) == 2
    first = images[0]
    fileref = xpath(first, "db:imageobject/db:imagedata/@fileref")[0]
    assert fileref == "media/image1.jpg"
    assert (directory / fileref).read_bytes()[:3] == b"\xff\xd8\xff"  # the JPEG itself
    assert texts(first, "db:textobject/db:phrase") == ["This one is green and looks like Sideshow Bob."]
    links = xpath(root, "//db:para[2]/db:link")  # "one <picture> that" is one link, as in pandoc's reading
    assert len(links) == 1 and xpath(links[0], "db:inlinemediaobject")
    root, _, directory = extracted("textbox_image.docx")
    block = xpath(root, "//db:informalfigure/db:mediaobject/db:imageobject/db:imagedata/@fileref")
    assert block and (directory / block[0]).read_bytes()[:4] == b"\x89PNG"


def test_inline_formatting_marks():
    root, _, _ = extracted("inline_formatting.docx")
    assert texts(root, "//db:emphasis[@role='smallcaps']") == ["Small Caps"]
    assert texts(root, "//db:emphasis[@role='strikethrough']") == ["strikethrough"]
    assert "emphasis" in texts(root, "//db:emphasis[@role='underline']")
    assert texts(root, "//db:superscript") == ["superscript"]
    assert texts(root, "//db:subscript") == ["subscript"]
    assert xpath(root, "//db:para[processing-instruction('linebreak')]")


def test_definition_lists_without_invented_roles():
    root, _, _ = extracted("definition_list.docx")
    assert not xpath(root, "//db:glosslist")
    entries = xpath(root, "//db:variablelist/db:varlistentry")
    assert texts(root, "//db:varlistentry/db:term") == ["Term 1", "Term 2 with inline markup"]
    assert texts(entries[0], "db:listitem/db:para") == ["Definition 1"]
    assert texts(entries[1], "db:listitem/db:para") == [  # a definition of three paragraphs, one inline code
        "Definition 2", "{ some code, part of Definition 2 }", "Third paragraph of definition 2."]
    assert texts(entries[1], "db:listitem/db:para/db:code") == ["{ some code, part of Definition 2 }"]
    assert all(element.get("role") is None for element in xpath(root, "//db:variablelist//*"))


def test_a_namespace_prefix_pandoc_2_17_cannot_read():
    root, _, _ = extracted("ns0-reference.docx")
    assert texts(root, "//db:chapter/db:para") == ["ref"]


# --------------------------------------------------------------------------- downstream: editions and catalogs


def _chapter_html(name: str) -> str:
    from lxml import etree

    from conftest import ROOT
    from pipeline.render.html import Context, chapter_html
    from pipeline.render.strings import ui_strings
    root, _, _ = extracted(name)
    ctx = Context(lang="en", strings=ui_strings("en", ROOT / "locales"))
    return "".join(etree.tostring(chapter_html(chapter, ctx), encoding="unicode")
                   for chapter in xpath(root, "//db:chapter"))


def test_the_editions_set_the_new_blocks_and_leave_remarks_out():
    assert _chapter_html("block_quotes.docx").count("<blockquote>") == 3
    assert '<pre class="code">readDocx :: ReaderOptions\n' in _chapter_html("codeblock.docx")
    assert "<dt>Term 1</dt>" in _chapter_html("definition_list.docx")
    formatted = _chapter_html("inline_formatting.docx")
    assert '<span class="smallcaps">Small Caps</span>' in formatted and "<s>strikethrough</s>" in formatted
    assert "A line<br/>" in formatted
    commented = _chapter_html("comments.docx")
    assert "I want some text to have a comment on it." in commented
    assert "I left a comment." not in commented  # the editor's remark is not printed
    linked = _chapter_html("links.docx")
    assert '<a href="#bm-my_bookmark">internal link</a>' in linked and '<span id="bm-my_bookmark"/>' in linked


def test_remarks_are_not_translation_text():
    from pipeline.config import load_config
    from pipeline.i18n.segments import extract_segments
    root, _, _ = extracted("comments.docx")
    segments = extract_segments(root, load_config().translation)
    text = " ".join(segment.text for segment in segments)
    assert "I want <g1/>some text to have a comment on it." in text
    assert "I left a comment" not in text and "editor's remark" in " ".join(
        meaning for segment in segments for _, meaning in segment.placeholders)


def test_a_paragraph_typed_in_a_monospaced_font_is_code(tmp_path):
    """No code style, just Courier New throughout (as authors type code): a listing, not prose;
    one monospaced word inside prose is inline code. Written with python-docx."""
    import docx
    document = docx.Document()
    document.add_paragraph("Run this:")
    code = document.add_paragraph()
    code.add_run("for x in range(3):").font.name = "Courier New"
    document.add_paragraph().add_run("    print(x)").font.name = "Courier New"
    prose = document.add_paragraph("Then call ")
    prose.add_run("main()").font.name = "Consolas"
    prose.add_run(" again.")
    path = tmp_path / "typed-code.docx"
    document.save(path)
    result = extract_book(load_config(), manuscript=path, output=tmp_path / "book.xml")
    root = parse_xml(result.output.read_bytes())
    assert [text_of(listing) for listing in xpath(root, "//db:programlisting")] == ["for x in range(3):\n    print(x)"]
    assert texts(root, "//db:para") == ["Run this:", "Then call main() again."]
    assert texts(root, "//db:para/db:code") == ["main()"]


def test_a_title_style_line_titles_the_book_and_the_body_is_kept():
    root, _, _ = extracted("metadata.docx")  # Title, Subtitle, Author, Date and Abstract styles, then the body
    assert xpath(root, "string(db:info/db:title)") == "This Is the Title"
    paras = texts(root, "//db:chapter//db:para")
    assert paras[-1] == "And now this is normal text."
    # Author, Date and Abstract styles are the book's metadata (structure's rule), kept in <info>
    assert "Mary Ann Evans" in texts(root, "db:info/db:author")
