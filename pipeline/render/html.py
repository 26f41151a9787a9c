"""DocBook book → HTML for the editions, built as a tree so manuscript text can never become markup.

Every text node of the book becomes an HTML text node (lxml escapes it); nothing from the
manuscript is ever parsed as HTML or CSS. The print edition is one document; the EPUB takes
the same parts one document each (``part_html``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from ..docbook import DB_NS, NS, XLINK_NS, XML_NS, append, get_id, remove_keeping_tail, text_of
from .khmer import break_khmer
from .strings import Strings

D = f"{{{DB_NS}}}"
LANG = f"{{{XML_NS}}}lang"
HREF = f"{{{XLINK_NS}}}href"


@dataclass
class Context:
    """What the conversion needs besides the book: language, labels, and how notes are set."""

    lang: str
    strings: Strings
    notes: str = "endnotes"  # or "footnotes" (at the page foot, print only)
    drafts: bool = False
    images: dict[str, str] = field(default_factory=dict)  # figure or opener id -> image URL
    isbn: str | None = None  # this edition's own ISBN (language and format), printed on the copyright page
    href_for: Callable[[str], str] = lambda identifier: f"#{identifier}"  # EPUB points across files
    shown_untranslated: set[etree._Element] = field(default_factory=set)  # blocks shown in the source language
    # Paragraphs are numbered in reading order within their part or chapter ("ch2-p5"): the same ids in print
    # and EPUB, for the page list, and an edit in one chapter leaves the other chapters' ids (and their
    # separately rendered print parts, pipeline/render/parts.py) as they were.
    paragraphs: int = 0
    paragraph_prefix: str = "p-"
    missing_images: list[str] = field(default_factory=list)

    @property
    def fallbacks(self) -> int:
        """How many blocks the edition shows in the source language, each counted once however often it is
        shown (the book's title is on the title page and the copyright page; a chapter's title in the
        contents and on its opener)."""
        return len(self.shown_untranslated)

    def text(self, value: str) -> str:
        """Text as the edition sets it: word breaks in Khmer. (Its quotes were curled in the book itself,
        by ``pipeline.typography``, before any writer reads it.)"""
        if value and self.lang == "km":
            return break_khmer(value)
        return value


def h(tag: str, *children, **attrs) -> etree._Element:
    """An HTML element; keyword ``class_`` for class; children are elements or strings."""
    element = etree.Element(tag)
    for key, value in attrs.items():
        if value is not None:
            element.set(key.rstrip("_").replace("_", "-"), str(value))
    for child in children:
        append(element, child)
    return element


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


# --------------------------------------------------------------------------- inline


def inline(source: etree._Element, target: etree._Element, ctx: Context) -> etree._Element:
    """Copy the mixed content of a DocBook element into ``target`` as HTML inline markup."""
    if source.text:
        append(target, ctx.text(source.text))
    for child in source:
        if isinstance(child, etree._ProcessingInstruction) and child.target == "linebreak":
            target.append(h("br"))
        elif isinstance(child, (etree._ProcessingInstruction, etree._Comment)):
            pass
        else:
            append(target, _inline_element(child, ctx))
        if child.tail:
            append(target, ctx.text(child.tail))
    return target


def _inline_element(element: etree._Element, ctx: Context) -> etree._Element | str:
    name = _local(element)
    if name == "remark":
        return ""  # an editor's remark (a DOCX comment) is for the editor, not the reader
    if name == "anchor":
        return h("span", id=get_id(element))
    if name == "emphasis" and element.get("role") in _EMPHASIS_ROLES:
        tag, css = _EMPHASIS_ROLES[element.get("role")]
        return inline(element, h(tag, class_=css), ctx)
    if name == "emphasis":
        return inline(element, h("strong" if element.get("role") == "bold" else "em"), ctx)
    if name == "code":
        return inline(element, h("code"), ctx)
    if name == "inlinemediaobject":  # the picture's words stand for it (pictures are placed for figures only)
        return h("span", ctx.text(element.xpath("string(db:textobject/db:phrase)", namespaces=NS)), class_="image-text")
    if name == "link" and element.get("linkend"):
        return inline(element, h("a", href=ctx.href_for(element.get("linkend"))), ctx)
    if name == "link":
        href = element.get(HREF) or ""
        safe = href if href.startswith(("http://", "https://", "mailto:")) else None
        if element.text == href and not len(element):  # a printed URL: its characters are not typography
            return h("a", href, href=safe, class_="url")
        return inline(element, h("a", href=safe), ctx)
    if name == "superscript":
        return inline(element, h("sup", class_="noteref-missing" if element.get("role") == "noteref" else None), ctx)
    if name == "subscript":
        return inline(element, h("sub"), ctx)
    if name == "footnote":
        return _note_reference(element, ctx)
    if name == "footnoteref":
        target = element.get("linkend") or ""
        return h("a", h("sup", element.get("label") or ""), class_="noteref", href=ctx.href_for(target),
                 role="doc-noteref")
    if name in ("phrase", "citetitle", "abbrev", "acronym", "uri", "orgname", "personname", "firstname",
                "surname", "honorific", "lineage", "bibliomisc", "quote", "citation"):
        return inline(element, h("span", class_=name), ctx)
    return inline(element, h("span"), ctx)


# DocBook emphasis roles (as a DOCX manuscript gives them) -> HTML element and class.
_EMPHASIS_ROLES = {"underline": ("u", None), "strikethrough": ("s", None), "smallcaps": ("span", "smallcaps")}


def _note_reference(note: etree._Element, ctx: Context) -> etree._Element:
    identifier = get_id(note) or ""
    label = note.get("label") or ""
    if ctx.notes == "footnotes":
        body = h("span", class_="footnote", id=identifier)
        for index, para in enumerate(note.xpath("db:para", namespaces=NS)):
            if index:
                append(body, " ")
            inline(para, body, ctx)
        return body
    return h("a", h("sup", ctx.strings.number(label)), class_="noteref", id=f"{identifier}-ref",
             href=ctx.href_for(identifier), role="doc-noteref")


# --------------------------------------------------------------------------- blocks


def blocks(source: etree._Element, ctx: Context, level: int) -> list[etree._Element]:
    """The block children of a DocBook container as HTML blocks (sections as nested <section>)."""
    out: list[etree._Element] = []
    for child in source:
        if not isinstance(child.tag, str):
            continue
        converted = _block(child, ctx, level)
        if converted is not None:
            out.append(converted)
    return out


def _marked(element: etree._Element, html: etree._Element, ctx: Context) -> etree._Element:
    """Language of the block; a block left in the source language is marked as such, wherever it is shown,
    and counted once (``Context.fallbacks``)."""
    _language(element, html, ctx)
    if element.get("condition") == "untranslated":
        html.set("class", ((html.get("class") or "") + " untranslated").strip())
        html.set("title", ctx.strings("Not yet translated: shown in English"))
        ctx.shown_untranslated.add(element)  # the element itself: a set holds its one proxy, so it counts once
    return html


def _language(element: etree._Element, html: etree._Element, ctx: Context) -> etree._Element:
    """The element's language on its HTML, where it is not the edition's (an English title in the contents)."""
    lang = element.get(LANG)
    if lang and lang != ctx.lang:
        html.set("lang", lang)
    return html


def _block(element: etree._Element, ctx: Context, level: int) -> etree._Element | None:
    name = _local(element)
    if name == "para":
        role = element.get("role")
        ctx.paragraphs += 1
        paragraph = h("p", class_="table-source" if role == "source" else role,
                      id=f"{ctx.paragraph_prefix}{ctx.paragraphs}")
        return _marked(element, inline(element, paragraph, ctx), ctx)
    if name == "section":
        section = h("section", id=get_id(element), class_="section")
        title = element.find(f"{D}title")
        heading = h(f"h{min(level, 6)}")
        if title is not None:
            _marked(title, inline(title, heading, ctx), ctx)
        section.append(heading)
        for child in blocks(element, ctx, level + 1):
            section.append(child)
        return section
    if name in ("itemizedlist", "orderedlist"):
        attrs = {}
        if name == "orderedlist" and element.get("startingnumber"):
            attrs["start"] = element.get("startingnumber")
        if element.get("numeration") == "loweralpha":
            attrs["type"] = "a"
        listing = h("ul" if name == "itemizedlist" else "ol", **attrs)
        for item in element.xpath("db:listitem", namespaces=NS):
            entry = h("li")
            for child in blocks(item, ctx, level):
                entry.append(child)
            listing.append(entry)
        return listing
    if name == "table":
        return _table(element, ctx)
    if name == "informaltable":
        return _table(element, ctx, titled=False)
    if name == "figure":
        return _figure(element, ctx)
    if name == "glosslist":
        return _glossary(element, ctx, level)
    if name == "bibliography":
        return _bibliography(element, ctx, level)
    if name == "blockquote":
        return h("blockquote", *blocks(element, ctx, level))
    if name == "programlisting":
        return h("pre", text_of(element), class_="code")
    if name == "variablelist":
        listing = h("dl")
        for entry in element.xpath("db:varlistentry", namespaces=NS):
            for term in entry.xpath("db:term", namespaces=NS):
                listing.append(_marked(term, inline(term, h("dt"), ctx), ctx))
            definition = h("dd")
            for item in entry.xpath("db:listitem", namespaces=NS):
                for child in blocks(item, ctx, level):
                    definition.append(child)
            listing.append(definition)
        return listing
    if name == "bridgehead":
        return _marked(element, inline(element, h(f"h{min(level, 6)}", class_="bridgehead"), ctx), ctx)
    if name in ("title", "info", "mediaobject"):
        return None
    return None


def _table(element: etree._Element, ctx: Context, titled: bool = True) -> etree._Element:
    table = h("table", id=get_id(element))
    title = element.find(f"{D}title")
    if titled and title is not None:
        label = ctx.strings("Table {number}", number=int(element.get("label") or 0))
        caption = h("caption", h("span", ctx.strings("{label}: ", label=label)
                                 if (element.get("label") or "").isdigit() else "", class_="label"))
        _marked(title, inline(title, caption, ctx), ctx)
        table.append(caption)
    group = element.find(f"{D}tgroup")
    for part, cell in (("thead", "th"), ("tbody", "td")):
        rows = group.xpath(f"db:{part}/db:row", namespaces=NS) if group is not None else []
        if not rows:
            continue
        section = h(part)
        for row in rows:
            tr = h("tr")
            for entry in row.xpath("db:entry", namespaces=NS):
                tr.append(_marked(entry, inline(entry, h(cell, scope="col" if cell == "th" else None), ctx), ctx))
            section.append(tr)
        table.append(section)
    return table


def _figure(element: etree._Element, ctx: Context) -> etree._Element:
    identifier = get_id(element) or ""
    figure = h("figure", id=identifier)
    title = element.find(f"{D}title")
    title_text = text_of(title).strip() if title is not None else ""
    image = ctx.images.get(identifier)
    if image:
        figure.append(h("img", src=image, alt=ctx.text(title_text)))
    else:
        ctx.missing_images.append(identifier)
        figure.append(h("div", ctx.strings("Image not supplied with the manuscript"), class_="missing-image",
                        role="img", aria_label=ctx.text(title_text)))
    label = element.get("label") or ""
    caption = h("figcaption", h("span", ctx.strings("{label}: ", label=ctx.strings("Figure {number}", number=int(label))),
                                class_="label") if label.isdigit() else None)
    if title is not None:
        _marked(title, inline(title, caption, ctx), ctx)
    figure.append(caption)
    return figure


def _glossary(element: etree._Element, ctx: Context, level: int) -> etree._Element:
    wrapper = h("div", class_="abbreviations")
    title = element.find(f"{D}title")
    if title is not None:  # at the level of where it stands: a chapter's list is h2, not h3 under h1
        wrapper.append(_marked(title, inline(title, h(f"h{min(level, 6)}"), ctx), ctx))
    listing = h("dl")
    for entry in element.xpath("db:glossentry", namespaces=NS):
        listing.append(inline(entry.find(f"{D}glossterm"), h("dt"), ctx))
        definition = h("dd")
        for para in entry.xpath("db:glossdef/db:para", namespaces=NS):
            _marked(para, inline(para, definition, ctx), ctx)
        listing.append(definition)
    wrapper.append(listing)
    return wrapper


def _bibliography(element: etree._Element, ctx: Context, level: int) -> etree._Element:
    section = h("section", class_="bibliography", id=get_id(element))
    title = _reference_list_title(element)
    if title is not None:
        section.append(_marked(title, inline(title, h(f"h{min(level, 6)}"), ctx), ctx))
    listing = h("ol", class_="references")
    for entry in element.xpath("db:bibliomixed", namespaces=NS):
        number = entry.xpath("string(db:abbrev)", namespaces=NS)
        item = h("li", id=get_id(entry), value=number if number.isdigit() else None)
        body = etree.Element("span")
        inline(entry, body, ctx)
        abbrev = body.find("span[@class='abbrev']")
        if abbrev is not None:  # the number is the list marker
            abbrev.tail = (abbrev.tail or "").lstrip()
            remove_keeping_tail(abbrev)
        append(item, body)
        listing.append(item)
    section.append(listing)
    return section




# --------------------------------------------------------------------------- parts and chapters


def _reference_list_title(bibliography: etree._Element) -> etree._Element | None:
    """A chapter's reference list is headed by the chapter's notes title, which structuring copied into the
    list's title: the notes title is the catalog entry, so the heading is the translated one."""
    notes_title = bibliography.getparent().find(f"{D}info/{D}bibliomisc[@role='notes-title']")
    return notes_title if notes_title is not None else bibliography.find(f"{D}title")


