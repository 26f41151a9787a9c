"""Blocks shown in the source language: every one the localized book marks is shown marked, and counted once.

The count is the build summary's "untranslated" column and the EPUB's accessibility summary. It used to
be made while writing HTML, one per call that marked a block, and some English blocks were shown without
a mark (the book's title, the imprint's notices, affiliations, notes headings): the Khmer edition said
463 blocks where the localized book has 480. Now each marked block is counted once, however often it
is shown (the title on the title page and again on the copyright page).
"""

from __future__ import annotations

from babel.messages.catalog import Message

from conftest import NS, ROOT
from pipeline.i18n.localize import localize
from pipeline.i18n.segments import translatable_blocks
from pipeline.render.epub import content_documents, navigation
from pipeline.render.html import Context
from pipeline.render.printbook import print_document
from pipeline.render.strings import ui_strings

UNTRANSLATED_CLASS = "//*[contains(concat(' ', @class, ' '), ' untranslated ')]"


def _context(notes: str = "endnotes") -> Context:
    return Context(lang="km", strings=ui_strings("km", ROOT / "locales"), notes=notes)


def test_every_untranslated_block_is_shown_marked_and_counted_once(book, config):
    localized = localize(book, "km", config, translations={})
    assert localized.untranslated > 400
    ctx = _context()
    document = print_document(localized.book, ctx, config)
    assert ctx.fallbacks == localized.untranslated, "the print edition shows every English block, each counted once"
    marked = document.xpath(UNTRANSLATED_CLASS)
    assert len(marked) > ctx.fallbacks, "some blocks are shown twice (the book's title) and counted once"
    titles = document.xpath("//*[contains(@class, 'book-title')]")
    assert len(titles) == 2 and all("untranslated" in t.get("class") and t.get("lang") == "en" for t in titles)
    for role in ("rights", "disclaimer", "affiliation", "chapter-affiliation"):
        shown = document.xpath(f"//*[contains(concat(' ', @class, ' '), ' {role} ')]")
        assert shown and all(element.get("lang") == "en" for element in shown), role
    contents = document.xpath("//nav[@id='contents']//span[@class='toc-title']")
    assert len(contents) == 6 and all(span.get("lang") == "en" for span in contents), "English titles say so"

    epub = _context()
    content_documents(localized.book, epub, "cover", "images/cover.png")
    navigation(localized.book, epub, [])
    assert epub.fallbacks == localized.untranslated

    footnotes = _context("footnotes")
    print_document(localized.book, footnotes, config)
    with_notes = len(localized.book.xpath("db:chapter[.//db:footnote]", namespaces=NS))
    assert footnotes.fallbacks == localized.untranslated - with_notes, \
        "with notes at the page foot, no chapter shows its notes heading, and none is counted"


def test_a_reference_list_is_headed_by_the_chapters_translated_notes_title(book, config):
    """Chapter 4's reference list took its heading from the manuscript's "Bibliography", which the catalog
    offers as the chapter's notes title: the translation now heads the list."""
    block = next(block for block in translatable_blocks(book, config.translation)
                 if block.block.get("role") == "notes-title" and block.part == "ch4")
    (segment,) = block.segments
    khmer = "គន្ថនិទ្ទេស"
    translations = {(segment.id, segment.text): Message(segment.text, khmer, context=segment.id)}
    localized = localize(book, "km", config, translations=translations)
    ctx = _context()
    document = print_document(localized.book, ctx, config)
    (heading,) = document.xpath("//section[@id='ch4']//section[contains(@class, 'bibliography')]/h2")
    assert "".join(heading.itertext()).replace("\u200b", "") == khmer and heading.get("lang") is None
