"""Where a repair's finding is: the source position of an element and the part it belongs to.

One rule for every repair, so the report files each finding under the same heading: the scope is
the enclosing part of the book (a chapter or a front-matter part), never a section inside it.
"""

from __future__ import annotations

from lxml import etree

from ..docbook import source_of
from ..ingest.model import Where

PARTS = ("chapter", "preface", "acknowledgements", "appendix")
_XML_ID = "{http://www.w3.org/XML/1998/namespace}id"


def where_of(element: etree._Element) -> Where:
    """The manuscript position the element came from (line, or page for a PDF), from its ``src`` mark."""
    origin = source_of(element)
    if "line" in origin:
        return Where(line=int(origin["line"]))
    return Where(page=int(origin["page"])) if "page" in origin else Where()


def scope_of(element: etree._Element) -> str | None:
    """The xml:id of the chapter or front-matter part holding the element (None for the book's own info)."""
    return next((ancestor.get(_XML_ID) for ancestor in element.iterancestors()
                 if etree.QName(ancestor).localname in PARTS), None)
