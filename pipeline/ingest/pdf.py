"""Read a PDF manuscript into blocks from its text layer: positions and sizes give the structure.

The text layer (``pdf_text.py``) gives each page's lines of runs with their position, font and size,
page furniture already dropped. pypdf reports each run of text with its position, font and size. From those, lines are
rebuilt (superscript note markers are small runs raised above a line's baseline), running
heads and folios are dropped (lines at the top or bottom of many pages that repeat), words
hyphenated at a line end are re-joined, and lines are grouped into paragraphs by spacing.
Headings are lines set larger than the body text; their level is the rank of their size.
Tables are lines whose runs stand in aligned columns.
"""

from __future__ import annotations

import logging
import re
import statistics
import zlib
from collections import Counter
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

from ..errors import InputError, LimitError
from ..safety import DEFAULT_LIMITS, Limits
from .inline import linkify
from .model import Block, Gap, Kind, Manuscript, ReaderWarning, Span, Where
from .pdf_text import Line as _Line
from .pdf_text import Run as _Run
from .pdf_text import Fonts, Problems, drop_furniture, page_lines, rebuilt_cross_reference, xml_safe

_SOFT_HYPHENS = ("\u2010", "\u00ad")
_LIST_MARKER = re.compile(r"^(?:[•●▪◦‣–-]|\d{1,3}[.)])$")
_BACKLINK = re.compile(r"\s*[↩↑⤴]\ufe0e?\ufe0f?\s*$")


def read_pdf(data: bytes, path: Path, limits: Limits = DEFAULT_LIMITS, password: str = "") -> Manuscript:
    """Read a PDF manuscript (see the module docstring)."""
    with _captured_pypdf_warnings() as messages:
        manuscript = _read(data, path, limits, password, messages)
    repairs = [message for message in dict.fromkeys(messages) if _STRUCTURE_REPAIR.search(message)]
    if repairs:
        tolerant = next((warning for warning in manuscript.warnings if warning.kind == "tolerant-read"), None)
        details = "pypdf: " + "; ".join(repairs)
        if tolerant is None:
            manuscript.warnings.append(ReaderWarning(
                "tolerant-read", f"the PDF is damaged and was read by a tolerant reader ({details}); "
                "check that no text is missing, or ask for a fresh export"))
        else:
            manuscript.warnings[manuscript.warnings.index(tolerant)] = ReaderWarning(
                "tolerant-read", f"{tolerant.message} ({details})", tolerant.where)
    manuscript.warnings.extend(ReaderWarning("pypdf", f"pypdf: {message}") for message in dict.fromkeys(messages)
                               if message not in repairs)
    return manuscript


# what pypdf says when it mends a file's structure (rather than, say, a font it half understands)
_STRUCTURE_REPAIR = re.compile(r"startxref|xref|EOF marker|pdf header|trailer|Object Streams|object .* not defined",
                               re.IGNORECASE)


@contextmanager
def _captured_pypdf_warnings():
    """pypdf logs what it repaired ("EOF marker not found"); keep it for the report, off the terminal."""
    collected: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            collected.append(record.getMessage())

    logger = logging.getLogger("pypdf")
    handler = _Collect(logging.WARNING)
    previous = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield collected
    finally:
        logger.removeHandler(handler)
        logger.propagate = previous


