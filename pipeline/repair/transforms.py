"""The repair stage's transforms, in the order they run (``REPAIRS``), and the context they share.

Each repair is a ``pipeline.transforms.Transform``: a name, a priority and ``apply``. The priorities
keep the order the stage has always run in — references cleaned before citations are identified,
the front matter checked once the chapters are settled, the prose read last — and leave room
between them, so a new repair goes in at the number that says where it belongs:

*   0–99   preparation (the book may have been repaired before);
* 100–199  links and URLs, everywhere in the book;
* 200–299  chapter by chapter: the notes' and reference lists' typography, then citations;
* 300–399  front matter against itself and the book;
* 400–499  running text queried for the editor.

A repair whose body is one function is listed as a ``BookCheck`` (a function of ``(book, findings)``),
a ``ChapterCheck`` (``(chapter, scope, findings)``) or an ``EntriesCheck`` (``(entries, scope, findings,
where_of)``) of it; the function's docstring says what it does. A new check is one such line.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from ..docbook import NS
from ..findings import Findings
from ..ingest.model import Where
from ..transforms import BOOK, CHAPTER, ENTRIES, Transform, TransformContext, first_paragraph
from .citations import (ChapterCitations, repair_quotes, repair_reference_list, repair_two_digit_years,
                        report_leftovers, unify_quote_style)
from .authordate import check_author_date_citations
from .frontmatter import check_claims, check_contents, check_isbn, check_names, repair_title
from .links import resolve_internal_links
from .locate import place_unscoped, scope_of, where_of
from .prose import check_duplicated_words, check_missing_subjects
from .spelling import check_spelling
from .urls import repair_urls


@dataclass
class RepairContext(TransformContext):
    """What a repair needs besides the book: the findings to report into, the book's year, and where an
    element is (the one rule of ``locate``: its source line, and the part it belongs to)."""

    findings: Findings
    year: int

    @staticmethod
    def where_of(element: etree._Element) -> Where:
        return where_of(element)

    @staticmethod
    def scope_of(element: etree._Element) -> str | None:
        return scope_of(element)


def book_year(root: etree._Element) -> int:
    """The book's copyright year (a two-digit year after it cannot be this century's), else this year."""
    year = root.xpath("string(db:info/db:copyright/db:year)", namespaces=NS)
    return int(year) if year.isdigit() else datetime.date.today().year


# --------------------------------------------------------------------------- the whole book


class ClearCitationMarks(Transform):
    """Remove the <?cite?> marks a previous repair left, so repairing twice gives the same book."""

    name, default_priority, unit = "clear-citation-marks", 10, BOOK

    def apply(self, target: etree._Element, ctx: RepairContext) -> None:
        for pi in target.xpath("//processing-instruction('cite')"):
            parent = pi.getparent()
            previous = pi.getprevious()
            if previous is not None:
                previous.tail = (previous.tail or "") + (pi.tail or "")
            else:
                parent.text = (parent.text or "") + (pi.tail or "")
            parent.remove(pi)


class FunctionRepair(Transform):
    """A repair that is one function; --explain shows the function's docstring, or the description given."""

    def __init__(self, name: str, priority: int, function: Callable[..., None], description: str | None = None) -> None:
        self.name, self.default_priority, self.function, self._description = name, priority, function, description
        super().__init__()

    @property
    def description(self) -> str:
        return self._description or first_paragraph(self.function.__doc__)


class BookCheck(FunctionRepair):
    """A repair that is a function of (book, findings)."""

    unit = BOOK

    def apply(self, target: etree._Element, ctx: RepairContext) -> None:
        self.function(target, ctx.findings)


class ChapterCheck(FunctionRepair):
    """A repair that is a function of (chapter, its scope, findings), run chapter by chapter."""

    unit = CHAPTER

    def apply(self, target: etree._Element, ctx: RepairContext) -> None:
        self.function(target, ctx.scope or "book", ctx.findings)


class EntriesCheck(FunctionRepair):
    """A repair that is a function of (one list of reference entries, its chapter's scope, findings, where_of)."""

    unit = ENTRIES

    def apply(self, target: list[etree._Element], ctx: RepairContext) -> None:
        self.function(target, ctx.scope or "book", ctx.findings, ctx.where_of)


# --------------------------------------------------------------------------- each chapter's reference lists


class TwoDigitYears(Transform):
    """Read '3 March 21' as 2021 when that is not after the book's year; else ask the editor."""

    name, default_priority, unit = "two-digit-years", 240, ENTRIES

    def apply(self, target: list[etree._Element], ctx: RepairContext) -> None:
        repair_two_digit_years(target, ctx.scope or "book", ctx.year, ctx.findings, ctx.where_of)


# --------------------------------------------------------------------------- each chapter


class Citations(Transform):
    """Identify the work each note cites (Ibid. resolved), mark it with <?cite?>, report repeated works."""

    name, default_priority, unit = "citations", 260, CHAPTER

    def apply(self, target: etree._Element, ctx: RepairContext) -> None:
        citations = ChapterCitations(target, ctx.findings)
        citations.collect()
        citations.identify()
        citations.mark()
        citations.report_repeats()


class ReferenceLists(Transform):
    """Split author-date entries that hold two works, and number each reference list 1..N."""

    name, default_priority, unit = "reference-lists", 270, CHAPTER

    def apply(self, target: etree._Element, ctx: RepairContext) -> None:
        for bibliography in target.xpath("db:bibliography[not(@role)]", namespaces=NS):
            repair_reference_list(bibliography, ctx.scope or "book", ctx.findings, ctx.where_of)


def check_marker_numbering(chapter: etree._Element, scope: str, findings: Findings) -> None:
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


# --------------------------------------------------------------------------- the sequence

REPAIRS: tuple[Transform, ...] = (
    ClearCitationMarks(),
    BookCheck("internal-links", 20, resolve_internal_links),
    BookCheck("urls", 100, repair_urls),
    EntriesCheck("markup-leftovers", 210, report_leftovers,
                 "Report markup left in notes and reference entries (HTML tags, Markdown stars, escapes)."),
    EntriesCheck("quote-style", 220, unify_quote_style),
    EntriesCheck("unbalanced-quotes", 230, repair_quotes),
    TwoDigitYears(),
    ChapterCheck("note-numbering", 250, check_marker_numbering),
    Citations(),
    ReferenceLists(),
    BookCheck("title", 310, repair_title),
    BookCheck("isbn", 320, check_isbn),
    BookCheck("names", 330, check_names),
    BookCheck("contents", 340, check_contents),
    BookCheck("claims", 350, check_claims),
    BookCheck("missing-subjects", 410, check_missing_subjects),
    BookCheck("duplicated-words", 420, check_duplicated_words),
    BookCheck("author-date-citations", 430, check_author_date_citations),
    BookCheck("spelling", 440, check_spelling),
    BookCheck("place-unscoped-findings", 900, place_unscoped,
              "File findings made before the book had chapters (a reader's) under the part whose lines hold them."),
)
