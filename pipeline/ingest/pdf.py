"""Read a PDF manuscript into blocks from its text layer: positions and sizes give the structure.

The text layer (``pdf_text.py``) gives each page's lines of runs with their position, font and
size, superscripts marked and page furniture dropped. Here the lines become blocks:

* headings are lines set larger than the text (or short bold lines after extra space); their
  level is the rank of their size among the headings that introduce text, and display lines on
  pages without text (chapter openers, the title page) are titles or plain lines;
* paragraphs end at extra space, at a first-line indent and where a line was ended early (the
  next word would have fitted); they re-join across page breaks, words and URLs at line ends;
* tables are lines whose runs stand in aligned columns, rows told apart by the table's spacing;
* a printed contents' lines (title, leader dots, page number) are rows;
* foot notes at a page's foot are hung on their markers, as a DOCX reader hangs Word's notes.

What is left out on purpose (leader dots, notes' back-link arrows) is recorded as ``Dropped``.
"""

from __future__ import annotations

import logging
import re
import statistics
import zlib
from collections import Counter
from contextlib import contextmanager
from dataclasses import replace
from io import BytesIO
from pathlib import Path
from typing import Literal

from ..errors import InputError, LimitError
from ..safety import DEFAULT_LIMITS, Limits
from .inline import linkify
from .model import Block, Dropped, Gap, Kind, Manuscript, ReaderWarning, Span, Where
from .pdf_text import Line as _Line
from .pdf_text import Run as _Run
from .pdf_text import Fonts, Problems, drop_furniture, page_lines, rebuilt_cross_reference, xml_safe

_SOFT_HYPHENS = ("\u2010", "\u00ad")
_LIST_MARKER = re.compile(r"^(?:[•●▪◦‣–-]|\d{1,3}[.)])$")
# leader dots, or a Japanese edition's ellipses (……); the page number in any script's digits
_LEADER = re.compile(r"^(?P<label>.*?\S)(?P<leader>\s*(?:(?:\.\s*){2,}|(?:…\s*)+))(?P<page>\d{1,4}|[ivxlcdm]{1,7})$",
                     re.IGNORECASE)
# A heading's next line stands at most this many sizes below (the line above it must have been full): a
# Latin title in a Khmer edition is set with the Khmer font's tall line box, 1.75 sizes apart.
_HEADING_LEADING = 2.0
# Scripts whose stacked vowels and subscript consonants need tall lines (the Khmer edition sets its text
# 1.95 sizes apart, and a Latin caption with a Khmer label as tall): Khmer, Myanmar, Thai, Lao, Tibetan.
_TALL_SCRIPT = re.compile("[\u1780-\u17ff\u1000-\u109f\u0e00-\u0eff\u0f00-\u0fff]")
_TALL_LEADING = 1.95
# Scripts written without spaces between words (pipeline/conservation.py): a line break between two of
# their letters (or punctuation) is no word space. Khmer, Thai, Lao, Myanmar, kana, CJK and its punctuation.
_UNSPACED = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
                       "\uff00-\uffef]")
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
                      warnings=warnings + assembler.warnings, dropped=furniture + assembler.dropped,
                      repairs=assembler.repairs)


# --------------------------------------------------------------------------- assembly