def endnotes(chapter: etree._Element, ctx: Context) -> etree._Element | None:
    """The chapter's notes, headed as the book heads them, each linked back to its marker."""
    notes = chapter.xpath(".//db:footnote", namespaces=NS)
    if not notes or ctx.notes == "footnotes":
        return None
    title = chapter.find(f"{D}info/{D}bibliomisc[@role='notes-title']")
    heading = _marked(title, inline(title, h("h2"), ctx), ctx) if title is not None and text_of(title).strip() \
        else h("h2", ctx.strings("Notes"))
    section = h("section", heading, class_="notes", id=f"{get_id(chapter)}-notes", role="doc-endnotes")
    listing = h("ol")
    for note in notes:
        identifier = get_id(note) or ""
        label = note.get("label") or ""
        # no role="doc-endnote" on the item: DPUB-ARIA 1.1 deprecates it (the section's doc-endnotes says it all)
        item = h("li", id=identifier, value=label if label.isdigit() else None, class_="endnote")
        for index, para in enumerate(note.xpath("db:para", namespaces=NS)):
            paragraph = _marked(para, inline(para, h("p"), ctx), ctx)
            if index == len(note.xpath("db:para", namespaces=NS)) - 1:
                append(paragraph, "\u00a0")  # the back link never wraps alone onto a line
                paragraph.append(h("a", "↩", href=ctx.href_for(f"{identifier}-ref"), class_="backlink",
                                   role="doc-backlink", aria_label=ctx.strings("Back to the text")))
            item.append(paragraph)
        listing.append(item)
    section.append(listing)
    return section


