"""The intermediate every reader produces: a flat stream of blocks with inline spans.

Readers know their format (styles in DOCX, font sizes in PDF, blank lines in text) but not the
book; the structuring stage knows the book but not the format. This is the contract between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path


@dataclass(frozen=True)
class Where:
    """Where a block came from, for reports that send the editor back to the manuscript."""

    line: int | None = None  # 1-based line in a text manuscript
    page: int | None = None  # 1-based page in a PDF
    paragraph: int | None = None  # 1-based body paragraph in a DOCX
    to_line: int | None = None  # last line, when several lines were joined
    to_page: int | None = None

    def describe(self) -> str:
        if self.line is not None:
            return f"line {self.line}" + (f"-{self.to_line}" if self.to_line and self.to_line != self.line else "")
        if self.page is not None:
            return f"page {self.page}" + (f"-{self.to_page}" if self.to_page and self.to_page != self.page else "")
        if self.paragraph is not None:
            return f"paragraph {self.paragraph}"
        return "unknown position"

    def through(self, other: "Where") -> "Where":
        """The span from this position to the end of ``other``."""
        return Where(
            line=self.line, page=self.page, paragraph=self.paragraph,
            to_line=(other.to_line or other.line) if self.line is not None else None,
            to_page=(other.to_page or other.page) if self.page is not None else None,
        )

    def pi_data(self) -> str:
        parts = []
        if self.line is not None:
            parts.append(f'line="{self.line}"')
            if self.to_line and self.to_line != self.line:
                parts.append(f'to-line="{self.to_line}"')
        if self.page is not None:
            parts.append(f'page="{self.page}"')
            if self.to_page and self.to_page != self.page:
                parts.append(f'to-page="{self.to_page}"')
        if self.paragraph is not None:
            parts.append(f'paragraph="{self.paragraph}"')
        return " ".join(parts)


@dataclass
class Span:
    """A run of inline text with the little structure a manuscript carries."""

    text: str
    emphasis: bool = False
    strong: bool = False
    superscript: bool = False
    href: str | None = None
    note: list["Block"] | None = None  # the content of a real (DOCX) footnote anchored here
    note_label: str | None = None  # the number or mark the source shows for that note
    # What DOCX adds (each documented where the DocBook mapping is, pipeline/docbook.py):
    marks: frozenset[str] = frozenset()  # further inline styles: see INLINE_MARKS
    note_kind: str | None = None  # "endnote" for a real endnote (a footnote otherwise)
    anchor: str | None = None  # a bookmark name: an empty span that internal links point to
    remark: str | None = None  # an editor's comment anchored here (the span's own text is empty)
    remark_by: str | None = None  # the comment's author, when the source names one
    image: str | None = None  # an inline picture: its file under the book's media/ (text = alt text)
    exponent: bool = False  # a raised number that is a power (km², 10³, E = mc²), never a note marker (PDF)

    def same_style(self, other: "Span") -> bool:
        return (self.emphasis, self.strong, self.superscript, self.href, self.marks, self.exponent) == (
            other.emphasis, other.strong, other.superscript, other.href, other.marks, other.exponent) \
            and not (self.note or other.note) and not (self.special or other.special)

    @property
    def special(self) -> bool:
        """A span that stands for something besides its text (bookmark, comment, picture): never merged."""
        return self.anchor is not None or self.remark is not None or self.image is not None

    def with_text(self, text: str) -> "Span":
        """The same span (every style and payload) with other text."""
        return replace(self, text=text)


# Inline styles beyond emphasis, strong and superscript that a reader may put in Span.marks.
INLINE_MARKS = frozenset({"underline", "strikethrough", "smallcaps", "subscript", "code", "linebreak"})


class Kind(str, Enum):
    TEXT = "text"  # a paragraph or a line of prose
    HEADING = "heading"  # a title line; ``level`` says how deep when the format knows
    ITEM = "item"  # a list item
    ROW = "row"  # a table row, ``cells`` holds its cells
    IMAGE = "image"  # a picture (or the empty place where one was); DOCX: ``image`` names its file
    QUOTE = "quote"  # a paragraph of a block quotation (DOCX: a quote style, or indented past its style)
    CODE = "code"  # a paragraph of preformatted text: spaces and line breaks are content (DOCX: code style)


class Gap(str, Enum):
    """What separated a block from the one before it in the source."""

    LINE = "line"  # a line break within one group of lines
    PARAGRAPH = "paragraph"  # a paragraph break (blank line, new DOCX paragraph)
    PAGE = "page"  # a page break (only formats that know pages can say so)


@dataclass
class Block:
    kind: Kind
    spans: list[Span]
    where: Where
    gap: Gap = Gap.PARAGRAPH
    level: int | None = None  # heading level when the format knows it (DOCX style, PDF size rank)
    #                          ITEM from DOCX: its depth in nested lists (1 = top)
    cells: list[list[Span]] | None = None
    bullet: str | None = None  # the list marker as printed ("-", "•", "1.")
    style: str | None = None  # the source's own name for the block's style, for diagnostics
    size: float | None = None  # font size in points (PDF), for headings and notes
    full_last_line: bool = False  # PDF: the block's last line runs to the margin (cut by a page break?)
    # What DOCX adds (readers that do not know these leave them unset):
    list_id: str | None = None  # ITEM: which source list it belongs to, so adjacent lists stay apart
    continuation: bool = False  # ITEM: a further paragraph of the item above, not an item of its own
    number: int | None = None  # ITEM: the number a numbered item shows (a list may start at 4, go on after text)
    table: int | None = None  # ROW: which source table (ordinal), so adjacent tables stay apart
    header: bool = False  # ROW: a header row (repeated header, or the table's first-row style)
    spans_columns: list[int] | None = None  # ROW: how many grid columns each cell spans (DOCX gridSpan)
    spans_rows: list[int] | None = None  # ROW: how many rows each cell spans (1, or more for a vMerge start)
    cell_blocks: list[list["Block"]] | None = None  # ROW: each cell's own paragraphs and lists
    image: str | None = None  # IMAGE: the picture's file under the book's media/ directory

    @property
    def text(self) -> str:
        if self.kind is Kind.ROW and self.cells is not None:
            return "\t".join(spans_text(cell) for cell in self.cells)
        return spans_text(self.spans)


def spans_text(spans: list[Span]) -> str:
    return "".join(span.text for span in spans)


@dataclass(frozen=True)
class Dropped:
    """Text a reader read and left out of the block stream on purpose, so the word count balances.

    Page furniture (running heads, folios), a printed contents page the book regenerates, and the
    like: the extract stage reports each with its reason and place, and counts its words as dropped
    rather than lost.
    """

    text: str
    where: Where
    reason: str  # a short kind: "running-head", "folio", "printed-contents", ...


@dataclass(frozen=True)
class ReaderWarning:
    """Something a reader noticed and could not fix, for the extract summary and the report."""

    kind: str  # a short kind: "control-characters", "tolerant-read", "no-text-layer", ...
    message: str
    where: Where | None = None


@dataclass
class Manuscript:
    """A manuscript read by one reader: where it came from and its blocks in reading order."""

    path: Path
    format: str  # "text", "docx", "pdf"
    blocks: list[Block]
    title: str | None = None  # a title the format itself declares (DOCX core properties, PDF info)
    warnings: list[ReaderWarning] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)  # furniture left out on purpose, with reasons
    repairs: list[dict] = field(default_factory=list)  # mechanical fixes the reader made, for the report
    media: dict[str, bytes] = field(default_factory=dict)  # pictures the manuscript carries: file name -> bytes
