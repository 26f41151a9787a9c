"""Chapter notes: read the numbered list under "References" and anchor each note at its marker.

The list comes in the shapes extraction leaves: ``- 12 Author…``, ``12 Author…``, a bare URL
on the next line, a format that switches part-way. A marker (superscript number) becomes a
``<footnote label="N">`` holding note N; a second marker for the same note becomes a
``<footnoteref>``. Markers without notes and notes without markers are kept and reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from lxml import etree

from ..docbook import ascii_digits, el, fill_inline, mark_source, set_id, token_label
from ..findings import Findings
from ..ingest.model import Block, Gap, Kind, Span, Where
from . import rules


@dataclass
class NoteEntry:
    number: int | None
    spans: list[Span]
    where: Where
    blocks: list[Block] | None = None  # for attached notes (DOCX), their own paragraphs
    printed_number: str = ""  # the number as printed before the note ("12."), which becomes its label
    used: bool = False
    element_id: str | None = None


def strip_prefix(spans: list[Span], count: int) -> list[Span]:
    """Drop the first ``count`` characters (the printed number) from a list of spans."""
    out: list[Span] = []
    for span in spans:
        if span.special:  # a bookmark or a comment in the cut-off label stays with the title
            out.append(span)
            continue
        if count >= len(span.text):
            count -= len(span.text)
            continue
        text = span.text[count:] if count else span.text
        count = 0
        out.append(Span(text, emphasis=span.emphasis, strong=span.strong, superscript=span.superscript,
                        href=span.href, marks=span.marks))
    first = next((index for index, span in enumerate(out) if not span.special), None)
    if first is not None:
        out[first] = out[first].with_text(out[first].text.lstrip())
    return [span for span in out if span.text or span.special]


def _entry_number(block: Block, previous: int | None) -> tuple[int | None, int] | None:
    """The note number a block starts with and how many characters it takes, if it starts an entry."""
    spans = block.spans
    if spans and spans[0].superscript and spans[0].text.isdigit():
        return int(spans[0].text), len(spans[0].text)
    numbered_bullet = re.match(r"^(\d{1,3})[.)]?$", block.bullet or "")
    if block.kind is Kind.ITEM and numbered_bullet:
        return int(numbered_bullet.group(1)), 0
    text = block.text
    stripped = text.lstrip()
    offset = len(text) - len(stripped)
    match = rules.NOTE_ENTRY.match(stripped)
    alone = re.fullmatch(r"(\d{1,3})[.)]", stripped.rstrip())
    if alone and previous is not None and int(alone.group(1)) == previous + 1:
        return previous + 1, len(text)  # the next number on a line of its own, its text below (LibreOffice)
    if not match:
        return (None, 0) if block.kind is Kind.ITEM else None
    number = int(match.group("number"))
    if block.kind is not Kind.ITEM and previous is not None and not previous <= number <= previous + 10:
        return None
    return number, offset + match.end()


def parse_note_entries(blocks: list[Block], findings: Findings, scope: str) -> list[NoteEntry]:
    """Entries of a numbered notes or reference list, continuation lines folded in."""
    entries: list[NoteEntry] = []
    starts: list[tuple[Block, NoteEntry]] = []  # the block that starts each numbered entry
    blocks = [_row_as_text(block) for block in blocks]
    unnumbered = not any(_entry_number(block, None) not in (None, (None, 0)) for block in blocks)
    for block in blocks:
        started = _entry_number(block, entries[-1].number if entries else None)
        if started is None and unnumbered and _starts_unnumbered_entry(block, entries):
            started = (None, 0)  # an author-date list: each work is an entry of its own, and none is a defect
        if started is not None:
            number, cut = started
            entries.append(NoteEntry(number, strip_prefix(block.spans, cut), block.where,
                                     printed_number=block.text[:cut]))
            starts.append((block, entries[-1]))
        elif entries:
            last = entries[-1]
            url_cut = _url_cut(last, block)
            report_continuation(last, block, findings, scope, url_cut)
            joiner = "" if url_cut or not last.spans or last.spans[-1].text.endswith((" ", "/")) else " "
            last.spans = _extend_link(last.spans, block) if url_cut else \
                last.spans + ([Span(joiner)] if joiner else []) + list(block.spans)
            last.where = last.where.through(block.where)
        else:  # kept as an unnumbered entry: the editor decides what it is
            findings.flagged("note-without-marker", "text under the notes heading that is not a numbered note",
                             where=block.where, chapter=scope, before=block.text[:120])
            entries.append(NoteEntry(None, list(block.spans), block.where))
    report_style_change(starts, findings, scope)
    return entries


def _row_as_text(block: Block) -> Block:
    if block.kind is not Kind.ROW:
        return block
    spans = [span for cell in block.cells or [] for span in cell + [Span(" ")]]
    return Block(Kind.TEXT, spans, block.where, gap=block.gap)


_ENTRY_END = re.compile(r"(?:[.?!)\]\"”’]|https?://\S+|\d)\s*$")


def _starts_unnumbered_entry(block: Block, entries: list[NoteEntry]) -> bool:
    """In a list without numbers (an author-date bibliography), a line starts a new work unless it plainly
    continues the one above: the entry above has not ended, or the line starts in lower case."""
    text = block.text.strip()
    if not entries:
        return True
    if not text or text[0].islower():
        return False
    above = "".join(span.text for span in entries[-1].spans).rstrip()
    return bool(_ENTRY_END.search(above))


_URL_LINE = re.compile(r"^<?https?://\S+>?[.,;]?$")


_URL_AT_END = re.compile(r"https?://\S*[-/_=?&#~]$")
_URL_REST = re.compile(r"^[\w%~][\w\-./%?=&#~]*[\w/]\.?$")


def _url_cut(entry: NoteEntry, block: Block) -> bool:
    """A URL cut at the line end inside its path (``…/storm-`` then ``exposure-in-cities.``), on the next line or
    after a page break: the continuation, one URL-like word, is the URL's rest, and joins it with no space."""
    above = "".join(span.text for span in entry.spans).rstrip()
    text = block.text.strip()
    return bool(_URL_AT_END.search(above)) and bool(_URL_REST.match(text))


