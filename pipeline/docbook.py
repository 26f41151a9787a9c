"""The DocBook 5.0 vocabulary as the pipeline uses it: building, provenance, validation, writing.

Provenance (where a block came from in the manuscript) travels as a processing instruction
``<?src line="167"?>`` as the first child of the block: schema-valid anywhere, ignored by other
DocBook tools, and carried along when a block is moved.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from lxml import etree

from .errors import EnvironmentProblem
from .ingest.model import Span, Where
from .safety import parse_xml

DB_NS = "http://docbook.org/ns/docbook"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
NSMAP = {None: DB_NS, "xlink": XLINK_NS}
NS = {"db": DB_NS, "xlink": XLINK_NS}
SOURCE_PI = "src"

SCHEMA_CANDIDATES = (
    "/usr/share/xml/docbook/schema/rng/5.0/docbook.rng",
    "/usr/share/xml/docbook5/schema/rng/5.0/docbook.rng",
    "/usr/share/sgml/docbook/xml-dtd-5.0/rng/docbook.rng",
)

# Elements whose content is only other elements: safe to indent without changing any text.
_CONTAINERS = {
    "book", "info", "chapter", "preface", "acknowledgements", "section", "toc", "tocdiv", "bibliography",
    "itemizedlist", "orderedlist", "listitem", "glosslist", "glossentry", "glossdef", "table", "tgroup",
    "thead", "tbody", "row", "figure", "mediaobject", "textobject", "imageobject", "caption", "author",
    "editor", "affiliation", "publisher", "copyright", "legalnotice", "footnote", "appendix",
}


def q(tag: str) -> str:
    """The qualified DocBook name of ``tag``."""
    return f"{{{DB_NS}}}{tag}"


def el(tag: str, *children, attrs: Mapping[str, str | None] | None = None, text: str | None = None) -> etree._Element:
    """Build a DocBook element; ``children`` may be elements or strings (appended as text).
    Attributes whose value is None are left out, so callers can write optional ones inline."""
    element = etree.Element(q(tag), nsmap=NSMAP if tag == "book" else None)
    if attrs:
        for key, value in attrs.items():
            if value is not None:
                element.set(key, str(value))
    if text:
        element.text = text
    for child in children:
        append(element, child)
    return element


def remove_keeping_tail(element: etree._Element) -> None:
    """Take an element out of mixed content, keeping the text that followed it where it stood."""
    parent = element.getparent()
    tail = element.tail or ""
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def unwrap(element: etree._Element) -> None:
    """Put an inline element's content in its place: its text, children and tail stay where they stood, the
    element goes (a link the editions must not carry, or one to a bookmark the manuscript lacks)."""
    parent = element.getparent()
    index = parent.index(element)
    previous = element.getprevious()
    text = element.text or ""
    if previous is not None:
        previous.tail = (previous.tail or "") + text
    else:
        parent.text = (parent.text or "") + text
    children = list(element)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    last = children[-1] if children else element.getprevious()
    if last is not None:
        last.tail = (last.tail or "") + (element.tail or "")
    else:
        parent.text = (parent.text or "") + (element.tail or "")
    parent.remove(element)


def append(parent: etree._Element, child) -> None:
    """Append an element or a string to mixed content."""
    if child is None:
        return
    if isinstance(child, str):
        if len(parent):
            parent[-1].tail = (parent[-1].tail or "") + child
        else:
            parent.text = (parent.text or "") + child
    else:
        parent.append(child)


def ascii_digits(value: str) -> str:
    """A name made from printed numbers keeps to ASCII digits: a Khmer edition's note ``១`` is ``ch1-fn1``
    and label ``1``, since libxml2 (XML 1.0 before its fifth edition) refuses other digits in an ``xml:id``
    or an NMTOKEN such as a footnote's ``label``. The printed digits stay in the report's word balance."""
    if value.isascii():
        return value
    return "".join(str(unicodedata.digit(char)) if char.isdecimal() else char for char in value)


_NMTOKEN = re.compile(r"[A-Za-z0-9._:-]+")


def token_label(label: str) -> str | None:
    """``label`` as an NMTOKEN (a footnote's label must be one), or None when a printed mark (``*``,
    ``†``) cannot be one: the mark is then the element's content alone."""
    label = ascii_digits(label.strip())
    return label if _NMTOKEN.fullmatch(label) else None


def set_id(element: etree._Element, value: str) -> None:
    element.set(f"{{{XML_NS}}}id", ascii_digits(value))


