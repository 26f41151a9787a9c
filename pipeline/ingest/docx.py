"""Read a Word (.docx) manuscript into blocks: styles give headings, real footnotes come along.

The container is checked before python-docx opens it (member names, sizes, compression ratio)
and every XML part is parsed once through the safe parser, so entity tricks are refused up
front. python-docx gives paragraphs, styles, run formatting and tables; footnotes and
endnotes, which it has no API for, are read from their own parts.
"""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

from lxml import etree

from ..errors import InputError
from ..safety import DEFAULT_LIMITS, Limits, open_zip, parse_xml
from .inline import link_target, merge_spans
from .model import Block, Gap, Kind, Manuscript, Span, Where

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
W = f"{{{W_NS}}}"
_NOTE_PARTS = {"footnotes": "footnote", "endnotes": "endnote"}
_SKIPPED_CONTAINERS = {f"{W}del", f"{W}moveFrom", f"{W}rPr", f"{W}pPr", f"{W}fldSimple_instr"}
_CAPTION_STYLES = {"Table Caption": "table-caption", "Image Caption": "figure-caption",
                   "Figure Caption": "figure-caption", "Caption": "figure-caption"}
_HEADING_STYLE = re.compile(r"^(?:heading|überschrift|titre|título)\s*(\d)$", re.IGNORECASE)


def read_docx(data: bytes, path: Path, limits: Limits = DEFAULT_LIMITS) -> Manuscript:
    """Read a .docx manuscript (see the module docstring)."""
    package = open_zip(data, limits, path=path)
    if "word/document.xml" not in package.names():
        raise InputError("not a Word document: word/document.xml is missing", path,
                         hint="save the manuscript from Word (or LibreOffice) as .docx")
    for name in package.names():
        if name.endswith((".xml", ".rels")):
            parse_xml(package.read(name), path, where=name)
    try:
        import docx  # python-docx
        document = docx.Document(BytesIO(data))
    except InputError:
        raise
    except Exception as exc:  # python-docx raises many kinds on damaged packages
        raise InputError(f"Word could not be read ({type(exc).__name__}: {exc})", path,
                         hint="the file is damaged; open it in Word or LibreOffice and save it again")
    reader = _DocxReader(document, path)
    blocks = reader.read_body()
    if not any(block.text.strip() for block in blocks):
        raise InputError("the Word document has no text", path, hint="check that the right file was delivered")
    title = (document.core_properties.title or "").strip() or None
    return Manuscript(path=path, format="docx", blocks=blocks, title=title)


