"""Review packages as bilingual Word files (python-docx): for translators who work in Word.

One document per part: a heading, a paragraph of instructions, and one table row per catalog
entry with five columns — segment id, English source, translation, status, comment. The header
row repeats on every page; the id and source columns are shaded grey (read back only to check
nothing moved); Khmer and Japanese text is set in the book's fonts with the right language tags;
placeholders stay as visible tokens (``<e1>``…``</e1>``, ``<n1/>``) in blue.

What import needs is kept where Word and LibreOffice keep it: the language and part in the core
document properties (keywords, subject), and each row's source and target fingerprints as a small
grey line in its id cell (a hidden column or custom property would be lost or invisible when a
reviewer copies rows between files; a visible line is neither).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path

from ..errors import InputError
from ..i18n.catalogs import STATES
from ..i18n.placeholders import PLACEHOLDER
from ..safety import DEFAULT_LIMITS, Limits, make_zip, open_zip, parse_xml
from .package import FORMAT_VERSION, OutgoingEntry, ReturnedEntry, ReturnedPackage

CORE_NS = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
HEADER = ("Segment", "English source", "Translation", "Status", "Comment")
GREY = "D9D9D9"
PLACEHOLDER_COLOUR = "1F5FBF"
NOTE_COLOUR = "6E6E6E"
EAST_ASIAN = frozenset({"ja", "zh", "ko"})
LANGUAGE_TAGS = {"km": "km-KH", "ja": "ja-JP", "en": "en-GB"}
FALLBACK_FONTS = {"km": "Noto Sans Khmer", "ja": "Noto Serif CJK JP"}
FIXED_DATE = datetime(2000, 1, 1, tzinfo=timezone.utc)  # the same package bytes for the same catalog
_FINGERPRINTS = re.compile(r"\b([0-9a-f]{16}) ([0-9a-f]{16})\b")
_KEYWORD = re.compile(r"\b(language|part|format)=([A-Za-z0-9_.-]+)")
_WIDTHS_CM = (3.2, 9.0, 9.0, 2.6, 3.6)
INSTRUCTIONS = (
    "Edit only the Translation, Status and Comment columns. When a translation is right, set its "
    "Status to “reviewed” (an edited translation counts as reviewed too). Keep the blue placeholders "
    "(<e1>…</e1> around emphasised words, <n1/> note markers) as they are in the English. The grey "
    "columns are read back to check that nothing moved; do not change them. Save as .docx and return "
    "the file; it is read back with 'press review import'.")


# --------------------------------------------------------------------------- writing


def write_docx(entries: Iterable[OutgoingEntry], *, language: str, language_name: str, part: str,
               font: str | None) -> bytes:
    """One part's review package as .docx bytes; the same catalog gives the same bytes."""
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    _properties(document.core_properties, language, part)
    document.add_heading(f"{language_name} review: {part}", level=1)
    document.add_paragraph(INSTRUCTIONS).runs[0].font.size = Pt(9)
    table = document.add_table(rows=1, cols=len(HEADER))
    table.style = "Table Grid"
    table.autofit = False
    _header(table.rows[0])
    target_font = font or FALLBACK_FONTS.get(language)
    for entry in entries:
        _row(table.add_row(), entry, language, target_font)
    for column, width in zip(table.columns, _WIDTHS_CM):
        column.width = Cm(width)  # the grid LibreOffice lays out by; Word reads the cells' widths
        for cell in column.cells:
            cell.width = Cm(width)
    buffer = BytesIO()
    document.save(buffer)
    return _repacked(buffer.getvalue())


def _properties(core, language: str, part: str) -> None:
    core.title = f"Review package: {part} ({language})"
    core.subject = f"press review package {language} {part}"
    core.keywords = f"press-review language={language} part={part} format={FORMAT_VERSION}"
    core.category = "press review package"
    core.author = core.last_modified_by = "press"
    core.created = core.modified = FIXED_DATE
    core.revision = 1


def _header(row) -> None:
    from docx.oxml import OxmlElement
    for cell, title in zip(row.cells, HEADER):
        cell.paragraphs[0].add_run(title).bold = True
        _shade(cell, GREY)
    properties = row._tr.get_or_add_trPr()
    for tag in ("w:tblHeader", "w:cantSplit"):  # repeated on every page; never split across pages
        properties.append(OxmlElement(tag))


def _row(row, entry: OutgoingEntry, language: str, font: str | None) -> None:
    from docx.shared import Pt
    identifier, source, target, status, comment = row.cells
    identifier.paragraphs[0].add_run(entry.id)
    _small(identifier.add_paragraph(), f"{entry.source_fp} {entry.target_fp}")
    for token, meaning in entry.legend.items():
        _small(identifier.add_paragraph(), f"{token} {meaning}")
    if entry.previous_source is not None:
        _small(identifier.add_paragraph(), f"source changed; the translation was made for: {entry.previous_source}")
    _shade(identifier, GREY)
    _text(source.paragraphs[0], entry.source, "en", None)
    _shade(source, GREY)
    _text(target.paragraphs[0], entry.target, language, font)
    status.paragraphs[0].add_run(entry.state)
    for number, line in enumerate(entry.comments):
        paragraph = comment.paragraphs[0] if number == 0 else comment.add_paragraph()
        paragraph.add_run(line)
    for cell in row.cells:
        for paragraph in cell.paragraphs:
            for run in paragraph.runs:
                run.font.size = run.font.size or Pt(10)


