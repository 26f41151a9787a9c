"""The running text of a part or chapter: paragraphs, lists, tables, figures and nested sections.

Page breaks in an extraction cut paragraphs (and words) in two; a paragraph continues across
a break when it did not end a sentence. Section levels come from the format when it has them
(DOCX styles, PDF sizes); a text extraction has lost them, so they are inferred (a heading
directly followed by another opens a group of subsections) and can be set by the editor.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from ..docbook import el, fill_inline, mark_source, set_id
from ..findings import Findings
from ..ingest.model import Block, Gap, Kind, Span, Where
from . import rules

NoteFactory = Callable[[Span], "etree._Element | None"]
_HYPHENS = ("-", "\u2010", "\u00ad")


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
    label: str | None = None
    title: list[Span] = field(default_factory=list)
    level: int | None = None
    level_reason: str = ""


def ends_sentence(spans: list[Span]) -> bool:
    """Whether a run of spans ends a sentence, looking past trailing note markers."""
    text = "".join(span.text for span in _without_trailing_markers(spans)).rstrip()
    return rules.ends_sentence(text)


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
                 heading_levels: dict[str, int] | None = None, used_levels: set[str] | None = None):
        self.scope = scope
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
                i = self._glossary(blocks, i, units, titled=False)
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
            return rules.title_case_ratio(text) >= 0.6 and text[:1].isupper()
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
        while j < len(blocks) and blocks[j].kind is not Kind.ITEM and self._continues(spans, blocks[j], blocks, j):
            joined = join_spans(spans, blocks[j].spans)
            cut = f"{_excerpt(spans, True)} ¶ {_excerpt(blocks[j].spans, False)}"
            if self.findings.propose("page-break-join", f"{what} re-joined across a break", certain=True,
                                     before=cut, after=cut.replace(" ¶ ", " "),
                                     where=where.through(blocks[j].where), chapter=self.scope) is None:
                break  # the editor keeps the break
            spans = joined
            where = where.through(blocks[j].where)
            j += 1
        return spans, where, j

    def _continues(self, spans: list[Span], block: Block, blocks: list[Block], j: int) -> bool:
        """Does ``block`` carry on the paragraph made of ``spans``?"""
        if block.kind not in (Kind.TEXT, Kind.HEADING):
            return False
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
            return not (rules.title_case_ratio(text) >= 0.6 and text[:1].isupper())
        return True

    def _list(self, blocks: list[Block], i: int, units: list[Unit]) -> int:
        unit = Unit("list", [], where=blocks[i].where)
        j = i
        kind = _marker_kind(blocks[i].bullet)
        while j < len(blocks) and blocks[j].kind is Kind.ITEM and _marker_kind(blocks[j].bullet) == kind:
            spans, where, k = self._absorb(blocks, j, "list item")
            unit.items.append(spans)
            unit.item_wheres.append(where)
            unit.blocks.extend(blocks[j:k])
            j = k
        units.append(unit)
        return j

    def _table(self, blocks: list[Block], i: int, units: list[Unit], titled: bool = True) -> int:
        unit = Unit("table", [], where=blocks[i].where)
        j = i
        if titled:
            self.counters["table"] += 1
            match = rules.TABLE_TITLE.match(blocks[i].text.strip())
            unit.label = match.group("number") if match else str(self.counters["table"])
            unit.title = _after_prefix(blocks[i].spans, match.start("title")) if match else blocks[i].spans
            unit.blocks.append(blocks[i])
            j += 1
        while j < len(blocks) and blocks[j].kind is Kind.ROW:
            cells = [list(cell) for cell in blocks[j].cells or []]
            first_empty = not cells or not "".join(span.text for span in cells[0]).strip()
            if (unit.label or blocks[j].gap is Gap.PAGE) and len(unit.rows) > 1 \
                    and _row_text(cells) == _row_text(unit.rows[0]):
                # the header row repeated at the top of the next page
                self.findings.repaired("page-break-join", "repeated table header dropped", where=blocks[j].where,
                                       chapter=self.scope, before=blocks[j].text.strip())
            elif unit.rows and first_empty:
                self._continue_row(unit.rows[-1], cells, blocks[j])
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

    def _continue_row(self, row: list[list[Span]], cells: list[list[Span]], block: Block) -> None:
        """A row whose first cell is empty is the rest of the row above, cut by a page break."""
        for index, cell in enumerate(cells):
            if not "".join(span.text for span in cell).strip():
                continue
            while index >= len(row):
                row.append([])
            row[index] = join_spans(row[index], cell) if row[index] else cell
        self.findings.repaired("page-break-join", "table row re-joined across a break", where=block.where,
                               chapter=self.scope, before=block.text.strip())

    def _figure(self, block: Block, units: list[Unit]) -> None:
        self.counters["figure"] += 1
        match = rules.FIGURE_TITLE.match(block.text.strip())
        image = units.pop() if units and units[-1].kind == "image" else None
        unit = Unit("figure", [block] + (image.blocks if image else []), where=block.where,
                    label=match.group("number") if match else str(self.counters["figure"]),
                    title=_after_prefix(block.spans, match.start("title")) if match else block.spans)
        units.append(unit)

    def _glossary(self, blocks: list[Block], i: int, units: list[Unit], titled: bool = True) -> int:
        unit = Unit("glossary", [blocks[i]] if titled else [], where=blocks[i].where,
                    title=blocks[i].spans if titled else [])
        j = i + 1 if titled else i
        while j < len(blocks) and blocks[j].kind is Kind.ROW:
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
            if unit.level > previous + 1:
                unit.level = previous + 1
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
                while stack and stack[-1][0] >= unit.level:
                    stack.pop()
                section = self._section(unit, stack)
                (stack[-1][1].append(section) if stack else root.append(section))
                stack.append((unit.level, section))
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

    def _section(self, unit: Unit, stack: list[tuple[int, etree._Element]]) -> etree._Element:
        self.counters["section"] += 1
        section = el("section")
        set_id(section, f"{self.scope}-s{self.counters['section']}")
        title = el("title")
        fill_inline(title, unit.spans)
        mark_source(title, unit.where)
        section.append(title)
        self.outline.append((unit.level, "".join(span.text for span in unit.spans).strip(), unit.level_reason,
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
        builder = getattr(self, f"_element_{unit.kind}")
        return builder(unit)

    def _inline(self, parent: etree._Element, spans: list[Span]) -> etree._Element:
        fill_inline(parent, spans, self.notes)
        return parent

    def _element_para(self, unit: Unit) -> etree._Element:
        para = self._inline(el("para", attrs={"role": unit.label} if unit.label else None), unit.spans)
        mark_source(para, unit.where)
        return para

    def _element_list(self, unit: Unit) -> etree._Element:
        marker = (unit.blocks[0].bullet or "") if unit.blocks else ""
        number = re.match(r"^(\d{1,3})[.)]$", marker)
        if number:
            listing = el("orderedlist", attrs={"startingnumber": number.group(1)} if number.group(1) != "1" else None)
        elif re.match(r"^[a-z][.)]$", marker):
            listing = el("orderedlist", attrs={"numeration": "loweralpha"})
        else:
            listing = el("itemizedlist")
        for spans, where in zip(unit.items, unit.item_wheres):
            para = self._inline(el("para"), spans)
            mark_source(para, where)
            listing.append(el("listitem", para))
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
        group = el("tgroup", attrs={"cols": str(columns)})
        rows = [self._row(cells, columns, where) for cells, where in zip(unit.rows, unit.row_wheres)] \
            or [self._row([[]], columns, None)]
        header, body = (rows[:1], rows[1:]) if unit.label and len(rows) > 1 else ([], rows)
        if header:
            group.append(el("thead", *header))
        group.append(el("tbody", *body))
        table.append(group)
        return table

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
        placeholder = next((block.text.strip() for block in unit.blocks
                            if block.kind is Kind.TEXT and rules.is_missing_image_text(block.text)), "")
        figure.append(missing_image(placeholder))
        return figure

    def _element_image(self, unit: Unit) -> etree._Element:
        return el("informalfigure", missing_image())

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


def missing_image(placeholder: str = "") -> etree._Element:
    """Stands for an image the manuscript does not carry (the publisher may supply it later); a
    placeholder printed in its place (an edition read back) is kept as the phrase."""
    return el("mediaobject", el("textobject", el("phrase", text=placeholder or None), attrs={"role": "missing-image"}))


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
