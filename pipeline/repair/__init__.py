"""Repair: the extracted book made into the book the publisher meant to print, and a report.

``repair_book`` is the stage's entry point. It changes the DocBook tree in place, only where
a repair is safe and mechanical (or the editor decided it), and records every change and every
question for the editor as a finding. It never invents content. The repairs are transforms run
in order of priority (``transforms.REPAIRS``; ``press build --explain`` lists them).
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from ..findings import Findings
from ..transforms import Transformer
from .transforms import REPAIRS, RepairContext, book_year

__all__ = ["repair_book", "book_year", "REPAIRS", "QUESTIONS_ONLY"]

# Repairs that only ask the editor (each finding flagged, the text changed only where an editorial decision
# answers it), and the filing of their findings. With no decision left that could answer them they change
# nothing in the book, so the book can be written (and its editions start) before they run: the spelling
# pass waits a third of a second on Hunspell's suggestions in a first build.
QUESTIONS_ONLY = ("spelling", "place-unscoped-findings")


def repair_book(root: etree._Element, findings: Findings, *, hold_back: bool = False) -> Callable[[], None]:
    """Repair references and front matter in place; every change and question goes to ``findings``.

    Returns what is left to run before the findings are reported: nothing, unless ``hold_back`` is asked and
    every editorial decision has been used by the other repairs, in which case the ``QUESTIONS_ONLY``
    repairs, which then cannot change the book."""
    ctx = RepairContext(findings, book_year(root))
    if not hold_back:
        Transformer(REPAIRS).apply(root, ctx)
        return _nothing
    Transformer([repair for repair in REPAIRS if repair.name not in QUESTIONS_ONLY]).apply(root, ctx)
    questions = Transformer([repair for repair in REPAIRS if repair.name in QUESTIONS_ONLY])
    if findings.decisions.unused():  # one of them may answer a question: asked now, before the book is written
        questions.apply(root, ctx)
        return _nothing
    return lambda: questions.apply(root, ctx)


def _nothing() -> None:
    pass
