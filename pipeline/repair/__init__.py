"""Repair: the extracted book made into the book the publisher meant to print, and a report.

``repair_book`` is the stage's entry point. It changes the DocBook tree in place, only where
a repair is safe and mechanical (or the editor decided it), and records every change and every
question for the editor as a finding. It never invents content.
"""

from __future__ import annotations

import datetime

from lxml import etree

from ..docbook import NS, get_id
from ..findings import Findings
from .citations import (ChapterCitations, repair_quotes, repair_reference_list, repair_two_digit_years,
                        report_leftovers, unify_quote_style)
from .authordate import check_author_date_citations
from .locate import place_unscoped, where_of
from .frontmatter import check_claims, check_contents, check_isbn, check_names, repair_title
from .prose import check_duplicated_words, check_missing_subjects
from .spelling import check_spelling
from .urls import repair_urls

__all__ = ["repair_book"]




def book_year(root: etree._Element) -> int:
    year = root.xpath("string(db:info/db:copyright/db:year)", namespaces=NS)
    return int(year) if year.isdigit() else datetime.date.today().year


def repair_book(root: etree._Element, findings: Findings) -> None:
    """Repair references and front matter in place; every change and question goes to ``findings``."""
    for pi in root.xpath("//processing-instruction('cite')"):  # repairing twice gives the same book
        parent = pi.getparent()
        previous = pi.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + (pi.tail or "")
        else:
            parent.text = (parent.text or "") + (pi.tail or "")
        parent.remove(pi)
    repair_urls(root, findings)
    year = book_year(root)
    for chapter in root.xpath("db:chapter", namespaces=NS):
        scope = get_id(chapter) or "book"
        note_paras = chapter.xpath(".//db:footnote/db:para", namespaces=NS)
        for entries in (note_paras, *[b.xpath("db:bibliomixed", namespaces=NS)
                                      for b in chapter.xpath("db:bibliography", namespaces=NS)]):
            report_leftovers(entries, scope, findings, where_of)
            unify_quote_style(entries, scope, findings, where_of)
            repair_quotes(entries, scope, findings, where_of)
            repair_two_digit_years(entries, scope, year, findings, where_of)
        _check_marker_numbering(chapter, scope, findings)
        citations = ChapterCitations(chapter, findings)
        citations.collect()
        citations.identify()
        citations.mark()
        citations.report_repeats()
        for bibliography in chapter.xpath("db:bibliography[not(@role)]", namespaces=NS):
            repair_reference_list(bibliography, scope, findings, where_of)
    repair_title(root, findings)
    check_isbn(root, findings)
    check_names(root, findings)
    check_contents(root, findings)
    check_claims(root, findings)
    check_missing_subjects(root, findings)
    check_duplicated_words(root, findings)
    check_author_date_citations(root, findings)
    check_spelling(root, findings)
    place_unscoped(root, findings)


def _check_marker_numbering(chapter: etree._Element, scope: str, findings: Findings) -> None:
    """Note markers should run 1..N through the chapter, each once."""
    labels = [n.get("label") for n in chapter.xpath(".//db:footnote", namespaces=NS)]
    numbers = [int(label) for label in labels if label and label.isdigit()]
    expected = 1
    for number, note in zip(numbers, chapter.xpath(".//db:footnote", namespaces=NS)):
        if number != expected:
            findings.flagged("numbering-gap", f"note {number} comes where note {expected} was expected",
                             where=where_of(note[0]) if len(note) else None, chapter=scope, before=str(number),
                             after=str(expected))
        expected = number + 1
