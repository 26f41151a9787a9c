"""A layout check of the rendered pages: what a typesetter would refuse to sign off.

Reads WeasyPrint's laid-out boxes: lines wider than their text block (Khmer without break
opportunities, an unbreakable URL), characters no font could draw (reported by WeasyPrint
as .notdef glyphs while writing), lines that split a Khmer cluster (a line ending on a coeng,
or one starting with a mark that belongs to the cluster before it: HarfBuzz draws a dotted
circle there and the subscript is lost), and headings left alone at the foot of a page.
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
    split_clusters: list[tuple[int, str]] = field(default_factory=list)  # (page, the line's last or first letters)
    isolated_calls: list[tuple[int, str]] = field(default_factory=list)  # (page, the line) opening with a note call
    lines: int = 0  # text lines laid out
    hyphenated: int = 0  # of which end in an inserted hyphen
    ladders: list[tuple[int, str]] = field(default_factory=list)  # (page, line) third hyphenated line in a row
    cjk_lines: int = 0  # justified lines holding CJK text, last lines of paragraphs left out
    short_cjk_lines: list[tuple[int, str]] = field(default_factory=list)  # of those, ending over ¼ em short
    warnings: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.overflows or self.missing_glyphs or self.split_clusters or self.isolated_calls
                    or self.ladders or self.short_cjk_lines)

    def add_missing_glyphs(self, messages: list[str]) -> None:
        for message in messages:
            match = _NOTDEF.search(message)
            if match:
                key = f"U+{match.group('code')} {match.group('char')}"
                self.missing_glyphs[key] = self.missing_glyphs.get(key, 0) + 1

    def diagnostics(self, edition: str) -> list[Diagnostic]:
        """What the check found, typed: lines too wide, glyphs no font has, a Khmer cluster split at a line
        end, a line opening with a note call and a hyphenation ladder are warnings (a typesetter would
        refuse them); a heading alone at a page foot and the share of hyphenated lines are information."""
        found = [Diagnostic("render", "overflowing-line", Severity.WARNING,
                            f"a line is {overflow.excess_pt} pt wider than its text block: {overflow.text!r}",
                            f"{edition} page {overflow.page}") for overflow in self.overflows]
        found += [Diagnostic("render", "missing-glyph", Severity.WARNING,
                             f"no font draws {glyph} ({count}×)", edition)
                  for glyph, count in self.missing_glyphs.items()]
        per_line = (("split-cluster", "a line breaks inside a Khmer cluster", self.split_clusters),
                    ("isolated-note-call", "a line opens with a note call", self.isolated_calls),
                    ("short-cjk-line", "a justified line ends more than a quarter em short", self.short_cjk_lines),
                    ("hyphenation-ladder", "a third hyphenated line in a row", self.ladders))
        found += [Diagnostic("render", kind, Severity.WARNING, f"{what}: {text!r}", f"{edition} page {page}")
                  for kind, what, lines in per_line for page, text in lines]
        if self.lines:
            found.append(Diagnostic("render", "hyphenated-lines", Severity.INFO,
                                    f"{self.hyphenated / self.lines:.1%} of {self.lines} lines end hyphenated", edition))
        found += [Diagnostic("render", "orphan-heading", Severity.INFO, f"heading alone at a page foot: {text!r}",
                             f"{edition} page {page}") for page, text in self.orphan_headings]
        found += [Diagnostic("render", "weasyprint", Severity.WARNING, message, edition)
                  for message in dict.fromkeys(self.warnings)]
        return found

    def summary(self) -> str:
        parts = [f"{len(self.overflows)} overflowing line(s)", f"{len(self.missing_glyphs)} missing glyph(s)",
                 f"{len(self.orphan_headings)} heading(s) alone at a page foot"]
        if self.split_clusters:
            parts.insert(2, f"{len(self.split_clusters)} line(s) splitting a Khmer cluster")
        if self.isolated_calls:
            parts.insert(2, f"{len(self.isolated_calls)} line(s) opening with a note call")
        if self.ladders:
            parts.insert(2, f"{len(self.ladders)} hyphenation ladder(s) (3 lines in a row)")
        if self.short_cjk_lines:
            parts.insert(2, f"{len(self.short_cjk_lines)} of {self.cjk_lines} justified CJK line(s) ending short")
        if self.lines:
            parts.append(f"{self.hyphenated / self.lines:.0%} of lines hyphenated")
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


def splits_cluster(line: str) -> bool:
    """Whether a laid-out line ends inside a written cluster (on a coeng) or starts inside one (on a mark)."""
    from .khmer import joins_next, joins_previous
    ending = line.rstrip(" \u200b\n")
    beginning = line.lstrip(" \u200b\n")
    return bool(ending and joins_next(ending[-1])) or bool(beginning and joins_previous(beginning[0]))


def opens_with_note_call(line_box) -> bool:
    """Whether the first thing on a laid-out line is a note call (or the back link of a note)."""
    box = line_box
    while getattr(box, "children", None):
        box = box.children[0]
        element = getattr(box, "element", None)
        if element is not None and getattr(box, "element_tag", None) == "a" and \
                (element.get("class") or "") in ("noteref", "backlink"):
            return True
        if hasattr(box, "text"):
            return False
    return False


INSERTED_HYPHEN = "\u2010"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


def _trailing_letter_spacing(line) -> float:
    box = line
    while getattr(box, "children", None):
        box = box.children[-1]
    spacing = box.style["letter_spacing"] if getattr(box, "style", None) is not None else 0
    return 0 if spacing == "normal" else spacing


def _check_cjk_justification(block, number: int, report: LayoutReport) -> None:
    """Justified lines with CJK text that end short of the measure (the last line may)."""
    from weasyprint.formatting_structure import boxes
    lines = [child for child in block.children if isinstance(child, boxes.LineBox) and child.children]
    limit = block.content_box_x() + block.width
    for line in lines[:-1]:
        text = _text(line)
        if not _CJK.search(text):
            continue
        report.cjk_lines += 1
        right = max(child.position_x + child.margin_width() for child in line.children) - _trailing_letter_spacing(line)
        if limit - right > block.style["font_size"] / 4:
            report.short_cjk_lines.append((number, text.strip()[-20:]))  # WeasyPrint's hyphenate-character: what it adds when it hyphenates


def check_layout(document, tolerance_pt: float = 0.75) -> LayoutReport:
    """Inspect every page of a rendered WeasyPrint document."""
    from weasyprint.formatting_structure import boxes
    report = LayoutReport()
    run_block, run = None, 0
    px_per_pt = 96 / 72
    for number, page in enumerate(document.pages, 1):
        last_block_tag = None
        last_block_text = ""
        for box, block in _walk(page._page_box):
            if isinstance(box, boxes.LineBox) and block is not None and box.children:
                line = _text(box)
                if splits_cluster(line):
                    report.split_clusters.append((number, line.strip()[-20:]))
                if opens_with_note_call(box):
                    report.isolated_calls.append((number, line.strip()[:40]))
                report.lines += 1
                if line.rstrip().endswith(INSERTED_HYPHEN):
                    report.hyphenated += 1
                    run = run + 1 if run_block is block else 1
                    if run == 3:
                        report.ladders.append((number, line.strip()[-40:]))
                else:
                    run = 0
                run_block = block
                right = max(child.position_x + child.margin_width() for child in box.children)
                limit = block.content_box_x() + block.width
                excess = (right - limit) / px_per_pt
                if excess > tolerance_pt:
                    report.overflows.append(Overflow(number, round(excess, 1), _text(box)[:60]))
            if isinstance(box, boxes.BlockBox) and box.style["text_align_all"] == "justify":
                _check_cjk_justification(box, number, report)
            if isinstance(box, boxes.BlockBox) and box.element is not None and box.element_tag:
                if any(isinstance(child, boxes.LineBox) for child in box.children):
                    last_block_tag = box.element_tag
                    last_block_text = _text(box)[:60]
        if last_block_tag in HEADINGS and not page._page_box.children[0].children == []:
            report.orphan_headings.append((number, last_block_text))
    return report