def _extend_link(spans: list[Span], block: Block) -> list[Span]:
    """The entry's spans with the URL's rest put back into its link (a full stop after it stays text)."""
    rest = block.text.strip()
    stop = "." if rest.endswith(".") else ""
    rest = rest[:-1] if stop else rest
    last = spans[-1]
    if not last.href:
        return spans + list(block.spans)
    joined = replace(last, text=last.text.rstrip() + rest, href=last.href + rest)
    return spans[:-1] + [joined] + ([Span(stop)] if stop else [])


def report_continuation(entry: NoteEntry, block: Block, findings: Findings, scope: str, url_cut: bool = False) -> None:
    """A line folded into the entry above is a join the editor should see, with both lines: a URL on a
    line of its own, or cut off by a blank line (a page break), is a ``split-url``; other text a join."""
    previous = entry.where.to_line or entry.where.line
    text = block.text.strip()
    after_break = block.gap is not Gap.LINE
    name = f"note {entry.number}" if entry.number is not None else "an unnumbered entry"
    lines = [line for line in (previous, block.where.line) if line is not None]
    where = Where(line=previous, to_line=block.where.line) if previous is not None else block.where
    if _URL_LINE.match(text):
        place = "after a blank line (a page break)" if after_break else "on a line of its own"
        findings.repaired("split-url", f"{name}: its URL, {place}, joined to the entry", where=where,
                          chapter=scope, before=text[:160], source_lines=lines)
    elif url_cut:
        place = "after a blank line (a page break)" if after_break else "on the next line"
        findings.repaired("split-url", f"{name}: its URL, cut inside its path, joined to its rest {place}",
                          where=where, chapter=scope, before=text[:160], source_lines=lines)
    else:
        place = "after a blank line (a page break)" if after_break else "on the next line"
        findings.repaired("page-break-join", f"{name}: its text continued {place}, joined to the entry",
                          where=where, chapter=scope, before=text[:160], source_lines=lines)