def _text_pages(data: bytes, path: Path, limits: Limits, password: str) -> tuple[list[list[_Line]], str | None, Problems]:
    """Each page's lines, the title the file declares, and what could not be read on which page."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, LimitReachedError, PyPdfError

    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(password):
                    raise InputError("the PDF is encrypted with a password", path,
                                     hint="ask for an unprotected copy (or export the manuscript as .docx)")
            except (FileNotDecryptedError, NotImplementedError) as exc:
                raise InputError(f"the PDF is encrypted and cannot be opened ({exc})", path,
                                 hint="ask for an unprotected copy (or export the manuscript as .docx)")
        count = len(reader.pages)
        if count > limits.max_pdf_pages:
            raise LimitError(f"the PDF has {count:,} pages, over the limit of {limits.max_pdf_pages:,}", path,
                             hint="raise [limits] max_pdf_pages in source/book.toml if the file is genuine")
        pages = []
        fonts = Fonts()
        problems = Problems()
        for number, page in enumerate(reader.pages, 1):
            try:
                pages.append(page_lines(page, number, fonts, problems))
            except LimitReachedError as exc:
                raise LimitError(f"a content stream is too large to decompress ({exc})", path, f"page {number}",
                                 hint="the PDF may be a decompression bomb; check where it came from")
        title = (reader.metadata.title if reader.metadata else None) or None
    except (InputError, LimitError):
        raise
    except LimitReachedError as exc:
        raise LimitError(f"the PDF exceeds a decompression limit ({exc})", path,
                         hint="the PDF may be a decompression bomb; check where it came from")
    except FileNotDecryptedError:
        raise InputError("the PDF is encrypted with a password", path,
                         hint="ask for an unprotected copy (or export the manuscript as .docx)")
    except NotImplementedError as exc:
        raise _Damaged(InputError(f"the PDF uses a feature that cannot be read ({exc})", path,
                                  hint="the file may be damaged; export it again as a standard PDF, or deliver .docx"))
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            AssertionError, ArithmeticError, OSError, zlib.error) as exc:
        raise _Damaged(InputError(f"the PDF is damaged and cannot be read ({type(exc).__name__}: {exc})", path,
                                  hint="the file is corrupt or truncated; export it again"))
    return pages, title, problems


def _has_text(pages: list[list[_Line]]) -> bool:
    return any(line.text for lines in pages for line in lines)


def _read_rebuilt(data: bytes, path: Path, limits: Limits, password: str):
    """The pages of a damaged PDF read through a cross-reference table rebuilt from its objects, or None."""
    repaired = rebuilt_cross_reference(data)
    if repaired is None:
        return None
    try:
        pages, title, problems = _text_pages(repaired, path, limits, password)
    except _Damaged:
        return None
    return (pages, title, problems) if _has_text(pages) else None


class _Damaged(Exception):
    """The PDF's structure could not be parsed; ``error`` is the one line to give if no repair helps."""

    def __init__(self, error: InputError):
        super().__init__(error.message)
        self.error = error


def _read(data: bytes, path: Path, limits: Limits, password: str, messages: list[str]) -> Manuscript:
    if not data.strip():
        raise InputError("the PDF is empty", path, hint="check that the right file was delivered")
    warnings: list[ReaderWarning] = []
    failure: InputError | None = None
    problem: str | None = None
    try:
        pages, title, problems = _text_pages(data, path, limits, password)
        if not _has_text(pages) and any(_STRUCTURE_REPAIR.search(message) for message in messages):
            problem = "the PDF's cross-reference table points to the wrong places"
    except _Damaged as exc:
        pages, title, problems = [], None, Problems()
        failure, problem = exc.error, exc.error.message
    if problem is not None:
        retried = _read_rebuilt(data, path, limits, password)
        if retried is not None:
            pages, title, problems = retried
            warnings.append(ReaderWarning(
                "tolerant-read", f"{problem}; the file was read by rebuilding its cross-reference table from "
                "the objects it holds, as pdftotext does: check that no text is missing, or ask for a fresh export"))
        elif failure is not None:
            raise failure
    warnings += [ReaderWarning("tolerant-read",
                               f"{count} drawing(s) (form XObjects) on this page are damaged and could not be "
                               f"read; any text in them is missing: check the page", Where(page=page))
                 for page, count in sorted(problems.drawings.items())]
    warnings += [ReaderWarning("font-encoding",
                               f"{count} glyph(s) on this page are set in a font without a Unicode map "
                               f"(ToUnicode): their text is a guess from glyph numbers; check it against the "
                               f"printed page", Where(page=page))
                 for page, count in sorted(problems.guessed.items())]
    control = problems.control
    has_text = _has_text(pages)
    if not has_text:
        raise InputError("the PDF has no text layer (a scan?)", path,
                         hint="run OCR on it first, or deliver the manuscript as .docx or text")
    pages, furniture = drop_furniture(pages)
    assembler = _Assembler(pages)
    blocks = assembler.blocks()
    warnings += [ReaderWarning("control-characters",
                               f"dropped {count} control character(s) the PDF's text layer held (a broken "
                               f"font encoding?); check the text there", Where(page=page))
                 for page, count in sorted(control.items())]
    return Manuscript(path=path, format="pdf", blocks=blocks, title=xml_safe(title) if title else None,
                      warnings=warnings, dropped=furniture, repairs=assembler.repairs)