def _small(paragraph, text: str) -> None:
    from docx.shared import Pt, RGBColor
    run = paragraph.add_run(text)
    run.font.size = Pt(7)
    run.font.color.rgb = RGBColor.from_string(NOTE_COLOUR)


def _text(paragraph, text: str, language: str, font: str | None) -> None:
    """Text as runs, placeholders in their own blue runs, every run in the language's font."""
    from docx.shared import RGBColor
    position = 0
    pieces = []
    for match in PLACEHOLDER.finditer(text):
        pieces += [(text[position:match.start()], False), (match.group(0), True)]
        position = match.end()
    pieces.append((text[position:], False))
    for piece, is_token in pieces:
        if not piece:
            continue
        run = paragraph.add_run(piece)
        _script(run, language, font)
        if is_token:
            run.font.color.rgb = RGBColor.from_string(PLACEHOLDER_COLOUR)


def _script(run, language: str, font: str | None) -> None:
    """Font for every script slot Word picks from (Khmer is a complex script, Japanese East Asian),
    and the language tag that makes Word choose the right shaping and spelling."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    properties = run._r.get_or_add_rPr()
    if font:
        fonts = properties.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            properties.insert(0, fonts)
        for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(slot), font)
    tag = LANGUAGE_TAGS.get(language, language)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), tag)
    if language in EAST_ASIAN:
        lang.set(qn("w:eastAsia"), tag)
    elif language != "en":
        lang.set(qn("w:bidi"), tag)  # the complex-script language slot (Khmer)
    properties.append(lang)


def _shade(cell, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _repacked(data: bytes) -> bytes:
    """python-docx dates zip members with the clock; the same members with a fixed date instead."""
    package = open_zip(data)
    return make_zip([(name, package.read(name), True) for name in package.names()], (2000, 1, 1, 0, 0, 0))


# --------------------------------------------------------------------------- reading


def read_docx(data: bytes, path: Path, limits: Limits = DEFAULT_LIMITS) -> ReturnedPackage:
    """Read a returned review document: container and every XML part checked before python-docx opens it."""
    container = open_zip(data, limits, path=path)
    if "word/document.xml" not in container.names():
        raise InputError("not a Word document: word/document.xml is missing", path,
                         hint="save the review file from Word or LibreOffice as .docx")
    parts = {name: parse_xml(container.read(name), path, where=name)
             for name in container.names() if name.endswith((".xml", ".rels"))}
    try:
        import docx
        document = docx.Document(BytesIO(data))
    except Exception as error:  # python-docx raises many kinds on damaged packages
        raise InputError(f"Word could not read it ({type(error).__name__}: {error})", path,
                         hint="the file is damaged; open it in Word or LibreOffice and save it again")
    found = dict(_KEYWORD.findall(_keywords(parts)))
    if "language" not in found or "part" not in found:
        raise InputError("not a press review package: its document properties name no language and part", path,
                         hint="import the .docx written by 'press review export' (keep its properties)")
    table = next((t for t in document.tables if t.rows and _cell_text(t.rows[0].cells[0]) == HEADER[0]), None)
    if table is None:
        raise InputError("the review table (first column 'Segment') is missing", path,
                         hint="keep the table of the exported file; edit only its cells")
    entries = [_returned(row, number, path) for number, row in enumerate(table.rows[1:], start=2)]
    return ReturnedPackage(path, "docx", found["language"], found["part"], entries,
                           exported_language=found["language"])


def _keywords(parts: dict) -> str:
    """The core properties' keywords, read from the part itself: LibreOffice names the relationship
    with another spelling (``officedocument/2006/relationships/metadata/core-properties``), which
    python-docx does not recognise, so it would show empty properties."""
    relationships = parts.get("_rels/.rels")
    names = [r.get("Target", "").lstrip("/") for r in (relationships if relationships is not None else [])
             if r.get("Type", "").lower().endswith("/metadata/core-properties")]
    for name in names or ["docProps/core.xml"]:
        core = parts.get(name)
        if core is not None:
            return " ".join(element.text or "" for element in core.iter(f"{{{CORE_NS}}}keywords"))
    return ""


def _returned(row, number: int, path: Path) -> ReturnedEntry:
    cells = row.cells
    if len(cells) < len(HEADER):
        raise InputError(f"table row {number} has {len(cells)} cells, not {len(HEADER)}", path,
                         hint="keep the table's five columns")
    identifier = cells[0].paragraphs[0].text.strip() if cells[0].paragraphs else ""
    if not identifier:
        raise InputError(f"table row {number} has no segment id", path,
                         hint="rows must keep their segment id; do not add rows")
    fingerprints = _FINGERPRINTS.search(_cell_text(cells[0]))
    status = " ".join(_cell_text(cells[3]).split()).lower()
    if status not in STATES:
        raise InputError(f"row {number} ({identifier}): status {status!r} is not one of {', '.join(STATES)}", path,
                         hint="set the Status cell to 'reviewed' when the translation is right")
    comments = tuple(line.strip() for line in _cell_text(cells[4]).split("\n") if line.strip())
    return ReturnedEntry(identifier, _cell_text(cells[1]), _cell_text(cells[2]), status == "reviewed", comments,
                         fingerprints.group(1) if fingerprints else None,
                         fingerprints.group(2) if fingerprints else None, f"row {number} ({identifier})")


def _cell_text(cell) -> str:
    return "\n".join(paragraph.text for paragraph in cell.paragraphs)

