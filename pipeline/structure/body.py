"""The running text of a part or chapter: paragraphs, lists, tables, figures and nested sections.

Page breaks in an extraction cut paragraphs (and words) in two; a paragraph continues across
a break when it did not end a sentence. Section levels come from the format when it has them
(DOCX styles, PDF sizes); a text extraction has lost them, so they are inferred (a heading
directly followed by another opens a group of subsections) and can be set by the editor.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lxml import etree

from ..docbook import append, ascii_digits, el, fill_inline, mark_source, q, set_id
from ..findings import Findings
from ..ingest.model import Block, Gap, Kind, Span, Where
from .. import textrules
from . import rules

NoteFactory = Callable[[Span], "etree._Element | None"]


@dataclass
class Unit:
    """One block-level thing in reading order, before sections are nested."""

    kind: str  # "heading", "para", "list", "table", "figure", "glossary", "image"
    blocks: list[Block]
    spans: list[Span] = field(default_factory=list)
    where: Where | None = None
    items: list[list[Span]] = field(default_factory=list)
    item_wheres: list[Where] = field(default_factory=list)
    rows: list[list[list[Span]]] = field(default_factory=list)
    row_wheres: list[Where] = field(default_factory=list)
    row_blocks: list[Block] = field(default_factory=list)  # the ROW block each row came from
    item_blocks: list[Block] = field(default_factory=list)  # the ITEM block each list entry starts with
    label: str | None = None
    title: list[Span] = field(default_factory=list)
    level: int | None = None
    level_reason: str = ""


def ends_sentence(spans: list[Span]) -> bool:
    """Whether a run of spans ends a sentence, looking past trailing note markers."""
    text = "".join(span.text for span in _without_trailing_markers(spans)).rstrip()
    return textrules.ends_sentence(text)


def _without_trailing_markers(spans: list[Span]) -> list[Span]:
    end = len(spans)
    while end and (spans[end - 1].superscript or spans[end - 1].note is not None or not spans[end - 1].text.strip()):
        end -= 1
    return spans[:end]


def join_spans(first: list[Span], second: list[Span]) -> list[Span]:
    """Join two runs cut apart by a line or page break, mending a word hyphenated across it."""
    if not first:
        return list(second)
    last = first[-1]
    head = list(first[:-1])
    text = last.text.rstrip()
    if text.endswith(("\u2010", "\u00ad")) and len(text) > 1 and text[-2].isalpha():
        joined_last = Span(text[:-1], last.emphasis, last.strong, last.superscript, last.href, last.note, last.note_label)
        return head + [joined_last] + _lstrip(second)
    if text.endswith("-") and len(text) > 1 and text[-2].isalpha():
        joined_last = Span(text, last.emphasis, last.strong, last.superscript, last.href, last.note, last.note_label)
        return head + [joined_last] + _lstrip(second)
    return head + [Span(last.text.rstrip() if not last.superscript else last.text, last.emphasis, last.strong,
                        last.superscript, last.href, last.note, last.note_label), Span(" ")] + _lstrip(second)


def _joined_lines(first: Where, second: Where) -> list[int]:
    """The two source lines a join brought together: the last of the first run, the first of the second."""
    last = first.to_line or first.line
    return [line for line in (last, second.line) if line is not None]


def _lstrip(spans: list[Span]) -> list[Span]:
    if spans and not spans[0].superscript and spans[0].note is None:
        return [Span(spans[0].text.lstrip(), spans[0].emphasis, spans[0].strong, False, spans[0].href)] + spans[1:]
    return list(spans)


def _excerpt(spans: list[Span], tail: bool) -> str:
    text = "".join(span.text for span in spans)
    return ("…" + text[-40:]) if tail and len(text) > 40 else (text[:40] + "…" if not tail and len(text) > 40 else text)


class BodyBuilder:
    """Builds the DocBook body of one part or chapter from its blocks."""

    def __init__(self, scope: str, findings: Findings, notes: NoteFactory | None = None,
                 heading_levels: dict[str, int] | None = None, used_levels: set[str] | None = None,
                 page_based: bool = True):
        self.scope = scope
        self.page_based = page_based  # paragraphs cut by page breaks are re-joined only in page-based input
        self.findings = findings
        self.notes = notes
        self.heading_levels = heading_levels or {}
        self.used_levels = used_levels if used_levels is not None else set()
        self.counters = {"table": 0, "figure": 0, "section": 0}
        self.outline: list[tuple[int, str, str, Where | None]] = []

    # ----------------------------------------------------------------- units

    def units(self, blocks: list[Block], allow_headings: bool = True) -> list[Unit]:
        units: list[Unit] = []
        i = 0
        while i < len(blocks):
            block = blocks[i]
            text = block.text.strip()
            if block.kind is Kind.IMAGE or (rules.is_missing_image_text(text) and i + 1 < len(blocks)
                                            and rules.FIGURE_TITLE.match(blocks[i + 1].text.strip())):
                # a press edition read back prints its placeholder where the image was missing
                units.append(Unit("image", [block], where=block.where))
                i += 1
            elif block.kind in (Kind.QUOTE, Kind.CODE):
                j = i
                while j < len(blocks) and blocks[j].kind is block.kind:
                    j += 1
                units.append(Unit("blockquote" if block.kind is Kind.QUOTE else "code", blocks[i:j], where=block.where))
                i = j
            elif block.kind is not Kind.ROW and (rules.TABLE_TITLE.match(text) or (
                    block.style == "table-caption" and i + 1 < len(blocks) and blocks[i + 1].kind is Kind.ROW)):
                i = self._table(blocks, i, units)
            elif block.kind is not Kind.ROW and (rules.FIGURE_TITLE.match(text) or block.style == "figure-caption"):
                self._figure(block, units)
                i += 1
            elif block.kind is not Kind.ROW and rules.is_abbreviations_title(text) and i + 1 < len(blocks) \
                    and blocks[i + 1].kind is Kind.ROW:
                i = self._glossary(blocks, i, units)
            elif block.kind is Kind.ROW and block.style == "definition-row":
                kind = "glossary" if _abbreviation_terms(blocks, i) else "variablelist"
                i = self._glossary(blocks, i, units, titled=False, kind=kind)
            elif block.kind is Kind.ROW:
                i = self._table(blocks, i, units, titled=False)
            elif block.kind is Kind.ITEM:
                i = self._list(blocks, i, units)
            elif allow_headings and self._is_heading(block, units, blocks, i):
                units.append(Unit("heading", [block], spans=block.spans, where=block.where, level=block.level))
                i += 1
            else:
                i = self._paragraph(blocks, i, units)
        return units

    def _is_heading(self, block: Block, units: list[Unit], blocks: list[Block], i: int) -> bool:
        if block.kind is not Kind.HEADING:
            return False
        if block.level is not None:
            return True
        text = block.text.strip()
        if rules.ATTRIBUTION.match(text):
            return False
        previous = units[-1] if units else None
        if previous is not None and previous.kind == "para" and not ends_sentence(previous.spans):
            # After a paragraph cut mid-sentence, a title-cased line is still a heading; a
            # sentence-cased fragment is the rest of the paragraph.
            return textrules.title_case_ratio(text) >= 0.6 and text[:1].isupper()
        return True

    def _paragraph(self, blocks: list[Block], i: int, units: list[Unit]) -> int:
        block = blocks[i]
        if rules.ATTRIBUTION.match(block.text.strip()):  # "Source: ..." lines stand alone
            units.append(Unit("para", [block], spans=list(block.spans), where=block.where, label="source"))
            return i + 1
        spans, where, j = self._absorb(blocks, i, "paragraph")
        units.append(Unit("para", blocks[i:j], spans=spans, where=where))
        return j

    def _absorb(self, blocks: list[Block], i: int, what: str) -> tuple[list[Span], Where, int]:
        """The spans of block ``i`` and the blocks that carry it on across line or page breaks."""
        spans, where = list(blocks[i].spans), blocks[i].where
        j = i + 1
        while j < len(blocks) and blocks[j].kind is not Kind.ITEM:
            certain = self._continues(spans, blocks[j], blocks, j)
            if not certain and not self._cut_by_author(spans, blocks[j]):
                break
            joined = join_spans(spans, blocks[j].spans)
            cut = f"{_excerpt(spans, True)} ¶ {_excerpt(blocks[j].spans, False)}"
            message = f"{what} re-joined across a break" if certain else \
                f"{what} ends mid-sentence and the next goes on in lower case; join them?"
            if self.findings.propose("page-break-join", message, certain=certain,
                                     before=cut, after=cut.replace(" ¶ ", " "),
                                     where=where.through(blocks[j].where), chapter=self.scope,
                                     source_lines=_joined_lines(blocks[j - 1].where, blocks[j].where)) is None:
                break  # the editor keeps the break
            spans = joined
            where = where.through(blocks[j].where)
            j += 1
        return spans, where, j

    def _cut_by_author(self, spans: list[Span], block: Block) -> bool:
        """A Word paragraph that stops mid-sentence, the next one going on in lower case: the author (or a
        conversion) broke a sentence in two. Its paragraphs are the author's, so the join is only proposed."""
        text = block.text.strip()
        return (not self.page_based and block.kind is Kind.TEXT and block.gap is not Gap.LINE
                and text[:1].islower() and not ends_sentence(spans))

    def _continues(self, spans: list[Span], block: Block, blocks: list[Block], j: int) -> bool:
        """Does ``block`` carry on the paragraph made of ``spans``?"""
        if block.kind not in (Kind.TEXT, Kind.HEADING):
            return False
        if not self.page_based and block.gap is not Gap.LINE:
            return False  # a Word paragraph ends where its author ended it
        text = block.text.strip()
        if ends_sentence(spans):
            # "…they converge on principles:" ¶ "adherence to …" is one sentence cut by a page break.
            last = "".join(span.text for span in _without_trailing_markers(spans)).rstrip()
            return last.endswith(":") and text[:1].islower()
        if rules.TABLE_TITLE.match(text) or rules.FIGURE_TITLE.match(text) or rules.ATTRIBUTION.match(text):
            return False
        if block.kind is Kind.HEADING:
            if block.level is not None:
                return False
            return not (textrules.title_case_ratio(text) >= 0.6 and text[:1].isupper())
        return True

    def _list(self, blocks: list[Block], i: int, units: list[Unit]) -> int:
        unit = Unit("list", [], where=blocks[i].where)
        j = i
        kind = _marker_kind(blocks[i].bullet)
        top = blocks[i].level or 1
        while j < len(blocks) and blocks[j].kind is Kind.ITEM \
                and self._same_list(blocks[i], blocks[j], kind, top, j > i):
            spans, where, k = self._absorb(blocks, j, "list item")
            unit.items.append(spans)
            unit.item_wheres.append(where)
            unit.item_blocks.append(blocks[j])
            unit.blocks.extend(blocks[j:k])
            j = k
        units.append(unit)
        return j

    @staticmethod
    def _same_list(first: Block, block: Block, kind: str, top: int, later: bool) -> bool:
        """Does ``block`` belong to the list ``first`` opens? DOCX says by list identity and level."""
        if first.level is None or first.list_id is None:
            return _marker_kind(block.bullet) == kind  # a text list: by the look of its markers
        if block.continuation or (block.level or 1) > top or not later:
            return True
        return block.list_id == first.list_id  # a different list at the top level: adjacent, kept apart

    def _table(self, blocks: list[Block], i: int, units: list[Unit], titled: bool = True) -> int:
        unit = Unit("table", [], where=blocks[i].where)
        j = i
        if titled:
            self.counters["table"] += 1
            match = rules.TABLE_TITLE.match(blocks[i].text.strip())
            unit.label = ascii_digits(match.group("number")) if match else str(self.counters["table"])
            unit.title = _after_prefix(blocks[i].spans, match.start("title")) if match else blocks[i].spans
            if match:
                self.findings.as_markup(blocks[i].text.strip()[:match.start("title")], "table-label")
            unit.blocks.append(blocks[i])
            j += 1
        source_table = blocks[j].table if j < len(blocks) else None
        while j < len(blocks) and blocks[j].kind is Kind.ROW and blocks[j].table == source_table \
                and blocks[j].style != "definition-row":
            cells = [list(cell) for cell in blocks[j].cells or []]
            first_empty = not cells or not "".join(span.text for span in cells[0]).strip()
            if source_table is not None:  # a DOCX table: its rows are rows as the author made them
                unit.rows.append(cells)
                unit.row_wheres.append(blocks[j].where)
                unit.row_blocks.append(blocks[j])
            elif (unit.label or blocks[j].gap is Gap.PAGE) and len(unit.rows) > 1 \
                    and _row_text(cells) == _row_text(unit.rows[0]):
                # the header row repeated at the top of the next page
                self.findings.dropped(blocks[j].text.strip(), "repeated-table-header",
                                      "the table's header row repeated at the top of the next page is left out",
                                      where=blocks[j].where, chapter=self.scope)
            elif unit.rows and first_empty:
                self._continue_row(unit.rows[-1], cells, blocks[j], unit.row_wheres[-1])
                unit.row_wheres[-1] = unit.row_wheres[-1].through(blocks[j].where)
            else:
                unit.rows.append(cells)
                unit.row_wheres.append(blocks[j].where)
            unit.blocks.append(blocks[j])
            j += 1
        # A "Source: ..." line under the table stays a paragraph of its own (role="source") rather
        # than a CALS caption: other DocBook readers (pandoc) drop table captions and their notes.
        units.append(unit)
        return j

    def _continue_row(self, row: list[list[Span]], cells: list[list[Span]], block: Block,
                      row_where: Where | None = None) -> None:
        """A row whose first cell is empty is the rest of the row above, cut by a page break."""
        for index, cell in enumerate(cells):
            if not "".join(span.text for span in cell).strip():
                continue
            while index >= len(row):
                row.append([])
            row[index] = join_spans(row[index], cell) if row[index] else cell
        self.findings.repaired("page-break-join", "table row re-joined across a break", where=block.where,
                               chapter=self.scope, before=block.text.strip(),
                               source_lines=_joined_lines(row_where, block.where) if row_where else [])

    def _figure(self, block: Block, units: list[Unit]) -> None:
        self.counters["figure"] += 1
        match = rules.FIGURE_TITLE.match(block.text.strip())
        image = units.pop() if units and units[-1].kind == "image" else None
        unit = Unit("figure", [block] + (image.blocks if image else []), where=block.where,
                    label=ascii_digits(match.group("number")) if match else str(self.counters["figure"]),
                    title=_after_prefix(block.spans, match.start("title")) if match else block.spans)
        if match:
            self.findings.as_markup(block.text.strip()[:match.start("title")], "figure-label")
        units.append(unit)

    def _glossary(self, blocks: list[Block], i: int, units: list[Unit], titled: bool = True,
                  kind: str = "glossary") -> int:
        unit = Unit(kind, [blocks[i]] if titled else [], where=blocks[i].where,
                    title=blocks[i].spans if titled else [])
        j = i + 1 if titled else i
        while j < len(blocks) and blocks[j].kind is Kind.ROW and (
                kind == "glossary" or blocks[j].style == "definition-row"):
            unit.rows.append(blocks[j].cells or [])
            unit.blocks.append(blocks[j])
            j += 1
        units.append(unit)
        return j

    # ----------------------------------------------------------------- levels and sections

    def assign_levels(self, units: list[Unit]) -> None:
        """Decide each heading's depth (1 = top section of the part or chapter)."""
        headings = [unit for unit in units if unit.kind == "heading"]
        if not headings:
            return
        explicit = [unit.level for unit in headings if unit.level is not None]
        if explicit:
            ranks = sorted(set(explicit))
            for unit in headings:
                depth = ranks.index(unit.level) + 1 if unit.level is not None else 1
                decided = self._decided_level("".join(span.text for span in unit.spans).strip())
                unit.level, unit.level_reason = (decided, "editorial decision") if decided else (depth, "source style")
        else:
            self._infer_levels(units)
        previous = 0
        for unit in headings:  # never skip a level
            level = unit.level if unit.level is not None else 1
            unit.level = min(level, previous + 1)
            previous = unit.level

    def _infer_levels(self, units: list[Unit]) -> None:
        grouped = False
        for index, unit in enumerate(units):
            if unit.kind != "heading":
                continue
            text = "".join(span.text for span in unit.spans).strip()
            following = units[index + 1] if index + 1 < len(units) else None
            decided = self._decided_level(text)
            if decided is not None:
                unit.level, unit.level_reason = decided, "editorial decision"
                if decided == 1 and following is not None and following.kind == "heading":
                    grouped = True
            elif rules.TOP_LEVEL_SECTION.match(text):
                unit.level, unit.level_reason = 1, "opening or closing section"
                grouped = False
            elif following is not None and following.kind == "heading":
                unit.level, unit.level_reason = 1, "followed directly by a subheading"
                grouped = True
            elif grouped:
                unit.level, unit.level_reason = 2, "within a group of subsections"
            else:
                unit.level, unit.level_reason = 1, "default"

    def _decided_level(self, text: str) -> int | None:
        for key in (f"{self.scope}: {rules.normalized(text)}", rules.normalized(text)):
            if key in self.heading_levels:
                self.used_levels.add(key)
                return self.heading_levels[key]
        return None

    def build(self, blocks: list[Block], allow_headings: bool = True) -> list[etree._Element]:
        """The elements of the body, sections nested."""
        units = self.units(blocks, allow_headings)
        self.assign_levels(units)
        root: list[etree._Element] = []
        stack: list[tuple[int, etree._Element]] = []
        for unit in units:
            if unit.kind == "heading":
                level = unit.level if unit.level is not None else 1  # assign_levels gave every heading one
                while stack and stack[-1][0] >= level:
                    stack.pop()
                section = self._section(unit, level)
                (stack[-1][1].append(section) if stack else root.append(section))
                stack.append((level, section))
                continue
            element = self.element(unit)
            if element is None:
                continue
            (stack[-1][1].append(element) if stack else root.append(element))
        holder = el("section")  # a temporary parent, so that mending can replace top-level sections
        for element in root:
            holder.append(element)
        self._mend_empty_sections(holder)
        return list(holder)

    def _section(self, unit: Unit, level: int) -> etree._Element:
        self.counters["section"] += 1
        section = el("section")
        set_id(section, f"{self.scope}-s{self.counters['section']}")
        title = el("title")
        fill_inline(title, unit.spans)
        mark_source(title, unit.where)
        section.append(title)
        self.outline.append((level, "".join(span.text for span in unit.spans).strip(), unit.level_reason,
                             unit.where))
        return section

    def _mend_empty_sections(self, element: etree._Element) -> None:
        """A heading with nothing under it becomes a bridgehead (a section may not be empty)."""
        for section in list(element.iter("{http://docbook.org/ns/docbook}section"))[1:] if \
                etree.QName(element).localname == "section" else list(element.iter("{http://docbook.org/ns/docbook}section")):
            content = [child for child in section if isinstance(child.tag, str)
                       and child.tag != "{http://docbook.org/ns/docbook}title"]
            if not content:
                title = section.find("{http://docbook.org/ns/docbook}title")
                bridge = el("bridgehead")
                bridge.text, bridge[:] = title.text, list(title)
                earlier = _last_section_before(section)
                if earlier is None:
                    section.addprevious(bridge)
                else:  # blocks may not follow sections: it closes the section before it, where it was read
                    earlier.append(bridge)
                section.getparent().remove(section)

    # ----------------------------------------------------------------- elements

    def element(self, unit: Unit) -> etree._Element | None:
        """The DocBook element for a unit, by its kind (a KeyError names a kind nobody builds)."""
        builders = {"para": self._element_para, "list": self._element_list, "blockquote": self._element_blockquote,
                    "code": self._element_code, "variablelist": self._element_variablelist,
                    "table": self._element_table, "figure": self._element_figure, "image": self._element_image,
                    "glossary": self._element_glossary}
        if self.notes is not None and hasattr(self.notes, "where"):
            setattr(self.notes, "where", unit.where)  # noqa: B010 -- a marker without a note is reported where its paragraph is
        return builders[unit.kind](unit)

    def _inline(self, parent: etree._Element, spans: list[Span]) -> etree._Element:
        fill_inline(parent, spans, self.notes)
        return parent

    def _element_para(self, unit: Unit) -> etree._Element:
        para = self._inline(el("para", attrs={"role": unit.label} if unit.label else None), unit.spans)
        mark_source(para, unit.where)
        return para

    def _element_list(self, unit: Unit) -> etree._Element:
        if any(block.level is not None and block.list_id is not None for block in unit.item_blocks):
            return self._nested_list(unit)
        marker = (unit.blocks[0].bullet or "") if unit.blocks else ""
        listing = _list_element(marker)
        for spans, where in zip(unit.items, unit.item_wheres):
            para = self._inline(el("para"), spans)
            mark_source(para, where)
            listing.append(el("listitem", para))
        return listing

    def _nested_list(self, unit: Unit) -> etree._Element:
        """A DOCX list: items nest by level, continuation paragraphs stay in their item, and a
        different list met at the same level (another numbering) is a list of its own."""
        first = unit.item_blocks[0]
        root = _list_element(first.bullet or "", first.number)
        stack: list[tuple[int, etree._Element, str | None]] = [(first.level or 1, root, first.list_id)]
        for block, spans, where in zip(unit.item_blocks, unit.items, unit.item_wheres):
            para = self._inline(el("para"), spans)
            mark_source(para, where)
            level = block.level or 1
            if block.continuation:
                items = list(stack[-1][1].iterchildren(q("listitem")))
                if items:
                    items[-1].append(para)
                    continue
            while len(stack) > 1 and stack[-1][0] > level:
                stack.pop()
            if level > stack[-1][0]:
                items = list(stack[-1][1].iterchildren(q("listitem")))
                holder = items[-1] if items else el("listitem", el("para"))
                if not items:
                    stack[-1][1].append(holder)
                nested = _list_element(block.bullet or "", block.number)
                holder.append(nested)
                stack.append((level, nested, block.list_id))
            elif block.list_id != stack[-1][2] and len(stack) > 1:
                sibling = _list_element(block.bullet or "", block.number)  # another list inside the same item
                stack[-1][1].addnext(sibling)
                stack[-1] = (stack[-1][0], sibling, block.list_id)
            stack[-1][1].append(el("listitem", para))
        return root

    def _element_blockquote(self, unit: Unit) -> etree._Element:
        quote = el("blockquote")
        for block in unit.blocks:
            para = self._inline(el("para"), block.spans)
            mark_source(para, block.where)
            quote.append(para)
        return quote

    def _element_code(self, unit: Unit) -> etree._Element | None:
        """Adjacent code paragraphs are one listing, a line each; their spacing is content."""
        lines = ["".join(span.text for span in block.spans) for block in unit.blocks]
        while lines and not lines[-1].strip():
            lines.pop()
        if not lines:
            return None
        listing = el("programlisting", text="\n".join(lines))
        mark_source(listing, unit.where)
        return listing

    def _element_variablelist(self, unit: Unit) -> etree._Element:
        """A definition list (DOCX "Definition Term"/"Definition"): terms and their definitions."""
        listing = el("variablelist")
        for cells, block in zip(unit.rows, unit.blocks):
            term = self._inline(el("term"), cells[0] if cells else [])
            mark_source(term, block.where)
            item = el("listitem")
            definitions = block.cell_blocks[1] if block.cell_blocks and len(block.cell_blocks) > 1 else None
            for definition in definitions or [Block(Kind.TEXT, [s for c in cells[1:] for s in c], block.where)]:
                para = self._inline(el("para"), definition.spans)
                mark_source(para, definition.where)
                item.append(para)
            listing.append(el("varlistentry", term, item))
        return listing

    def _element_table(self, unit: Unit) -> etree._Element:
        columns = max(len(row) for row in unit.rows) if unit.rows else 1
        if unit.label:
            table = el("table", attrs={"label": unit.label})
            set_id(table, f"{self.scope}-table{unit.label}")
            title = self._inline(el("title"), unit.title)
            mark_source(title, unit.where)
            table.append(title)
        else:
            table = el("informaltable")
        if unit.row_blocks:
            group, header, body = self._source_rows(unit)
        else:
            group = el("tgroup", attrs={"cols": str(columns)})
            rows = [self._row(cells, columns, where) for cells, where in zip(unit.rows, unit.row_wheres)] \
                or [self._row([[]], columns, None)]
            header, body = (rows[:1], rows[1:]) if unit.label and len(rows) > 1 else ([], rows)
        if header:
            group.append(el("thead", *header))
        group.append(el("tbody", *body))
        table.append(group)
        return table

    def _source_rows(self, unit: Unit) -> tuple[etree._Element, list, list]:
        """A DOCX table: header rows as the source marks them, cells spanning columns and rows,
        and each cell's own paragraphs and lists."""
        occupied: set[tuple[int, int]] = set()
        placed: list[list[tuple[int, int, int, list[Span], list[Block] | None]]] = []
        width = 1
        for index, (cells, block) in enumerate(zip(unit.rows, unit.row_blocks)):
            column, row_cells = 0, []
            for position, spans in enumerate(cells):
                while (index, column) in occupied:
                    column += 1
                across = (block.spans_columns or [])[position] if position < len(block.spans_columns or []) else 1
                down = (block.spans_rows or [])[position] if position < len(block.spans_rows or []) else 1
                for extra in range(1, down):
                    for c in range(column, column + across):
                        occupied.add((index + extra, c))
                cell_blocks = block.cell_blocks or []
                contents = cell_blocks[position] if position < len(cell_blocks) else None
                row_cells.append((column, across, down, spans, contents))
                column += across
            width = max(width, column, max((c + 1 for r, c in occupied if r == index), default=0))
            placed.append(row_cells)
        group = el("tgroup", attrs={"cols": str(width)})
        if any(across > 1 for row in placed for _, across, _, _, _ in row):
            for number in range(1, width + 1):
                group.append(el("colspec", attrs={"colname": f"c{number}"}))
        header: list[etree._Element] = []
        body: list[etree._Element] = []
        for row_cells, block in zip(placed, unit.row_blocks):
            row = el("row")
            for column, across, down, spans, contents in row_cells:
                attrs: dict[str, str] = {}
                if across > 1:
                    attrs.update(namest=f"c{column + 1}", nameend=f"c{column + across}")
                if down > 1:
                    attrs["morerows"] = str(down - 1)
                entry = el("entry", attrs=attrs or None)
                if contents and (len(contents) > 1 or contents[0].kind is not Kind.TEXT):
                    inner = BodyBuilder(self.scope, self.findings, notes=self.notes)
                    inner.counters = self.counters
                    for element in inner.build(contents, allow_headings=False):
                        entry.append(element)
                else:
                    self._inline(entry, spans)
                row.append(entry)
            mark_source(row, block.where)
            (header if block.header else body).append(row)
        if not body:  # a table of header rows only: CALS needs a body
            body, header = header, []
        return group, header, body

    def _row(self, cells: list[list[Span]], columns: int, where: Where | None) -> etree._Element:
        row = el("row")
        for index in range(columns):
            entry = self._inline(el("entry"), cells[index] if index < len(cells) else [])
            row.append(entry)
        mark_source(row, where)
        return row

    def _element_figure(self, unit: Unit) -> etree._Element:
        figure = el("figure", attrs={"label": unit.label})
        set_id(figure, f"{self.scope}-figure{unit.label}")
        title = self._inline(el("title"), unit.title)
        mark_source(title, unit.where)
        figure.append(title)
        images = [block for block in unit.blocks if block.kind is Kind.IMAGE]
        carried = next((block for block in images if block.image is not None), None)
        placeholder = next((block.text.strip() for block in unit.blocks
                            if block.kind in (Kind.TEXT, Kind.HEADING) and rules.is_missing_image_text(block.text)), "")
        figure.append(picture(carried) if carried is not None else missing_image(images, placeholder))
        return figure

    def _element_image(self, unit: Unit) -> etree._Element:
        block = unit.blocks[0]
        return el("informalfigure", picture(block) if block.image is not None else missing_image(unit.blocks))

    def _element_glossary(self, unit: Unit) -> etree._Element:
        glossary = el("glosslist", attrs={"role": "abbreviations"})
        if unit.title:
            title = self._inline(el("title"), unit.title)
            mark_source(title, unit.where)
            glossary.append(title)
        for cells, block in zip(unit.rows, unit.blocks[1 if unit.title else 0:]):
            term_spans = cells[0] if cells else []
            term_text = "".join(span.text for span in term_spans).strip()
            term = el("glossterm", text=re.sub(r"\s*:$", "", term_text))
            definition = self._inline(el("para"), [span for cell in cells[1:] for span in cell])
            mark_source(definition, block.where)
            glossary.append(el("glossentry", term, el("glossdef", definition)))
        return glossary


