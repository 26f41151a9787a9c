"""Structuring: one block stream (from any reader) into one DocBook 5 book.

``structure_book`` is the stage's entry point. It cuts the stream into regions (opening
pages, printed contents, parts, chapters, back cover), turns the opening pages into metadata,
and builds each part and chapter: byline, opening-image remains, sections, notes.

Recognising a book's landmarks is a bonus, never a reason to drop text: what the opening pages
hold that no rule recognised becomes an untitled ``<preface role="opening">``, and a manuscript
without chapters or parts is a book of one chapter. What the stage keeps as markup rather than
text ("Chapter 3", a note's number) is recorded in ``Findings.markup`` for the word balance.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass, field

from lxml import etree

from ..docbook import XML_NS, ascii_digits, el, fill_inline, mark_source, set_id
from ..findings import Findings
from ..ingest.model import Block, Kind, Manuscript, Span, Where
from .. import textrules
from . import rules
from .body import BodyBuilder
from .front import block_spans, build_affiliation, build_info, build_person, build_toc, split_names
from .notes import NoteEntry, NoteLinker, build_bibliography, check_numbering, parse_note_entries, strip_prefix
from .regions import Region, chapter_label, find_regions, is_heading_like, is_prose, top_heading_level

PART_ELEMENTS = {
    "foreword": ("preface", "foreword"),
    "preface": ("preface", "preface"),
    "acknowledgements": ("acknowledgements", "acknowledgements"),
    "outline": ("preface", "book-outline"),
    "executive-summary": ("preface", "executive-summary"),
    "contributors": ("appendix", "contributors"),
}


@dataclass
class StructuredBook:
    root: etree._Element
    findings: Findings
    outlines: dict[str, list] = field(default_factory=dict)  # scope -> [(level, title, reason, where)]


def structure_book(manuscript: Manuscript, *, language: str = "en",
                   heading_levels: dict[str, int] | None = None, findings: Findings | None = None) -> StructuredBook:
    """Build the DocBook book from a manuscript's blocks (see the module docstring)."""
    findings = findings if findings is not None else Findings()
    for repair in manuscript.repairs:
        record = findings.flagged if repair.get("action") == "flagged" else findings.repaired
        record(repair["type"], _repair_message(repair), where=Where(line=repair.get("line"), page=repair.get("page")),
               before=repair.get("before"), after=repair.get("after"))
    report_reader_notes(manuscript, findings)
    blocks = manuscript.blocks
    levels = {_level_key(key): value for key, value in (heading_levels or {}).items()}
    used_levels: set[str] = set()
    book = el("book", attrs={"version": "5.0"})
    book.set(f"{{{XML_NS}}}lang", language)
    regions = find_regions(blocks)
    divided = any(region.kind in ("part", "chapter") for region in regions)
    page_based = manuscript.format != "docx"  # a DOCX paragraph boundary is real; a page's end is not
    # the title: the title page's, else the document's metadata, else its first heading (a copy), else its name
    fallback_title = manuscript.title or next((block.text.strip() for block in blocks
                                               if block.kind is Kind.HEADING and block.text.strip()), None) \
        or manuscript.path.stem
    outlines: dict[str, list] = {}
    chapter_count = 0
    info = None
    undivided: list[Block] = []  # a text without chapters or parts: the book's one chapter
    for region in regions:
        part_blocks = blocks[region.start:region.end]
        if region.kind in ("opening", "loose"):
            rest = part_blocks
            if region.kind == "opening":
                info, rest = build_info(part_blocks, findings, fallback_title=fallback_title,
                                        strict_titles=not divided or top_heading_level(blocks) is not None)
                book.append(info)
            if rest and divided:
                scope = "opening" if "opening" not in outlines else f"opening-{len(outlines)}"
                book.append(_opening_part(rest, scope, findings, levels, used_levels, page_based))
                outlines[scope] = []
            else:
                undivided.extend(rest)
        elif region.kind == "toc":
            book.append(build_toc(part_blocks, findings))
        elif region.kind == "part":
            element, outline = _build_part(blocks, region, findings, levels, used_levels, page_based)
            book.append(element)
            outlines[element.get(f"{{{XML_NS}}}id")] = outline
        elif region.kind == "chapter":
            chapter_count += 1
            element, outline = _build_chapter(blocks, region, chapter_count, findings, levels, used_levels,
                                              taken=set(outlines), page_based=page_based)
            book.append(element)
            outlines[element.get(f"{{{XML_NS}}}id")] = outline
        elif region.kind == "back-cover":
            if info is None:
                info = el("info", el("title", text=fallback_title))
                book.insert(0, info)
            info.append(_text_media(part_blocks, "back-cover"))
    if undivided:
        chapter_count += 1
        element, outline = _single_chapter(undivided, findings, levels, used_levels, page_based)
        book.append(element)
        outlines["ch1"] = outline
    if info is None:
        book.insert(0, el("info", el("title", text=fallback_title)))
    if chapter_count == 0:
        findings.flagged("front-matter-inconsistency", "no chapters were recognised in the manuscript")
    for key in sorted(set(levels) - used_levels):
        findings.flagged("editorial-decision", f"[headings] decision for {key!r} matches no heading",
                         before=key)
    return StructuredBook(book, findings, outlines)