def person_text(person: etree._Element | None) -> str:
    return " ".join(text_of(person).split()) if person is not None else ""


def part_html(part: etree._Element, ctx: Context) -> etree._Element:
    """A front-matter part (Foreword, …): heading, text, and the signature when it is signed."""
    identifier = get_id(part) or ""
    role = part.get("role") or _local(part)
    aria_role = {"foreword": "doc-foreword", "acknowledgements": "doc-acknowledgments"}.get(role, "doc-preface")
    section = h("section", class_=f"front-part {role}", id=identifier, role=aria_role)
    ctx.paragraphs, ctx.paragraph_prefix = 0, f"{identifier}-p"
    title = part.find(f"{D}info/{D}title")
    if title is not None:
        section.append(_marked(title, inline(title, h("h1"), ctx), ctx))
    for child in blocks(part, ctx, 2):
        section.append(keep_calls_with_their_words(child))
    for author in part.xpath("db:info/db:author", namespaces=NS):
        signature = h("div", class_="signature")
        signature.append(h("p", ctx.text(person_text(author.find(f"{D}personname"))), class_="name"))
        for affiliation in author.xpath("db:affiliation", namespaces=NS):
            signature.append(_affiliation(affiliation, "affiliation", ctx))
        section.append(signature)
    return section


