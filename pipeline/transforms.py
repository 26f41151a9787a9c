"""Transforms: the changes made to a book, each a unit with a name and a priority, run in order.

This is Docutils' ``Transform.default_priority`` / ``Transformer`` pattern. The repair stage's
repairs (``pipeline.repair.transforms``) and an edition's typography (``pipeline.typography``)
are transforms: a new repair is one entry in a list, at the priority that says where it runs, and
``press build --explain`` prints the sequence from the same lists the stages run.

A transform works on one unit of the book, which its ``unit`` names:

* ``book``: the whole book (``apply(book, ctx)``);
* ``chapter``: each chapter in turn (``apply(chapter, ctx)``, ``ctx.scope`` its xml:id);
* ``entries``: each list of reference entries in a chapter — its notes' paragraphs, then each
  bibliography's entries (``apply(entries, ctx)``).

Consecutive transforms on the smaller units run unit by unit (all of them on chapter 1, then on
chapter 2), so a chapter's findings stay together in the report, in the order the transforms run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import groupby
from typing import Any

from lxml import etree

from .docbook import NS, get_id

BOOK, CHAPTER, ENTRIES = "book", "chapter", "entries"
UNITS = (BOOK, CHAPTER, ENTRIES)


class TransformContext:
    """What every transform may ask besides its unit: the part it is working in (``scope``)."""

    scope: str | None = None  # the chapter's xml:id while chapter and entries transforms run


class Transform:
    """One change to the book. Subclasses set ``name``, ``default_priority`` and ``unit``, and say in their
    docstring's first line what they do (``--explain`` prints it)."""

    name: str = ""
    default_priority: int = 500
    unit: str = BOOK

    def __init__(self, priority: int | None = None) -> None:
        self.priority = self.default_priority if priority is None else priority
        if self.unit not in UNITS:
            raise ValueError(f"transform {self.name!r}: unknown unit {self.unit!r}")

    @property
    def description(self) -> str:
        return first_paragraph(type(self).__doc__)

    def apply(self, target: Any, ctx: Any) -> None:
        raise NotImplementedError


class Transformer:
    """Sorts transforms by priority (then name, as Docutils does) and applies them to a book."""

    def __init__(self, transforms: Iterable[Transform]) -> None:
        self.transforms = sorted(transforms, key=lambda transform: (transform.priority, transform.name))
        names = [transform.name for transform in self.transforms]
        if len(set(names)) != len(names):
            raise ValueError(f"two transforms share a name: {sorted(n for n in names if names.count(n) > 1)}")

    def apply(self, book: etree._Element, ctx: TransformContext) -> None:
        for whole_book, run in groupby(self.transforms, key=lambda transform: transform.unit == BOOK):
            transforms = list(run)
            if whole_book:
                for transform in transforms:
                    transform.apply(book, ctx)
                continue
            for chapter in chapters(book):
                ctx.scope = get_id(chapter) or "book"
                _apply_in_chapter(transforms, chapter, ctx)
            ctx.scope = None


def _apply_in_chapter(transforms: list[Transform], chapter: etree._Element, ctx: TransformContext) -> None:
    for on_entries, run in groupby(transforms, key=lambda transform: transform.unit == ENTRIES):
        group = list(run)
        if not on_entries:
            for transform in group:
                transform.apply(chapter, ctx)
            continue
        for entries in entry_lists(chapter):
            for transform in group:
                transform.apply(entries, ctx)


def first_paragraph(docstring: str | None) -> str:
    """A docstring's first paragraph on one line: what ``--explain`` says a transform does."""
    return " ".join((docstring or "").strip().split("\n\n")[0].split())


def chapters(book: etree._Element) -> list[etree._Element]:
    return book.xpath("db:chapter", namespaces=NS)


def entry_lists(chapter: etree._Element) -> Iterator[list[etree._Element]]:
    """The chapter's reference entries, list by list: its notes' paragraphs, then each bibliography's entries."""
    lists = [chapter.xpath(".//db:footnote/db:para", namespaces=NS)]
    lists += [bibliography.xpath("db:bibliomixed", namespaces=NS)
              for bibliography in chapter.xpath("db:bibliography", namespaces=NS)]
    yield from lists


def sequence_lines(transforms: Iterable[Transform]) -> list[str]:
    """The transforms in the order they run, one a line: priority, name, unit and what it does."""
    ordered = Transformer(transforms).transforms
    width = max((len(transform.name) for transform in ordered), default=0)
    return [f"{transform.priority:>4} {transform.name:<{width}}  {transform.unit:<7}  {transform.description}"
            for transform in ordered]