# --------------------------------------------------------------------------- assembly


class _Assembler:
    """Turns the pages' lines into blocks: furniture out, headings, tables, paragraphs."""

    def __init__(self, pages: list[list[_Line]]):
        self.pages = pages  # page furniture already dropped by the text layer
        sizes = Counter()
        for lines in self.pages:
            for line in lines:
                sizes[round(line.size * 2) / 2] += len(line.text)
        self.body = sizes.most_common(1)[0][0] if sizes else 10.0
        self.pitch = self._pitch()
        self.levels = self._heading_levels()

    def _pitch(self) -> float:
        gaps = []
        for lines in self.pages:
            for above, below in zip(lines, lines[1:]):
                if abs(above.size - self.body) < 0.5 and abs(below.size - self.body) < 0.5:
                    gaps.append(round(above.y - below.y, 1))
        return statistics.mode(gaps) if gaps else self.body * 1.3

    def _is_heading(self, line: _Line, above: _Line | None = None) -> bool:
        """Set larger than the text; or, given the line above, a short bold line of text size that
        starts at the margin after extra space and does not end a sentence."""
        if line.columns != 1:
            return False
        if line.size >= self.body * 1.12:
            return True
        if above is False:
            return False
        text = line.text
        spaced = above is None or above.y - line.y > 1.3 * self.pitch
        return (line.bold and abs(line.size - self.body) < 0.6 and len(text.split()) <= 14 and spaced
                and abs(line.x - self.margin) <= 1.5 and not text.rstrip().endswith((".", ",", ";", ":"))
                and not _list_marker(line))

    def _heading_levels(self) -> dict[float, int]:
        """Heading sizes ranked, largest first (level 1); the largest size, when it is used only on
        the first page, is the book's title there (level 0)."""
        pages_of: dict[float, set[int]] = {}
        for lines in self.pages:
            for line in lines:
                if self._is_heading(line, False):
                    pages_of.setdefault(round(line.size * 2) / 2, set()).add(line.page)
        ranked = sorted(pages_of, reverse=True)
        if len(ranked) > 1 and pages_of[ranked[0]] == {1}:
            return {ranked[0]: 0, **{size: rank + 1 for rank, size in enumerate(ranked[1:])}}
        return {size: rank + 1 for rank, size in enumerate(ranked)}

    def blocks(self) -> list[Block]:
        blocks: list[Block] = []
        self.repairs: list[dict] = []
        for lines in self.pages:
            page_blocks = self._page_blocks(lines)
            if not page_blocks:
                continue
            page_blocks[0].gap = Gap.PAGE
            first = page_blocks[0]
            if blocks and self._cut_by_page_break(blocks[-1], first):
                previous = blocks[-1]
                self.repairs.append({"type": "page-break-join", "page": first.where.page,
                                     "before": previous.text[-40:] + " ¶ " + first.text[:40]})
                previous.spans = _tidy(_append_text(previous.spans, first.spans[0]) + first.spans[1:])
                previous.where = previous.where.through(first.where)
                page_blocks = page_blocks[1:]
            blocks.extend(page_blocks)
        return blocks

    def _cut_by_page_break(self, previous: Block, first: Block) -> bool:
        """A paragraph whose last line on the page is full continues on the next page."""
        if previous.kind not in (Kind.TEXT, Kind.ITEM) or first.kind is not Kind.TEXT or not first.spans:
            return False
        if previous.size is None or first.size is None or abs(previous.size - first.size) > 0.6:
            return False
        return bool(previous.full_last_line)

    def _page_blocks(self, lines: list[_Line]) -> list[Block]:
        self.page_edge = self._right_edge(lines)
        margins = Counter(round(line.x) for line in lines if abs(line.size - self.body) < 0.6)
        self.margin = float(margins.most_common(1)[0][0]) if margins else 0.0
        blocks: list[Block] = []
        i = 0
        while i < len(lines):
            line = lines[i]
            if self._is_heading(line, lines[i - 1] if i else None):
                j = i + 1
                while j < len(lines) and self._is_heading(lines[j], False) and abs(lines[j].size - line.size) < 0.3 \
                        and lines[j - 1].y - lines[j].y <= 1.6 * line.size and not _starts_label(lines[j - 1]):
                    j += 1
                level = self.levels.get(round(line.size * 2) / 2, max(self.levels.values(), default=0) + 1)
                blocks.append(self._block(lines[i:j], Kind.HEADING, level=level))
                i = j
            elif self._opens_table(lines, i):
                j = self._table_end(lines, i)
                blocks.extend(self._table(lines[i:j]))
                i = j
            else:
                j = i + 1
                while j < len(lines) and self._continues(lines[j - 1], lines[j], lines[i]):
                    j += 1
                kind = Kind.ITEM if _list_marker(lines[i]) else Kind.TEXT
                blocks.append(self._block(lines[i:j], kind))
                i = j
        return blocks

    def _opens_table(self, lines: list[_Line], i: int) -> bool:
        """A line of several cells opens a table when the next line keeps to the same columns.

        One wide gap alone is not a table: justified text stretches spaces, most of all
        before a long word such as a URL.
        """
        line = lines[i]
        if line.columns < 2 or i + 1 >= len(lines):
            return False
        following = lines[i + 1]
        if line.y - following.y > 2.2 * self.pitch:
            return False
        inner = [run.x for run in line.body_runs[1:]]
        return any(abs(run.x - x) <= 3 for run in following.body_runs for x in inner)

    def _continues(self, previous: _Line, line: _Line, first: _Line) -> bool:
        """Is ``line`` the next line of the paragraph that ``previous`` belongs to?"""
        if self._is_heading(line, previous) or abs(line.size - first.size) > 0.6:
            return False
        if previous.y - line.y > 1.25 * max(self.pitch * line.size / self.body, line.size * 1.1):
            return False
        if _list_marker(line):
            return False
        return True

    def _table_end(self, lines: list[_Line], start: int) -> int:
        """Lines after a many-column line stay in the table while they keep to its columns."""
        columns = sorted({round(run.x) for line in lines[start:start + 1] for run in line.body_runs})
        j = start + 1
        while j < len(lines):
            line = lines[j]
            if self._is_heading(line, False) or lines[j - 1].y - line.y > 2.2 * self.pitch:
                break
            if line.columns == 1 and not any(abs(line.x - column) <= 3 for column in columns[1:] + columns[:1]):
                break
            if line.columns == 1 and abs(line.x - columns[0]) <= 3 and line.size == lines[j - 1].size and \
                    len(line.text) > 60:
                break  # a full-width line of prose after the table
            columns = sorted(set(columns) | {round(run.x) for run in line.body_runs})
            j += 1
        return j

    def _table(self, lines: list[_Line]) -> list[Block]:
        """Rows are separated by more space than a line; cells by column positions."""
        starts = sorted({round(run.x) for line in lines for run in line.body_runs})
        columns: list[float] = []
        for x in starts:
            if not columns or x - columns[-1] > 2 * self.body:
                columns.append(x)
        groups: list[list[_Line]] = []
        for line in lines:
            if groups and groups[-1][-1].y - line.y <= 1.15 * self.pitch:
                groups[-1].append(line)
            else:
                groups.append([line])
        rows = []
        for group in groups:
            cells: list[list[Span]] = [[] for _ in columns]
            for line in group:
                for run in line.runs:
                    index = max(i for i, column in enumerate(columns) if run.x >= column - 3) if run.x >= columns[0] - 3 else 0
                    cells[index] = _append_text(cells[index], _run_span(run, in_heading=False))
            rows.append(Block(Kind.ROW, [], Where(page=group[0].page),
                              cells=[linkify(_tidy(cell)) for cell in cells]))
        return rows

    def _right_edge(self, lines: list[_Line]) -> float:
        ends = sorted(line.end for line in lines if abs(line.size - self.body) < 0.6)
        return ends[int(len(ends) * 0.9)] if ends else max((line.end for line in lines), default=0.0)

    def _block(self, lines: list[_Line], kind: Kind, level: int | None = None) -> Block:
        spans: list[Span] = []
        for index, line in enumerate(lines):
            line_spans = [_run_span(run, in_heading=kind is Kind.HEADING) for run in line.runs]
            for span in line_spans:
                spans = _append_text(spans, span) if index and span is line_spans[0] else spans + [span]
        spans = _tidy(spans)
        if kind is Kind.TEXT or kind is Kind.ITEM:
            spans = linkify(spans)
        block = Block(kind, spans, Where(page=lines[0].page), level=level, size=lines[0].size)
        block.full_last_line = lines[-1].end >= self.page_edge - 2.0 * lines[-1].size
        if kind is Kind.ITEM:
            marker = lines[0].body_runs[0].text.strip().split()[0] if lines[0].body_runs else "•"
            block.bullet = marker
            block.spans = _drop_leading(block.spans, marker)
        return block