def report_reader_notes(manuscript: Manuscript, findings: Findings) -> None:
    """What the reader left out on purpose and what it warned about become findings in the report."""
    for dropped in manuscript.dropped:
        findings.dropped(dropped.text, dropped.reason, f"left out by the {manuscript.format} reader as "
                         f"{dropped.reason.replace('-', ' ')}", where=dropped.where)
    for warning in manuscript.warnings:
        findings.flagged("reader-warning", f"{warning.kind}: {warning_text(warning.kind, warning.message)}",
                         where=warning.where, data={"kind": warning.kind})


def warning_text(kind: str, message: str) -> str:
    """A reader's message without the kind it may already start with ("pypdf: pypdf: …")."""
    prefix = f"{kind}:"
    return message[len(prefix):].strip() if message.startswith(prefix) else message


def _level_key(key: str) -> str:
    scope, colon, text = key.partition(":")
    if colon and scope.strip().startswith("ch") and scope.strip()[2:].isdigit():
        return f"{scope.strip()}: {rules.normalized(text)}"
    return rules.normalized(key)


def _repair_message(repair: dict) -> str:
    if repair["type"] == "page-break-join":
        return "paragraph re-joined across a page break"
    if repair["type"] == "broken-url":
        return "URL with a space inside cannot be linked as printed"
    if repair["type"] == "escaped-character":
        return f"escape {repair['before']} read as {repair['after']!r}"
    return f"markup leftover {repair['before']!r} read as structure"


# --------------------------------------------------------------------------- parts


def _opening_part(blocks: list[Block], scope: str, findings: Findings, levels: dict[str, int], used: set[str],
                  page_based: bool) -> etree._Element:
    """Text before the first chapter that is not a title page: kept, as an untitled opening preface."""
    part = el("preface", el("info", el("title")), attrs={"role": "opening"})
    set_id(part, scope)
    linker = NoteLinker(scope, [], findings)  # notes a reader attached (DOCX, a PDF's foot notes) stay on their marker
    builder = BodyBuilder(scope, findings, notes=linker, heading_levels=levels, used_levels=used,
                          page_based=page_based)
    for element in builder.build(blocks):
        part.append(element)
    if not _has_content(part):
        part.append(el("para"))
    return part


def _single_chapter(blocks: list[Block], findings: Findings, levels: dict[str, int], used: set[str],
                    page_based: bool) -> tuple[etree._Element, list]:
    """A manuscript without chapters or parts is a book of one chapter; its title is the book's."""
    chapter = el("chapter", el("info", el("title")), attrs={"label": "1"})
    set_id(chapter, "ch1")
    entries: list = []
    linker = NoteLinker("ch1", entries, findings)
    builder = BodyBuilder("ch1", findings, notes=linker, heading_levels=levels, used_levels=used,
                          page_based=page_based)
    _extend(chapter, builder.build(blocks))
    return chapter, builder.outline


