"""Khmer line breaks never split a written cluster.

A zero-width space after a coeng (U+17D2) or before a combining mark lets the line break inside
a cluster: HarfBuzz then draws a dotted circle and drops the subscript. ICU's word iterator
(and Unicode's default grapheme clusters) do report boundaries after a coeng, so press filters
them. Checked on the loanwords that broke, on every Khmer string the book and CLDR hold, on
random Khmer text, and on pages WeasyPrint lays out.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import icu
import pytest
from babel import Locale
from babel.messages.pofile import read_po
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.render.khmer import (COENG, ZWSP, break_khmer, cluster_splitting_breaks, joins_next,
                                   joins_previous)
from pipeline.render.layout import check_layout

ROOT = Path(__file__).resolve().parents[1]
KHMER_LETTER = re.compile(r"[\u1780-\u17FF]")
# Words the typesetter found broken in the km editions, and others built the same way.
LOANWORDS = ["ស្ត្រាតេហ្ស៊ី", "ហ្វ្រេមវើក", "យុទ្ធសាស្ត្រ", "ក្របខ័ណ្ឌ", "អ៊ីនធឺណិត", "ឌីជីថល", "ប្រូតូកូល",
             "ស្ត្រីនិងកុមារ", "អង្គការសហប្រជាជាតិ", "សេដ្ឋកិច្ចឌីជីថល"]


def assert_no_split_cluster(original: str, broken: str) -> None:
    assert broken.replace(ZWSP, "") == original.replace(ZWSP, ""), "only zero-width spaces may change"
    assert cluster_splitting_breaks(broken) == [], [broken[max(0, i - 3):i + 3] for i in cluster_splitting_breaks(broken)]
    for index, char in enumerate(broken):
        if char == ZWSP and 0 < index < len(broken) - 1:
            assert broken[index - 1] != COENG, broken
            assert not ("\u17b4" <= broken[index + 1] <= "\u17d3" or broken[index + 1] == "\u17dd"), broken


def icu_grapheme_boundaries(text: str) -> set[int]:
    iterator = icu.BreakIterator.createCharacterInstance(icu.Locale("km"))
    iterator.setText(text)
    return {0, *iterator}


def test_the_loanwords_that_broke_keep_their_subscripts():
    for word in LOANWORDS:
        broken = break_khmer(word)
        assert_no_split_cluster(word, broken)
    assert break_khmer("ស្ត្រាតេហ្ស៊ី").split(ZWSP)[0] == "ស្ត្រា"  # ICU said "ស្|ត្|រា": the coeng keeps its consonant
    assert break_khmer("ហ្វ្រេមវើក").split(ZWSP)[0].startswith("ហ្វ្រេ")


def test_word_boundaries_are_still_found_between_words():
    text = "ការអភិវឌ្ឍសេដ្ឋកិច្ចនៅកម្ពុជា"
    assert break_khmer(text).split(ZWSP) == ["ការ", "អភិវឌ្ឍ", "សេដ្ឋកិច្ច", "នៅ", "កម្ពុជា"]


def test_every_break_is_also_a_boundary_of_icus_own_clusters():
    """Our rule is stricter than ICU's grapheme clusters, never looser."""
    for word in LOANWORDS + ["ជប៉ុននិងអាស៊ានគឺជាសសរស្តម្ភនៃស្ថិរភាព"]:
        broken = break_khmer(word)
        positions, offset = [], 0
        for index, char in enumerate(broken):
            if char == ZWSP:
                positions.append(index - offset)
                offset += 1
        assert set(positions) <= icu_grapheme_boundaries(word), word


def test_a_translators_break_inside_a_cluster_is_removed_and_a_legal_one_kept():
    assert break_khmer("ស្\u200bត្រា") == "ស្ត្រា"
    assert break_khmer("ក\u200bា") == "កា"  # before a dependent vowel
    assert break_khmer("ជប៉ុន\u200bនិង") == "ជប៉ុន\u200bនិង"


