"""Read a plain-text manuscript (typically a PDF extraction) into blocks.

What the text itself can tell: blank lines separate blocks (but a blank line may only be a
page break), tabs separate table cells, ``- `` starts a list item, a form feed is a page break,
and a short standalone line without closing punctuation is probably a heading. Everything that
needs the book's context (which heading is a chapter, where notes begin) is left to the
structuring stage.
"""

from __future__ import annotations

import codecs
from itertools import islice
import re
import unicodedata
from pathlib import Path

from ..errors import InputError, LimitError
from ..safety import DEFAULT_LIMITS, Limits
from .inline import InlineReport, parse_inline
from ..textrules import ends_with_punctuation, title_case_ratio
from .model import Block, Dropped, Gap, Kind, Manuscript, Where
from .pdf_text import folio_number, running_head_key

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_BULLET = re.compile(r"^(?P<bullet>[-•▪◦‣*]|\d{1,3}[.)]|[a-z][.)])\s+(?=\S)")
_INNER_SENTENCE_END = re.compile(r"[a-z]{2,}[.!?][\"”’]?\s+[A-Z]")
_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f"}


def decode_manuscript(data: bytes, path: Path, encoding: str | None = None) -> str:
    """Decode text bytes exactly, or refuse: a manuscript is never garbled silently."""
    if not data.strip(b" \t\r\n\f\x00"):
        raise InputError("the manuscript is empty", path, hint="check that the right file was delivered")
    if encoding:
        try:
            text = data.decode(encoding)
        except LookupError:
            raise InputError(f"unknown text encoding {encoding!r}", path, hint="use a name Python knows, e.g. cp1252")
        except UnicodeDecodeError as exc:
            raise InputError(f"not valid {encoding}: byte 0x{data[exc.start]:02x} at offset {exc.start}", path,
                             _line_of(data, exc.start), hint="check the encoding setting (manuscript_encoding)")
        return _check_text(text.lstrip("\ufeff"), path)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return _check_text(data[len(bom):].decode(codec), path)
            except UnicodeDecodeError as exc:
                raise InputError(f"starts with a {codec} byte-order mark but is not valid {codec} "
                                 f"(offset {exc.start + len(bom)})", path, hint="re-save the file as UTF-8")
    guessed = _guess_bomless_utf16(data)
    if guessed:
        try:
            return _check_text(data.decode(guessed), path)
        except UnicodeDecodeError:
            pass
    if b"\x00" in data:
        raise InputError("binary data, not a text manuscript", path,
                         hint="deliver the manuscript as .txt (UTF-8), .docx or .pdf")
    try:
        return _check_text(data.decode("utf-8"), path)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start} cannot be decoded", path,
            _line_of(data, exc.start),
            hint="the file is probably in a legacy encoding such as Windows-1252; re-save it as UTF-8, "
                 "or name its encoding with --encoding or manuscript_encoding in source/book.toml")