def _entry_style(block: Block) -> str:
    """How a list entry is set: as a bulleted item (``- 12 …``), a numbered item, or a bare number line."""
    if block.kind is Kind.ITEM:
        return f"bulleted '{block.bullet} N'" if not re.fullmatch(r"\d{1,3}[.)]?", block.bullet or "") \
            else "numbered list item"
    return "bare 'N'" + (" with a superscript number" if block.spans and block.spans[0].superscript else "")


def report_style_change(starts: list[tuple[Block, NoteEntry]], findings: Findings, scope: str) -> None:
    """A list that changes style part-way (``- 1 …`` then ``32 …`` between blank lines) is read as one list;
    the editor hears of it once, at the line where the style changes."""
    styles = [(block, entry) for block, entry in starts if entry.number is not None]
    if not styles:
        return
    first_style = _entry_style(styles[0][0])
    for block, entry in styles[1:]:
        style = _entry_style(block)
        if style != first_style:
            later = [e.number for _, e in styles if e.number is not None and e.number >= (entry.number or 0)]
            findings.repaired(
                "list-style-change", f"the list changes style at entry {entry.number}: entries before it are "
                f"{first_style}, from it on {style}" + (" separated by blank lines" if block.gap is not Gap.LINE
                                                        else "") + f"; read as one list ({len(later)} entries "
                "in the new style)", where=block.where, chapter=scope, before=block.text.strip()[:80],
                source_lines=[line for line in (styles[0][0].where.line, block.where.line) if line])
            return


def check_numbering(entries: list[NoteEntry], findings: Findings, scope: str, kind: str = "note") -> None:
    """Report repeated and skipped numbers; the list is kept as printed."""
    previous = 0
    for entry in entries:
        if entry.number is None:
            continue
        if entry.number == previous:
            findings.flagged("duplicate-number", f"{kind} number {entry.number} appears twice", where=entry.where,
                             chapter=scope, before=str(entry.number))
        elif entry.number > previous + 1:
            missing = ", ".join(str(n) for n in range(previous + 1, entry.number))
            findings.flagged("duplicate-number", f"{kind} numbering skips {missing}", where=entry.where,
                             chapter=scope, before=f"{previous} → {entry.number}")
        elif entry.number < previous:
            findings.flagged("duplicate-number", f"{kind} {entry.number} follows {previous}", where=entry.where,
                             chapter=scope)
        previous = max(previous, entry.number)