class _DocxReader:
    def __init__(self, document, path: Path):
        self.document = document
        self.path = path
        self.links = self._relationships(document.part)
        self._story = _Story(document.part)
        self.notes = {kind: self._read_notes(kind) for kind in _NOTE_PARTS}
        self.paragraph_number = 0
        self.pending_gap = Gap.PARAGRAPH

    # ----------------------------------------------------------------- parts

    @staticmethod
    def _relationships(part) -> dict[str, str]:
        return {rid: rel.target_ref for rid, rel in part.rels.items() if rel.is_external}

    def _read_notes(self, kind: str) -> dict[str, list[Block]]:
        """Footnote or endnote id → its paragraphs, read from the notes part directly."""
        for rel in self.document.part.rels.values():
            if rel.reltype.endswith("/" + kind) and not rel.is_external:
                part = rel.target_part
                from docx.oxml.parser import element_class_lookup
                root = parse_xml(part.blob, self.path, where=str(part.partname), element_lookup=element_class_lookup)
                links = self._relationships(part)
                notes: dict[str, list[Block]] = {}
                for note in root.iter(f"{W}{_NOTE_PARTS[kind]}"):
                    if note.get(f"{W}type") in ("separator", "continuationSeparator", "continuationNotice"):
                        continue
                    paragraphs = []
                    for p in note.iter(f"{W}p"):
                        spans = self._spans(p, links, in_note=True)
                        if spans:
                            paragraphs.append(Block(Kind.TEXT, spans, Where()))
                    if paragraphs:
                        first = paragraphs[0].spans
                        first[0] = Span(first[0].text.lstrip(), first[0].emphasis, first[0].strong,
                                        first[0].superscript, first[0].href)
                    notes[note.get(f"{W}id")] = paragraphs
                return notes
        return {}

    # ----------------------------------------------------------------- body

    def read_body(self) -> list[Block]:
        from docx.table import Table
        from docx.text.paragraph import Paragraph
        blocks: list[Block] = []
        for child in self.document.element.body.iterchildren():
            if child.tag == f"{W}p":
                block = self._paragraph(Paragraph(child, self.document))
                if block is not None:
                    blocks.append(block)
            elif child.tag == f"{W}tbl":
                blocks.extend(self._table(Table(child, self.document)))
            elif child.tag == f"{W}sdt":  # content controls wrap ordinary paragraphs
                for p in child.iter(f"{W}p"):
                    block = self._paragraph(Paragraph(p, self.document))
                    if block is not None:
                        blocks.append(block)
        return _definition_rows(blocks)

    def _paragraph(self, paragraph) -> Block | None:
        self.paragraph_number += 1
        p = paragraph._p
        spans = self._spans(p, self.links)
        images = [Block(Kind.IMAGE, [Span(alt)], Where(paragraph=self.paragraph_number))
                  for alt in self._image_alts(p)]
        if p.find(f".//{W}br[@{W}type='page']") is not None or p.find(f".//{W}lastRenderedPageBreak") is not None:
            self.pending_gap = Gap.PAGE
        if not "".join(span.text for span in spans).strip() and not any(span.note for span in spans):
            if images:
                return images[0]
            return None
        style = paragraph.style.name if paragraph.style is not None else ""
        kind, level, bullet = Kind.TEXT, None, "•"
        heading = _HEADING_STYLE.match(style or "")
        if heading:
            kind, level = Kind.HEADING, int(heading.group(1))
        elif style in ("Title",):
            kind, level = Kind.HEADING, 0
        elif p.find(f"{W}pPr/{W}numPr") is not None or style.lower().startswith("list"):
            kind = Kind.ITEM
            bullet = self._list_marker(p, paragraph.style)
        if p.find(f"{W}pPr/{W}outlineLvl") is not None and kind is Kind.TEXT:
            outline = int(p.find(f"{W}pPr/{W}outlineLvl").get(f"{W}val", "9"))
            if outline < 9:
                kind, level = Kind.HEADING, outline + 1
        gap, self.pending_gap = self.pending_gap, Gap.PARAGRAPH
        block = Block(kind, spans, Where(paragraph=self.paragraph_number), gap=gap, level=level,
                      style=style or None, bullet=bullet if kind is Kind.ITEM else None)
        if style in ("Definition Term", "Definition"):
            block.style = "definition-term" if style == "Definition Term" else "definition"
        elif style in _CAPTION_STYLES:
            block.style = _CAPTION_STYLES[style]
        return block

    def _list_marker(self, p: etree._Element, style) -> str:
        """'1.' for a numbered list, 'a.' for a lettered one, '•' otherwise (from numbering.xml)."""
        num_pr = p.find(f"{W}pPr/{W}numPr")
        while num_pr is None and style is not None:
            num_pr = style.element.find(f"{W}pPr/{W}numPr")
            style = style.base_style
        if num_pr is None:
            return "•"
        num_id = num_pr.find(f"{W}numId")
        level = num_pr.find(f"{W}ilvl")
        formats = self._numbering_formats()
        key = (num_id.get(f"{W}val") if num_id is not None else None, level.get(f"{W}val") if level is not None else "0")
        return {"decimal": "1.", "lowerLetter": "a.", "lowerRoman": "1.", "upperRoman": "1.",
                "upperLetter": "a."}.get(formats.get(key, "bullet"), "•")

    def _numbering_formats(self) -> dict[tuple[str, str], str]:
        if hasattr(self, "_formats"):
            return self._formats
        self._formats = {}
        try:
            numbering = self.document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return self._formats
        abstract = {}
        for definition in numbering.findall(f"{W}abstractNum"):
            for lvl in definition.findall(f"{W}lvl"):
                fmt = lvl.find(f"{W}numFmt")
                abstract[(definition.get(f"{W}abstractNumId"), lvl.get(f"{W}ilvl"))] = \
                    fmt.get(f"{W}val") if fmt is not None else "bullet"
        for num in numbering.findall(f"{W}num"):
            reference = num.find(f"{W}abstractNumId")
            if reference is None:
                continue
            for (abstract_id, ilvl), fmt in abstract.items():
                if abstract_id == reference.get(f"{W}val"):
                    self._formats[(num.get(f"{W}numId"), ilvl)] = fmt
        return self._formats

    def _table(self, table) -> list[Block]:
        blocks = []
        for row in table.rows:
            self.paragraph_number += 1
            cells = []
            seen = set()
            for cell in row.cells:
                if id(cell._tc) in seen:  # a merged cell appears once per spanned column
                    continue
                seen.add(id(cell._tc))
                spans: list[Span] = []
                for p in cell._tc.iter(f"{W}p"):
                    part = self._spans(p, self.links)
                    if part and spans:
                        spans.append(Span(" "))
                    spans.extend(part)
                cells.append(merge_spans(spans))
            blocks.append(Block(Kind.ROW, [], Where(paragraph=self.paragraph_number), cells=cells))
        return blocks

    # ----------------------------------------------------------------- inline

    def _spans(self, p: etree._Element, links: dict[str, str], in_note: bool = False) -> list[Span]:
        from docx.text.run import Run
        spans: list[Span] = []
        for r in _runs(p):
            run = Run(r, self._story)
            italic = bool(_effective(run, "italic"))
            bold = bool(_effective(run, "bold"))
            superscript = bool(run.font.superscript)
            href = None
            hyperlink = next((a for a in r.iterancestors(f"{W}hyperlink")), None)
            if hyperlink is not None:
                target = links.get(hyperlink.get(f"{{{R_NS}}}id") or "")
                href = link_target(target) if target else None
            for child in r:
                tag = child.tag
                if tag == f"{W}t":
                    spans.append(Span(child.text or "", italic, bold, superscript, href))
                elif tag in (f"{W}tab", f"{W}cr") or (tag == f"{W}br" and child.get(f"{W}type") != "page"):
                    spans.append(Span(" ", italic, bold, False, href))
                elif tag == f"{W}noBreakHyphen":
                    spans.append(Span("-", italic, bold, superscript, href))
                elif tag == f"{W}softHyphen":
                    spans.append(Span("\u00ad", italic, bold, superscript, href))
                elif tag in (f"{W}footnoteReference", f"{W}endnoteReference") and not in_note:
                    kind = "footnotes" if tag == f"{W}footnoteReference" else "endnotes"
                    note = self.notes.get(kind, {}).get(child.get(f"{W}id"))
                    spans.append(Span("", note=note if note is not None else []))
                elif tag in (f"{W}footnoteRef", f"{W}endnoteRef"):
                    continue  # the note's own number inside the note text
        return [span for span in merge_spans(spans) if span.text or span.note is not None]

    @staticmethod
    def _image_alts(p: etree._Element) -> list[str]:
        alts = []
        for doc_pr in p.iter("{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"):
            alts.append(doc_pr.get("descr") or doc_pr.get("title") or "")
        return alts


