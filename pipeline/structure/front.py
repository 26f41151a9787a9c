"""The opening pages (cover, title page, imprint) become the book's metadata; the printed
table of contents is kept as a ``<toc role="printed">`` for the repair stage to check.

Nothing here becomes body text: a cover is recorded as the words it shows, the title page
gives the title and editors, the imprint gives publisher, address, ISBN, copyright and notices.
"""

from __future__ import annotations

import re

from lxml import etree

from ..docbook import DB_NS, el, fill_inline, mark_source
from ..findings import Findings
from ..ingest.model import Block, Kind, Span
from . import rules
from .regions import is_heading_like, is_prose


def build_person(name: rules.PersonName, tag: str = "personname") -> etree._Element:
    """``<personname>`` with honorific, family and given names in the order the book prints them."""
    person = el(tag)
    if not name.known_parts:
        person.text = name.text
        return person
    if name.honorific:
        person.append(el("honorific", text=name.honorific))
    parts = [("surname", name.family), ("firstname", name.given)]
    if not name.family_first:
        parts.reverse()
    for part, value in parts:
        if value:
            person.append(el(part, text=value))
    if name.lineage:
        person.append(el("lineage", text=name.lineage))
    for child in person[:-1]:
        child.tail = " "
    return person


def build_affiliation(text: str) -> etree._Element:
    """The affiliation line as printed, kept whole: splitting job from organisation would reword it."""
    return el("affiliation", el("orgname", text=text.strip().rstrip(";,").strip()))


def block_spans(block: Block) -> list[Span]:
    """A block's inline text; a table row's cells one after another (a row among title-page lines)."""
    if block.kind is not Kind.ROW or not block.cells:
        return block.spans
    spans: list[Span] = []
    for cell in block.cells:
        if spans and cell:
            spans.append(Span(" "))
        spans.extend(cell)
    return spans


def _para(block: Block, role: str | None = None) -> etree._Element:
    para = el("para", attrs={"role": role} if role else None)
    fill_inline(para, block_spans(block))
    mark_source(para, block.where)
    return para


def _names_after(blocks: list[Block], start: int, stop: int) -> int:
    """Index after the run of name lines that follows a credit line."""
    i = start
    while i < stop and rules.looks_like_person(blocks[i].text) and not rules.PUBLISHED_BY.match(blocks[i].text):
        i += 1
    return i


# Paragraph styles Word (and pandoc's DOCX writer) gives a document's metadata: element and role.
METADATA_STYLES = {"author": "author", "date": "pubdate", "abstract": "abstract", "subtitle": "subtitle"}


def build_info(blocks: list[Block], findings: Findings, fallback_title: str | None = None, *,
               strict_titles: bool = False) -> tuple[etree._Element, list[Block]]:
    """``<info>`` from the opening pages (cover, title page and imprint), and the blocks it did not use.

    Recognising a title page is a bonus: whatever is not recognised is returned, for the caller to
    keep in the book. With ``strict_titles`` (formats that mark headings, or a book without
    chapters) only heading blocks at the start make the title: a short plain paragraph is text.
    """
    info = el("info")
    blocks, metadata = _metadata_blocks(blocks)
    texts = [block.text.strip() for block in blocks]
    credits = [i for i, text in enumerate(texts) if rules.CREDIT_LINE.match(text)]
    imprint = next((i for i, text in enumerate(texts) if rules.PUBLISHED_BY.match(text)), len(blocks))
    credits = [i for i in credits if i < imprint]  # a credit line after "Published by" is the imprint's
    publisher = _publisher(blocks, imprint)
    title_page = _title_page_start(blocks, credits, imprint, publisher)

    title_blocks = [block for block in blocks[title_page:(credits[-1] if credits else imprint)]
                    if is_heading_like(block) and not _is_publisher_line(block.text, publisher)]
    if strict_titles:
        title_blocks = _leading_headings(blocks[title_page:(credits[-1] if credits else imprint)])
    title_text = " ".join(block.text.strip() for block in title_blocks) or fallback_title
    if not title_text:
        findings.flagged("front-matter-inconsistency", "no title page found: the book has no title",
                         where=blocks[0].where if blocks else None)
        title_text = "Untitled"
    title = el("title", text=title_text)
    if title_blocks:
        mark_source(title, title_blocks[0].where.through(title_blocks[-1].where))
    info.append(title)
    for element in metadata:
        info.append(element)
    used = {id(block) for block in title_blocks}

    if credits:
        credit = credits[-1]
        _credit_line(info, blocks[credit], findings)
        used.add(id(blocks[credit]))
        for block in blocks[credit + 1:_names_after(blocks, credit + 1, imprint)]:
            editor = el("editor", build_person(rules.parse_person(block.text.strip())))
            mark_source(editor, block.where)
            info.append(editor)
            used.add(id(block))
    if title_page > 0:
        info.append(_cover(blocks[:title_page], publisher))
    _imprint(info, blocks[imprint:], publisher, findings)
    for block in blocks[title_page:imprint]:  # the copyright page repeats the title above its imprint
        if id(block) not in used and _same_words(block.text, title_text):
            findings.dropped(block.text.strip(), "repeated-title", "the book's title repeated on the copyright "
                             "page is the title the book already has", where=block.where)
            used.add(id(block))
    return info, [block for block in blocks[title_page:imprint] if id(block) not in used]