class _Assembler:
    """Turns the pages' lines into blocks: furniture out, headings, tables, paragraphs."""

    def __init__(self, pages: list[list[_Line]]):
        self.pages = pages  # page furniture already dropped by the text layer
        sizes: Counter[float] = Counter()
        for lines in self.pages:
            for line in lines:
                sizes[_size_key(line.size)] += len(line.text)
        self.body = sizes.most_common(1)[0][0] if sizes else 10.0
        self.pitch = self._pitch()
        self.frames = self._text_frames()
        self.margin, self.page_edge = 0.0, 0.0
        self.heading_faces = self._heading_faces()
        self.indent = self._paragraph_indent()
        self.justified = self._justified()
        lowest = sorted(lines[-1].y for lines in self.pages if len(lines) > 5)
        self.foot = lowest[len(lowest) // 10] if lowest else 0.0  # where a full page's last line stands
        self.levels = self._heading_levels()
        self.dropped: list[Dropped] = []
        self.repairs: list[dict] = []
        self.warnings: list[ReaderWarning] = []
        self._lines_of: dict[int, list[_Line]] = {}  # id(block) -> the lines it was made of
        self._margin_of: dict[int, float] = {}  # id(block) -> the margin of its page
        self._edge_of: dict[int, float] = {}  # id(block) -> the right edge of its page
        self._last_note: Block | None = None  # the last foot note read, which the next page may carry on
        self._last_note_line: _Line | None = None
        self._in_definitions = False  # the last page ended in a definition list

    def _text_frames(self) -> dict[int, tuple[float, float]]:
        """The text block's left margin and right edge on left (0) and right (1) pages.

        Left and right pages of a book have mirrored margins; the frame is where most lines of
        body text start and end, so that a title page or a page of short lines is measured
        against the book's frame, not against its own few lines.
        """
        frames: dict[int, tuple[float, float]] = {}
        for parity in (0, 1):
            body = [line for lines in self.pages[parity::2] for line in lines
                    if abs(line.size - self.body) < 0.6 and line.columns == 1]
            if len(body) < 5:
                continue
            starts = Counter(round(line.x) for line in body)
            ends = sorted(line.end for line in body)
            frames[parity] = (float(starts.most_common(1)[0][0]), ends[int(len(ends) * 0.9)])
        if frames and len(frames) == 1:
            frames[1 - next(iter(frames))] = next(iter(frames.values()))
        return frames

    def _pitch(self) -> float:
        gaps = []
        for lines in self.pages:
            for above, below in zip(lines, lines[1:]):
                if abs(above.size - self.body) < 0.5 and abs(below.size - self.body) < 0.5:
                    gaps.append(round(above.y - below.y, 1))
        return statistics.mode(gaps) if gaps else self.body * 1.3

    def _is_heading(self, line: _Line, above: _Line | None | Literal[False] = None) -> bool:
        """Set larger than the text; or, given the line above, a short bold line of text size that
        starts at the margin after extra space and does not end a sentence. ``above=False`` asks
        about the size alone (no line above to judge the spacing by)."""
        if line.columns != 1:
            return False
        if line.size >= self.body * 1.12:
            return True
        if above is False:
            return False
        text = line.text
        spaced = above is None or above.y - line.y > 1.3 * self.pitch
        # at the margin, or a little left of it: an edition marks untranslated paragraphs with a rule
        # that sets their text in by a few points, never the headings
        at_margin = -0.6 * line.size <= line.x - self.margin <= 1.5
        return ((line.bold or self._in_heading_face(line)) and abs(line.size - self.body) < 0.6
                and len(text.split()) <= 14 and spaced and at_margin
                and not text.rstrip().endswith((".", ",", ";", ":")) and not _list_marker(line))

    def _in_heading_face(self, line: _Line) -> bool:
        """Is the line set in the typeface of the larger headings (a sans among serif text), not the body's?
        A Khmer edition sets Latin headings in a regular weight (Khmer fonts have no bold): the face, not
        the weight, tells its run-in headings from its text."""
        runs = [run for run in line.body_runs if run.text.strip()]
        return bool(runs) and all(run.font in self.heading_faces for run in runs)

    def _heading_faces(self) -> set[str]:
        """The fonts of lines set larger than the text, less the fonts the text itself is set in."""
        display: Counter[str] = Counter()
        text: Counter[str] = Counter()
        for lines in self.pages:
            for line in lines:
                for run in line.body_runs:
                    if line.size >= self.body * 1.12:
                        display[run.font] += len(run.text)
                    elif abs(line.size - self.body) < 0.6:
                        text[run.font] += len(run.text)
        body_text = sum(text.values())
        return {font for font in display if text[font] < 0.05 * body_text}

    def _justified(self) -> bool:
        """Is the body text justified: do most of its lines end at the frame's right edge?"""
        flush = total = 0
        for index, lines in enumerate(self.pages):
            frame = self.frames.get(index % 2)
            if frame is None:
                continue
            for line in lines:
                if abs(line.size - self.body) < 0.6 and line.columns == 1:
                    total += 1
                    flush += abs(line.end - frame[1]) <= 0.25 * line.size
        return total > 0 and flush > 0.5 * total

    def _paragraph_indent(self) -> float | None:
        """The book's first-line indent: the commonest small offset from the margin of a full text
        line between lines at the margin (a caption, quotation or list indented as a whole is not it)."""
        offsets: Counter[int] = Counter()
        for index, lines in enumerate(self.pages):
            frame = self.frames.get(index % 2)
            if frame is None:
                continue
            aboves: list[_Line | None] = [None, *lines]
            for above, line, below in zip(aboves, lines, lines[1:]):
                offset = _left(line) - frame[0]
                if abs(line.size - self.body) < 0.6 and 0.6 * line.size < offset <= 4.0 * line.size \
                        and line.end >= frame[1] - 2.0 * line.size and abs(_left(below) - frame[0]) < 0.6 * line.size \
                        and (above is None or abs(_left(above) - frame[0]) < 0.6 * line.size
                             or abs(above.size - line.size) > 0.6):
                    offsets[round(offset)] += 1
        if not offsets or offsets.most_common(1)[0][1] < 2:
            return None
        return float(offsets.most_common(1)[0][0])

    def _heading_levels(self) -> dict[float, int | None]:
        """Heading levels by size, from the headings that introduce running text.

        A heading followed (after any other headings) by running text is a heading of the text:
        those sizes are ranked, largest first (level 1). Larger lines set only where no text
        follows (chapter openers, part title pages) are division titles (level 1). Smaller display
        lines there (a chapter label, a byline set large) are no level of the outline: they stay
        headings without a level, for the structuring stage to read as labels and names. The
        largest heading size of all, when only the first page uses it, is the book's title (level 0).
        """
        text_sizes: set[float] = set()
        display: set[float] = set()
        pages_of: dict[float, set[int]] = {}
        for lines in self.pages:
            for index, line in enumerate(lines):
                if not self._is_heading(line, False):
                    continue
                size = _size_key(line.size)
                pages_of.setdefault(size, set()).add(line.page)
                (text_sizes if self._introduces_text(lines, index) else display).add(size)
        levels: dict[float, int | None] = {}
        largest = max(pages_of, default=None)
        if largest is not None and len(pages_of) > 1 and pages_of[largest] == {1}:
            levels[largest] = 0  # set once, on the first page: the book's title
            text_sizes.discard(largest)
            display.discard(largest)
        if not text_sizes:  # no running text under any heading: rank them all
            ranked = sorted(display, reverse=True)
            return {**levels, **{size: rank + 1 for rank, size in enumerate(ranked)}}
        ranked = sorted(text_sizes, reverse=True)
        levels.update({size: rank + 1 for rank, size in enumerate(ranked)})
        for size in display - text_sizes:
            levels[size] = 1 if size > ranked[0] else None
        return levels

    def _display_page(self, lines: list[_Line]) -> bool:
        """A page of display lines only (a chapter opener, a part title page): no heading on it introduces
        running text, and one is a division title (level 1 or the book's title)."""
        headings = [index for index, line in enumerate(lines) if self._is_heading(line, False)]
        return bool(headings) and not any(self._introduces_text(lines, index) for index in headings) \
            and any(self.levels.get(_size_key(lines[index].size)) in (0, 1) for index in headings)

    def _introduces_text(self, lines: list[_Line], index: int) -> bool:
        """Is the heading at ``index`` followed on its page, past other headings, by running text:
        text-size lines that fill at least most of a line of the text frame (not a name or two)? Text size
        within a quarter point: a byline's affiliation set half a point smaller is not running text."""
        frame = next(iter(self.frames.values()), None)
        measure = frame[1] - frame[0] if frame else 20 * self.body
        width = 0.0
        for line in lines[index + 1:]:
            if self._is_heading(line, False):
                if width:
                    break
                continue
            if abs(line.size - self.body) < 0.3:
                width += line.end - line.x
        return width >= 0.8 * measure

    def blocks(self) -> list[Block]:
        blocks: list[Block] = []
        for lines in self.pages:
            self.margin, self.page_edge = self._frame(lines)
            body, notes = self._split_notes(lines)
            page_blocks = self._page_blocks(body)
            if page_blocks:
                page_blocks[0].gap = Gap.PAGE
                first = page_blocks[0]
                if blocks and self._cut_by_page_break(blocks[-1], first):
                    previous = blocks[-1]
                    self.repairs.append({"type": "page-break-join", "page": first.where.page,
                                         "before": previous.text[-40:] + " ¶ " + first.text[:40]})
                    previous.spans = _tidy(_append_text(previous.spans, first.spans[0]) + first.spans[1:])
                    previous.where = previous.where.through(first.where)
                    previous.full_last_line = first.full_last_line
                    self._lines_of[id(previous)] = self._lines_of.get(id(previous), []) + self._lines_of.get(id(first), [])
                    self._margin_of[id(previous)], self._edge_of[id(previous)] = self.margin, self.page_edge
                    page_blocks = page_blocks[1:]
                blocks.extend(page_blocks)
            for label, note_lines in notes:
                blocks.extend(self._attach_note(blocks, label, note_lines))
        return blocks

    def _carry_note_on(self, lines: list[_Line]) -> None:
        """Add lines to the last page's last foot note, which the page break cut."""
        if not lines or self._last_note is None:
            return
        note = self._last_note
        for line in lines:
            line_spans = self._line_spans(line, in_heading=False)
            if line_spans:
                note.spans = _tidy(_append_text(note.spans, line_spans[0]) + line_spans[1:])
        note.spans = linkify(note.spans)
        note.where = note.where.through(Where(page=lines[0].page))
        self.repairs.append({"type": "page-break-join", "page": lines[0].page,
                             "before": note.text[:40] + " … ¶ " + lines[0].text[:40]})

    def _note_tail(self, lines: list[_Line]) -> int:
        """On a page without a note of its own, where a cut foot note goes on at its foot: a few
        lines of the note's size at the page's foot below the separator's space, when the first of
        them would not have fitted on the last line of the last page's last note (so the note was
        cut there, not ended)."""
        last = self._last_note_line
        if self._last_note is None or last is None or len(lines) < 2 or lines[-1].y > self.foot + self.pitch:
            return len(lines)
        for k in range(len(lines) - 1, max(len(lines) - 7, 0), -1):
            if self._is_heading(lines[k], False) or abs(lines[k].size - last.size) > 0.3:
                return len(lines)
            if lines[k - 1].y - lines[k].y >= 1.75 * self.pitch:
                return len(lines) if self._would_fit(last, lines[k]) else k
        return len(lines)

    def _note_continued(self, lines: list[_Line], start: int) -> int:
        """Where a foot note cut at the last page's foot goes on, above this page's first note.

        The separator leaves more space above the notes than notes leave between them: lines
        just above the first note, below such a space, carry on the last page's last note.
        """
        if self._last_note is None or start == 0 or lines[start - 1].y - lines[start].y >= 1.75 * self.pitch:
            return start
        k = start - 1
        while k > 0 and start - k < 8:
            if lines[k - 1].y - lines[k].y >= 1.75 * self.pitch:
                return k
            if lines[k - 1].y - lines[k].y > 1.2 * self.pitch:
                return start  # a paragraph break: this is body text
            k -= 1
        return start

    # ----------------------------------------------------------------- notes at the page foot

    def _split_notes(self, lines: list[_Line]) -> tuple[list[_Line], list[tuple[str, list[_Line]]]]:
        """The page's text lines, and its foot notes as (number, lines).

        A foot note starts at the margin with its number set as a superscript (Word and
        LibreOffice put the number on a line of its own above the text; the text layer joins it
        to the line it stands on); the notes run from the first such line, after the extra space
        above the separator or after its marker in the text above, to the page's end.
        """
        start = next((i for i, line in enumerate(lines) if self._starts_note(line)
                      and (i == 0 or lines[i - 1].y - line.y > 1.5 * self.pitch
                           or (lines[i - 1].y - line.y > 1.2 * self.pitch and _cites(lines[:i], _note_number(line))))),
                     None)  # a marker wrapped to the start of a line of text has no space above it
        if start is None:
            tail = self._note_tail(lines)
            self._carry_note_on(lines[tail:])
            self._last_note = None
            return lines[:tail], []
        continued = self._note_continued(lines, start)
        self._carry_note_on(lines[continued:start])
        notes: list[tuple[str, list[_Line]]] = []
        for line in lines[start:]:
            number = _note_number(line)
            if number is not None and self._starts_note(line):
                notes.append((number, [line]))
            else:
                notes[-1][1].append(line)
        return lines[:continued], notes

    def _starts_note(self, line: _Line) -> bool:
        """A line opening with a note number at the margin (the page's, or the book's on a page
        of tables where few lines start at the margin)."""
        frame = self.frames.get((line.page - 1) % 2)
        margins = [self.margin] + ([frame[0]] if frame else [])
        return _note_number(line) is not None and any(abs(_left(line) - margin) < line.size for margin in margins)

    def _attach_note(self, blocks: list[Block], label: str, lines: list[_Line]) -> list[Block]:
        """Hang the note on its marker: the last superscript ``label`` not yet given a note, on this
        page or the two before. The number printed before the note becomes the note's label. A note
        without a marker stays in the text, with a warning."""
        note = self._block(lines, Kind.TEXT)
        self._last_note, self._last_note_line = note, lines[-1]
        page = lines[0].page
        for block in reversed(blocks):
            if block.where.page is not None and block.where.page < page - 2:
                break
            spans = block.spans if block.kind is not Kind.ROW else [span for cell in block.cells or [] for span in cell]
            for span in reversed(spans):
                if span.superscript and not span.exponent and span.text.strip() == label and span.note is None:
                    printed = note.spans[0].text.strip() if note.spans else ""
                    note.spans = _tidy(note.spans[1:])  # the printed number is the note's label
                    if printed:
                        self.dropped.append(Dropped(printed, Where(page=page), "note-number"))
                    span.note, span.note_label = [note], label
                    return []
        self.warnings.append(ReaderWarning("note-without-marker", f"foot note {label} has no marker in the text "
                                           f"before it; kept where it stands", Where(page=page)))
        return [note]

    def _cut_by_page_break(self, previous: Block, first: Block) -> bool:
        """A paragraph whose last line on the page is full continues on the next page, unless the
        next page's first line is indented: then a new paragraph starts there."""
        if previous.kind not in (Kind.TEXT, Kind.ITEM) or first.kind is not Kind.TEXT or not first.spans:
            return False
        if previous.size is None or first.size is None or abs(previous.size - first.size) > 0.6:
            return False
        if self._starts_indented(previous, first):
            return False
        return not self._ended_early(previous, first)

    def _ended_early(self, previous: Block, first: Block) -> bool:
        """Did ``previous``'s last line end its paragraph? In justified text, when it stops short of
        the right edge; in ragged text, when the first word on the new page would have fitted on it
        (measured on its own page, whose margins may differ)."""
        above, below = self._lines_of.get(id(previous)), self._lines_of.get(id(first))
        if not above or not below:
            return not previous.full_last_line
        if self.justified and abs(above[-1].size - self.body) < 0.6:
            # justified text runs every line but a paragraph's last to the right edge
            return above[-1].end < self._edge_of[id(previous)] - 0.5 * above[-1].size
        here = self.margin, self.page_edge
        self.margin, self.page_edge = self._margin_of[id(previous)], self._edge_of[id(previous)]
        try:
            return self._would_fit(above[-1], below[0])
        finally:
            self.margin, self.page_edge = here

    def _starts_indented(self, previous: Block, first: Block) -> bool:
        """Does ``first`` (at the top of a page) start to the right of where ``previous``'s lines
        run on (a list item's text, or the margin), by a paragraph indent?"""
        above, below = self._lines_of.get(id(previous)), self._lines_of.get(id(first))
        if not above or not below:
            return False
        line = below[0]
        # left and right pages have different margins: compare the offsets from each page's margin
        runs_on = _left(above[-1]) - self._margin_of[id(previous)] if len(above) > 1 else 0.0
        return 0.6 * line.size < (_left(line) - self.margin) - runs_on <= 4.0 * line.size

    def _frame(self, lines: list[_Line]) -> tuple[float, float]:
        """This page's text margin and right edge: its own when it has enough body lines, else the book's."""
        page = lines[0].page if lines else 1
        frame = self.frames.get((page - 1) % 2)
        body = [line for line in lines if abs(line.size - self.body) < 0.6 and line.columns == 1]
        if len(body) >= 5 or frame is None:
            margins = Counter(round(line.x) for line in body)
            margin = float(margins.most_common(1)[0][0]) if margins else (frame[0] if frame else 0.0)
            return margin, self._right_edge(lines)
        return frame

    def _page_blocks(self, lines: list[_Line]) -> list[Block]:
        blocks: list[Block] = []
        i = 0
        while i < len(lines):
            line = lines[i]
            entries = self._definitions(lines, i)
            if entries:
                for term, definition in entries:
                    blocks.append(Block(Kind.ROW, [], Where(page=term.page), style="definition-row", size=term.size,
                                        cells=[_tidy([_run_span(run, in_heading=True) for run in term.runs]),
                                               self._block(definition, Kind.TEXT).spans]))
                i += sum(1 + len(definition) for _, definition in entries)
                self._in_definitions = i == len(lines)
                continue
            self._in_definitions = False
            if self._is_heading(line, lines[i - 1] if i else None):
                j = i + 1
                while j < len(lines) and (self._is_heading(lines[j], False) or (line.bold and lines[j].bold)) \
                        and abs(lines[j].size - line.size) < 0.3 \
                        and lines[j - 1].y - lines[j].y <= _HEADING_LEADING * line.size \
                        and not _starts_label(lines[j - 1]) and not self._would_fit(lines[j - 1], lines[j]):
                    j += 1
                default = max((level for level in self.levels.values() if level is not None), default=0) + 1
                level = self.levels.get(_size_key(line.size), default)
                if level is not None and level > 1 and self._display_page(lines):
                    level = None  # a chapter label or byline on an opener page, in a section heading's size
                blocks.append(self._block(lines[i:j], Kind.HEADING, level=level))
                i = j
            elif self._opens_table(lines, i) or self._table_before(lines, i) is not None:
                opener = i if self._opens_table(lines, i) else self._table_before(lines, i)
                assert opener is not None  # the condition above found one
                j = self._table_end(lines, opener)
                blocks.extend(self._table(lines[i:j]))
                i = j
            else:
                j = i + 1
                while j < len(lines) and self._continues(lines[j - 1], lines[j], lines[i]):
                    j += 1
                kind = Kind.ITEM if _list_marker(lines[i]) else Kind.TEXT
                block = self._block(lines[i:j], kind)
                blocks.append(self._contents_entry(block) if kind is Kind.TEXT else block)
                i = j
        return blocks

    def _definitions(self, lines: list[_Line], i: int) -> list[tuple[_Line, list[_Line]]]:
        """A definition list set as bold terms on lines of their own, each with its definition on
        the lines close below (a word processor's list of abbreviations): three entries or more
        (or any number going on from the last page), else the bold lines are headings.
        """
        entries: list[tuple[_Line, list[_Line]]] = []
        k = i
        while k + 1 < len(lines):
            term, below = lines[k], lines[k + 1]
            if not (term.bold and term.columns == 1 and len(term.text.split()) <= 6 and not below.bold
                    and abs(below.size - term.size) < 0.3 and term.y - below.y <= 1.25 * self.pitch
                    and _left(below) >= _left(term) - 1 and abs(_left(term) - self.margin) < term.size):
                break
            end = k + 2
            while end < len(lines) and not lines[end].bold and abs(lines[end].size - below.size) < 0.3 \
                    and lines[end - 1].y - lines[end].y <= 1.25 * self.pitch and abs(_left(lines[end]) - _left(below)) < 1:
                end += 1
            entries.append((term, lines[k + 1:end]))
            k = end
        return entries if len(entries) >= 3 or (entries and i == 0 and self._in_definitions) else []

    def _contents_entry(self, block: Block) -> Block:
        """A line of a printed contents (``Foreword . . . . v``): a row of title and page number.

        The leader dots only lead the eye to the number; they are dropped, and recorded as dropped.
        """
        match = _LEADER.match(block.text)
        if not match:
            return block
        self.dropped.append(Dropped(match.group("leader").strip(), block.where, "contents-leader"))
        row = Block(Kind.ROW, [], block.where, gap=block.gap, size=block.size,
                    cells=[_slice_spans(block.spans, 0, match.end("label")), [Span(match.group("page"))]])
        self._lines_of[id(row)] = self._lines_of.get(id(block), [])
        self._margin_of[id(row)], self._edge_of[id(row)] = self.margin, self.page_edge
        return row

    def _opens_table(self, lines: list[_Line], i: int) -> bool:
        """A line of several cells opens a table when the next line keeps to the same columns.

        One wide gap alone is not a table: justified text stretches spaces, most of all
        before a long word such as a URL.
        """
        line = lines[i]
        if line.columns < 2 or i + 1 >= len(lines) or _list_marker(line):
            return False  # a bullet set a tab's width before its text is a list item, not a cell
        following = lines[i + 1]
        if line.y - following.y > 2.2 * self.pitch:
            return False
        inner = [run.x for run in line.body_runs[1:]]
        return any(abs(run.x - x) <= 3 for run in following.body_runs for x in inner)

    def _continues(self, previous: _Line, line: _Line, first: _Line) -> bool:
        """Is ``line`` the next line of the paragraph that ``previous`` belongs to?

        Not after extra space, not at a first-line indent, and not when its first word would
        have fitted on the line above: the line above was ended on purpose, not wrapped.
        """
        if self._is_heading(line, previous) or abs(line.size - first.size) > 0.6:
            return False
        leading = max(self.pitch * line.size / self.body, line.size * 1.1)
        if _tall(previous):
            leading = max(leading, _TALL_LEADING * line.size)  # a line with Khmer in it stands taller
        if previous.y - line.y > 1.25 * leading:
            return False
        if _list_marker(line) and not self._wrapped_number(previous, line):
            return False
        if not _list_marker(first) and _left(line) - _left(previous) > 0.6 * line.size and self._indented(line):
            return False
        return not self._would_fit(previous, line)

    def _wrapped_number(self, previous: _Line, line: _Line) -> bool:
        """A number that a wrap put at a line's start ("(AJCCBC Step" / "2) was funded …") is no list
        marker: the line above runs to the right edge in mid-sentence, and the line keeps its margin."""
        marker = line.body_runs[0].text.strip().split(" ", 1)[0] if line.body_runs else ""
        # "2." is a notes list's number after a line that ends in a URL; only "2)" can be a wrapped phrase
        return bool(re.fullmatch(r"\d{1,3}\)", marker)) and not previous.text.rstrip().endswith((".", ":", ";", "!", "?")) \
            and previous.end >= self.page_edge - 1.5 * previous.size and _left(line) <= _left(previous) + 1.0

    def _indented(self, line: _Line) -> bool:
        """Does the line start at a paragraph indent (a little right of the margin, not centred)?
        A note marker that wrapped to the start of a line counts: the line starts at the margin."""
        return 0.6 * line.size < _left(line) - self.margin <= 4.0 * line.size

    def _would_fit(self, previous: _Line, line: _Line) -> bool:
        """Would the first word of ``line`` have fitted at the end of ``previous``?

        A left-aligned or justified line has the room up to the right edge; a centred or
        right-aligned one (starting well inside the margin) the width of the text frame; a
        block indented as a whole may be indented on the right too, so it is not judged.
        """
        runs = line.body_runs
        if not runs or not runs[0].text.strip():
            return False
        if previous.text.endswith(("-", *_SOFT_HYPHENS)):
            return False  # a word (or a compound) broken at the line end
        run = runs[0]
        word = run.text.strip().split()[0]
        # the width is estimated from the run's average: capitals run wider, so allow a quarter more
        word_width = 1.25 * run.width * len(word) / max(len(run.text), 1) + 0.3 * run.size
        offset = _left(previous) - self.margin
        if offset > 4.0 * previous.size:
            room = (self.page_edge - self.margin) - (previous.end - previous.x)
        elif offset > 0.6 * previous.size and abs(_left(line) - _left(previous)) <= 1.0 and \
                not (self.indent is not None and abs(offset - self.indent) <= 1.5):
            return False  # a block indented as a whole (a caption, a quotation): its right edge is unknown
        else:
            room = self.page_edge - previous.end
        return word_width < room - 0.5 * line.size

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
            if line.columns == 1 and len(columns) > 1 and line.x < columns[1] - 3 and line.end > columns[1] + 3 \
                    and not any(abs(run.x - column) <= 3 for run in line.body_runs[1:] for column in columns[1:]):
                break  # a line running across the first column's edge is no cell: a note under the table
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
        groups = _row_groups(lines, columns[0])
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

    def _table_before(self, lines: list[_Line], i: int) -> int | None:
        """Where a table opens a few lines below ``i`` whose header cells start on those lines.

        A header set bottom-aligned has its first lines in only some columns ("Type of" above
        "Infra-|Core strategic", above the full header line): they belong to the table when each
        of their runs stands in one of its columns, in its type size, at its line spacing.
        """
        for k in range(i + 1, min(i + 4, len(lines) - 1)):
            if lines[k].columns == 1:
                above = lines[k - 1]
                if above.y - lines[k].y > 1.6 * lines[k].size or abs(lines[k].size - lines[i].size) > 0.3:
                    return None
                continue
            if not self._opens_table(lines, k) or lines[k - 1].y - lines[k].y > 1.6 * lines[k].size:
                return None
            columns = {round(run.x) for line in lines[k:k + 2] for run in line.body_runs}
            header = lines[i:k]
            if all(abs(line.size - lines[k].size) <= 0.3 and
                   all(any(abs(run.x - x) <= 1.5 for x in columns) for run in line.body_runs) for line in header):
                return k
            return None
        return None

    def _right_edge(self, lines: list[_Line]) -> float:
        ends = sorted(line.end for line in lines if abs(line.size - self.body) < 0.6)
        return ends[int(len(ends) * 0.9)] if ends else max((line.end for line in lines), default=0.0)

    def _line_spans(self, line: _Line, in_heading: bool) -> list[Span]:
        """The line's runs as spans, less a note's link back to its marker (an arrow at the line's
        end), which is recorded as dropped."""
        spans: list[Span] = []
        previous = None
        for run in line.runs:
            if previous is not None and run.x - previous.end >= 1.5 * min(run.size, previous.size) \
                    and not previous.text.endswith(" ") and not run.text.startswith(" "):
                run = replace(run, text=" " + run.text)  # cells of a table not read as one: words, not glued
            previous = run
            arrow = _BACKLINK.search(run.text)
            if arrow:
                self.dropped.append(Dropped(arrow.group().strip(), Where(page=line.page), "back-link"))
                run = replace(run, text=run.text[:arrow.start()])
                if not run.text.strip():
                    continue
            spans.append(_run_span(run, in_heading))
        return spans

    def _block(self, lines: list[_Line], kind: Kind, level: int | None = None) -> Block:
        spans: list[Span] = []
        for index, line in enumerate(lines):
            line_spans = self._line_spans(line, in_heading=kind is Kind.HEADING)
            for span in line_spans:
                spans = _append_text(spans, span) if index and span is line_spans[0] else spans + [span]
        spans = _tidy(spans)
        if kind is Kind.TEXT or kind is Kind.ITEM:
            spans = linkify(spans)
        block = Block(kind, spans, Where(page=lines[0].page), level=level, size=lines[0].size)
        self._lines_of[id(block)] = lines
        self._margin_of[id(block)], self._edge_of[id(block)] = self.margin, self.page_edge
        block.full_last_line = lines[-1].end >= self.page_edge - 2.0 * lines[-1].size
        if kind is Kind.ITEM:
            marker = lines[0].body_runs[0].text.strip().split()[0] if lines[0].body_runs else "•"
            block.bullet = marker
            block.spans = _drop_leading(block.spans, marker)
        return block


def _cites(lines: list[_Line], number: str | None) -> bool:
    """Does a note marker ``number`` stand in these lines' text (not opening a line)?"""
    return number is not None and any(run.superscript and not _is_power(run) and run.text.strip() == number
                                      for line in lines for run in line.runs[1:])


def _is_power(run: _Run) -> bool:
    """A raised number that is an exponent, not a note marker. The text layer also counts one after a
    closing bracket as a power ((a+b)²); in books that bracket ends a citation far more often
    ("(OECD 2025)¹⁶", "(AOIP)⁶"), so there it stays a marker."""
    return run.exponent and not run.attached_to.rstrip().endswith(")")


def _note_number(line: _Line) -> str | None:
    """The number a foot note starts with: a superscript run of digits opening the line."""
    first = line.runs[0] if line.runs else None
    if first is not None and first.superscript and first.text.strip().isdigit() and len(line.runs) > 1:
        return first.text.strip()
    return None


def _row_groups(lines: list[_Line], first_column: float) -> list[list[_Line]]:
    """A table's lines grouped into rows.

    Rows stand apart by more space than the lines inside a cell: the smallest line distance
    in the table is the distance inside a cell. When no distance stands out (single-line rows,
    or a list set tight), a line with text in the first column opens a row.
    """
    gaps = [above.y - below.y for above, below in zip(lines, lines[1:])]
    inner = min(gaps, default=0.0)
    if any(gap > 1.15 * inner for gap in gaps):
        groups: list[list[_Line]] = [[lines[0]]]
        for gap, line in zip(gaps, lines[1:]):
            if gap > 1.15 * inner:
                groups.append([line])
            else:
                groups[-1].append(line)
        return groups
    groups = []
    for line in lines:
        if not groups or abs(_left(line) - first_column) <= 3:
            groups.append([line])
        else:
            groups[-1].append(line)
    return groups


def _left(line: _Line) -> float:
    """Where the line's first glyph stands, superscripts included."""
    return min(run.x for run in line.runs)


def _slice_spans(spans: list[Span], start: int, end: int) -> list[Span]:
    """The spans covering characters ``start`` to ``end`` of their joined text, styles kept."""
    out: list[Span] = []
    offset = 0
    for span in spans:
        low, high = max(start - offset, 0), min(end - offset, len(span.text))
        if low < high:
            out.append(replace(span, text=span.text[low:high]))
        offset += len(span.text)
    return out


def _size_key(size: float) -> float:
    """Font sizes compared to the half point: the same style can come out 10.5 or 10.52."""
    return round(size * 2) / 2


def _starts_label(line: _Line) -> bool:
    """A chapter label ("Chapter 3") sits above the title in the same size; they are two headings."""
    return bool(re.match(r"^(?:chapter|part)\s+\w+$", line.text, re.IGNORECASE))


def _tall(line: _Line) -> bool:
    """Does the line's text (not a raised note number in Khmer digits) hold letters of a tall script?"""
    return any(not char.isdigit() for run in line.body_runs for char in _TALL_SCRIPT.findall(run.text))


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
                superscript=run.superscript, exponent=_is_power(run))