def _build_part(blocks: list[Block], region: Region, findings: Findings, levels: dict[str, int],
                used: set[str], page_based: bool = True) -> tuple[etree._Element, list]:
    assert region.head is not None and region.role is not None  # a part region has both
    tag, scope = PART_ELEMENTS[region.role]
    title_block = blocks[region.head]
    body = blocks[region.head + 1:region.end]
    signature_start = len(body)
    while signature_start > 1 and is_heading_like(body[signature_start - 1]) and body[signature_start - 1].level is None:
        signature_start -= 1
    signature = body[signature_start:]
    if not (signature and rules.looks_like_person(signature[0].text.strip())):
        signature, signature_start = [], len(body)
    body_start = 0
    if not signature and len(body) > 1 and is_heading_like(body[0]) and body[0].level is None \
            and rules.looks_like_person(body[0].text.strip()) and is_prose(body[1]):
        signature, body_start = [body[0]], 1  # a byline under the title
    attrs = {"role": region.role} if tag != "acknowledgements" else None
    part = el(tag, attrs=attrs)
    set_id(part, scope)
    info = el("info")
    title = el("title")
    fill_inline(title, title_block.spans)
    mark_source(title, title_block.where)
    info.append(title)
    if signature:
        info.append(_author(signature[0], signature[1:]))
    part.append(info)
    builder = BodyBuilder(scope, findings, heading_levels=levels, used_levels=used, page_based=page_based)
    for element in builder.build(body[body_start:signature_start]):
        part.append(element)
    if not _has_content(part):
        part.append(el("para"))
    return part, builder.outline


def _author(name_block: Block, affiliation_blocks: list[Block], tag: str = "author") -> etree._Element:
    author = el(tag, build_person(rules.parse_person(name_block.text.strip())))
    mark_source(author, name_block.where)
    for block in affiliation_blocks:
        affiliation = build_affiliation(block.text)
        mark_source(affiliation, block.where)
        author.append(affiliation)
    return author


# --------------------------------------------------------------------------- chapters


def _build_chapter(blocks: list[Block], region: Region, ordinal: int, findings: Findings,
                   levels: dict[str, int], used: set[str], taken: Set[str] = frozenset(),
                   page_based: bool = True) -> tuple[etree._Element, list]:
    assert region.head is not None  # a chapter region starts at its label or title
    head = blocks[region.head]
    match = chapter_label(head)
    label = ascii_digits(match.group("number")) if match else str(ordinal)  # 第３章, ជំពូកទី៣: chapter 3
    if match and not label.isdigit():
        label = str(_roman(label) or ordinal)
    scope = f"ch{label}"
    if scope in taken:  # two chapters with one number: keep both, with ids that stay unique, and say so
        findings.flagged("front-matter-inconsistency", f"chapter {label} appears twice; the second is chapter "
                         f"{ordinal} in reading order", where=head.where, chapter=scope, before=head.text.strip())
        scope = f"ch{label}-{ordinal}"
    chapter = el("chapter", attrs={"label": label})
    set_id(chapter, scope)
    info = el("info")
    chapter.append(info)
    mark_source(chapter, head.where)

    i = region.head + 1
    if match and match.group("title"):
        title_spans, title_where = strip_prefix(head.spans, match.start("title")), head.where
        findings.as_markup(head.text.strip()[:match.start("title")], "chapter-label")
    elif match and i < region.end and not is_prose(blocks[i]) and blocks[i].kind in (Kind.HEADING, Kind.TEXT):
        title_spans, title_where = blocks[i].spans, blocks[i].where
        findings.as_markup(head.text, "chapter-label")
        i += 1
    elif match:
        findings.flagged("front-matter-inconsistency", f"chapter {label} has no title after its label",
                         where=head.where, chapter=scope, before=head.text.strip())
        title_spans, title_where = head.spans, head.where
    else:
        title_spans, title_where = head.spans, head.where
    title = el("title")
    fill_inline(title, title_spans)
    mark_source(title, title_where)
    info.append(title)

    authors, affiliations, i = _byline(blocks, i, region.end)
    for author in _authors(authors, affiliations, findings):
        info.append(author)
    if region.opener_start is not None:
        info.append(_opener(blocks[region.opener_start:region.head]))

    body = blocks[i:region.end]
    notes_at = _notes_heading(body)
    content: list[Block] = body
    notes_title: Block | None = None
    entries: list[NoteEntry] = []
    if notes_at is not None:
        content, notes_title = body[:notes_at], body[notes_at]
        entries = parse_note_entries(body[notes_at + 1:], findings, scope)
    has_markers = any(_markers(block) for block in content)
    if notes_title is not None:
        info.append(el("bibliomisc", attrs={"role": "notes-title"}, text=notes_title.text.strip()))
        mark_source(info[-1], notes_title.where)

    if entries and notes_title is not None and not has_markers:
        builder = BodyBuilder(scope, findings, heading_levels=levels, used_levels=used, page_based=page_based)
        check_numbering(entries, findings, scope, kind="entry")  # a number printed twice, in every kind of list
        elements = builder.build(content)
        _extend(chapter, elements)
        # an author-date list's numbers are not cited: the repair stage renumbers it and reports that
        chapter.append(build_bibliography(entries, notes_title.text.strip(), scope))
        return chapter, builder.outline

    linker = NoteLinker(scope, entries, findings)
    builder = BodyBuilder(scope, findings, notes=linker, heading_levels=levels, used_levels=used,
                          page_based=page_based)
    _extend(chapter, builder.build(content))
    check_numbering(entries, findings, scope)
    unused = linker.unused()
    for entry in unused:
        if not _second_of_its_number(entry, linker, findings):
            findings.flagged("note-without-marker", f"note {entry.number} is never cited in the text",
                             where=entry.where, chapter=scope, before=str(entry.number))
    if unused:
        chapter.append(build_bibliography(unused, notes_title.text.strip() if notes_title is not None else "Notes",
                                          scope, role="uncited-notes"))
    return chapter, builder.outline