def _starts_label(line: _Line) -> bool:
    """A chapter label ("Chapter 3") sits above the title in the same size; they are two headings."""
    return bool(re.match(r"^(?:chapter|part)\s+\w+$", line.text, re.IGNORECASE))


def _list_marker(line: _Line) -> bool:
    runs = line.body_runs
    if not runs:
        return False
    first = runs[0].text.strip().split(" ", 1)[0]
    return bool(_LIST_MARKER.match(first)) and len(runs[0].text.strip()) > len(first) or (
        bool(_LIST_MARKER.match(runs[0].text.strip())) and len(runs) > 1)


def _run_span(run: _Run, in_heading: bool) -> Span:
    text = re.sub(r"[ \t]{2,}", " ", run.text)
    return Span(text, emphasis=run.italic and not in_heading, strong=run.bold and not in_heading,
                superscript=run.superscript)


def _append_text(spans: list[Span], span: Span) -> list[Span]:
    """Add the first span of a new line: mend a hyphenated word or put a space between."""
    if not spans:
        return [span]
    last = spans[-1]
    text = last.text.rstrip()
    if text.endswith(_SOFT_HYPHENS) and len(text) > 1:
        return spans[:-1] + [Span(text[:-1], last.emphasis, last.strong, last.superscript), _lstripped(span)]
    if text.endswith("-") and len(text) > 1 and text[-2].isalpha():
        return spans[:-1] + [Span(text, last.emphasis, last.strong, last.superscript), _lstripped(span)]
    if (text.endswith(("—", "/")) and not last.text.endswith(" ")) or span.text.startswith("—"):
        # lines break after an unspaced em dash or a slash; no space was there
        return spans[:-1] + [Span(text, last.emphasis, last.strong, last.superscript), _lstripped(span)]
    if _url_continues("".join(item.text for item in spans[:-1]) + text, span.text):
        return spans[:-1] + [Span(text, last.emphasis, last.strong, last.superscript), _lstripped(span)]
    return spans[:-1] + [Span(text, last.emphasis, last.strong, last.superscript), Span(" "), _lstripped(span)]