def _same_words(one: str, other: str) -> bool:
    return " ".join(re.findall(r"\w+", one.casefold())) == " ".join(re.findall(r"\w+", other.casefold()))


def _leading_headings(blocks: list[Block]) -> list[Block]:
    """The heading blocks a document starts with (a Title style first, when it has one)."""
    titles = [block for block in blocks if block.kind is Kind.HEADING and block.level == 0]
    if titles:
        return titles[:1]
    leading = []
    for block in blocks:
        if block.kind is not Kind.HEADING:
            break
        leading.append(block)
    return leading[:1]


def _metadata_blocks(blocks: list[Block]) -> tuple[list[Block], list[etree._Element]]:
    """Blocks in the document's metadata styles (Author, Date, Abstract, Subtitle) as ``<info>`` elements."""
    rest, elements = [], []
    for block in blocks:
        kind = METADATA_STYLES.get((block.style or "").strip().lower())
        if kind is None or block.kind is not Kind.TEXT or not block.text.strip():
            rest.append(block)
            continue
        if kind == "author":
            element = el("author", el("personname", text=block.text.strip()))
        elif kind == "abstract":
            element = el("abstract", _para(block))
        else:
            element = el(kind)
            fill_inline(element, block.spans)
        if kind != "abstract":
            mark_source(element, block.where)
        elements.append(element)
    return rest, elements


def _matched(pattern: re.Pattern[str], text: str) -> re.Match[str]:
    """The match of a rule the caller already knows the line fits (it was classified by that rule)."""
    match = pattern.match(text)
    assert match is not None, (pattern.pattern, text)
    return match


def _credit_line(info: etree._Element, block: Block, findings: Findings) -> None:
    """The title page's "Edited by" is the ``<editor>`` markup; names on the same line are editors too."""
    text = block.text.strip()
    rest = _matched(rules.CREDIT_LINE, text).group("rest").strip()
    findings.as_markup(text[:len(text) - len(rest)] if rest else text, "credit-label")
    for name in split_names(rest, findings) if rest else []:
        editor = el("editor", build_person(rules.parse_person(name)))
        mark_source(editor, block.where)
        info.append(editor)


def split_names(text: str, findings: Findings) -> list[str]:
    """``A, B and C`` -> the three names; the separators become the markup between ``<editor>``s."""
    parts = [part.strip() for part in re.split(r"\s*(?:,|\band\b|&)\s*", text) if part.strip()]
    if len(parts) > 1 and all(rules.looks_like_person(part) for part in parts):
        for separator in re.findall(r"\band\b|&", text):
            findings.as_markup(separator, "name-separator")
        return parts
    return [text]


def _publisher(blocks: list[Block], imprint: int) -> str | None:
    if imprint >= len(blocks):
        return None
    rest = _matched(rules.PUBLISHED_BY, blocks[imprint].text.strip()).group("rest").strip()
    if rest:
        return rest
    return blocks[imprint + 1].text.strip() if imprint + 1 < len(blocks) else None


def _is_publisher_line(text: str, publisher: str | None) -> bool:
    if not publisher:
        return False
    key = rules.normalized(text)
    name = rules.normalized(re.sub(r"\s*\([^)]*\)\s*$", "", publisher))
    acronym = re.search(r"\(([^)]+)\)\s*$", publisher)
    return key == name or key == rules.normalized(publisher) or bool(acronym and key == acronym.group(1).lower())