def _second_of_its_number(entry: NoteEntry, linker: NoteLinker, findings: Findings) -> bool:
    """A note printed with a number an earlier note has is uncited because its marker went to the first: one
    defect, so its duplicate-number finding says so rather than a second finding at the same line."""
    first = linker.by_number.get(entry.number) if entry.number is not None else None
    if first is None or first is entry:
        return False
    duplicate = next((finding for finding in findings.of_type("duplicate-number")
                      if finding.where == entry.where and finding.chapter == linker.scope), None)
    if duplicate is None:
        return False
    duplicate.message += (f"; marker {entry.number} cites the first, so this one is cited by no marker "
                          "and is kept with the chapter's uncited notes")
    return True


def _extend(chapter: etree._Element, elements: list[etree._Element]) -> None:
    for element in elements:
        chapter.append(element)
    if not _has_content(chapter):  # only <info>: a chapter needs some content
        chapter.append(el("para"))


def _has_content(element: etree._Element) -> bool:
    return any(isinstance(child.tag, str) and etree.QName(child).localname != "info" for child in element)


def _markers(block: Block) -> bool:
    spans = list(block.spans) + [span for cell in (block.cells or []) for span in cell]
    return any((span.superscript and not span.exponent and span.text.isdigit()) or span.note is not None
               for span in spans)


def _notes_heading(body: list[Block]) -> int | None:
    """The last notes heading ("References", "Bibliography", ...) followed by entries; else, in any
    language, the last heading followed only by the notes the text's markers call (_untitled_notes)."""
    for index in range(len(body) - 1, -1, -1):
        block = body[index]
        if is_heading_like(block) and rules.is_notes_title(block.text):
            return index
    return _untitled_notes(body)