def _url_continues(line_end: str, next_start: str) -> bool:
    """A URL broken at a line end: browsers break after '/', '-', '?' and the like, never with a space."""
    tail = line_end.rsplit(" ", 1)[-1]
    head = next_start.lstrip()
    if not head or not ("://" in tail or tail.startswith("www.")):
        return False
    return tail.endswith(tuple("/-_=&?#.%~+:")) or head[0] in "/#?&=%_-" or head[0].islower() or head[0].isdigit()


def _lstripped(span: Span) -> Span:
    return Span(span.text.lstrip(), span.emphasis, span.strong, span.superscript, span.href)


def _tidy(spans: list[Span]) -> list[Span]:
    """Strip a block's outer spaces and a trailing back-link arrow, merge neighbours."""
    from .inline import merge_spans
    spans = [span for span in spans if span.text]
    if spans:
        spans[-1] = Span(_BACKLINK.sub("", spans[-1].text).rstrip(), spans[-1].emphasis, spans[-1].strong,
                         spans[-1].superscript, spans[-1].href)
        spans[0] = _lstripped(spans[0])
    return merge_spans([span for span in spans if span.text])


def _drop_leading(spans: list[Span], marker: str) -> list[Span]:
    if spans and spans[0].text.lstrip().startswith(marker):
        first = spans[0]
        rest = first.text.lstrip()[len(marker):].lstrip()
        return ([Span(rest, first.emphasis, first.strong, first.superscript, first.href)] if rest else []) + spans[1:]
    return spans

