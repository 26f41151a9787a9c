"""Hyphenation a typesetter signs off: no names or acronyms broken, no ladders, not too many.

Real paragraphs of the book are set in narrow justified columns (where hyphenation is hardest)
with and without press's rules, and the laid-out lines are read back.
"""

from __future__ import annotations

import pytest
from lxml import etree

from pipeline.docbook import NS, text_of
from pipeline.render.html import h
from pipeline.render.hyphenation import book_hyphenation, is_protected
from pipeline.render.layout import INSERTED_HYPHEN, _text, _walk, check_layout

STYLE = ("<style>p { font-family: 'Noto Serif'; font-size: 10pt; text-align: justify; hyphens: auto; "
         "hyphenate-limit-chars: 6 3 3; margin: 0 0 1em } body { width: 52mm }</style>")


def test_what_is_never_hyphenated():
    assert is_protected("Japan") and is_protected("ASEAN") and is_protected("COVID-19") and is_protected("G7")
    assert is_protected("partnership", frozenset({"partnership"}))
    assert not is_protected("partnership") and not is_protected("cooperation")


@pytest.fixture(scope="module")
def narrow_columns(book) -> str:
    """The book's first 60 long body paragraphs, in a 52 mm column."""
    paragraphs = [" ".join(text_of(para).split()) for para in book.xpath(
        "//db:chapter//db:section/db:para[not(ancestor::db:footnote)]", namespaces=NS)]
    body = h("body", *[h("p", text, lang="en") for text in paragraphs if len(text) > 400][:60])
    return STYLE + etree.tostring(h("html", body, lang="en"), method="html", encoding="unicode")


def _hyphenated_words(document) -> list[str]:
    from weasyprint.formatting_structure import boxes
    words = []
    for page in document.pages:
        for box, _ in _walk(page._page_box):
            if isinstance(box, boxes.LineBox):
                line = _text(box).rstrip()
                if line.endswith(INSERTED_HYPHEN):
                    words.append(line.split()[-1])
    return words


@pytest.mark.slow
def test_names_and_acronyms_stay_whole_and_no_three_lines_in_a_row_end_hyphenated(narrow_columns):
    from weasyprint import HTML
    plain = HTML(string=narrow_columns).render()
    plain_report, plain_words = check_layout(plain), _hyphenated_words(plain)
    # the narrow column makes plain WeasyPrint break names and build ladders: the checks can fail
    assert plain_report.ladders, "without the ladder guard some paragraph hyphenates three lines in a row"
    assert any(word[:1].isupper() for word in plain_words), "without protection some name is hyphenated"

    with book_hyphenation():
        guarded = HTML(string=narrow_columns).render()
    report, words = check_layout(guarded), _hyphenated_words(guarded)
    assert report.ladders == [], report.ladders
    assert words, "ordinary long words are still hyphenated"
    broken_names = [word for word in words if any(char.isupper() or char.isdigit() for char in word.split("-")[-1])]
    assert broken_names == [], broken_names
    assert report.hyphenated <= plain_report.hyphenated


def test_the_guard_leaves_weasyprint_as_it_was():
    import weasyprint.layout.inline as inline
    import weasyprint.text.line_break as line_break
    before = (line_break.pyphen, inline.split_first_line)
    with book_hyphenation():
        assert (line_break.pyphen, inline.split_first_line) != before
    assert (line_break.pyphen, inline.split_first_line) == before
