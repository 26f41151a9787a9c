"""Where a repair's finding is: the source position of an element and the part it belongs to.

One rule for every repair, so the report files each finding under the same heading: the scope is
the enclosing part of the book (a chapter or a front-matter part), never a section inside it.
"""

from __future__ import annotations

import re

from lxml import etree

from ..docbook import source_of, text_of
from ..findings import Findings
from ..ingest.model import Where

PARTS = ("chapter", "preface", "acknowledgements", "appendix")
_XML_ID = "{http://www.w3.org/XML/1998/namespace}id"


def where_of(element: etree._Element) -> Where:
    """The manuscript position the element came from (line; page for a PDF; paragraph for a DOCX), from its
    ``src`` mark."""
    origin = source_of(element)
    if "line" in origin:
        return Where(line=int(origin["line"]))
    if "page" in origin:
        return Where(page=int(origin["page"]))
    return Where(paragraph=int(origin["paragraph"])) if "paragraph" in origin else Where()  # a DOCX has no lines


def scope_of(element: etree._Element) -> str | None:
    """The xml:id of the chapter or front-matter part holding the element (None for the book's own info)."""
    return next((ancestor.get(_XML_ID) for ancestor in element.iterancestors()
                 if etree.QName(ancestor).localname in PARTS), None)


def line_at(element: etree._Element, offset: int, findings: Findings | None = None) -> Where:
    """The manuscript line holding character ``offset`` of the element's text (as ``text_of`` counts it).

    An element made of several lines (a paragraph re-joined across a page break) records only its first
    and last line; where each later line starts is found from the join findings that made it.
    """
    origin = source_of(element)
    if "line" not in origin:
        return where_of(element)
    line = first = int(origin["line"])
    last = int(origin.get("to-line", first))
    if last == first or findings is None:
        return Where(line=first)
    text = text_of(element)
    for finding in findings.of_type("page-break-join"):
        lines = finding.lines
        if len(lines) != 2 or not first <= lines[0] < lines[1] <= last or lines[1] <= line:
            continue
        head = re.split(r"[\d…]", (finding.before or "").split(" ¶ ", 1)[-1], maxsplit=1)[0][:30]
        position = text.find(head) if len(head) >= 8 else -1
        if 0 <= position <= offset:
            line = lines[1]
    return Where(line=line)


def place_unscoped(root: etree._Element, findings: Findings) -> None:
    """Findings the reader made before the book had parts (a markup leftover in a chapter's notes) carry no
    chapter; the report files each under the part whose lines hold it (``data["part"]``; the id is unchanged)."""
    starts: list[tuple[int, str]] = []
    for part in root:
        identifier = part.get(_XML_ID) if isinstance(part.tag, str) else None
        lines = [int(value) for pi in part.xpath(".//processing-instruction('src')")
                 for value in re.findall(r'\bline="(\d+)"', pi.text or "")]
        if identifier and lines:
            starts.append((min(lines), identifier))
    starts.sort()
    for finding in findings:
        line = finding.where.line if finding.where else None
        if finding.chapter is not None or line is None or finding.type == "dropped-text":
            continue
        part = next((identifier for start, identifier in reversed(starts) if start <= line), None)
        if part:
            finding.data["part"] = part