def _title_page_start(blocks: list[Block], credits: list[int], imprint: int, publisher: str | None) -> int:
    """Where the title page begins: after the cover, when the book has both (two credit lines)."""
    if len(credits) < 2:
        return 0
    i = credits[-1]
    while i > credits[-2] + 1 and is_heading_like(blocks[i - 1]) and not _is_publisher_line(blocks[i - 1].text, publisher) \
            and not rules.looks_like_person(blocks[i - 1].text):
        i -= 1
    return i


def _cover(blocks: list[Block], publisher: str | None) -> etree._Element:
    """The cover as the words it shows, each line tagged with what it is."""
    textobject = el("textobject")
    credit_seen = False
    for block in blocks:
        text = block.text.strip()
        if rules.CREDIT_LINE.match(text):
            role, credit_seen = "credit", True
        elif _is_publisher_line(text, publisher):
            role = "publisher"
        elif credit_seen and rules.looks_like_person(text):
            role = "editor"
        elif not credit_seen:
            role = "title"
        else:
            role = "text"
        textobject.append(_para(block, role))
    cover = el("mediaobject", textobject, attrs={"role": "cover"})
    return cover


def _imprint(info: etree._Element, blocks: list[Block], publisher_name: str | None, findings: Findings) -> None:
    """Publisher, address, website, ISBN, copyright, rights and disclaimer from the imprint page."""
    if not blocks:
        return
    publisher = el("publisher")
    address = el("address")
    notices: list[etree._Element] = []
    copyright_element = None
    isbn = None
    i = 1
    published_by = blocks[0].text.strip()
    rest = _matched(rules.PUBLISHED_BY, published_by).group("rest").strip()
    findings.as_markup(published_by[:len(published_by) - len(rest)] if rest else published_by, "imprint-label")
    if publisher_name and not rest:
        name_block = blocks[1] if len(blocks) > 1 else None
        publisher.append(el("publishername", text=publisher_name))
        if name_block is not None:
            mark_source(publisher[-1], name_block.where)
        i = 2
    elif publisher_name:
        publisher.append(el("publishername", text=publisher_name))
    address_parts: list[tuple[str, str]] = []  # ("uri" or "street", text)
    for block in blocks[i:]:
        text = block.text.strip()
        isbn_match = rules.ISBN_LINE.search(text)
        copyright_match = rules.COPYRIGHT_LINE.match(text)
        if isbn_match:
            findings.as_markup(text[:isbn_match.start("isbn")], "imprint-label")
            findings.dropped(text[isbn_match.end("isbn"):], "imprint-remainder", "text after the ISBN is not kept "
                             "(the book records the ISBN alone)", where=block.where)
            isbn = el("biblioid", attrs={"class": "isbn"}, text=isbn_match.group("isbn").strip())
            mark_source(isbn, block.where)
        elif rules.WEBSITE.match(text):
            address_parts.append(("uri", text))
        elif copyright_match and ("©" in text or "copyright" in text.lower()):
            copyright_element = el("copyright")
            if copyright_match.group("year"):
                copyright_element.append(el("year", text=copyright_match.group("year")))
            holder = copyright_match.group("holder").strip()
            if holder:
                copyright_element.append(el("holder", text=holder))
            mark_source(copyright_element, block.where)
            findings.as_markup(text[:copyright_match.start("year") if copyright_match.group("year")
                                    else copyright_match.start("holder")], "imprint-label")  # "Copyright ©"
            if text.lower().startswith("copyrights"):
                findings.repaired("front-matter-inconsistency",
                                  "the imprint says 'Copyrights ©'; the book's copyright statement is kept as year "
                                  "and holder and prints as 'Copyright ©'", where=block.where, before=text,
                                  after="Copyright" + text[len("Copyrights"):])
        elif rules.RIGHTS_LINE.match(text):
            notices.append(el("legalnotice", _para(block), attrs={"role": "rights"}))
        elif is_prose(block):
            notices.append(el("legalnotice", _para(block), attrs={"role": "disclaimer"}))
        elif not address_parts or address_parts[-1][0] != "uri":
            address_parts.append(("street", text))
        else:
            notices.append(el("legalnotice", _para(block), attrs={"role": "notice"}))
    for kind, text in address_parts:
        if len(address):
            address[-1].tail = " "
        if kind == "uri":
            address.append(el("uri", text=text))
            continue
        street, _, city = text.rpartition(",")
        if street:
            address.append(el("street", text=street.strip()))
            address[-1].tail = ", "
            address.append(el("city", text=city.strip()))
        else:
            address.append(el("otheraddr", text=text))
    if len(address):
        publisher.append(address)
    if len(publisher):
        info.append(publisher)
    if isbn is not None:
        info.append(isbn)
    if copyright_element is not None:
        info.append(copyright_element)
    for notice in notices:
        info.append(notice)