def _guess_bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a byte-order mark shows as NUL bytes in every other position."""
    sample = data[:4096]
    if len(sample) < 8:
        return None
    even_nuls = sample[0::2].count(0) / len(sample[0::2])
    odd_nuls = sample[1::2].count(0) / len(sample[1::2])
    if odd_nuls > 0.3 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.3 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def _line_of(data: bytes, offset: int) -> str:
    return "line %d" % (data.count(b"\n", 0, offset) + 1)


# Unicode's control characters (category Cc: U+0000-001F, U+007F-009F) but those text uses
_CONTROL = re.compile("[" + "".join(re.escape(chr(code)) for code in [*range(0x20), *range(0x7F, 0xA0)]
                                    if unicodedata.category(chr(code)) == "Cc"
                                    and chr(code) not in _ALLOWED_CONTROLS) + "]")


def _check_text(text: str, path: Path) -> str:
    found = _CONTROL.search(text)  # (one regular expression: a loop over every character took 30 ms a book)
    if found:
        controls = len(_CONTROL.findall(text))
        first = found.start()
        raise InputError(f"contains {controls} control character(s) (first U+{ord(text[first]):04X}), "
                         f"which text never does", path, f"line {text.count(chr(10), 0, first) + 1}",
                         hint="the file is binary or damaged; deliver the manuscript as UTF-8 text, .docx or .pdf")
    return text


def _looks_like_heading(line: str) -> bool:
    """A standalone short line that does not end like a sentence."""
    stripped = line.strip()
    if not stripped or len(stripped) > 160 or len(stripped.split()) > 22:
        return False
    if ends_with_punctuation(stripped) or _BULLET.match(stripped):
        return False
    if _INNER_SENTENCE_END.search(stripped):
        return False
    if len(stripped.split()) > 6 and title_case_ratio(stripped) < 0.5:
        return False
    first = stripped[0]
    return first.isupper() or first.isdigit() or first in "“\"'‘(&"


def read_text(data: bytes, path: Path, limits: Limits = DEFAULT_LIMITS, encoding: str | None = None) -> Manuscript:
    """Read a plain-text manuscript into blocks (see the module docstring)."""
    text = unicodedata.normalize("NFC", decode_manuscript(data, path, encoding))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    raw_lines = text.split("\n")
    for number, line in enumerate(raw_lines, 1):
        if len(line) > limits.max_line_chars:
            raise LimitError(f"line is {len(line):,} characters long, over the limit of {limits.max_line_chars:,}",
                             path, f"line {number}", hint="this is not an ordinary manuscript; check the file")
    raw_lines, dropped = drop_page_furniture(raw_lines)
    groups = _line_groups(raw_lines)
    blocks: list[Block] = []
    repairs: list[dict] = []
    for gap, group in groups:
        standalone = len(group) == 1
        for position, (number, line) in enumerate(group):
            report = InlineReport()
            block = _line_block(line, number, report, standalone)
            block.gap = gap if position == 0 else Gap.LINE
            blocks.append(block)
            for markup in report.markup:
                repairs.append({"type": "markup-leftover", "line": number, "before": markup})
            for escape in report.escapes:
                repairs.append({"type": "escaped-character", "line": number, "before": escape, "after": escape[1:]})
            for url in report.broken_urls:  # kept as text; the repair stage mends a space in a host if it can
                repairs.append({"type": "broken-url", "action": "flagged", "line": number, "before": url})
    if not blocks:
        raise InputError("the manuscript has no text", path)
    return Manuscript(path=path, format="text", blocks=blocks, repairs=repairs, dropped=dropped)


_EDGE_LINES = 2  # furniture is among the first and last two lines of a page, as in the PDF reader


def drop_page_furniture(lines: list[str]) -> tuple[list[str], list[Dropped]]:
    """Folios and running heads a text extraction left at its page breaks, removed and recorded.

    A form feed is pdftotext's page break: among the last lines before it and the first after it, a page
    number standing alone is a folio, and a short line whose text (a number at either end aside) recurs at
    another page break or stands elsewhere in the manuscript as a line of its own (a chapter or book title)
    is a running head. Without a form feed, a page number or such a head alone between a sentence cut off and
    its lower-case continuation is furniture too. Anything else stays text: a sentence cut by the page break is
    joined by the structuring stage, which reports the join.
    """
    pieces = [(number, position, piece) for number, raw in enumerate(lines, 1)
              for position, piece in enumerate(raw.split("\f"))]
    edges = _page_edges(pieces)
    keys = [running_head_key(piece) for _, _, piece in pieces]
    at_edges: dict[str, int] = {}
    for index in edges:
        at_edges[keys[index]] = at_edges.get(keys[index], 0) + 1
    elsewhere = {keys[index] for index in range(len(pieces)) if index not in edges and pieces[index][2].strip()}
    furniture: dict[int, str] = {}
    for index in edges:
        text = pieces[index][2].strip()
        if folio_number(text):
            furniture[index] = "folio"
        elif _short_unpunctuated(text) and (at_edges[keys[index]] >= 2 or keys[index] in elsewhere):
            furniture[index] = "running-head"
    for index, reason in _furniture_in_cuts(pieces, keys).items():
        furniture.setdefault(index, reason)
    if not furniture:
        return lines, []
    dropped = [Dropped(pieces[index][2].strip(), Where(line=pieces[index][0]), reason)
               for index, reason in sorted(furniture.items())]
    kept = ["" if index in furniture else piece for index, (_, _, piece) in enumerate(pieces)]
    rebuilt: dict[int, list[str]] = {}
    for index, (number, _, _) in enumerate(pieces):
        rebuilt.setdefault(number, []).append(kept[index])
    return ["\f".join(rebuilt[number]) for number in range(1, len(lines) + 1)], dropped


def _page_edges(pieces: list[tuple[int, int, str]]) -> set[int]:
    """The indexes of the first and last non-blank pieces of each page that a form feed bounds."""
    breaks = [index for index, (_, position, _) in enumerate(pieces) if position]
    edges: set[int] = set()
    for start in breaks:
        after = islice((i for i in range(start, len(pieces)) if pieces[i][2].strip()), _EDGE_LINES)
        before = islice((i for i in range(start - 1, -1, -1) if pieces[i][2].strip()), _EDGE_LINES)
        edges.update(after)  # lazily: a page's edge is found without reading the rest of the book
        edges.update(before)
    return edges


def _short_unpunctuated(text: str) -> bool:
    return 0 < len(text.split()) <= 12 and not ends_with_punctuation(text)


def _furniture_in_cuts(pieces: list[tuple[int, int, str]], keys: list[str]) -> dict[int, str]:
    """Without a form feed: one or two lines standing alone (blank lines around) between a sentence cut off and
    its lower-case continuation, each a page number (a folio) or a short line whose text stands elsewhere in
    the manuscript (a running head: the book's or the chapter's title), are what the page break left there."""
    filled = [index for index, (_, _, piece) in enumerate(pieces) if piece.strip()]
    counts: dict[str, int] = {}
    for index in filled:
        counts[keys[index]] = counts.get(keys[index], 0) + 1
    found: dict[int, str] = {}
    for position, before in enumerate(filled):
        previous = pieces[before][2].strip()
        if ends_with_punctuation(previous):
            continue
        for width in (1, 2):
            if position + width + 1 >= len(filled):
                break
            between = filled[position + 1:position + width + 1]
            after = filled[position + width + 1]
            if not pieces[after][2].strip()[:1].islower():
                continue
            chain = [before, *between, after]
            if any(second - first < 2 for first, second in zip(chain, chain[1:])):
                continue  # each stands alone, blank lines around it
            kinds = [_cut_furniture(pieces[index][2].strip(), counts[keys[index]]) for index in between]
            if all(kinds):
                found.update(zip(between, kinds))
                break
    return found


def _cut_furniture(text: str, occurrences: int) -> str:
    folio = folio_number(text)
    if folio and text[:1].isdigit():
        return "folio"
    return "running-head" if occurrences >= 2 and _short_unpunctuated(text) else ""


def _line_groups(lines: list[str]) -> list[tuple[Gap, list[tuple[int, str]]]]:
    """Group consecutive non-blank lines; a form feed (a page break in pdftotext output) splits too."""
    groups: list[tuple[Gap, list[tuple[int, str]]]] = []
    current: list[tuple[int, str]] = []
    gap = Gap.PARAGRAPH
    pending_gap = Gap.PARAGRAPH
    for number, raw in enumerate(lines, 1):
        for position, line in enumerate(raw.split("\f")):
            if position:  # a form feed before this piece
                if current:
                    groups.append((gap, current))
                    current = []
                pending_gap = Gap.PAGE
            if not line.strip():
                if current:
                    groups.append((gap, current))
                    current = []
                continue
            if not current:
                gap, pending_gap = pending_gap, Gap.PARAGRAPH
            current.append((number, line))
    if current:
        groups.append((gap, current))
    return groups


def _line_block(line: str, number: int, report: InlineReport, standalone: bool) -> Block:
    where = Where(line=number)
    if "\t" in line:
        cells = [parse_inline(cell.strip(), report) for cell in line.rstrip("\n").split("\t")]
        return Block(Kind.ROW, [], where, cells=cells)
    stripped = line.strip()
    bullet = _BULLET.match(stripped)
    if bullet:
        return Block(Kind.ITEM, parse_inline(stripped[bullet.end():], report), where, bullet=bullet.group("bullet"))
    kind = Kind.HEADING if standalone and _looks_like_heading(stripped) else Kind.TEXT
    return Block(kind, parse_inline(stripped, report), where)