def _append_text(spans: list[Span], span: Span) -> list[Span]:
    """Add the first span of a new line: mend a hyphenated word or put a space between."""
    if not spans:
        return [span]
    last = spans[-1]
    text = last.text.rstrip()
    if text.endswith(_SOFT_HYPHENS) and len(text) > 1:
        return spans[:-1] + [replace(last, text=text[:-1]), _lstripped(span)]
    if text.endswith("-") and len(text) > 1 and text[-2].isalnum():  # "Japan-" or "G7-" ¶ "supported"
        return spans[:-1] + [replace(last, text=text), _lstripped(span)]
    if (text.endswith(("—", "/")) and not last.text.endswith(" ")) or span.text.startswith("—") or (
            text.endswith("–") and len(text) > 1 and not text[-2].isspace()):  # "159–" ¶ "185"
        # lines break after an unspaced em dash or a slash; no space was there
        return spans[:-1] + [replace(last, text=text), _lstripped(span)]
    if _url_continues("".join(item.text for item in spans[:-1]) + text, span.text):
        return spans[:-1] + [replace(last, text=text), _lstripped(span)]
    following = span.text.lstrip()
    if text and following and _UNSPACED.match(text[-1]) and _UNSPACED.match(following[0]):
        return spans[:-1] + [replace(last, text=text), _lstripped(span)]  # 安全 ¶ 保障: no space was there
    return spans[:-1] + [replace(last, text=text), Span(" "), _lstripped(span)]


