"""The print edition as one HTML document: title page, copyright page, contents, parts, chapters.

The page geometry, fonts and counter styles come from source/book.toml and the edition's
language, written into a short CSS prelude made only of numbers, font names checked against
a safe pattern, and our own labels (CSS-escaped); the design itself is templates/print.css.
"""

from __future__ import annotations


from lxml import etree

from ..config import BookConfig, fonts_for
from ..docbook import NS, XML_NS, text_of
from .html import Context, _language, _marked, chapter_html, h, inline, part_html, person_text

LATIN_FALLBACK = ('"Noto Serif"', '"DejaVu Serif"', "serif")


def css_string(text: str) -> str:
    """A CSS string literal for ``text`` (our labels only; never manuscript text)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ").replace("<", "\\3C ")
    return f'"{escaped}"'


def prelude(config: BookConfig, ctx: Context) -> str:
    """The CSS that depends on the book and the edition."""
    body, heading = fonts_for(config, ctx.lang)
    settings = config.print
    folio = ctx.strings.counter_style
    leading = {"km": 1.95, "ja": 1.75}.get(ctx.lang, 1.45)
    leader = css_string("…" if ctx.lang == "ja" else ". ")  # Japanese contents use a three-dot leader
    size = {"km": 10.5, "ja": 10}.get(ctx.lang, 10.5)
    latin_body, latin_heading = fonts_for(config, "en") if ctx.lang != "en" else (body, heading)
    if ctx.lang == "km":  # Khmer fonts' Latin letters are an afterthought: Latin text takes the Latin face
        body_stack = f'"{latin_body}", "{body}", serif'
        heading_stack = f'"{latin_heading}", "{heading}", "{body}", sans-serif'
    else:
        body_stack = f'"{body}", {", ".join(LATIN_FALLBACK)}'
        heading_stack = f'"{heading}", "{body}", "Noto Sans", sans-serif'
    rules = [
        f"@page {{ size: {settings.width_mm}mm {settings.height_mm}mm; "
        f"margin: {settings.margin_top_mm}mm {settings.margin_outer_mm}mm {settings.margin_bottom_mm}mm "
        f"{settings.margin_inner_mm}mm; }}",
        f":root {{ --body-font: {body_stack}; --heading-font: {heading_stack}; "
        f"--latin-body-font: \"{latin_body}\", serif; "
        f"--inner: {settings.margin_inner_mm}mm; --outer: {settings.margin_outer_mm}mm; "
        f"--body-size: {size}pt; --leading: {leading}; --latin-leading: 1.45; }}",
        "@page front:left { @bottom-left { content: counter(page, lower-roman); font-size: 8.5pt; } }",
        "@page front:right { @bottom-right { content: counter(page, lower-roman); font-size: 8.5pt; } }",
        f"@page body:left {{ @bottom-left {{ content: counter(page, {folio}); font-size: 8.5pt; }} }}",
        f"@page body:right {{ @bottom-right {{ content: counter(page, {folio}); font-size: 8.5pt; }} }}",
        f"nav.contents li.toc-chapter a::after {{ content: leader({leader}) "
        f"target-counter(attr(href), page, {folio}); }}",
        f"nav.contents li.toc-part a::after {{ content: leader({leader}) "
        "target-counter(attr(href), page, lower-roman); }",
        # one numbering: the notes are numbered as their calls are (Khmer digits in Khmer)
        f"section.notes ol {{ list-style-type: {folio}; }}",
        f".footnote::footnote-call {{ content: counter(footnote, {folio}); }}",
        f".footnote::footnote-marker {{ content: counter(footnote, {folio}) \". \"; }}",
    ]
    if ctx.lang in ("km", "ja"):  # no synthesised italic in the running heads either
        rules.append("@page { @top-left { font-style: normal; } @top-right { font-style: normal; } }")
    if ctx.drafts:
        label = css_string(ctx.strings("Machine draft — not reviewed"))
        footer = f"@bottom-center {{ content: {label}; font: bold 7pt sans-serif; color: #a00; }}"
        # blank versos too: print.css empties their margin boxes, and a draft must say so on every page
        rules.append(f"@page {{ {footer} }} @page :blank {{ {footer} }}")
    return "\n".join(rules)


def printed_isbn(root: etree._Element) -> str | None:
    """The ISBN the manuscript prints (its source language's print edition's, unless book.toml says)."""
    return _text(root.find("db:info/db:biblioid[@class='isbn']", NS)) or None


def _text(element: etree._Element | None) -> str:
    return " ".join(text_of(element).split()) if element is not None else ""


def title_page(root: etree._Element, ctx: Context) -> etree._Element:
    info = root.find("db:info", NS)
    page = h("section", class_="title-page", id="title-page")
    title = info.find("db:title", NS)
    page.append(_marked(title, inline(title, h("h1", class_="book-title"), ctx), ctx))
    editors = info.xpath("db:editor/db:personname", namespaces=NS)
    if editors:
        page.append(h("p", ctx.strings("Edited by"), class_="credit"))
        for person in editors:
            page.append(h("p", ctx.text(person_text(person)), class_="editor"))
    publisher = _text(info.find("db:publisher/db:publishername", NS))
    if publisher:
        page.append(h("p", ctx.text(publisher), class_="publisher"))
    return page


def copyright_page(root: etree._Element, ctx: Context) -> etree._Element:
    info = root.find("db:info", NS)
    page = h("section", class_="copyright-page", id="copyright-page")
    title = info.find("db:title", NS)
    page.append(_marked(title, inline(title, h("p", class_="book-title"), ctx), ctx))
    editors = [person_text(p) for p in info.xpath("db:editor/db:personname", namespaces=NS)]
    if editors:
        page.append(h("p", ctx.strings("Edited by") + " " + ctx.text(", ".join(editors))))
    publisher = info.find("db:publisher", NS)
    if publisher is not None:
        line = h("p", ctx.strings("Published by") + " ")
        inline(publisher.find("db:publishername", NS), line, ctx)
        page.append(line)
        address = publisher.find("db:address", NS)
        if address is not None:
            street = " ".join(_text(part) for part in address.xpath("db:street | db:city | db:otheraddr",
                                                                     namespaces=NS))
            page.append(h("p", ctx.text(street)))
            uri = _text(address.find("db:uri", NS))
            if uri:
                page.append(h("p", uri, class_="uri"))
    if ctx.isbn:  # the edition's own: an ISBN names one language in one format
        page.append(h("p", f"ISBN {ctx.isbn}", class_="isbn"))
    year, holder = _text(info.find("db:copyright/db:year", NS)), _text(info.find("db:copyright/db:holder", NS))
    if year or holder:
        page.append(h("p", ctx.strings("Copyright © {year} {holder}", year=int(year) if year.isdigit() else year,
                                       holder=ctx.text(holder)), class_="copyright"))
    for role in ("rights", "disclaimer", "notice"):
        for notice in info.xpath(f"db:legalnotice[@role='{role}']/db:para", namespaces=NS):
            page.append(_marked(notice, inline(notice, h("p", class_=role), ctx), ctx))
    if ctx.lang != "en":
        edition = {"km": "Khmer edition", "ja": "Japanese edition"}.get(ctx.lang)
        if edition:
            page.append(h("p", ctx.strings(edition), class_="edition-note"))
    if ctx.drafts:
        page.append(h("p", ctx.strings("Machine draft — not reviewed"), class_="draft"))
    return page


def contents(root: etree._Element, ctx: Context) -> etree._Element:
    nav = h("nav", h("h1", ctx.strings("Contents")), class_="contents", id="contents", role="doc-toc")
    listing = h("ol")
    for part in root.xpath("db:preface | db:acknowledgements", namespaces=NS):
        identifier = part.get(f"{{{XML_NS}}}id")
        title = part.find("db:info/db:title", NS)
        listing.append(h("li", _language(title, inline(title, h("a", href=f"#{identifier}"), ctx), ctx),
                         class_="toc-part"))
    for chapter in root.xpath("db:chapter", namespaces=NS):
        identifier = chapter.get(f"{{{XML_NS}}}id")
        number = int(chapter.get("label") or 0)
        link = h("a", h("span", ctx.strings("Chapter {number}", number=number), class_="toc-label"),
                 href=f"#{identifier}")
        title = chapter.find("db:info/db:title", NS)
        link.append(_language(title, inline(title, h("span", class_="toc-title"), ctx), ctx))
        item = h("li", link, class_="toc-chapter")
        authors = [person_text(p) for p in chapter.xpath("db:info/db:author/db:personname", namespaces=NS)]
        if authors:
            item.append(h("span", ctx.text(", ".join(authors)), class_="toc-author"))
        listing.append(item)
    nav.append(listing)
    return nav


def print_document(root: etree._Element, ctx: Context, config: BookConfig) -> etree._Element:
    """The whole print edition as one HTML tree."""
    title = _text(root.find("db:info/db:title", NS))
    editors = ", ".join(person_text(p) for p in root.xpath("db:info/db:editor/db:personname", namespaces=NS))
    description, keywords, document_title = config.subject_for(ctx.lang) or title, list(config.keywords_for(ctx.lang)), title
    if ctx.drafts:  # the PDF's Title, Subject and Keywords say it too, wherever the file ends up
        label = ctx.strings("Machine draft — not reviewed")
        document_title, description = f"{title} ({label})", f"{label}. {description}"
        keywords.insert(0, label)
    head = h("head", h("meta", charset="utf-8"), h("title", document_title),
             h("meta", name="author", content=editors or None),
             h("meta", name="description", content=description),
             h("meta", name="keywords", content=", ".join(keywords) or None),
             h("meta", name="generator", content="press"),
             h("link", rel="stylesheet", href="print.css"),
             h("style", prelude(config, ctx)))
    body = h("body", class_=f"edition-{ctx.lang}" + (" draft" if ctx.drafts else ""))
    body.append(title_page(root, ctx))
    body.append(copyright_page(root, ctx))
    body.append(contents(root, ctx))
    for part in root.xpath("db:preface | db:acknowledgements", namespaces=NS):
        section = part_html(part, ctx)
        heading = section.find("h1")
        if heading is not None:
            heading.set("data-book", title)
        body.append(section)
    for chapter in root.xpath("db:chapter", namespaces=NS):
        body.append(chapter_html(chapter, ctx))
    return h("html", head, body, lang=ctx.lang)