def _untitled_notes(body: list[Block]) -> int | None:
    """A heading whose title no rule knows (a translated edition's "参考文献") is the notes heading when
    the chapter ends under it with a list numbered 1..N and the text before it calls notes 1..N."""
    first = len(body)
    while first > 0 and (body[first - 1].kind is Kind.ITEM or (  # an entry's line the list did not keep
            body[first - 1].kind is Kind.TEXT and not is_heading_like(body[first - 1])
            and first > 1 and body[first - 2].kind in (Kind.ITEM, Kind.TEXT))):
        first -= 1
    while first < len(body) and body[first].kind is not Kind.ITEM:
        first += 1  # the list starts at its first numbered entry
    heading = first - 1
    if first == len(body) or heading < 0 or body[heading].kind not in (Kind.HEADING, Kind.TEXT) \
            or not is_heading_like(body[heading]):
        return None
    bullets = [re.fullmatch(r"(\d{1,3})[.)]", (block.bullet or "").strip())
               for block in body[first:] if block.kind is Kind.ITEM]
    if not all(bullets):
        return None
    numbers = [int(bullet.group(1)) for bullet in bullets if bullet]
    called = {int(span.text) for block in body[:heading] for span in block.spans
              if span.superscript and not span.exponent and span.text.isdigit()}
    if numbers == list(range(1, len(numbers) + 1)) and called and max(called) == len(numbers):
        return heading
    return None


def _byline(blocks: list[Block], i: int, end: int) -> tuple[list[Block], list[Block], int]:
    """Author lines then affiliation lines, up to the first section heading or paragraph."""
    authors: list[Block] = []
    while i < end and _is_byline(blocks, i, end) and rules.looks_like_person(blocks[i].text.strip()):
        authors.append(blocks[i])
        i += 1
    affiliations: list[Block] = []
    if authors:
        while i < end and _is_byline(blocks, i, end):
            affiliations.append(blocks[i])
            i += 1
    return authors, affiliations, i


def _is_byline(blocks: list[Block], i: int, end: int) -> bool:
    block = blocks[i]
    text = block.text.strip()
    if block.kind not in (Kind.HEADING, Kind.TEXT) or block.level is not None:
        return False
    if len(text.split()) > 30 or (textrules.ends_sentence(text) and len(text.split()) > 12):
        return False
    if rules.TOP_LEVEL_SECTION.match(text) or rules.is_notes_title(text) or rules.is_abbreviations_title(text):
        return False
    if rules.TABLE_TITLE.match(text) or rules.FIGURE_TITLE.match(text):
        return False
    return not (i + 1 < end and is_prose(blocks[i + 1]))  # a line followed by prose is a section heading


def _authors(name_blocks: list[Block], affiliation_blocks: list[Block], findings: Findings) -> list[etree._Element]:
    names: list[Block] = []
    for block in name_blocks:
        parts = split_names(block.text.strip(), findings)
        names.extend(Block(Kind.TEXT, [Span(part)], block.where) for part in parts)
    if len(names) > 1 and len(names) == len(affiliation_blocks):
        return [_author(name, [affiliation]) for name, affiliation in zip(names, affiliation_blocks)]
    authors = [_author(name, []) for name in names[:-1]]
    if names:
        authors.append(_author(names[-1], affiliation_blocks))
    return authors


def _opener(blocks: list[Block]) -> etree._Element:
    """What is left of the chapter's opening image: the words it shows and its attribution."""
    attribution = [block for block in blocks if rules.ATTRIBUTION.match(block.text.strip())]
    words = [block for block in blocks if block not in attribution]
    media = el("mediaobject", attrs={"role": "chapter-opener"})
    if words:
        textobject = el("textobject", attrs={"role": "image-text"})
        for block in words:
            para = el("para")
            fill_inline(para, block.spans)
            mark_source(para, block.where)
            textobject.append(para)
        media.append(textobject)
    else:
        media.append(el("textobject", el("phrase"), attrs={"role": "missing-image"}))
    if attribution:
        caption = el("caption")
        for block in attribution:
            para = el("para", attrs={"role": "attribution"})
            fill_inline(para, block.spans)
            mark_source(para, block.where)
            caption.append(para)
        media.append(caption)
    return media


def _text_media(blocks: list[Block], role: str) -> etree._Element:
    textobject = el("textobject")
    for block in blocks:
        para = el("para")
        fill_inline(para, block_spans(block))
        mark_source(para, block.where)
        textobject.append(para)
    return el("mediaobject", textobject, attrs={"role": role})


def _roman(text: str) -> int | None:
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
    total, previous = 0, 0
    for char in reversed(text.upper()):
        value = values.get(char)
        if value is None:
            return None
        total += -value if value < previous else value
        previous = max(previous, value)
    return total
