"""Putting the catalogs' translations into the book: which entries count, and what survives."""

from __future__ import annotations

import pytest
from babel.messages.catalog import Message

from pipeline.docbook import NS, XML_NS, text_of, validate
from pipeline.i18n.catalogs import MT_PREFIX, draft_fingerprint
from pipeline.i18n.segments import translatable_blocks
from pipeline.render.localize import UNTRANSLATED, localize

LANG = f"{{{XML_NS}}}lang"
KHMER = "ជប៉ុននិងអាស៊ានគឺជាសសរស្តម្ភនៃស្ថិរភាព"


def khmer_for(source: str) -> str:
    """A Khmer sentence with the source sentence's placeholders, in their order."""
    import re
    tokens = re.findall(r"</?[a-z]\d+/?>", source)
    opened = [t for t in tokens if not t.endswith("/>") and not t.startswith("</")]
    inner = "".join(f"{t}{KHMER}{t.replace('<', '</')}" for t in opened)
    empties = "".join(t for t in tokens if t.endswith("/>"))
    return f"{KHMER} {inner}។{empties}"


@pytest.fixture()
def first_paragraph(book, config):
    """Chapter 1's first paragraph with notes: its block and its sentences."""
    return next(block for block in translatable_blocks(book, config.translation)
                if block.part == "ch1" and block.block.find(".//db:footnote", NS) is not None)


def reviewed(block, *, fuzzy=False, draft=False, previous=None, text=khmer_for) -> dict:
    entries = {}
    for segment in block.segments:
        string = text(segment.text)
        comments = [f"{MT_PREFIX}draft:{draft_fingerprint(string)}"] if draft else []
        message = Message(segment.text, string, context=segment.id, flags={"fuzzy"} if fuzzy or draft else set(),
                          auto_comments=comments, previous_id=previous or [])
        entries[(segment.id, segment.text)] = message
    return entries


def located(localized, block):
    """The same block in the localized copy (same place in the tree)."""
    path = block.block.getroottree().getpath(block.block)
    return localized.book.getroottree().xpath(path)[0]


def test_a_reviewed_paragraph_is_translated_and_keeps_its_notes(book, config, first_paragraph):
    notes_before = [note.get(f"{{{XML_NS}}}id") for note in first_paragraph.block.iter(f"{{{NS['db']}}}footnote")]
    localized = localize(book, "km", config, translations=reviewed(first_paragraph))
    para = located(localized, first_paragraph)
    assert para.get(LANG) == "km" and para.get("condition") is None
    assert KHMER in text_of(para) and "Japan" not in "".join(para.xpath("text()"))
    notes_after = [note.get(f"{{{XML_NS}}}id") for note in para.iter(f"{{{NS['db']}}}footnote")]
    assert notes_after == notes_before and notes_after, "every note marker comes back, in order"
    assert localized.translated == 1 and localized.untranslated > 400
    assert validate(localized.book) == [], "the localized book is still valid DocBook"


def test_the_rest_is_marked_as_shown_in_english(book, config, first_paragraph):
    localized = localize(book, "km", config, translations={})
    marked = localized.book.xpath("//*[@condition='untranslated']")
    assert len(marked) == localized.untranslated > 400
    assert all(element.get(LANG) == "en" for element in marked)
    names = localized.book.xpath("//db:personname", namespaces=NS)
    assert names and all(name.get(LANG) == "en" and name.get("condition") is None for name in names)


def test_machine_drafts_only_with_drafts_and_outdated_entries_never(book, config, first_paragraph):
    drafts = reviewed(first_paragraph, draft=True)
    assert localize(book, "km", config, translations=drafts).translated == 0
    assert localize(book, "km", config, translations=drafts, drafts=True).translated == 1
    outdated = reviewed(first_paragraph, fuzzy=True, previous=["an older sentence"])
    assert localize(book, "km", config, translations=outdated, drafts=True).translated == 0


def test_a_translation_that_lost_a_placeholder_is_not_used(book, config, first_paragraph):
    def dropped(source):
        return khmer_for(source).split("<")[0] + "។"
    broken = reviewed(first_paragraph, text=dropped)
    localized = localize(book, "km", config, translations=broken)
    para = located(localized, first_paragraph)
    assert para.get("condition") == UNTRANSLATED and "Japan" in text_of(para)
    assert localized.broken, "the broken entries are reported"


def test_a_half_translated_paragraph_stays_in_english(book, config, first_paragraph):
    entries = reviewed(first_paragraph)
    entries.pop(next(iter(entries)))
    para = located(localize(book, "km", config, translations=entries), first_paragraph)
    assert para.get("condition") == UNTRANSLATED and KHMER not in text_of(para)


def test_notes_kept_as_published_are_tagged_english_but_not_marked_untranslated(book, config, first_paragraph):
    """Citations stay in English in every edition (notes = "keep"); the edition must say which language
    they are in, for Latin leading and hyphenation and a screen reader's voice, without the grey rule."""
    localized = localize(book, "km", config, translations=reviewed(first_paragraph))
    note_paras = localized.book.xpath("//db:footnote/db:para", namespaces=NS)
    assert len(note_paras) >= 186
    assert all(para.get(LANG) == "en" and para.get("condition") is None for para in note_paras)
    assert validate(localized.book) == []


def test_the_source_edition_is_untouched(book, config):
    localized = localize(book, "en", config)
    assert localized.translated == localized.untranslated == 0
    assert not localized.book.xpath("//*[@condition]")
