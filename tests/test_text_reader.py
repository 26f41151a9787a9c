"""The plain-text reader: exact decoding, the inline vocabulary it understands, and what stays text."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import MANUSCRIPT
from pipeline.errors import InputError, LimitError
from pipeline.ingest import Kind, read_manuscript
from pipeline.ingest.inline import parse_inline
from pipeline.ingest.text import decode_manuscript, read_text
from pipeline.safety import Limits

P = Path("m.txt")


def test_utf8_and_byte_order_marks_decode_exactly():
    text = MANUSCRIPT.read_text(encoding="utf-8")
    for encoding in ("utf-8", "utf-8-sig", "utf-16", "utf-32"):
        assert decode_manuscript(text.encode(encoding), P) == text
    assert decode_manuscript(text.encode("utf-16-le"), P) == text  # no BOM: the NULs give it away
    assert decode_manuscript(text.encode("utf-16-be"), P) == text


def test_legacy_encodings_are_refused_or_decoded_as_told():
    data = "Japan’s “heart-to-heart” diplomacy — 1977".encode("cp1252")
    with pytest.raises(InputError) as error:
        decode_manuscript(data, P)
    assert "not UTF-8" in error.value.message and "line 1" in (error.value.where or "")
    assert "cp1252" in error.value.hint.lower() or "windows-1252" in error.value.hint.lower()
    assert decode_manuscript(data, P, "cp1252") == "Japan’s “heart-to-heart” diplomacy — 1977"
    with pytest.raises(InputError):
        decode_manuscript(b"caf\xe9", P, "no-such-codec")


@pytest.mark.parametrize("data, words", [
    (b"", "empty"), (b"  \n\n \t", "empty"), (b"abc\x00def" * 100, "binary"),
    (b"Title\n\nText with a \x07 bell.", "control character"),
])
def test_text_that_is_not_a_manuscript(data, words):
    with pytest.raises(InputError) as error:
        decode_manuscript(data, P)
    assert words in error.value.message


def test_an_enormous_line_is_a_limit():
    with pytest.raises(LimitError) as error:
        read_text(b"Heading\n\n" + b"x" * 5000, P, Limits(max_line_chars=4000))
    assert error.value.where == "line 3"


def test_inline_vocabulary():
    spans = parse_inline("In *Modern Diplomacy*¹² and <i>Asian Survey</i>, \\$280 cost <https://a.org/x>.")
    assert [(s.text, s.emphasis, s.superscript, s.href) for s in spans] == [
        ("In ", False, False, None), ("Modern Diplomacy", True, False, None), ("12", False, True, None),
        (" and ", False, False, None), ("Asian Survey", True, False, None), (", $280 cost ", False, False, None),
        ("https://a.org/x", False, False, "https://a.org/x"), (".", False, False, None)]


def test_bare_urls_keep_sentence_punctuation_outside():
    spans = parse_inline("See https://www.nst.com.my/x#google_vignette. Then (https://a.org/b_(c)).")
    links = [s.href for s in spans if s.href]
    assert links == ["https://www.nst.com.my/x#google_vignette", "https://a.org/b_(c)"]
    assert "".join(s.text for s in spans) == "See https://www.nst.com.my/x#google_vignette. Then (https://a.org/b_(c))."


def test_a_url_with_a_space_is_not_linked_as_printed():
    spans = parse_inline("<https://modern diplomacy.eu/2024/x/>.")
    assert "".join(s.text for s in spans) == "https://modern diplomacy.eu/2024/x/."
    assert not any(s.href for s in spans)


def test_markup_that_is_not_in_the_vocabulary_stays_text():
    hostile = '<img src="file:///etc/passwd"> <a rel="attachment" href="file:///x">y</a> <style>*{}</style>'
    spans = parse_inline(hostile)
    assert "".join(s.text for s in spans) == hostile
    assert not any(s.href for s in spans)


def test_multiplication_and_lone_asterisks_are_not_emphasis():
    spans = parse_inline("5 * 3 = 15 and a* b")
    assert all(not s.emphasis for s in spans)


def test_blocks_from_the_manuscript():
    manuscript = read_manuscript(MANUSCRIPT)
    kinds = {block.kind for block in manuscript.blocks}
    assert kinds == {Kind.TEXT, Kind.HEADING, Kind.ITEM, Kind.ROW}
    by_line = {block.where.line: block for block in manuscript.blocks}
    assert by_line[165].kind is Kind.HEADING and by_line[165].text == "Introduction"
    assert by_line[544].kind is Kind.ROW and len(by_line[544].cells) == 4
    assert by_line[624].kind is Kind.ITEM and by_line[624].bullet == "-"
    assert by_line[14].gap.value == "line"  # the second editor, on the line after the first
    long_line = by_line[522]  # a long line cut at a page break is not a heading
    assert long_line.kind is Kind.TEXT


def test_form_feed_is_a_page_break():
    manuscript = read_text(b"One paragraph that stops\x0cand goes on.", P)
    assert [b.gap.value for b in manuscript.blocks] == ["paragraph", "page"]