def _marker_kind(bullet: str | None) -> str:
    if bullet and re.match(r"^\d{1,3}[.)]$", bullet):
        return "number"
    if bullet and re.match(r"^[a-z][.)]$", bullet):
        return "letter"
    return "bullet"


def _row_text(cells: list[list[Span]]) -> list[str]:
    return [" ".join("".join(span.text for span in cell).split()) for cell in cells]


def _abbreviation_terms(blocks: list[Block], i: int) -> bool:
    """Is the definition list starting at ``i`` a list of abbreviations (every term a short one
    whose first word has two capitals or more: "ASEAN", "ReCAAP", "AHA Centre")? Then it is a
    ``glosslist role="abbreviations"``, like the one a text manuscript's abbreviation list makes;
    any other definition list is a plain ``variablelist``."""
    terms = []
    while i < len(blocks) and blocks[i].kind is Kind.ROW and blocks[i].style == "definition-row":
        cells = blocks[i].cells or [[]]
        terms.append("".join(span.text for span in cells[0]).split())
        i += 1
    return len(terms) >= 2 and all(0 < len(words) <= 4 and sum(char.isupper() for char in words[0]) >= 2
                                   for words in terms)


def _list_element(marker: str, start: int | None = None) -> etree._Element:
    """The DocBook list for a marker: numbered (with its start), lettered, roman, or bulleted.
    ``start`` is the number its first item shows when the source says (DOCX), else the marker's."""
    number = re.match(r"^(\d{1,3})[.)]$", marker)
    if number:
        first = str(start) if start is not None else str(int(number.group(1)))  # "១." starts at 1 too
        return el("orderedlist", attrs={"startingnumber": first} if first != "1" else None)
    if marker in ("i.", "I."):
        return el("orderedlist", attrs={"numeration": "lowerroman" if marker == "i." else "upperroman"})
    if re.match(r"^[a-z][.)]$", marker):
        return el("orderedlist", attrs={"numeration": "loweralpha"})
    if re.match(r"^[A-Z][.)]$", marker):
        return el("orderedlist", attrs={"numeration": "upperalpha"})
    return el("itemizedlist")