def test_every_khmer_string_the_book_and_cldr_hold_breaks_cleanly():
    """The km catalogs (book and labels) and CLDR's Khmer names: real words, many of them loanwords."""
    strings: list[str] = []
    for path in sorted((ROOT / "locales").glob("**/km*.po")) + sorted((ROOT / "locales" / "km").glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle)
        strings += [message.string for message in catalog if isinstance(message.string, str) and message.string]
    cldr = Locale("km")
    for table in (cldr.languages, cldr.territories, cldr.scripts, cldr.currencies):
        strings += list(table.values())
    strings += [name for width in ("wide", "abbreviated") for name in cldr.months["format"][width].values()]
    khmer = [text for text in strings if KHMER_LETTER.search(text)]
    assert len(khmer) > 500
    assert sum(COENG in text for text in khmer) > 100  # the hard cases are there
    for text in khmer:
        assert_no_split_cluster(text, break_khmer(text))


KHMER_CONSONANTS = [chr(c) for c in range(0x1780, 0x17A3)]
KHMER_VOWELS = [chr(c) for c in range(0x17B6, 0x17C6)]
KHMER_SIGNS = ["\u17c6", "\u17c7", "\u17c9", "\u17ca", "\u17cb", "\u17cc", "\u17cd", "\u17d0"]


@st.composite
def khmer_syllables(draw) -> str:
    syllable = draw(st.sampled_from(KHMER_CONSONANTS))
    for _ in range(draw(st.integers(0, 2))):
        syllable += COENG + draw(st.sampled_from(KHMER_CONSONANTS))
    if draw(st.booleans()):
        syllable += draw(st.sampled_from(KHMER_VOWELS))
    if draw(st.integers(0, 3)) == 0:
        syllable += draw(st.sampled_from(KHMER_SIGNS))
    return syllable


khmer_text = st.lists(st.one_of(khmer_syllables(), st.sampled_from([" ", ZWSP, "ASEAN", "។", "១៩៧៧", "\u200c"])),
                      min_size=1, max_size=40).map("".join)


@settings(max_examples=int(os.environ.get("PRESS_PROPERTY_EXAMPLES", 300)), deadline=None)
@given(khmer_text)
def test_random_khmer_text_never_gets_a_break_inside_a_cluster(text):
    broken = break_khmer(text)
    assert_no_split_cluster(text, broken)
    assert break_khmer(broken) == broken  # stable: breaking twice changes nothing


def test_the_rule_itself():
    assert joins_next(COENG) and not joins_next("ក")
    assert all(joins_previous(chr(code)) for code in range(0x17B6, 0x17D4))
    assert joins_previous("\u17dd") and not joins_previous("ក") and not joins_previous(" ")


# --------------------------------------------------------------------------- on laid-out pages

def _pages(text_for):
    """The loanwords set again and again in columns of 25 widths, so line ends land everywhere."""
    from weasyprint import HTML
    text = text_for("".join(LOANWORDS[:2] * 4 + LOANWORDS[2:]))
    paragraphs = "".join(f"<p style='width: {20 + width}mm'>{text}</p>" for width in range(25))
    html = (f"<html lang='km'><body style='font-family: \"Noto Serif Khmer\", \"Khmer OS\"; "
            f"font-size: 11pt'>{paragraphs}</body></html>")
    return HTML(string=html).render()


def _naive_breaks(text: str) -> str:
    """What press did before: a break at every ICU word boundary."""
    iterator = icu.BreakIterator.createWordInstance(icu.Locale("km"))
    iterator.setText(text)
    bounds = [0, *iterator]
    return ZWSP.join(text[a:b] for a, b in zip(bounds, bounds[1:]))


@pytest.mark.slow
def test_laid_out_lines_never_end_on_a_coeng_and_the_check_can_tell():
    clean = check_layout(_pages(break_khmer))
    assert clean.split_clusters == []
    naive = check_layout(_pages(_naive_breaks))
    assert naive.split_clusters, "the old breaks split clusters at line ends, and the layout check sees it"
    assert "splitting a Khmer cluster" in naive.summary() and not naive.clean