def _affiliation(affiliation: etree._Element, css: str, ctx: Context) -> etree._Element:
    """An author's affiliation line; its organisation is a block of its own, translated or marked English."""
    paragraph = h("p", ctx.text(" ".join(text_of(affiliation).split())), class_=css)
    organisation = affiliation.find(f"{D}orgname")
    return _marked(organisation, paragraph, ctx) if organisation is not None else paragraph


def chapter_opener(chapter: etree._Element, ctx: Context) -> etree._Element:
    number = int(chapter.get("label") or 0)
    header = h("header", class_="opener")
    header.append(h("p", ctx.strings("Chapter {number}", number=number), class_="chapter-label"))
    title = chapter.find(f"{D}info/{D}title")
    header.append(_marked(title, inline(title, h("h1", class_="chapter-title"), ctx), ctx))
    for author in chapter.xpath("db:info/db:author", namespaces=NS):
        header.append(h("p", ctx.text(person_text(author.find(f"{D}personname"))), class_="chapter-author"))
        for affiliation in author.xpath("db:affiliation", namespaces=NS):
            header.append(_affiliation(affiliation, "chapter-affiliation", ctx))
    media = chapter.find(f"{D}info/{D}mediaobject[@role='chapter-opener']")
    if media is not None:
        figure = h("figure", class_="opener-image")
        image = ctx.images.get(f"{get_id(chapter)}-opener")
        if image:
            figure.append(h("img", src=image, alt=""))
        words = media.xpath("db:textobject[@role='image-text']/db:para", namespaces=NS)
        if words and not image:
            figure.append(h("p", ctx.text(" · ".join(text_of(w).strip() for w in words)), class_="image-text"))
        caption = h("figcaption")
        for para in media.xpath("db:caption/db:para", namespaces=NS):
            _marked(para, inline(para, caption, ctx), ctx)
        figure.append(caption)
        header.append(figure)
    return header


