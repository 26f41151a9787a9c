"""Read a Word (.docx) manuscript into blocks: what pandoc's DOCX reader reads, press reads.

The container is checked before python-docx opens it (member names, sizes, compression ratio)
and every XML part is parsed once through the safe parser, so entity tricks are refused up
front. The main part is the one ``_rels/.rels`` names (not always ``word/document.xml``).
python-docx gives the parts, styles and numbering definitions; the body is walked here, in
reading order, because python-docx's paragraph and run API skips what books need:

- content controls, smart tags, custom XML, tracked insertions and moves (kept; deletions and
  moved-away text are left out, i.e. tracked changes are read as accepted);
- text boxes and shapes (``w:txbxContent``, read once: the ``mc:Fallback`` copy is skipped),
  whose paragraphs follow the paragraph that anchors them;
- fields: the shown result is text, the instruction is not; ``HYPERLINK`` fields are links;
- footnotes and endnotes (kept apart), comments (editor's remarks), bookmarks (link targets);
- pictures (``a:blip`` and VML ``v:imagedata``), whose bytes go to ``Manuscript.media``;
- list levels and list identity from ``w:numPr`` and numbering.xml; tables cell by cell, with
  header rows, spans and the paragraphs and lists inside cells;
- block quotes and code by style or by indentation and monospace fonts.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path, PurePosixPath

from lxml import etree

from ..errors import InputError
from ..safety import DEFAULT_LIMITS, Limits, open_zip, parse_xml
from .inline import link_target, merge_spans
from .model import Block, Gap, Kind, Manuscript, ReaderWarning, Span, Where

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
WP_NS = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
V_NS = "urn:schemas-microsoft-com:vml"
M_NS = "http://schemas.openxmlformats.org/officeDocument/2006/math"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_DOCUMENT = ("/officeDocument",)
W = f"{{{W_NS}}}"
R_ID = f"{{{R_NS}}}id"
R_EMBED = f"{{{R_NS}}}embed"

_NOTE_PARTS = {"footnotes": "footnote", "endnotes": "endnote"}
_SEPARATOR_NOTES = ("separator", "continuationSeparator", "continuationNotice")
# Containers whose content is not part of the text as accepted: deletions, moved-away text.
_LEFT_OUT = {f"{W}del", f"{W}moveFrom"}
# Containers that just wrap runs (or blocks): read through them.
_WRAPPERS = {f"{W}ins", f"{W}moveTo", f"{W}smartTag", f"{W}customXml", f"{W}dir", f"{W}bdo",
             f"{W}sdtContent"}
_CAPTION_STYLES = {"table caption": "table-caption", "image caption": "figure-caption",
                   "figure caption": "figure-caption", "caption": "caption"}  # Word's own: see _captions
_HEADING_STYLE = re.compile(r"^(?:heading|überschrift|titre|título|kop)\s*(\d)$", re.IGNORECASE)
_QUOTE_STYLES = {"quote", "intense quote", "block text", "block quote", "blockquote", "quotation", "quotations"}
_CODE_STYLES = {"source code", "sourcecode", "html preformatted", "code", "plain text", "preformatted text",
                "verbatim"}
_CODE_CHAR_STYLES = {"verbatim char", "verbatimchar", "html code", "code char", "source code char"}
_MONOSPACE = re.compile(r"courier|consolas|menlo|monaco|lucida console|mono|source code|fixedsys|andale",
                        re.IGNORECASE)
_HYPERLINK_FIELD = re.compile(r'^\s*HYPERLINK\s+(?:"(?P<quoted>[^"]*)"|(?P<bare>[^\s\\]+))?(?P<switches>.*)$',
                              re.IGNORECASE | re.DOTALL)
_REF_FIELD = re.compile(r'^\s*(?:REF|PAGEREF|NOTEREF)\s+"?(?P<bookmark>[^\s"\\]+)"?[^\n]*\\h\b', re.IGNORECASE)
_LOCATION_SWITCH = re.compile(r'\\l\s+"?(?P<anchor>[^"\s]+)"?', re.IGNORECASE)
_FORMATS = {"decimal": "1.", "decimalZero": "1.", "lowerLetter": "a.", "upperLetter": "A.",
            "lowerRoman": "i.", "upperRoman": "I."}


def read_docx(data: bytes, path: Path, limits: Limits = DEFAULT_LIMITS) -> Manuscript:
    """Read a .docx manuscript (see the module docstring)."""
    package = open_zip(data, limits, path=path)
    names = set(package.names())
    for name in names:
        if name.endswith((".xml", ".rels")):
            parse_xml(package.read(name), path, where=name)
    if _main_part_name(package, names, path) is None:
        raise InputError("not a Word document: no main document part (word/document.xml or the part "
                         "_rels/.rels names)", path, hint="save the manuscript from Word (or LibreOffice) as .docx")
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
    reader.report_left_out()
    for comment_id, (text, author) in reader.comments.items():
        if comment_id not in reader.placed_comments and text:
            reader.warnings.append(ReaderWarning(
                "comment-not-anchored", f"a comment{f' by {author}' if author else ''} is anchored nowhere in the "
                f"text, so it is not in the book: {text[:200]}"))
    if not any(_has_words(block) for block in blocks):
        raise InputError("the Word document has no text", path, hint="check that the right file was delivered")
    title = (document.core_properties.title or "").strip() or None
    return Manuscript(path=path, format="docx", blocks=blocks, title=title, media=reader.media,
                      warnings=reader.warnings)


def _main_part_name(package, names: set[str], path: Path) -> str | None:
    """The main document part as the package relationships name it (pandoc's alternate_document_path)."""
    if "_rels/.rels" in names:
        rels = parse_xml(package.read("_rels/.rels"), path, where="_rels/.rels")
        for rel in rels.iter(f"{{{PKG_REL_NS}}}Relationship"):
            if (rel.get("Type") or "").endswith(OFFICE_DOCUMENT) and rel.get("TargetMode") != "External":
                target = posixpath.normpath((rel.get("Target") or "").lstrip("/"))
                if target in names:
                    return target
    return "word/document.xml" if "word/document.xml" in names else None


def _has_words(block: Block) -> bool:
    if block.text.strip() or block.image:
        return True
    return any(span.note for span in block.spans)


@dataclass
class _Field:
    """One complex field (``w:fldChar`` begin … separate … end) while its runs are read."""

    instruction: str = ""
    showing: bool = False  # after ``separate``: runs are the field's shown result
    href: str | None = None


@dataclass
class _Context:
    """What the inline walk carries: the part being read (links, pictures) and where text goes."""

    part: object
    links: dict[str, str]
    in_note: bool = False
    href: str | None = None
    deferred: list = field(default_factory=list)  # text-box contents met inside the paragraph


class _DocxReader:
    def __init__(self, document, path: Path):
        self.document = document
        self.path = path
        self.media: dict[str, bytes] = {}
        self._media_names: dict[str, str] = {}  # part name -> file name under media/
        self.warnings: list[ReaderWarning] = []
        self.styles = {style.style_id: style for style in document.styles}
        self.default_style = next((style for style in document.styles
                                   if style.type == 1 and style.element.get(f"{W}default") in ("1", "true")), None)
        self.fields: list[_Field] = []
        self.paragraph_number = 0
        self.pending_gap = Gap.PARAGRAPH
        self.table_count = 0
        self.comments = self._read_comments()
        self.placed_comments: set[str] = set()
        self.notes = {kind: self._read_notes(kind) for kind in _NOTE_PARTS}
        self.referenced_notes: dict[str, set[str]] = {kind: set() for kind in _NOTE_PARTS}
        self.paragraph_number = 0  # body paragraphs count from 1, whatever the notes held
        self.fields = []
        self.pending_gap = Gap.PARAGRAPH

    # ----------------------------------------------------------------- parts

    @staticmethod
    def _relationships(part) -> dict[str, str]:
        return {rid: rel.target_ref for rid, rel in part.rels.items() if rel.is_external}

    def _related_root(self, kind: str):
        """(part, root element) of the document's part of this relationship kind, if it has one."""
        for rel in self.document.part.rels.values():
            if rel.reltype.endswith("/" + kind) and not rel.is_external:
                part = rel.target_part
                return part, parse_xml(part.blob, self.path, where=str(part.partname))
        return None, None

    def _read_notes(self, kind: str) -> dict[str, list[Block]]:
        """Footnote or endnote id → its paragraphs, read from the notes part with the body's rules."""
        part, root = self._related_root(kind)
        if root is None:
            return {}
        notes: dict[str, list[Block]] = {}
        context = _Context(part, self._relationships(part), in_note=True)
        for note in root.iter(f"{W}{_NOTE_PARTS[kind]}"):
            if note.get(f"{W}type") in _SEPARATOR_NOTES:
                continue
            paragraphs = [_as_paragraph(block) for block in self._blocks(note, context)
                          if block.text.strip() or block.image]
            for block in paragraphs:
                block.where = Where()  # a note's place is its marker's
            if paragraphs and paragraphs[0].spans:
                first = paragraphs[0].spans
                first[0] = first[0].with_text(first[0].text.lstrip())
            notes[note.get(f"{W}id")] = paragraphs
        return notes

    def _read_comments(self) -> dict[str, tuple[str, str | None]]:
        """Comment id → (its text, its author): kept as editor's remarks where the comment is anchored."""
        part, root = self._related_root("comments")
        if root is None:
            return {}
        comments = {}
        context = _Context(part, self._relationships(part), in_note=True)
        for comment in root.iter(f"{W}comment"):
            paragraphs = [" ".join(block.text.split()) for block in self._blocks(comment, context)]
            text = " / ".join(paragraph for paragraph in paragraphs if paragraph)
            comments[comment.get(f"{W}id")] = (text, comment.get(f"{W}author"))
        return comments

    def report_left_out(self) -> None:
        """What the body does not carry into the book, said rather than lost: tracked deletions (read
        as accepted), notes no marker refers to, embedded documents Word keeps as alternative chunks."""
        body = self.document.element.body
        deleted = " ".join(" ".join(t.text or "" for t in element.iter(f"{W}delText")) for element in
                           body.iter(f"{W}del"))
        if deleted.split():
            self.warnings.append(ReaderWarning(
                "tracked-deletions", f"tracked changes read as accepted: {len(deleted.split())} deleted "
                f"(or moved-away) words are not in the book ({' '.join(deleted.split()[:30])})"))
        for kind, notes in self.notes.items():
            for note_id, paragraphs in notes.items():
                if note_id not in self.referenced_notes[kind] and any(b.text.strip() for b in paragraphs):
                    text = " ".join(" ".join(b.text.split()) for b in paragraphs)
                    self.warnings.append(ReaderWarning(
                        "note-not-anchored", f"a {_NOTE_PARTS[kind]} no marker refers to is not in the book: "
                        f"{text[:200]}"))
        if next(body.iter(f"{W}altChunk"), None) is not None:
            self.warnings.append(ReaderWarning(
                "embedded-document", "the document embeds another document (w:altChunk) that Word imports on "
                "opening; press does not read it: open and save the file in Word first"))

    # ----------------------------------------------------------------- blocks

    def read_body(self) -> list[Block]:
        context = _Context(self.document.part, self._relationships(self.document.part))
        return _captions(_definition_rows(self._blocks(self.document.element.body, context)))

    def _blocks(self, container: etree._Element, context: _Context) -> list[Block]:
        """The blocks of a body-like container (body, cell, note, comment, text box) in reading order."""
        blocks: list[Block] = []
        carry: list[Span] = []  # what begins the next paragraph: a drop cap, or one whose mark was deleted
        for child in container.iterchildren():
            tag = child.tag
            if tag == f"{W}p" and child.find(f"{W}pPr/{W}framePr[@{W}dropCap]") is not None:
                inner = _Context(context.part, context.links, context.in_note)
                carry.extend(self._inline(child, inner))  # a drop cap is the first letter of what follows
                self.paragraph_number += 1
            elif tag == f"{W}p":
                read = self._paragraph(child, context, blocks)
                if carry and read and read[0].kind is not Kind.IMAGE:
                    read[0].spans = merge_spans(carry + read[0].spans)
                    carry = []
                if child.find(f"{W}pPr/{W}rPr/{W}del") is not None and read and read[-1].kind is not Kind.IMAGE:
                    # a tracked deletion of the paragraph mark: accepted, it runs on into the next paragraph
                    carried = read.pop()
                    carry = carried.spans + ([Span(" ")] if carried.spans and not
                                                carried.spans[-1].text[-1:].isspace() else [])
                blocks.extend(read)
            elif tag == f"{W}tbl":
                blocks.extend(self._table(child, context))
            elif tag == f"{W}sdt":
                content = child.find(f"{W}sdtContent")
                if content is not None:
                    blocks.extend(self._blocks(content, context))
            elif tag in _WRAPPERS:
                blocks.extend(self._blocks(child, context))
            elif tag == f"{{{MC_NS}}}AlternateContent":
                choice = child.find(f"{{{MC_NS}}}Choice")
                if choice is not None:
                    blocks.extend(self._blocks(choice, context))
        if _trim(carry):  # nothing followed to carry them: they are a paragraph of their own
            blocks.append(Block(Kind.TEXT, merge_spans(_trim(carry)), Where(paragraph=self.paragraph_number)))
        return blocks

    def _paragraph(self, p: etree._Element, context: _Context, previous: list[Block]) -> list[Block]:
        """The paragraph's block (if it has text), then the blocks of any text boxes it anchors."""
        self.paragraph_number += 1
        where = Where(paragraph=self.paragraph_number)
        inner = _Context(context.part, context.links, context.in_note)
        spans = merge_spans(self._inline(p, inner))
        spans = _trim(spans)
        out: list[Block] = []
        if p.find(f".//{W}br[@{W}type='page']") is not None or p.find(f"{W}pPr/{W}pageBreakBefore") is not None:
            self.pending_gap = Gap.PAGE
        text = "".join(span.text for span in spans if span.image is None)
        images = [span for span in spans if span.image is not None]
        if not text.strip() and not any(span.note is not None or span.remark for span in spans):
            for image in images:  # a paragraph that only holds pictures: each a block of its own
                out.append(Block(Kind.IMAGE, [Span(image.text)], where, image=image.image))
            if not images and previous and previous[-1].kind is Kind.CODE and self._code_style(p):
                out.append(Block(Kind.CODE, [], where))  # a blank line inside a code listing
        else:
            out.append(self._classify(p, spans, where, previous))
        boxed: list[Block] = []
        for deferred in inner.deferred:
            boxed.extend(self._blocks(deferred, context))
        if out and out[-1].kind is Kind.IMAGE and len(boxed) == 1 and boxed[0].kind is Kind.TEXT:
            boxed[0].style = "figure-caption"  # a picture with one text paragraph boxed beside it: its caption
        return out + boxed

    def _classify(self, p: etree._Element, spans: list[Span], where: Where, previous: list[Block]) -> Block:
        style = self._paragraph_style(p)
        name = (style.name or "") if style is not None else ""
        lowered = name.lower()
        gap, self.pending_gap = self.pending_gap, Gap.PARAGRAPH
        block = Block(Kind.TEXT, spans, where, gap=gap, style=name or None)
        heading = next((match for match in (_HEADING_STYLE.match(each.name or "") for each in self._style_chain(style))
                        if match), None)  # a style based on "Heading 2" is a second-level heading too
        outline = self._outline_level(p) if style is not self.default_style else None
        numbering = self._numbering(p, style)
        if heading:
            block.kind, block.level = Kind.HEADING, int(heading.group(1))
        elif lowered == "title":
            block.kind, block.level = Kind.HEADING, 0
        elif outline is not None:
            block.kind, block.level = Kind.HEADING, outline + 1
        elif numbering is not None and numbering[0] != "0" and not (
                previous and previous[-1].kind is Kind.ITEM and self._unmarked(*numbering)):
            num_id, ilvl = numbering
            self._numbering_formats()
            block.kind, block.level, block.list_id = Kind.ITEM, ilvl + 1, self._abstract.get(num_id, num_id)
            block.bullet = self._list_marker(num_id, str(ilvl))
            block.number = self._count(num_id, ilvl)
        elif previous and previous[-1].kind is Kind.ITEM and (
                numbering is not None or (lowered.startswith("list") and self._indented(p, style))):
            item = previous[-1]  # numbering switched off ("numId 0"), or a list style's indent: the item goes on
            block.kind, block.level, block.list_id, block.bullet = Kind.ITEM, item.level, item.list_id, item.bullet
            block.continuation = True
        elif self._code_style(p) or _all_monospace(p, self):
            block.kind = Kind.CODE
        elif any((each.name or "").lower() in _QUOTE_STYLES for each in self._style_chain(style)) or (
                numbering is None and self._indented(p, style, relative=True)):
            # indentation makes a quote unless it is what is left of a list item whose number was removed
            block.kind = Kind.QUOTE
        if block.kind is Kind.TEXT and lowered in ("definition term", "definition"):
            block.style = "definition-term" if lowered == "definition term" else "definition"
        elif block.kind is Kind.TEXT and lowered in _CAPTION_STYLES:
            block.style = _CAPTION_STYLES[lowered]
        return block

    # ----------------------------------------------------------------- styles and numbering

    def _code_style(self, p: etree._Element) -> bool:
        style = self._paragraph_style(p)
        return any((each.name or "").lower() in _CODE_STYLES for each in self._style_chain(style))

    def _paragraph_style(self, p: etree._Element):
        style_id = p.find(f"{W}pPr/{W}pStyle")
        if style_id is not None:
            style = self.styles.get(style_id.get(f"{W}val"))
            if style is not None:
                return style
        return self.default_style

    @staticmethod
    def _style_chain(style):
        seen = set()
        while style is not None and id(style) not in seen:
            seen.add(id(style))
            yield style
            style = style.base_style

    @staticmethod
    def _outline_level(p: etree._Element) -> int | None:
        """An outline level set on the paragraph itself (a style's is not trusted, nor one on a body-text
        paragraph: pandoc's lists_level_override gives both to prose)."""
        found = p.find(f"{W}pPr/{W}outlineLvl")
        if found is None:
            return None
        try:
            value = int(found.get(f"{W}val", "9") or 9)
        except ValueError:
            return None
        return value if 0 <= value < 9 else None

    def _numbering(self, p: etree._Element, style) -> tuple[str, int] | None:
        """(numId, ilvl) from the paragraph or its style; numId "0" means "no number here"."""
        num_pr = p.find(f"{W}pPr/{W}numPr")
        num_id = num_pr.find(f"{W}numId") if num_pr is not None else None
        level = num_pr.find(f"{W}ilvl") if num_pr is not None else None
        if num_id is None:
            for each in self._style_chain(style):
                style_pr = each.element.find(f"{W}pPr/{W}numPr")
                if style_pr is not None and style_pr.find(f"{W}numId") is not None:
                    num_id = style_pr.find(f"{W}numId")
                    level = level if level is not None else style_pr.find(f"{W}ilvl")
                    break
        if num_id is None:
            return None
        try:
            ilvl = int(level.get(f"{W}val", "0")) if level is not None else 0
        except ValueError:
            ilvl = 0
        return num_id.get(f"{W}val", "0"), max(0, min(ilvl, 8))

    def _list_marker(self, num_id: str, ilvl: str) -> str:
        """'1.' numbered, 'a.'/'A.' lettered, 'i.'/'I.' roman, '•' bulleted (from numbering.xml)."""
        return _FORMATS.get(self._numbering_formats().get((num_id, ilvl), "bullet"), "•")

    def _unmarked(self, num_id: str, ilvl: int) -> bool:
        """A list level that shows no marker (numFmt "none", blank text): a continuation paragraph."""
        return self._numbering_formats().get((num_id, str(ilvl))) == "none"

    def _count(self, num_id: str, ilvl: int) -> int:
        """The number this item shows: Word counts per list definition (abstractNum) and level, from the
        level's start, on across interruptions and across list instances sharing the definition, unless
        an instance overrides the start; a deeper level starts again after a shallower one."""
        self._numbering_formats()
        counts = self._counts.setdefault(self._abstract.get(num_id, num_id), {})
        if (num_id, str(ilvl)) in self._overrides and (num_id, ilvl) not in self._used:
            counts.pop(ilvl, None)  # a list instance that restarts its numbering here
        self._used.add((num_id, ilvl))
        value = counts.get(ilvl, self._starts.get((num_id, str(ilvl)), 1) - 1) + 1
        counts[ilvl] = value
        for deeper in [level for level in counts if level > ilvl]:
            del counts[deeper]
        return value

    def _numbering_formats(self) -> dict[tuple[str, str], str]:
        if hasattr(self, "_formats"):
            return self._formats
        self._formats: dict[tuple[str, str], str] = {}
        self._starts: dict[tuple[str, str], int] = {}
        self._counts: dict[str, dict[int, int]] = {}
        self._abstract: dict[str, str] = {}  # numId -> its abstractNumId: the list's identity
        self._overrides: set[tuple[str, str]] = set()
        self._used: set[tuple[str, int]] = set()
        try:
            numbering = self.document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return self._formats
        abstract: dict[str, dict[str, str]] = {}
        starts: dict[str, dict[str, int]] = {}
        for definition in numbering.findall(f"{W}abstractNum"):
            levels = abstract.setdefault(definition.get(f"{W}abstractNumId") or "", {})
            first = starts.setdefault(definition.get(f"{W}abstractNumId") or "", {})
            for lvl in definition.findall(f"{W}lvl"):
                level = lvl.get(f"{W}ilvl")
                if level is None:  # a level without its number can never be referred to
                    continue
                fmt = lvl.find(f"{W}numFmt")
                text = lvl.find(f"{W}lvlText")
                blank = text is not None and not (text.get(f"{W}val") or "").strip()
                levels[level] = "none" if blank else fmt.get(f"{W}val") if fmt is not None else "bullet"
                first[level] = _int(_val(lvl.find(f"{W}start")), 1)
        for num in numbering.findall(f"{W}num"):
            reference = num.find(f"{W}abstractNumId")
            key = (reference.get(f"{W}val") if reference is not None else None) or ""
            levels = dict(abstract.get(key, {}))
            first = dict(starts.get(key, {}))
            for override in num.findall(f"{W}lvlOverride"):
                fmt = override.find(f"{W}lvl/{W}numFmt")
                if fmt is not None:
                    levels[override.get(f"{W}ilvl")] = fmt.get(f"{W}val")
                start = override.find(f"{W}startOverride")
                if start is None:
                    start = override.find(f"{W}lvl/{W}start")
                if start is not None:
                    first[override.get(f"{W}ilvl")] = _int(_val(start), 1)
                    self._overrides.add((num.get(f"{W}numId"), override.get(f"{W}ilvl")))
            if key is not None:
                self._abstract[num.get(f"{W}numId")] = "abstract-" + key
            for ilvl, fmt in levels.items():
                self._formats[(num.get(f"{W}numId"), ilvl)] = fmt
            for ilvl, value in first.items():
                self._starts[(num.get(f"{W}numId"), ilvl)] = value
        return self._formats

    def _indentation(self, element) -> int | None:
        """Left indent of the first line in twips (left or start minus hanging), when set here."""
        ind = element.find(f"{W}pPr/{W}ind") if element is not None else None
        if ind is None:
            return None
        left = ind.get(f"{W}left") or ind.get(f"{W}start")
        if left is None:
            return None
        try:
            return int(float(left)) - int(float(ind.get(f"{W}hanging") or 0))
        except ValueError:
            return None

    def _indented(self, p: etree._Element, style, relative: bool = False) -> bool:
        """Indented past what its style gives (``relative``), or indented at all."""
        own = self._indentation(p)
        if own is None or own <= 0:
            return False
        if not relative:
            return True
        inherited = next((value for value in (self._indentation(each.element) for each in self._style_chain(style))
                          if value is not None), 0)
        return own > inherited

    # ----------------------------------------------------------------- tables

    def _table(self, tbl: etree._Element, context: _Context) -> list[Block]:
        """One ROW block per row, all with this table's ordinal; header rows and spans marked."""
        self.table_count += 1
        table = self.table_count
        look = tbl.find(f"{W}tblPr/{W}tblLook")
        first_row_header = look is not None and (
            look.get(f"{W}firstRow") in ("1", "true") or
            (look.get(f"{W}val") is not None and _hex(look.get(f"{W}val")) & 0x0020))
        rows = [tr for tr in _children(tbl, f"{W}tr")]
        marked = [tr.find(f"{W}trPr/{W}tblHeader") is not None and
                  tr.find(f"{W}trPr/{W}tblHeader").get(f"{W}val") not in ("0", "false") for tr in rows]
        header_count = 0
        while header_count < len(rows) and marked[header_count]:
            header_count += 1
        if header_count == 0 and first_row_header and len(rows) > 1:
            header_count = 1
        blocks: list[Block] = []
        grid: list[list[tuple[int, etree._Element, str | None, int]]] = []
        for tr in rows:
            cells = []
            column = 0
            before = tr.find(f"{W}trPr/{W}gridBefore")
            if before is not None:  # grid columns the row leaves empty before its first cell
                column += _int(before.get(f"{W}val"), 1) if (before.get(f"{W}val") or "0") != "0" else 0
            for tc in _children(tr, f"{W}tc"):
                span = _int(_val(tc.find(f"{W}tcPr/{W}gridSpan")), 1)
                merge = tc.find(f"{W}tcPr/{W}vMerge")
                state = None if merge is None else ("restart" if merge.get(f"{W}val") == "restart" else "continue")
                cells.append((column, tc, state, span))
                column += span
            grid.append(cells)
        index = 0
        while index < header_count:  # a header cell spanning down takes the rows it spans into the header
            for column, _, state, _ in grid[index]:
                if state == "restart":
                    header_count = max(header_count, index + _rows_spanned(grid, index, column))
            index += 1
        for index, cells in enumerate(grid):
            self.paragraph_number += 1
            texts, blocks_per_cell, column_spans, row_spans = [], [], [], []
            for column, tc, state, span in cells:
                if state == "continue":
                    continue  # covered by the cell above, which spans down
                cell_blocks = self._blocks(tc, context)
                spans: list[Span] = []
                for block in cell_blocks:
                    if block.spans and spans:
                        spans.append(Span(" "))
                    spans.extend(block.spans if block.kind is not Kind.IMAGE else [Span(block.text)])
                texts.append(merge_spans(spans))
                blocks_per_cell.append(cell_blocks)
                column_spans.append(span)
                row_spans.append(_rows_spanned(grid, index, column) if state == "restart" else 1)
            blocks.append(Block(Kind.ROW, [], Where(paragraph=self.paragraph_number), cells=texts, table=table,
                                header=index < header_count, spans_columns=column_spans, spans_rows=row_spans,
                                cell_blocks=blocks_per_cell))
        return blocks

    # ----------------------------------------------------------------- inline

    def _inline(self, container: etree._Element, context: _Context) -> list[Span]:
        """The spans of a paragraph (or of a wrapper inside one), in reading order."""
        spans: list[Span] = []
        for child in container.iterchildren():
            tag = child.tag
            if not isinstance(tag, str) or tag in _LEFT_OUT or tag in (f"{W}pPr", f"{W}rPr"):
                continue
            if tag == f"{W}r":
                spans.extend(self._run(child, context))
            elif tag == f"{W}hyperlink":
                spans.extend(self._hyperlink(child, context))
            elif tag == f"{W}fldSimple":
                href = _field_href(child.get(f"{W}instr") or "")
                inner = _Context(context.part, context.links, context.in_note, href or context.href,
                                 context.deferred)
                spans.extend(self._inline(child, inner))
            elif tag == f"{W}sdt":
                content = child.find(f"{W}sdtContent")
                if content is not None:
                    spans.extend(self._inline(content, context))
            elif tag in _WRAPPERS:
                spans.extend(self._inline(child, context))
            elif tag == f"{W}bookmarkStart":
                name = child.get(f"{W}name")
                if name and not name.startswith("_GoBack"):
                    spans.append(Span("", anchor=name))
            elif tag == f"{W}commentRangeStart":
                spans.extend(self._remark(child.get(f"{W}id")))
            elif tag == f"{{{MC_NS}}}AlternateContent":
                choice = child.find(f"{{{MC_NS}}}Choice")
                if choice is not None:
                    spans.extend(self._inline(choice, context))
            elif tag in (f"{{{M_NS}}}oMath", f"{{{M_NS}}}oMathPara"):
                text = "".join(t.text or "" for t in child.iter(f"{{{M_NS}}}t"))
                if text:
                    spans.append(Span(text))
        return spans

    def _hyperlink(self, element: etree._Element, context: _Context) -> list[Span]:
        target = context.links.get(element.get(R_ID) or "")
        anchor = element.get(f"{W}anchor")
        href = None
        if target:
            href = link_target(target + (f"#{anchor}" if anchor and "#" not in target else ""))
        elif anchor:
            href = "#" + anchor
        inner = _Context(context.part, context.links, context.in_note, href or context.href, context.deferred)
        return self._inline(element, inner)

    def _remark(self, comment_id: str | None) -> list[Span]:
        if comment_id is None or comment_id in self.placed_comments or comment_id not in self.comments:
            return []
        self.placed_comments.add(comment_id)
        text, author = self.comments[comment_id]
        return [Span("", remark=text, remark_by=author)] if text else []

    def _run(self, r: etree._Element, context: _Context) -> list[Span]:
        style = self._run_style(r)
        spans: list[Span] = []
        for child in r.iterchildren():
            tag = child.tag
            if tag == f"{W}fldChar":
                self._field_char(child)
                continue
            if tag == f"{W}instrText":
                if self.fields and not self.fields[-1].showing:
                    self.fields[-1].instruction += child.text or ""
                continue
            if any(not each.showing for each in self.fields):
                continue  # inside a field's instruction: not shown text
            href = next((each.href for each in reversed(self.fields) if each.href), None) or context.href
            if tag == f"{W}t":
                spans.append(self._styled(child.text or "", style, href))
            elif tag in (f"{W}tab", f"{W}ptab"):
                spans.append(self._styled(" ", style, href))
            elif tag == f"{W}br" and child.get(f"{W}type") not in ("page", "column"):
                spans.append(self._styled("\n", style, href, linebreak=True))
            elif tag == f"{W}cr":
                spans.append(self._styled("\n", style, href, linebreak=True))
            elif tag == f"{W}noBreakHyphen":
                spans.append(self._styled("\u2011", style, href))
            elif tag == f"{W}softHyphen":
                spans.append(self._styled("\u00ad", style, href))
            elif tag == f"{W}sym":
                char = _symbol(child)
                if char:
                    spans.append(self._styled(char, style, href))
            elif tag in (f"{W}footnoteReference", f"{W}endnoteReference") and not context.in_note:
                kind = "footnotes" if tag == f"{W}footnoteReference" else "endnotes"
                note = self.notes.get(kind, {}).get(child.get(f"{W}id"))
                self.referenced_notes[kind].add(child.get(f"{W}id"))
                spans.append(Span("", note=note if note is not None else [],
                                  note_kind="endnote" if kind == "endnotes" else None))
            elif tag == f"{W}commentReference":
                spans.extend(self._remark(child.get(f"{W}id")))
            elif tag in (f"{W}drawing", f"{W}pict", f"{W}object"):
                spans.extend(self._graphic(child, context, href))
            elif tag == f"{{{MC_NS}}}AlternateContent":
                choice = child.find(f"{{{MC_NS}}}Choice")
                for graphic in (choice if choice is not None else []):
                    if graphic.tag in (f"{W}drawing", f"{W}pict", f"{W}object"):
                        spans.extend(self._graphic(graphic, context, href))
        return spans

    def _field_char(self, element: etree._Element) -> None:
        kind = element.get(f"{W}fldCharType")
        if kind == "begin":
            self.fields.append(_Field())
        elif kind == "separate" and self.fields:
            current = self.fields[-1]
            current.showing = True
            current.href = _field_href(current.instruction)
        elif kind == "end" and self.fields:
            self.fields.pop()

    def _styled(self, text: str, style: dict, href: str | None, linebreak: bool = False) -> Span:
        marks = style["marks"] | ({"linebreak"} if linebreak else set())
        if href:
            marks = marks - {"underline"}  # the Hyperlink style underlines links; that is not emphasis
        return Span(text, emphasis=style["italic"], strong=style["bold"], superscript=style["superscript"],
                    href=href, marks=frozenset(marks))

    def _run_style(self, r: etree._Element) -> dict:
        """Italic, bold, super/subscript, underline, strike, small caps, code: direct or by character style."""
        rpr_chain = [r.find(f"{W}rPr")]
        style_id = r.find(f"{W}rPr/{W}rStyle")
        style = self.styles.get(style_id.get(f"{W}val")) if style_id is not None else None
        style_names = []
        for each in self._style_chain(style):
            rpr_chain.append(each.element.find(f"{W}rPr"))
            style_names.append((each.name or "").lower())

        def flag(tag: str) -> bool:
            for rpr in rpr_chain:
                found = rpr.find(f"{W}{tag}") if rpr is not None else None
                if found is not None:
                    return found.get(f"{W}val", "true") not in ("0", "false", "none")
            return False

        vertical = next((rpr.find(f"{W}vertAlign").get(f"{W}val") for rpr in rpr_chain
                         if rpr is not None and rpr.find(f"{W}vertAlign") is not None), None)
        marks = set()
        if flag("u"):
            marks.add("underline")
        if flag("strike") or flag("dstrike"):
            marks.add("strikethrough")
        if flag("smallCaps"):
            marks.add("smallcaps")
        if vertical == "subscript":
            marks.add("subscript")
        font = _font(rpr_chain)
        if any(name in _CODE_CHAR_STYLES for name in style_names) or _MONOSPACE.search(font):
            marks.add("code")
        return {"italic": flag("i"), "bold": flag("b"), "superscript": vertical == "superscript", "marks": marks}

    # ----------------------------------------------------------------- pictures and text boxes

    def _graphic(self, element: etree._Element, context: _Context, href: str | None) -> list[Span]:
        """A picture becomes an image span (its bytes kept); a text box's paragraphs are read after."""
        for box in element.iter(f"{W}txbxContent"):
            if not any(ancestor.tag == f"{{{MC_NS}}}Fallback" for ancestor in box.iterancestors()):
                context.deferred.append(box)
        spans = []
        doc_pr = next(_own(element, f"{{{WP_NS}}}docPr"), None)
        alt = ""
        if doc_pr is not None:
            alt = (doc_pr.get("descr") or doc_pr.get("title") or "").strip()
        references = [(blip.get(R_EMBED), blip.get(f"{{{R_NS}}}link")) for blip in _own(element, f"{{{A_NS}}}blip")]
        references += [(data.get(R_ID), None) for data in _own(element, f"{{{V_NS}}}imagedata")]
        for embedded, linked in references[:1]:
            name = self._save_picture(context.part, embedded) if embedded else None
            if name is None and linked is None and embedded is None:
                continue
            if name is None:
                self.warnings.append(ReaderWarning("missing-image", f"a picture ({alt or 'no description'}) is "
                                                   "linked, not embedded: it is not in the book",
                                                   Where(paragraph=self.paragraph_number)))
            spans.append(Span(alt, href=href, image=name or ""))
        return spans

    def _save_picture(self, part, rid: str) -> str | None:
        try:
            target = part.related_parts[rid]
        except (KeyError, AttributeError):
            return None
        partname = str(target.partname)
        if partname not in self._media_names:
            stem = PurePosixPath(partname).name
            name = re.sub(r"[^A-Za-z0-9._-]", "_", stem).lstrip(".") or "image"
            while name in self.media:
                name = "x" + name
            self._media_names[partname] = name
            self.media[name] = target.blob
        return self._media_names[partname]


# --------------------------------------------------------------------------- helpers


def _own(graphic: etree._Element, tag: str):
    """Descendants of a drawing that are its own: not inside its text boxes (their paragraphs are
    read on their own) nor in an ``mc:Fallback`` copy."""
    for found in graphic.iter(tag):
        ancestor = found.getparent()
        while ancestor is not None and ancestor is not graphic:
            if ancestor.tag in (f"{W}txbxContent", f"{{{MC_NS}}}Fallback"):
                break
            ancestor = ancestor.getparent()
        else:
            yield found


def _children(element: etree._Element, tag: str):
    """Direct children with ``tag``, looking through content controls and tracked insertions."""
    for child in element.iterchildren():
        if child.tag == tag:
            yield child
        elif child.tag in (f"{W}sdt", f"{W}customXml", f"{W}ins"):
            content = child.find(f"{W}sdtContent") if child.tag == f"{W}sdt" else child
            if content is not None:
                yield from _children(content, tag)


def _rows_spanned(grid, index: int, column: int) -> int:
    count = 1
    for cells in grid[index + 1:]:
        if any(start == column and state == "continue" for start, _, state, _ in cells):
            count += 1
        else:
            break
    return count


def _val(element) -> str | None:
    return element.get(f"{W}val") if element is not None else None


def _int(value: str | None, default: int) -> int:
    try:
        return max(1, int(value)) if value is not None else default
    except ValueError:
        return default


def _hex(value: str) -> int:
    try:
        return int(value, 16)
    except ValueError:
        return 0


def _field_href(instruction: str) -> str | None:
    """The link a ``HYPERLINK`` field instruction names (``\\l`` gives a bookmark inside the document)."""
    reference = _REF_FIELD.match(instruction or "")
    if reference:  # a cross-reference made a hyperlink (\h): to the bookmark it names
        return "#" + reference.group("bookmark")
    match = _HYPERLINK_FIELD.match(instruction or "")
    if not match:
        return None
    target = match.group("quoted") or match.group("bare") or ""
    location = _LOCATION_SWITCH.search(match.group("switches") or "")
    if target:
        return link_target(target + (f"#{location.group('anchor')}" if location else ""))
    return "#" + location.group("anchor") if location else None


def _symbol(element: etree._Element) -> str:
    """A ``w:sym`` character when it is an ordinary Unicode one (symbol-font private-use codes are not)."""
    code = element.get(f"{W}char") or ""
    try:
        value = int(code, 16)
    except ValueError:
        return ""
    if 0xF000 <= value <= 0xF0FF:
        value -= 0xF000
        return chr(value) if element.get(f"{W}font", "").lower() not in ("symbol", "wingdings") and value >= 32 else ""
    return chr(value)


def _font(rpr_chain) -> str:
    fonts = [rpr.find(f"{W}rFonts") for rpr in rpr_chain if rpr is not None and rpr.find(f"{W}rFonts") is not None]
    return (fonts[0].get(f"{W}ascii") or fonts[0].get(f"{W}hAnsi") or "") if fonts else ""


def _all_monospace(p: etree._Element, reader: _DocxReader) -> bool:
    """Every run with text is set directly in a monospaced font: a code paragraph typed without a code
    style. (A code character style over a whole paragraph is inline code, as pandoc writes it.)"""
    runs = [r for r in p.iter(f"{W}r") if any((t.text or "").strip() for t in r.findall(f"{W}t"))]
    return bool(runs) and all(_MONOSPACE.search(_font([r.find(f"{W}rPr")])) for r in runs)


def _as_paragraph(block: Block) -> Block:
    """A note holds paragraphs: a table row in a note becomes one, its cells apart by " | "."""
    if block.kind is not Kind.ROW:
        return block
    spans: list[Span] = []
    for cell in block.cells or []:
        if spans:
            spans.append(Span(" | "))
        spans.extend(cell)
    return Block(Kind.TEXT, merge_spans(spans), block.where)


def _trim(spans: list[Span]) -> list[Span]:
    """Leading and trailing spaces and line breaks of a paragraph are not content."""
    while spans and not spans[0].special and spans[0].note is None and not spans[0].text.strip():
        spans = spans[1:]
    while spans and not spans[-1].special and spans[-1].note is None and not spans[-1].text.strip():
        spans = spans[:-1]
    return spans


def _captions(blocks: list[Block]) -> list[Block]:
    """Word's one "Caption" style captions a table when a table follows it (or, set below a table, the
    table above: it moves to the table's head, where the book puts a table's title), a picture when
    it follows one (or one follows it); anywhere else it is a paragraph like any other."""
    out: list[Block] = []
    for index, block in enumerate(blocks):
        if block.style == "caption":
            before = blocks[index - 1] if index else None
            after = blocks[index + 1] if index + 1 < len(blocks) else None
            if after is not None and after.kind is Kind.ROW:
                block.style = "table-caption"
            elif before is not None and before.kind is Kind.ROW and before.style != "definition-row" \
                    and not (out and out[-1].style == "table-caption"):
                block.style = "table-caption"
                start = len(out)
                while start and out[start - 1].kind is Kind.ROW and out[start - 1].table == before.table:
                    start -= 1
                if not (start and out[start - 1].style == "table-caption"):
                    out.insert(start, block)
                    continue
                block.style = "Caption"
            elif (before is not None and before.kind is Kind.IMAGE) or (after is not None and after.kind is Kind.IMAGE):
                block.style = "figure-caption"
            else:
                block.style = "Caption"
        out.append(block)
    return out


def _definition_rows(blocks: list[Block]) -> list[Block]:
    """A definition list (term paragraph, definition paragraphs) becomes two-cell rows."""
    out: list[Block] = []
    for block in blocks:
        if block.style == "definition" and out and out[-1].style in ("definition-term", "definition-row"):
            previous = out[-1]
            if previous.style == "definition-term":
                out[-1] = Block(Kind.ROW, [], previous.where, gap=previous.gap, cells=[previous.spans, block.spans],
                                style="definition-row", cell_blocks=[[previous], [block]])
            else:
                assert previous.cells is not None and previous.cell_blocks is not None  # a definition-row
                previous.cells[1] = previous.cells[1] + [Span(" ")] + block.spans
                previous.cell_blocks[1].append(block)
            continue
        out.append(block)
    for block in out:
        if block.style == "definition-term":
            block.style = None
    return out