# --------------------------------------------------------------------------- printed contents


def build_toc(blocks: list[Block], findings: Findings) -> etree._Element:
    """The printed table of contents, kept as printed (the editions generate their own)."""
    toc = el("toc", attrs={"role": "printed"})
    title = el("title", text=blocks[0].text.strip())
    mark_source(title, blocks[0].where)
    toc.append(title)
    division: etree._Element | None = None
    expected_chapter = 1
    for block in blocks[1:]:
        label, page = rules.split_toc_line(block.text)
        findings.as_markup(block.text.strip()[len(label):], "page-number")  # the editions number their own
        spans = _label_spans(block, label)
        chapter = rules.CHAPTER_LABEL.match(label) or rules.CHAPTER_LABEL_GLUED.match(label)
        if chapter:
            number = chapter.groupdict().get("number") or chapter.group("digits")
            glued = rules.CHAPTER_LABEL_GLUED.match(label)
            if page is None and glued and glued.group("digits").startswith(str(expected_chapter)) and \
                    len(glued.group("digits")) > len(str(expected_chapter)):
                number = str(expected_chapter)
                page = glued.group("digits")[len(number):]
                findings.repaired("toc-mismatch", f"contents line 'Chapter {glued.group('digits')}' read as "
                                  f"Chapter {number}, page {page}", where=block.where, before=label,
                                  after=f"Chapter {number}\t{page}")
                label = f"Chapter {number}"
            division = el("tocdiv", attrs={"pagenum": page, "role": "chapter"})
            division.append(el("title", text=label))
            mark_source(division, block.where)
            toc.append(division)
            if number.isdigit():
                expected_chapter = int(number) + 1
            continue
        entry = el("tocentry", attrs={"pagenum": page})
        fill_inline(entry, spans)
        mark_source(entry, block.where)
        if division is not None and page is not None and division.get("pagenum") is None \
                and len(division.findall("*")) == 1:
            # "Chapter 1" on a line of its own, the page number after the title below it (a typeset contents)
            division.set("pagenum", page)
            entry.attrib.pop("pagenum")
            entry.set("role", "title")
            division.append(entry)
        elif division is not None and page is None:
            entry.set("role", "author" if _is_author_entry(block, spans) else "title")
            division.append(entry)
        else:
            division = None
            toc.append(entry)
    for empty in [d for d in toc if d.tag == f"{{{DB_NS}}}tocdiv" and len(d.findall("*")) == 1]:
        entry = el("tocentry", attrs={"pagenum": empty.get("pagenum"), "role": "chapter"})
        entry[:] = [child for child in empty if not isinstance(child.tag, str)]  # keeps its source mark
        if len(entry):
            entry[-1].tail = empty.find("*").text
        else:
            entry.text = empty.find("*").text
        empty.addprevious(entry)
        toc.remove(empty)  # a chapter line with nothing under it (a cut contents page): an entry, not a division
    return toc


def _label_spans(block: Block, label: str) -> list[Span]:
    """The inline spans of a contents line without its page number and leader dots."""
    spans = block.spans
    if block.kind is Kind.ROW and block.cells:  # the cells as ``block.text`` joins them, so offsets agree
        spans = [span for index, cell in enumerate(block.cells) for span in ([Span("\t")] if index else []) + cell]
    out: list[Span] = []
    remaining = len(label)
    for span in spans:
        if remaining <= 0:
            break
        text = span.text[:remaining]
        remaining -= len(span.text)
        out.append(Span(text, emphasis=span.emphasis, strong=span.strong, href=span.href))
    return [span for span in out if span.text] or [Span(label)]


def _is_author_entry(block: Block, spans: list[Span]) -> bool:
    text = "".join(span.text for span in spans)
    return all(span.emphasis for span in spans if span.text.strip()) or (
        rules.looks_like_person(text) and rules.parse_person(text).known_parts)
