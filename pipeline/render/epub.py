"""EPUB 3 editions: the same HTML as print (pipeline/render/html.py), one XHTML document per part.

What the package holds: a cover, a title-and-copyright document, the navigation document
(contents, landmarks, and a page list giving the print edition's page numbers), one document
per front-matter part and chapter with its endnotes, the stylesheet, and subsets of the
edition's fonts. Package metadata names the editors and authors with their roles, the ISBN,
rights, and what a reader using assistive technology may expect.

Everything in the zip is ordered and dated from fixed inputs (``[epub] modified`` in
book.toml or SOURCE_DATE_EPOCH), so the same book gives the same bytes; the file is written
atomically, so a failed build leaves the previous EPUB as it was.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from ..config import BookConfig, fonts_for
from ..docbook import NS, XML_NS, get_id, text_of
from ..errors import RenderError
from ..safety import atomic_write, make_zip, read_input_bytes
from .cover import Cover, draw_cover, load_cover, supplied_cover
from .fonts import EmbeddedFont, find_face, subset_fonts
from .html import LANG, Context, _language, chapter_html, h, inline, part_html, person_text
from .images import SUPPORTED
from .pagemap import PageStart
from .dates import modification_time  # noqa: F401 (tests and callers import it from here)
from .printbook import copyright_page, printed_isbn, title_page
from .strings import ui_strings

XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_NS = "http://www.idpf.org/2007/ops"
OPF_NS = "http://www.idpf.org/2007/opf"
DC_NS = "http://purl.org/dc/elements/1.1/"
X = f"{{{XHTML_NS}}}"
EPUB_TYPE = f"{{{EPUB_NS}}}type"
XML_LANG = f"{{{XML_NS}}}lang"
CONFORMANCE = "EPUB Accessibility 1.1 - WCAG 2.1 Level AA"

# ARIA roles the shared HTML already carries → the EPUB structural semantics readers act on.
EPUB_TYPES = {
    "doc-noteref": "noteref", "doc-endnotes": "endnotes", "doc-backlink": "backlink",
    "doc-chapter": "chapter", "doc-foreword": "foreword", "doc-preface": "preface",
    "doc-acknowledgments": "acknowledgments",
}
GENERIC_FAMILIES = {"en": ("serif", "sans-serif"), "km": ("serif", "sans-serif"), "ja": ("serif", "sans-serif")}
SYSTEM_FALLBACKS = {  # faces common on reading devices, tried when the embedded ones are ignored
    "km": ('"Noto Serif Khmer"', '"Khmer OS System"', '"Khmer Sangam MN"'),
    "ja": ('"Hiragino Mincho ProN"', '"Yu Mincho"', '"Source Han Serif JP"'),
}
LEADING = {"km": 1.9, "ja": 1.75}
LABEL_SEPARATOR = {"ja": "\u3000"}  # between "Chapter N" and the title in the contents
PHRASING_TARGETS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "figcaption", "caption", "td", "th"}
BEFORE_TARGETS = {"a", "span", "sup", "em", "strong", "table", "ol", "ul", "dl"}


@dataclass
class Document:
    """One XHTML content document of the package."""

    name: str  # file name inside OEBPS/
    title: str
    body: list[etree._Element]
    epub_type: str | None = None


@dataclass
class EpubResult:
    lang: str
    path: Path
    size: int
    seconds: float
    written: bool
    documents: int
    page_markers: int
    fallbacks: int
    fonts: list[str] = field(default_factory=list)
    missing_images: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- dates and identifiers


def _digits(isbn: str | None) -> str:
    return "".join(char for char in isbn or "" if char.isdigit() or char in "Xx")


def _plain(element: etree._Element | None) -> str:
    return " ".join(text_of(element).split()) if element is not None else ""


# --------------------------------------------------------------------------- XHTML


def to_xhtml(element: etree._Element, lang: str) -> etree._Element:
    """The shared HTML in the XHTML namespace, with epub:type for each DPUB role and xml:lang for each lang."""
    result = copy.deepcopy(element)
    for node in result.iter():
        if not isinstance(node.tag, str):
            continue
        node.tag = X + node.tag
        # a note carries no ARIA role (doc-endnote is deprecated) but keeps its EPUB semantics
        epub_type = EPUB_TYPES.get(node.get("role") or "") or ("endnote" if node.get("class") == "endnote" else None)
        if epub_type:
            node.set(EPUB_TYPE, epub_type)
        if node.get("lang"):
            node.set(XML_LANG, node.get("lang"))
    return result


def xhtml_document(document: Document, lang: str, stylesheet: str = "css/book.css") -> etree._Element:
    html = etree.Element(X + "html", nsmap={None: XHTML_NS, "epub": EPUB_NS})
    html.set("lang", lang)
    html.set(XML_LANG, lang)
    head = etree.SubElement(html, X + "head")
    etree.SubElement(head, X + "meta", charset="utf-8")
    etree.SubElement(head, X + "title").text = document.title
    etree.SubElement(head, X + "link", rel="stylesheet", type="text/css", href=stylesheet)
    body = etree.SubElement(html, X + "body")
    if document.epub_type:
        body.set(EPUB_TYPE, document.epub_type)
    for part in document.body:
        body.append(to_xhtml(part, lang) if not part.tag.startswith("{") else part)
    return html


def serialize(html: etree._Element) -> bytes:
    return etree.tostring(html, xml_declaration=True, encoding="utf-8", doctype="<!DOCTYPE html>")


# --------------------------------------------------------------------------- page list


def _place_marker(target: etree._Element, marker: etree._Element) -> None:
    """Put the page-break marker where the page begins: inside the first text block at or after ``target``."""
    while True:
        name = etree.QName(target).localname
        if name in PHRASING_TARGETS:
            marker.tail, target.text = target.text, None
            target.insert(0, marker)
            return
        if name in BEFORE_TARGETS or not len(target):
            parent = target.getparent()
            marker.tail = None
            previous = target.getprevious()
            if previous is not None:
                previous.addnext(marker)
            else:
                parent.insert(0, marker)
            return
        target = target[0]


def add_page_markers(documents: list[tuple[str, etree._Element]], starts: list[PageStart]) -> list[tuple[str, str]]:
    """Insert a pagebreak marker per print page whose first element is in the EPUB; (href, folio) in order."""
    where: dict[str, tuple[str, etree._Element]] = {}
    for name, html in documents:
        for element in html.iter():
            if isinstance(element.tag, str) and element.get("id"):
                where.setdefault(element.get("id"), (name, element))
    entries: list[tuple[str, str]] = []
    for start in starts:
        if start.element not in where:
            continue
        name, element = where[start.element]
        identifier = f"page-{start.index}"
        marker = etree.Element(X + "span", {EPUB_TYPE: "pagebreak", "role": "doc-pagebreak", "id": identifier,
                                            "aria-label": start.label})
        _place_marker(element, marker)
        entries.append((f"{name}#{identifier}", start.label))
    return entries


def _link_across_documents(documents: list[tuple[str, etree._Element]]) -> None:
    """Same-document links (#id) whose target lives in another document point at that document."""
    owner = {element.get("id"): name for name, html in documents for element in html.iter()
             if isinstance(element.tag, str) and element.get("id")}
    for _, html in documents:
        local = {element.get("id") for element in html.iter() if isinstance(element.tag, str) and element.get("id")}
        for link in html.iter(X + "a"):
            href = link.get("href") or ""
            if href.startswith("#") and href[1:] not in local and href[1:] in owner:
                link.set("href", f"{owner[href[1:]]}{href}")


# --------------------------------------------------------------------------- the parts of the book


def draft_notice(ctx: Context) -> etree._Element:
    """The notice opening each document of a draft edition: a reader may open any chapter first."""
    return h("p", ctx.strings("Machine draft — not reviewed"), class_="draft-notice", role="note")


def content_documents(root: etree._Element, ctx: Context, cover_alt: str, cover_name: str) -> list[Document]:
    title = _plain(root.find("db:info/db:title", NS))
    documents = [
        Document("cover.xhtml", title, [h("section", h("img", src=cover_name, alt=cover_alt), class_="cover",
                                          epub_type="cover")], epub_type="cover"),
        Document("titlepage.xhtml", title, [title_page(root, ctx), copyright_page(root, ctx)]),
    ]
    notice = [draft_notice(ctx)] if ctx.drafts else []
    for part in root.xpath("db:preface | db:acknowledgements", namespaces=NS):
        documents.append(Document(f"{get_id(part)}.xhtml", _plain(part.find("db:info/db:title", NS)),
                                  [*notice, part_html(part, ctx)], epub_type="frontmatter"))
        notice = [draft_notice(ctx)] if ctx.drafts else []
    for chapter in root.xpath("db:chapter", namespaces=NS):
        documents.append(Document(f"{get_id(chapter)}.xhtml", _plain(chapter.find("db:info/db:title", NS)),
                                  [*notice, chapter_html(chapter, ctx)], epub_type="bodymatter"))
        notice = [draft_notice(ctx)] if ctx.drafts else []
    for document in documents:  # the print-only hooks on headings have no meaning here
        for part in document.body:
            for element in part.iter():
                element.attrib.pop("data-book", None)
                if element.get("epub-type"):
                    element.set(EPUB_TYPE, element.attrib.pop("epub-type"))
    documents[1].body[0].set(EPUB_TYPE, "titlepage")
    documents[1].body[1].set(EPUB_TYPE, "copyright-page")
    return documents


def navigation(root: etree._Element, ctx: Context, pages: list[tuple[str, str]]) -> list[etree._Element]:
    """The nav document's body: contents (parts, chapters, their sections), landmarks, page list."""
    toc = h("nav", h("h1", ctx.strings("Contents")), id="contents", role="doc-toc")
    toc.set(EPUB_TYPE, "toc")
    listing = h("ol")
    for part in root.xpath("db:preface | db:acknowledgements", namespaces=NS):
        title = part.find("db:info/db:title", NS)
        listing.append(h("li", _language(title, inline(title, h("a", href=f"{get_id(part)}.xhtml"), ctx), ctx),
                         class_="toc-part"))
    for chapter in root.xpath("db:chapter", namespaces=NS):
        name = f"{get_id(chapter)}.xhtml"
        label = ctx.strings("Chapter {number}", number=int(chapter.get("label") or 0))
        link = h("a", label + LABEL_SEPARATOR.get(ctx.lang, ": "), href=name)
        title = chapter.find("db:info/db:title", NS)
        item = h("li", link, class_="toc-chapter")
        if title.get(LANG, ctx.lang) != ctx.lang:  # an English title in a Khmer list says so
            link.append(_language(title, inline(title, h("span"), ctx), ctx))
        else:
            inline(title, link, ctx)
        sections = [s for s in chapter.xpath("db:section", namespaces=NS) if s.find("db:title", NS) is not None]
        if sections:
            nested = h("ol")
            for section in sections:
                heading = section.find("db:title", NS)
                nested.append(h("li", _language(heading, inline(heading, h("a", href=f"{name}#{get_id(section)}"),
                                                                 ctx), ctx)))
            item.append(nested)
        listing.append(item)
    toc.append(listing)
    first_chapter = root.find("db:chapter", NS)
    landmarks = h("nav", h("h2", ctx.strings("Landmarks")), h("ol",
                  _landmark("cover.xhtml", "cover", ctx.strings("Cover")),
                  _landmark("titlepage.xhtml", "titlepage", ctx.strings("Title page")),
                  _landmark("nav.xhtml#contents", "toc", ctx.strings("Contents")),
                  _landmark(f"{get_id(first_chapter)}.xhtml", "bodymatter", ctx.strings("Start of the text"))
                  if first_chapter is not None else None), hidden="hidden")
    landmarks.set(EPUB_TYPE, "landmarks")
    page_list = h("nav", h("h2", ctx.strings("Pages of the print edition")),
                  h("ol", *[h("li", h("a", label, href=href)) for href, label in pages]), hidden="hidden")
    page_list.set(EPUB_TYPE, "page-list")
    return [toc, landmarks, page_list] if pages else [toc, landmarks]


def _landmark(href: str, kind: str, label: str) -> etree._Element:
    link = h("a", label, href=href)
    link.set(EPUB_TYPE, kind)
    return h("li", link)


# --------------------------------------------------------------------------- fonts and style


def edition_fonts(config: BookConfig, lang: str) -> list[str]:
    """The families the edition sets text in: its body and heading faces, and the Latin face in Khmer."""
    body, heading = fonts_for(config, lang)
    families = [body, heading]
    if lang == "km":
        families.append(fonts_for(config, "en")[0])
    return list(dict.fromkeys(families))


def stylesheet(config: BookConfig, lang: str, fonts: list[EmbeddedFont], template: Path) -> str:
    body, heading = fonts_for(config, lang)
    serif, sans = GENERIC_FAMILIES.get(lang, GENERIC_FAMILIES["en"])
    system = ", ".join(SYSTEM_FALLBACKS.get(lang, ()))
    system = f"{system}, " if system else ""
    if lang == "km":  # as in print: Latin letters from the Latin face, Khmer from the Khmer one
        latin = fonts_for(config, "en")[0]
        body_stack = f'"{latin}", "{body}", {system}{serif}'
        heading_stack = f'"{latin}", "{heading}", "{body}", {system}{sans}'
    else:
        body_stack = f'"{body}", {system}{serif}'
        heading_stack = f'"{heading}", "{body}", {system}{sans}'
    rules = [f'@font-face {{ font-family: "{font.family}"; src: url("../{font.filename}"); }}' for font in fonts]
    leading = LEADING.get(lang, 1.5)  # Khmer stacks marks above and below the line: it needs more room
    rules += [f"body {{ font-family: {body_stack}; line-height: {leading}; }}",
              f"h1, h2, h3, h4, .chapter-label, .title-page .book-title {{ font-family: {heading_stack}; }}"]
    template_text = template.read_text(encoding="utf-8") if template.is_file() else ""
    if not template_text:
        raise RenderError("the EPUB stylesheet is missing", template, hint="restore templates/epub.css from git")
    return "\n".join(rule for rule in rules if rule) + "\n\n" + template_text


def _characters(documents: list[etree._Element]) -> str:
    used: set[str] = set()
    for html in documents:
        body = html.find(X + "body")
        used.update("".join(body.itertext()) if body is not None else "")
    # every character a font may be asked for: ideographic spaces and zero-width marks too, not controls
    return "".join(sorted(char for char in used if unicodedata.category(char) != "Cc"))


# --------------------------------------------------------------------------- package


def _meta(parent: etree._Element, prop: str, value: str, **attrs) -> etree._Element:
    element = etree.SubElement(parent, f"{{{OPF_NS}}}meta", property=prop, **attrs)
    element.text = value
    return element


def _dc(parent: etree._Element, name: str, value: str, **attrs) -> etree._Element:
    element = etree.SubElement(parent, f"{{{DC_NS}}}{name}", **attrs)
    element.text = value
    return element


def _file_as(person: etree._Element) -> str:
    surname, given = _plain(person.find("db:surname", NS)), _plain(person.find("db:firstname", NS))
    return f"{surname}, {given}" if surname and given else person_text(person)


def package_document(root: etree._Element, lang: str, config: BookConfig, *, modified: datetime,
                     manifest: list[tuple[str, str, str, str | None]], spine: list[tuple[str, bool]],
                     english_blocks: int, figures_with_images: int, figures_without: int,
                     page_markers: int, draft_label: str | None = None) -> bytes:
    """content.opf: metadata, manifest (id, href, media type, properties) and spine."""
    info = root.find("db:info", NS)
    title = _plain(info.find("db:title", NS))
    isbn = _digits(config.edition_isbn(lang, "epub", printed_isbn(root)))  # this EPUB's own, or none
    print_isbn = _digits(config.edition_isbn(lang, "pdf", printed_isbn(root)))  # the pages its page list follows
    package = etree.Element(f"{{{OPF_NS}}}package", nsmap={None: OPF_NS}, version="3.0",
                            attrib={"unique-identifier": "pub-id", XML_LANG: lang})
    metadata = etree.SubElement(package, f"{{{OPF_NS}}}metadata", nsmap={"dc": DC_NS})
    # without an ISBN of its own, a UUID made from the title, language and format: stable across builds
    identifier = f"urn:isbn:{isbn}" if isbn else f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{title}/{lang}/epub')}"
    _dc(metadata, "identifier", identifier, id="pub-id")
    _dc(metadata, "title", title, id="title")
    _meta(metadata, "title-type", "main", refines="#title")
    if draft_label:  # a draft edition says so where reading systems list books, not only inside
        _dc(metadata, "title", draft_label, id="edition")
        _meta(metadata, "title-type", "edition", refines="#edition")
    _dc(metadata, "language", lang)
    if english_blocks and lang != config.source_language:
        _dc(metadata, "language", config.source_language)
    for number, person in enumerate(info.xpath("db:editor/db:personname", namespaces=NS), 1):
        _dc(metadata, "creator", person_text(person), id=f"editor-{number}")
        _meta(metadata, "role", "edt", refines=f"#editor-{number}", scheme="marc:relators")
        _meta(metadata, "file-as", _file_as(person), refines=f"#editor-{number}")
    authors: dict[str, etree._Element] = {}
    for person in root.xpath("(db:preface | db:acknowledgements | db:chapter)/db:info/db:author/db:personname",
                             namespaces=NS):
        authors.setdefault(person_text(person), person)
    for number, (name, person) in enumerate(authors.items(), 1):
        _dc(metadata, "contributor", name, id=f"author-{number}")
        _meta(metadata, "role", "aut", refines=f"#author-{number}", scheme="marc:relators")
        _meta(metadata, "file-as", _file_as(person), refines=f"#author-{number}")
    publisher = _plain(info.find("db:publisher/db:publishername", NS))
    if publisher:
        _dc(metadata, "publisher", publisher)
    year = _plain(info.find("db:copyright/db:year", NS))
    if year.isdigit():
        _dc(metadata, "date", year)
    holder = _plain(info.find("db:copyright/db:holder", NS))
    rights = " ".join(filter(None, [f"Copyright © {year} {holder}.".strip() if year or holder else "",
                                    *[_plain(p) for p in info.xpath("db:legalnotice[@role='rights']/db:para",
                                                                     namespaces=NS)]]))
    if rights:
        _dc(metadata, "rights", rights)
    if config.subject_for(lang) or draft_label:
        _dc(metadata, "description", " ".join(filter(None, [f"{draft_label}." if draft_label else None,
                                                            config.subject_for(lang)])))
    for keyword in config.keywords_for(lang):
        _dc(metadata, "subject", keyword)
    if print_isbn and page_markers:  # the print edition the page list follows (EPUB 3.2 form)
        _dc(metadata, "source", f"urn:isbn:{print_isbn}", id="print-source")
        _meta(metadata, "source-of", "pagination", refines="#print-source")
    _meta(metadata, "dcterms:modified", modified.strftime("%Y-%m-%dT%H:%M:%SZ"))
    _accessibility(metadata, title, print_isbn, english_blocks=english_blocks if lang != config.source_language else 0,
                   figures_with_images=figures_with_images, figures_without=figures_without,
                   page_markers=page_markers)
    etree.SubElement(metadata, f"{{{OPF_NS}}}meta", name="cover", content="cover-image")
    manifest_element = etree.SubElement(package, f"{{{OPF_NS}}}manifest")
    for item_id, href, media_type, properties in manifest:
        attrs = {"id": item_id, "href": href, "media-type": media_type}
        if properties:
            attrs["properties"] = properties
        etree.SubElement(manifest_element, f"{{{OPF_NS}}}item", attrs)
    spine_element = etree.SubElement(package, f"{{{OPF_NS}}}spine")
    for item_id, linear in spine:
        etree.SubElement(spine_element, f"{{{OPF_NS}}}itemref", idref=item_id, **({} if linear else {"linear": "no"}))
    return etree.tostring(package, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _accessibility(metadata: etree._Element, title: str, isbn: str, *, english_blocks: int,
                   figures_with_images: int, figures_without: int, page_markers: int) -> None:
    """What the book offers a reader using assistive technology, claimed only where it holds."""
    _meta(metadata, "schema:accessMode", "textual")
    _meta(metadata, "schema:accessMode", "visual")  # the cover, and any figure images
    _meta(metadata, "schema:accessModeSufficient", "textual")
    features = ["structuralNavigation", "tableOfContents", "readingOrder", "displayTransformability"]
    if page_markers:
        features += ["pageBreakMarkers", "pageNavigation"]
    if figures_with_images and not figures_without:
        features.append("alternativeText")
    for feature in features:
        _meta(metadata, "schema:accessibilityFeature", feature)
    _meta(metadata, "schema:accessibilityHazard", "none")
    summary = [("Reflowable text with headings, a table of contents and landmarks;"
                " endnotes linked to and from their markers; tables with captions and header cells.")]
    if page_markers:
        summary.append(f"Page numbers of the print edition{f' (ISBN {isbn})' if isbn else ''} are marked in the text"
                       " and listed for navigation.")
    if figures_without:
        summary.append(f"{figures_without} figure(s) are described by their captions only: their images were not"
                       " supplied with the manuscript.")
    if figures_with_images:
        summary.append("Figure images have text alternatives taken from their titles.")
    if english_blocks:
        summary.append(f"{english_blocks} passages not yet translated are shown in English and marked as English.")
    summary.append("The cover image has a text alternative giving the title.")
    _meta(metadata, "schema:accessibilitySummary", " ".join(summary))
    _meta(metadata, "dcterms:conformsTo", CONFORMANCE)
    # The page list's source is named by dc:source + source-of "pagination" (package_document). EPUB 3.3's
    # a11y:pageBreakSource is not known to EPUBCheck 4.2.6, which reports it as an error (OPF-027).


CONTAINER = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
             b'<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">\n'
             b'  <rootfiles>\n'
             b'    <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>\n'
             b'  </rootfiles>\n</container>\n')


def zip_package(files: dict[str, bytes], modified: datetime) -> bytes:
    """The EPUB container: ``mimetype`` first and stored, then every file in name order, all dated ``modified``."""
    stamp = max(modified, datetime(1980, 1, 1, tzinfo=UTC)).timetuple()[:6]
    members = [("mimetype", b"application/epub+zip", False)] + [(name, files[name], True) for name in sorted(files)]
    return make_zip(members, stamp)


# --------------------------------------------------------------------------- the edition


def edition_cover(root: etree._Element, lang: str, config: BookConfig, ctx: Context) -> Cover:
    path = supplied_cover(config)
    if path is not None:
        return load_cover(path, config)
    info = root.find("db:info", NS)
    editors = [person_text(p) for p in info.xpath("db:editor/db:personname", namespaces=NS)]
    return _drawn_cover(config, _plain(info.find("db:title", NS)), editors, ctx.strings("Edited by"),
                        _plain(info.find("db:publisher/db:publishername", NS)), lang, fonts_for(config, lang),
                        fonts_for(config, "en")[1])


def _drawn_cover(config: BookConfig, title: str, editors: list[str], edited_by: str, publisher: str, lang: str,
                 fonts: tuple[str, str], latin_font: str) -> Cover:
    """The typographic cover, kept in ``output/.cache/covers`` by everything it is drawn from (its words, the
    font files, Pillow and the drawing code): compressing the PNG took a tenth of a second per edition, every
    time a sentence of the book changed."""
    import PIL

    from . import cover as cover_module
    from ..manifest import fonts_used
    arguments = (title, editors, edited_by, publisher, lang, fonts, latin_font)
    digest = hashlib.sha256(json.dumps([arguments, fonts_used(config), PIL.__version__], ensure_ascii=False).encode())
    digest.update(Path(cover_module.__file__).read_bytes())
    folder = config.output_dir / ".cache" / "covers"
    kept = folder / f"{lang}-{digest.hexdigest()}.png"
    try:
        return Cover(kept.read_bytes(), "image/png", "png", None)
    except OSError:
        pass
    cover = draw_cover(*arguments)
    for older in folder.glob(f"{lang}-*.png"):  # this language's cover as it was drawn before
        older.unlink(missing_ok=True)
    atomic_write(kept, cover.data)
    return cover


def render_epub(root: etree._Element, lang: str, config: BookConfig, output: Path, *,
                images: dict[str, Path] | None = None, page_starts: list[PageStart] | None = None,
                drafts: bool = False) -> EpubResult:
    """Write the ``lang`` edition of ``root`` (already localized) to ``output`` as EPUB 3."""
    started = time.perf_counter()
    images = images or {}
    modified = modification_time(config)
    ctx = Context(lang=lang, strings=ui_strings(lang, config.project_dir / "locales"), notes="endnotes", drafts=drafts,
                  images={key: f"images/{key}{path.suffix.lower()}" for key, path in sorted(images.items())},
                  isbn=config.edition_isbn(lang, "epub", printed_isbn(root)))
    title = _plain(root.find("db:info/db:title", NS))
    cover = edition_cover(root, lang, config, ctx)
    cover_name = f"images/cover.{cover.extension}"
    documents = content_documents(root, ctx, ctx.strings("Cover") + ": " + title, cover_name)
    nav_document = Document("nav.xhtml", ctx.strings("Contents"), [])
    trees = [(document.name, xhtml_document(document, lang)) for document in documents]
    _link_across_documents(trees)
    pages = add_page_markers(trees, page_starts or [])
    nav_document.body = [to_xhtml(part, lang) for part in navigation(root, ctx, pages)]
    nav_tree = xhtml_document(nav_document, lang)
    all_trees = trees[:2] + [("nav.xhtml", nav_tree)] + trees[2:]

    fonts = subset_fonts([find_face(family) for family in edition_fonts(config, lang)],
                         _characters([tree for _, tree in all_trees]), cache_dir=config.output_dir / ".cache" / "fonts")
    css = stylesheet(config, lang, fonts, config.project_dir / "templates" / "epub.css")

    files: dict[str, bytes] = {"META-INF/container.xml": CONTAINER, "OEBPS/css/book.css": css.encode("utf-8"),
                               f"OEBPS/{cover_name}": cover.data}
    manifest: list[tuple[str, str, str, str | None]] = [
        ("css", "css/book.css", "text/css", None), ("cover-image", cover_name, cover.media_type, "cover-image")]
    for font in fonts:
        files[f"OEBPS/{font.filename}"] = font.data
        manifest.append((f"font-{Path(font.filename).stem}", font.filename, font.media_type, None))
    used_images = {key: path for key, path in images.items() if any(
        image.get("src") == ctx.images.get(key) for _, tree in trees for image in tree.iter(X + "img"))}
    for key, path in sorted(used_images.items()):
        files[f"OEBPS/{ctx.images[key]}"] = read_input_bytes(path, config.limits, what="image")
        manifest.append((f"image-{key}", ctx.images[key], SUPPORTED[path.suffix.lower()], None))
    spine: list[tuple[str, bool]] = []
    for name, tree in all_trees:
        files[f"OEBPS/{name}"] = serialize(tree)
        item_id = "nav" if name == "nav.xhtml" else "doc-" + name.removesuffix(".xhtml")
        manifest.append((item_id, name, "application/xhtml+xml", "nav" if name == "nav.xhtml" else None))
        spine.append((item_id, True))
    figures = root.xpath("//db:figure", namespaces=NS)
    with_images = sum(1 for figure in figures if get_id(figure) in used_images)
    files["OEBPS/content.opf"] = package_document(
        root, lang, config, modified=modified, manifest=sorted(manifest, key=lambda item: item[1]), spine=spine,
        english_blocks=ctx.fallbacks, figures_with_images=with_images, figures_without=len(figures) - with_images,
        page_markers=len(pages), draft_label=ctx.strings("Machine draft — not reviewed") if drafts else None)
    data = zip_package(files, modified)
    written = atomic_write(output, data)
    return EpubResult(lang, output, len(data), time.perf_counter() - started, written, len(all_trees), len(pages),
                      ctx.fallbacks, [font.family for font in fonts], ctx.missing_images)