# The word (or, in Japanese and Chinese, the last two characters) a note call follows.
_LAST_WORD = re.compile(r"(?:[\u3000-\u9fff\uf900-\ufaff\uff00-\uffef]{1,2}|[^\s\u200b\u3000-\u9fff\uff00-\uffef]{1,40})$")


def keep_calls_with_their_words(container: etree._Element) -> etree._Element:
    """Hold each note call to the word before it, so that no line starts with a call.

    Line breaking allows a break after 。 or a closing quote, and a call is a separate inline box:
    unheld, it can open a line on its own. The word and its calls go into one ``span.nobreak``.
    """
    for call in list(container.iter("a")):
        if call.get("class") != "noteref":
            continue
        parent, previous = call.getparent(), call.getprevious()
        if previous is not None and previous.get("class") == "nobreak" and not previous.tail:
            previous.tail, call.tail = call.tail, None
            previous.append(call)  # a run of calls (word¹²) stays together
            continue
        text = (previous.tail if previous is not None else parent.text) or ""
        match = _LAST_WORD.search(text)
        if match is None:
            continue
        if previous is not None:
            previous.tail = text[:match.start()]
        else:
            parent.text = text[:match.start()]
        held = h("span", match.group(0), class_="nobreak")
        held.tail, call.tail = call.tail, None
        parent.replace(call, held)
        held.append(call)
    return container


def chapter_html(chapter: etree._Element, ctx: Context) -> etree._Element:
    identifier = get_id(chapter) or ""
    section = h("section", class_="chapter", id=identifier, role="doc-chapter")
    ctx.paragraphs, ctx.paragraph_prefix = 0, f"{identifier}-p"
    if not chapter.xpath("preceding-sibling::db:chapter", namespaces=NS):  # arabic folios start here
        section.set("class", "chapter first-chapter")
    section.append(chapter_opener(chapter, ctx))
    text = h("div", class_="chapter-text")
    for child in blocks(chapter, ctx, 2):
        text.append(child)
    keep_calls_with_their_words(text)
    notes = endnotes(chapter, ctx)
    if notes is not None:
        text.append(notes)
    section.append(text)
    return section