class _Story:
    """The parent python-docx runs expect: it only has to lead to the document part (for styles)."""

    def __init__(self, part):
        self.part = part


def _definition_rows(blocks: list[Block]) -> list[Block]:
    """A definition list (term paragraph, definition paragraph) becomes two-cell rows."""
    out: list[Block] = []
    for block in blocks:
        if block.style == "definition" and out and out[-1].style in ("definition-term", "definition-row"):
            previous = out[-1]
            if previous.style == "definition-term":
                out[-1] = Block(Kind.ROW, [], previous.where, gap=previous.gap, cells=[previous.spans, block.spans],
                                style="definition-row")
            else:
                previous.cells[1] = previous.cells[1] + [Span(" ")] + block.spans
            continue
        out.append(block)
    for block in out:
        if block.style == "definition-term":
            block.style = None
    return out


def _runs(p: etree._Element):
    """The runs of a paragraph in reading order, skipping deleted text and nested paragraphs."""
    for element in p.iter(f"{W}r"):
        if any(ancestor.tag in _SKIPPED_CONTAINERS for ancestor in element.iterancestors()):
            continue
        if element.getparent() is not None and _owner_paragraph(element) is not p:
            continue
        yield element


def _owner_paragraph(r: etree._Element) -> etree._Element | None:
    return next(r.iterancestors(f"{W}p"), None)


def _effective(run, attribute: str):
    """A run's bold or italic, looking through its character style when not set directly."""
    value = getattr(run, attribute)
    if value is not None:
        return value
    style = run.style
    while style is not None:
        value = getattr(style.font, attribute)
        if value is not None:
            return value
        style = style.base_style
    return False