def get_id(element: etree._Element) -> str | None:
    return element.get(f"{{{XML_NS}}}id")


def mark_source(element: etree._Element, where: Where | None) -> None:
    """Record where a block came from, as the block's first child."""
    if where is None or not where.pi_data():
        return
    pi = etree.ProcessingInstruction(SOURCE_PI, where.pi_data())
    pi.tail = element.text
    element.text = None
    element.insert(0, pi)


def source_of(element: etree._Element) -> dict[str, str]:
    """The provenance recorded on ``element`` (or its nearest marked ancestor)."""
    node = element
    while node is not None:
        for child in node:
            if isinstance(child, etree._ProcessingInstruction) and child.target == SOURCE_PI:
                return _pi_pairs(child.text or "")
            if not isinstance(child, (etree._ProcessingInstruction, etree._Comment)):
                break
        node = node.getparent()
    return {}


def _pi_pairs(data: str) -> dict[str, str]:
    pairs = {}
    for part in data.split():
        if "=" in part:
            key, _, value = part.partition("=")
            pairs[key] = value.strip('"')
    return pairs


def fill_inline(parent: etree._Element, spans: Iterable[Span], note_factory=None) -> None:
    """Append spans to ``parent`` as DocBook inline markup.

    ``note_factory(span)`` turns a note marker or an attached note into an element (a
    footnote); without it, markers stay superscripts.
    """
    for span in spans:
        if span.note is not None or (span.superscript and note_factory is not None):
            node = note_factory(span) if note_factory else None
            if node is not None:
                append(parent, node)
                continue
        if span.anchor is not None:
            append(parent, el("anchor", attrs={f"{{{XML_NS}}}id": bookmark_id(span.anchor)}))
            continue
        if span.remark is not None:
            append(parent, remark_element(span.remark, span.remark_by))
            continue
        if "linebreak" in span.marks and not span.text.strip():
            append(parent, etree.ProcessingInstruction(LINEBREAK_PI))
            append(parent, span.text or "\n")
            continue
        node = _inline_element(span)
        if not _joined_link(parent, node):
            append(parent, node if node is not None else span.text)


def _joined_link(parent: etree._Element, node: etree._Element | None) -> bool:
    """A link continuing the link just before it (same target, nothing between: a DOCX link whose
    words change style part-way) goes into that link rather than beside it."""
    if node is None or node.tag != q("link") or not len(parent):
        return False
    previous = parent[-1]
    if previous.tag != q("link") or previous.tail or dict(previous.attrib) != dict(node.attrib):
        return False
    append(previous, node.text or "")
    for child in list(node):
        previous.append(child)
    return True


LINEBREAK_PI = "linebreak"  # DocBook XSL's own processing instruction for a forced line break
BOOKMARK_PREFIX = "bm-"
# Span.marks -> DocBook: "subscript" <subscript>, "code" <code>, "linebreak" <?linebreak?>, and these
# emphasis roles (as pandoc's DocBook writer names them):
_MARK_ELEMENTS = (("underline", "emphasis", "underline"), ("strikethrough", "emphasis", "strikethrough"),
                  ("smallcaps", "emphasis", "smallcaps"))


def bookmark_id(name: str) -> str:
    """The xml:id a source bookmark (a DOCX ``w:bookmarkStart`` name) gets: an NCName, prefixed."""
    cleaned = re.sub(r"[^\w.-]", lambda match: f"_{ord(match.group()):x}_", name, flags=re.ASCII)
    return BOOKMARK_PREFIX + cleaned  # other characters spelled out, so two names never share an id


def remark_element(text: str, author: str | None) -> etree._Element:
    """An editor's comment as ``<remark role="comment">``, its author in a ``<?comment-by …?>`` PI."""
    remark = el("remark", attrs={"role": "comment"}, text=text)
    if author:
        pi = etree.ProcessingInstruction("comment-by", author.replace("?>", "? >"))
        pi.tail, remark.text = remark.text, None
        remark.insert(0, pi)
    return remark