def _url_continues(line_end: str, next_start: str) -> bool:
    """A URL broken at a line end: browsers break after '/', '-', '?' and the like, never with a space."""
    tail = line_end.rsplit(" ", 1)[-1]
    head = next_start.lstrip()
    if not head or not ("://" in tail or tail.startswith("www.")):
        return False
    return tail.endswith(tuple("/-_=&?#.%~+:")) or head[0] in "/#?&=%_-" or head[0].islower() or head[0].isdigit()


def _lstripped(span: Span) -> Span:
    return replace(span, text=span.text.lstrip())


def _tidy(spans: list[Span]) -> list[Span]:
    """Strip a block's outer spaces and a trailing back-link arrow, merge neighbours."""
    from .inline import merge_spans
    spans = [span for span in spans if span.text]
    if spans:
        spans[-1] = replace(spans[-1], text=_BACKLINK.sub("", spans[-1].text).rstrip())
        spans[0] = _lstripped(spans[0])
    return merge_spans([span for span in spans if span.text])


def _drop_leading(spans: list[Span], marker: str) -> list[Span]:
    if spans and spans[0].text.lstrip().startswith(marker):
        first = spans[0]
        rest = first.text.lstrip()[len(marker):].lstrip()
        return ([Span(rest, first.emphasis, first.strong, first.superscript, first.href)] if rest else []) + spans[1:]
    return spans