def picture(block: Block) -> etree._Element:
    """A picture the manuscript carries: its file under media/ and its alt text (DOCX wp:docPr/@descr)."""
    media = el("mediaobject")
    if block.image:
        media.append(el("imageobject", el("imagedata", attrs={"fileref": f"media/{block.image}"})))
    media.append(el("textobject", el("phrase", text=block.text.strip()),
                    attrs=None if block.image else {"role": "missing-image"}))
    return media


def missing_image(images: Sequence[Block] = (), placeholder: str = "") -> etree._Element:
    """Stands for an image the manuscript does not carry (the publisher may supply it later).

    The image's description (a DOCX picture's alt text), when the reader found one, is kept as
    the text object's phrase: it is the manuscript's text too; so is a placeholder printed in the
    image's place (a press edition read back).
    """
    phrase = el("phrase", text=placeholder or None)
    for block in images:
        if block.text.strip():
            if len(phrase) or phrase.text:
                append(phrase, " ")
            append(phrase, block.text.strip())
    if images:
        mark_source(phrase, images[0].where)
    return el("mediaobject", el("textobject", phrase, attrs={"role": "missing-image"}))


def _after_prefix(spans: list[Span], offset: int) -> list[Span]:
    from .notes import strip_prefix
    return strip_prefix(spans, offset)


def _last_section_before(section: etree._Element) -> etree._Element | None:
    """The innermost section that ends just before ``section``, if a section precedes it."""
    earlier = next(section.itersiblings("*", preceding=True), None)
    if earlier is None or earlier.tag != "{http://docbook.org/ns/docbook}section":
        return None
    while (children := earlier.findall("*")) and children[-1].tag == "{http://docbook.org/ns/docbook}section":
        earlier = children[-1]
    return earlier