def _inline_element(span: Span) -> etree._Element | None:
    inner: etree._Element | None = inline_image(span.image, span.text) if span.image is not None else None

    def wrap(tag: str, attrs: dict[str, str] | None = None) -> None:
        nonlocal inner
        outer = el(tag, attrs=attrs)
        if inner is None:
            outer.text = span.text
        else:
            outer.append(inner)
        inner = outer

    if span.image is None:  # sub- and superscript innermost: they may not hold code
        if "subscript" in span.marks:
            wrap("subscript")
        if span.superscript:
            wrap("superscript")
        if "code" in span.marks:
            wrap("code")
    for mark, tag, role in _MARK_ELEMENTS:
        if mark in span.marks:
            wrap(tag, {"role": role})
    if span.strong:
        wrap("emphasis", {"role": "bold"})
    if span.emphasis:
        wrap("emphasis")
    if span.href and span.href.startswith("#"):  # the link outermost, so that a link's styled pieces join
        wrap("link", {"linkend": bookmark_id(span.href[1:])})
    elif span.href:
        wrap("link", {f"{{{XLINK_NS}}}href": span.href})
    return inner


def inline_image(fileref: str, alt: str) -> etree._Element:
    """A picture inside running text; ``fileref`` is under the book's media/ (empty: not supplied)."""
    media = el("inlinemediaobject")
    if fileref:
        media.append(el("imageobject", el("imagedata", attrs={"fileref": f"media/{fileref}"})))
    media.append(el("textobject", el("phrase", text=alt), attrs=None if fileref else {"role": "missing-image"}))
    return media


def text_of(element: etree._Element) -> str:
    """The visible text of an element, without processing instructions, comments or footnotes."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if node.text and not isinstance(node, (etree._ProcessingInstruction, etree._Comment)):
            parts.append(node.text)
        for child in node:
            if isinstance(child, (etree._ProcessingInstruction, etree._Comment)) or child.tag == q("footnote"):
                pass
            else:
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(element)
    return "".join(parts)


# --------------------------------------------------------------------------- validation


def schema_path() -> Path:
    """Where the DocBook 5.0 RELAX NG schema is; DOCBOOK5_RNG overrides the search."""
    override = os.environ.get("DOCBOOK5_RNG")
    candidates = (override,) if override else SCHEMA_CANDIDATES
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise EnvironmentProblem(
        "the DocBook 5.0 RELAX NG schema is not installed", candidates[0],
        hint="install it with 'apt-get install docbook5-xml' (or set DOCBOOK5_RNG to docbook.rng)")


@lru_cache(maxsize=1)
def _relaxng(path: str) -> etree.RelaxNG:
    schema = parse_xml(Path(path).read_bytes(), path)
    return etree.RelaxNG(etree.ElementTree(schema))


def validate(root: etree._Element) -> list[str]:
    """Problems that make ``root`` invalid DocBook 5.0 (empty when it is valid).

    RELAX NG checks the grammar; the rules DocBook states in Schematron that matter to us
    (no footnote inside a footnote, unique ids, links that resolve) are checked here too.
    """
    schema = _relaxng(str(schema_path()))
    problems: list[str] = []
    if not schema.validate(etree.ElementTree(root)):
        for entry in schema.error_log:
            problems.append(f"line {entry.line}: {entry.message}")
    problems.extend(_schematron_rules(root))
    return problems


def _schematron_rules(root: etree._Element) -> list[str]:
    problems = []
    ids: dict[str, int] = {}
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        value = get_id(node)
        if value:
            ids[value] = ids.get(value, 0) + 1
    problems += [f"duplicate xml:id {value!r}" for value, count in ids.items() if count > 1]
    for note in root.iter(q("footnote")):
        if any(True for _ in note.iterancestors(q("footnote"))):
            problems.append(f"footnote inside a footnote (label {note.get('label')})")
    for ref in root.iter(q("footnoteref"), q("xref"), q("link")):
        target = ref.get("linkend")
        if target and target not in ids:
            problems.append(f"{etree.QName(ref).localname} points to missing id {target!r}")
    return problems


# --------------------------------------------------------------------------- writing


def indent_blocks(root: etree._Element, level: int = 0) -> None:
    """Indent element-only containers for readable diffs, never touching mixed content."""
    name = etree.QName(root).localname if isinstance(root.tag, str) else None
    if name not in _CONTAINERS or (root.text and root.text.strip()):
        return
    if any((child.tail and child.tail.strip()) for child in root):
        return
    children = list(root)
    if not children:
        return
    pad = "\n" + "  " * (level + 1)
    root.text = pad
    for child in children:
        child.tail = pad
        if isinstance(child.tag, str):
            indent_blocks(child, level + 1)
    children[-1].tail = "\n" + "  " * level


def serialize(root: etree._Element) -> bytes:
    """The bytes of ``output/xml/book.xml``: UTF-8, declaration, indented containers."""
    indent_blocks(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"