@dataclass
class NoteLinker:
    """Turns the markers met while building a chapter into footnotes, once per note."""

    scope: str
    entries: list[NoteEntry]
    findings: Findings
    by_number: dict[int, NoteEntry] = field(default_factory=dict)
    markers: int = 0
    endnotes: int = 0  # attached endnotes met so far (DOCX)
    where: Where | None = None  # the unit being built, set by the body builder: where a marker is

    def __post_init__(self) -> None:
        for entry in self.entries:
            if entry.number is not None and entry.number not in self.by_number:
                self.by_number[entry.number] = entry

    def __call__(self, span: Span) -> etree._Element | None:
        if span.note is not None:
            return self._attached(span)
        if span.exponent or not re.fullmatch(r"\d{1,3}", span.text):
            return None  # a power (km²) stays a superscript
        self.markers += 1
        entry = self.by_number.get(int(span.text))
        if entry is None:
            self.findings.flagged("marker-without-note", f"note marker {span.text} has no note in the list",
                                  where=self.where, chapter=self.scope, before=span.text, data={"label": span.text})
            return el("superscript", attrs={"role": "noteref"}, text=span.text)
        self.findings.as_markup(span.text, "note-marker")  # the marker is the footnote's label
        if entry.used:
            return el("footnoteref", attrs={"linkend": entry.element_id, "label": span.text})
        return self._footnote(entry, span.text)

    def _footnote(self, entry: NoteEntry, label: str, endnote: bool = False) -> etree._Element:
        entry.used = True
        self.findings.as_markup(entry.printed_number, "note-number")  # the note's number is its label too
        entry.element_id = ascii_digits(f"{self.scope}-{'en' if endnote else 'fn'}{label}")
        footnote = el("footnote", attrs={"label": token_label(label), "role": "endnote" if endnote else None})
        set_id(footnote, entry.element_id)
        if entry.blocks:
            for block in entry.blocks:
                para = el("para")
                fill_inline(para, block.spans)
                mark_source(para, block.where)
                footnote.append(para)
        else:
            para = el("para")
            fill_inline(para, entry.spans)
            mark_source(para, entry.where)
            footnote.append(para)
        return footnote

    def _attached(self, span: Span) -> etree._Element:
        """A real footnote (DOCX) anchored where the author put it."""
        self.markers += 1
        endnote = span.note_kind == "endnote"  # Word numbers endnotes apart from footnotes: so do we
        self.endnotes += endnote
        label = span.note_label or str(self.endnotes if endnote else self.markers - self.endnotes)
        if span.text.strip():  # a marker printed in the text (a PDF's superscript) becomes the note's label
            self.findings.as_markup(span.text.strip(), "note-marker")
        entry = NoteEntry(int(label) if label.isdigit() else None, [], Where(), blocks=span.note)
        self.entries.append(entry)
        if not span.note:
            return el("superscript", attrs={"role": "noteref"}, text=label)
        return self._footnote(entry, label, endnote=endnote)

    def unused(self) -> list[NoteEntry]:
        return [entry for entry in self.entries if not entry.used and entry.blocks is None]


def build_bibliography(entries: list[NoteEntry], title: str, scope: str, role: str | None = None) -> etree._Element:
    """A chapter's numbered reference list as ``<bibliography>`` of ``<bibliomixed>`` entries."""
    bibliography = el("bibliography", attrs={"role": role} if role else None)
    bibliography.append(el("title", text=title))
    for position, entry in enumerate(entries, 1):
        item = el("bibliomixed")
        set_id(item, f"{scope}-bib{position}")
        if entry.number is not None:  # a number from the list's own markers (a PDF's <ol>) is structure, not text
            item.append(el("abbrev", text=str(entry.number),
                           attrs=None if entry.printed_number.strip() else {"role": "list-marker"}))
            item[-1].tail = " "
        fill_inline(item, entry.spans)
        _wrap_links(item)
        mark_source(item, entry.where)
        bibliography.append(item)
    return bibliography


# Inlines a ``<bibliomixed>`` may not hold directly, though a ``<phrase>`` in it may: a bookmark (a DOCX
# made from an EPUB has one for every print page), an editor's remark, code, a picture.
_NOT_IN_ENTRIES = {"{http://docbook.org/ns/docbook}" + name
                   for name in ("anchor", "remark", "code", "literal", "inlinemediaobject", "xref", "uri")}


def _wrap_links(entry: etree._Element) -> None:
    """A bibliography entry may not hold a bare ``<link>``; DocBook puts it in ``<bibliomisc>``. The other
    inlines it may not hold go in a ``<phrase>``."""
    for child in list(entry):
        if child.tag == "{http://docbook.org/ns/docbook}link":
            wrapper = el("bibliomisc", attrs={"role": "url"})
        elif child.tag in _NOT_IN_ENTRIES:
            wrapper = el("phrase")
        else:
            continue
        wrapper.tail, child.tail = child.tail, None
        child.addprevious(wrapper)
        wrapper.append(child)
