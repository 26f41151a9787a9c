"""A layout check of the rendered pages: what a typesetter would refuse to sign off.

Reads WeasyPrint's laid-out boxes: lines wider than their text block (Khmer without break
opportunities, an unbreakable URL), characters no font could draw (reported by WeasyPrint
as .notdef glyphs while writing), and headings left alone at the foot of a page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic, Severity

HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_NOTDEF = re.compile(r'unsupported by fonts: "(?P<char>.*?)" \(U\+(?P<code>[0-9A-F]+)\)')


@dataclass
class Overflow:
    page: int
    excess_pt: float
    text: str


@dataclass
class LayoutReport:
    overflows: list[Overflow] = field(default_factory=list)
    missing_glyphs: dict[str, int] = field(default_factory=dict)  # "U+17D2 ្" -> count
    orphan_headings: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.overflows and not self.missing_glyphs

    def add_missing_glyphs(self, messages: list[str]) -> None:
        for message in messages:
            match = _NOTDEF.search(message)
            if match:
                key = f"U+{match.group('code')} {match.group('char')}"
                self.missing_glyphs[key] = self.missing_glyphs.get(key, 0) + 1

    def diagnostics(self, edition: str) -> list[Diagnostic]:
        """What the check found, typed: lines too wide and glyphs no font has are warnings (a typesetter
        would refuse them); a heading alone at a page foot is shown for information."""
        found = [Diagnostic("render", "overflowing-line", Severity.WARNING,
                            f"a line is {overflow.excess_pt} pt wider than its text block: {overflow.text!r}",
                            f"{edition} page {overflow.page}") for overflow in self.overflows]
        found += [Diagnostic("render", "missing-glyph", Severity.WARNING,
                             f"no font draws {glyph} ({count}×)", edition)
                  for glyph, count in self.missing_glyphs.items()]
        found += [Diagnostic("render", "orphan-heading", Severity.INFO, f"heading alone at a page foot: {text!r}",
                             f"{edition} page {page}") for page, text in self.orphan_headings]
        found += [Diagnostic("render", "weasyprint", Severity.WARNING, message, edition)
                  for message in dict.fromkeys(self.warnings)]
        return found

    def summary(self) -> str:
        parts = [f"{len(self.overflows)} overflowing line(s)", f"{len(self.missing_glyphs)} missing glyph(s)",
                 f"{len(self.orphan_headings)} heading(s) alone at a page foot"]
        return ", ".join(parts)


def _walk(box, block=None):
    from weasyprint.formatting_structure import boxes
    if isinstance(box, boxes.BlockContainerBox):
        block = box
    yield box, block
    for child in getattr(box, "children", None) or []:
        yield from _walk(child, block)


def _text(box) -> str:
    if hasattr(box, "text"):
        return box.text
    return "".join(_text(child) for child in getattr(box, "children", None) or [])


def check_layout(document, tolerance_pt: float = 0.75) -> LayoutReport:
    """Inspect every page of a rendered WeasyPrint document."""
    from weasyprint.formatting_structure import boxes
    report = LayoutReport()
    px_per_pt = 96 / 72
    for number, page in enumerate(document.pages, 1):
        last_block_tag = None
        last_block_text = ""
        for box, block in _walk(page._page_box):
            if isinstance(box, boxes.LineBox) and block is not None and box.children:
                right = max(child.position_x + child.margin_width() for child in box.children)
                limit = block.content_box_x() + block.width
                excess = (right - limit) / px_per_pt
                if excess > tolerance_pt:
                    report.overflows.append(Overflow(number, round(excess, 1), _text(box)[:60]))
            if isinstance(box, boxes.BlockBox) and box.element is not None and box.element_tag:
                if any(isinstance(child, boxes.LineBox) for child in box.children):
                    last_block_tag = box.element_tag
                    last_block_text = _text(box)[:60]
        if last_block_tag in HEADINGS and not page._page_box.children[0].children == []:
            report.orphan_headings.append((number, last_block_text))
    return report
