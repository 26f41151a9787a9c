"""Repair: the extracted book made into the book the publisher meant to print, and a report.

``repair_book`` is the stage's entry point. It changes the DocBook tree in place, only where
a repair is safe and mechanical (or the editor decided it), and records every change and every
question for the editor as a finding. It never invents content. The repairs are transforms run
in order of priority (``transforms.REPAIRS``; ``press build --explain`` lists them).
"""

from __future__ import annotations

from lxml import etree

from ..findings import Findings
from ..transforms import Transformer
from .transforms import REPAIRS, RepairContext, book_year

__all__ = ["repair_book", "book_year", "REPAIRS"]


def repair_book(root: etree._Element, findings: Findings) -> None:
    """Repair references and front matter in place; every change and question goes to ``findings``."""
    Transformer(REPAIRS).apply(root, RepairContext(findings, book_year(root)))
