"""Segments: sentences of the real book with stable ids, placeholders for inline markup, protected terms."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

import pytest

from pipeline.i18n.segments import (PLACEHOLDER, book_keep_terms, extract_segments, prepare_for_machine,
                                    restore_from_machine, split_sentences)


@pytest.fixture(scope="module")
def segments(book, config):
    return extract_segments(book, config.translation)


@pytest.mark.parametrize("text, expected", [
    ("Dr. Smith met the U.S. delegation. It went well.", ["Dr. Smith met the U.S. delegation.", "It went well."]),
    ("See e.g. the study by Tan et al. in 2019. Next.", ["See e.g. the study by Tan et al. in 2019.", "Next."]),
    ("He paid $2.5 billion. No. 5 was in Vol. 3 by J. R. Smith Jr. of Boston. Done!",
     ["He paid $2.5 billion.", "No. 5 was in Vol. 3 by J. R. Smith Jr. of Boston.", "Done!"]),
    ("The region grew 3.6 percent in 2025. The next year, i.e. 2026, slowed.",
     ["The region grew 3.6 percent in 2025.", "The next year, i.e. 2026, slowed."]),
    ('They called it "heart-to-heart." Relations improved?', ['They called it "heart-to-heart."', "Relations improved?"]),
    ("Alfredo C. Panizales wrote it. Chapter 2 follows.", ["Alfredo C. Panizales wrote it.", "Chapter 2 follows."]),
    ("A sentence with a note.<n1/> Another one.", ["A sentence with a note.<n1/>", "Another one."]),
    ("He said <e1>Stop. Go.</e1> Then he left.", ["He said <e1>Stop. Go.</e1>", "Then he left."]),
    ("lower case after a stop. does not split", ["lower case after a stop. does not split"]),
])
def test_sentence_splitting_knows_abbreviations_numbers_and_initials(text, expected):
    assert split_sentences(text) == expected


def test_every_translatable_part_of_the_book_becomes_segments(segments):
    parts = Counter(segment.part for segment in segments)
    assert set(parts) == {"book", "foreword", "acknowledgements", "book-outline", "executive-summary",
                          "ch1", "ch2", "ch3", "ch4", "ch5", "ch6"}
    ids = [segment.id for segment in segments]
    assert len(ids) == len(set(ids)), "segment ids are unique"
    by_id = {segment.id: segment for segment in segments}
    assert by_id["book-title.1"].text.startswith("The Rise of Global South")
    assert by_id["ch1-title.1"].text == "Japan-ASEAN Relations: Past, Present, and Future"
    assert by_id["ch1-s1-p1.1"].line == 167 and by_id["ch1-s1-p1.1"].where == "chapter 1, section ch1-s1"
    assert by_id["ch3-table1-r1c1.1"].text == "Type of Infrastructure"  # table cells
    assert by_id["ch4-gloss-ASEAN.1"].text == "Association of Southeast Asian Nations"  # keyed by the term
    assert any(s.id.startswith("ch5-figure1-title") for s in segments)  # captions
    assert any(s.id.startswith("ch3-") and "Notable examples include" in s.text for s in segments)
    texts = " ".join(s.text for s in segments)
    assert "Table of Contents" not in texts  # the printed contents are for checking only
    assert not any("Accessed on" in s.text for s in segments), "bibliographic notes stay as published"


def test_each_paragraph_is_split_into_sentences_in_reading_order(segments):
    paragraph = [s for s in segments if s.id.startswith("ch1-s1-p1.")]
    assert [s.id for s in paragraph] == ["ch1-s1-p1.1", "ch1-s1-p1.2", "ch1-s1-p1.3"]
    assert paragraph[0].text == "Japan and ASEAN have been the cornerstones of stability and growth in the Asia-Pacific region."


def test_inline_markup_becomes_balanced_numbered_placeholders(segments):
    with_notes = [s for s in segments if "<n" in s.text]
    assert len(with_notes) > 150  # almost every one of the 186 notes is marked in a sentence
    for segment in segments:
        tokens = [m.group(0) for m in PLACEHOLDER.finditer(segment.text)]
        opened = [t for t in tokens if not t.startswith("</") and not t.endswith("/>")]
        assert all(f"</{t[1:]}" in tokens for t in opened), segment.id  # no pair cut by a sentence boundary
        numbers = [int(PLACEHOLDER.match(t).group(2)) for t in tokens]
        assert sorted(set(numbers)) == list(range(1, len(set(numbers)) + 1)), segment.id  # 1..n per sentence
        assert {token for token, _ in segment.placeholders} == {t for t in tokens if not t.startswith("</")}
    emphasis = next(s for s in segments if s.id == "ch6-s1-p3.5")
    assert "<e1>State of Southeast Asia</e1>" in emphasis.text
    assert dict(emphasis.placeholders)["<n2/>"] == "note 3 (ch6-fn3)"


def test_notes_are_translated_only_when_the_book_says_so(book, config):
    explanatory = dataclasses.replace(config.translation, notes="explanatory")
    everything = dataclasses.replace(config.translation, notes="all")
    kept = extract_segments(book, config.translation)
    some = extract_segments(book, explanatory)
    every = extract_segments(book, everything)
    note_ids = lambda segments: {s.id for s in segments if re.search(r"-fn\d+-", s.id)}  # noqa: E731
    assert note_ids(kept) == set()
    assert note_ids(some) < note_ids(every)  # citations stay even when prose notes are translated
    assert len(note_ids(every)) >= 186


def test_protected_terms_are_masked_and_come_back_exactly(book, config, segments):
    terms = book_keep_terms(book, config.translation)
    assert {"ASEAN", "FOIP", "ODA"} <= set(terms)
    assert any("CHHENG" in term for term in terms)  # the book's own names
    segment = next(s for s in segments if "(ODA)" in s.text and s.text.endswith("<n1/>"))
    prepared = prepare_for_machine(segment.text, terms)
    assert "ODA" not in prepared.text and "<n1/>" not in prepared.text and prepared.tail == "<n1/>"
    restored, problems = restore_from_machine(prepared.text, prepared)
    assert problems == [] and restored == segment.text
    damaged, problems = restore_from_machine(prepared.text.replace("<k1/>", "").replace("<k2/>", ""), prepared)
    assert problems  # a lost protected term is reported, never silently dropped


def test_all_capital_titles_are_words_not_acronyms():
    prepared = prepare_for_machine("THE RISE OF GLOBAL SOUTH", [])
    assert prepared.masks == ()
