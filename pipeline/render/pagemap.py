"""Where the print edition's pages begin, so the EPUB's page list cites the same page numbers.

After WeasyPrint lays the print document out, each page knows the ids of the elements on it.
An element *starts* on the first page that knows its id; the first element (in reading order)
starting on a page marks where that page begins. Pages on which nothing starts (blank versos,
the inside of a long table) get no marker. Folios follow the print design: lower-roman from the
title page, arabic (in the language's digits) from the first chapter's opener, which resets the
page counter to 1 (templates/print.css).

The map is written to ``output/<lang>/pagemap.json`` with a digest of the print HTML and
stylesheet it came from, so an EPUB-only build reuses it while it still describes the print
edition, and lays the print edition out again (without writing a PDF) when it does not.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ..safety import atomic_write, read_regular_file
from .strings import Strings

PAGEMAP_VERSION = 2  # 2: the map records its own hash


@dataclass(frozen=True)
class PageStart:
    index: int  # 1-based page of the PDF
    label: str  # the printed folio
    element: str  # id of the first element starting on that page


def roman(number: int) -> str:
    """Lower-case roman numerals, as CSS ``lower-roman`` prints them."""
    out = []
    for value, letters in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
                           (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while number >= value:
            out.append(letters)
            number -= value
    return "".join(out)


def folio(index: int, first_body_page: int | None, strings: Strings) -> str:
    """The number printed on PDF page ``index`` (1-based)."""
    if first_body_page is None or index < first_body_page:
        return roman(index)
    return strings.number(index - first_body_page + 1)


def first_body_page(pages, document: etree._Element) -> int | None:
    """The 1-based page where the first chapter (and arabic folios) begin, if there is one."""
    first_chapter = next(iter(document.xpath("//*[contains(concat(' ', @class, ' '), ' first-chapter ')]/@id")), None)
    return next((number for number, page in enumerate(pages, 1) if first_chapter in page.anchors), None)


def page_starts(pages, document: etree._Element, strings: Strings) -> list[PageStart]:
    """The page starts of a laid-out WeasyPrint document whose source tree is ``document``."""
    first_body = first_body_page(pages, document)
    return [PageStart(number, folio(number, first_body, strings), first)
            for number, first in starting_elements(pages, document_order(document))]


def document_order(document: etree._Element) -> list[str]:
    """The ids of the document's elements in reading order."""
    return [element.get("id") for element in document.iter() if isinstance(element.tag, str) and element.get("id")]


def starting_elements(pages, ids: list[str]) -> list[tuple[int, str]]:
    """(1-based page, id of the first element, in reading order, that starts on it) for each page on which
    an element starts."""
    order = {identifier: position for position, identifier in enumerate(ids)}
    seen: set[str] = set()
    starts: list[tuple[int, str]] = []
    for number, page in enumerate(pages, 1):
        starting = [anchor for anchor in page.anchors if anchor not in seen and anchor in order]
        seen.update(page.anchors)
        if starting:
            starts.append((number, min(starting, key=order.__getitem__)))
    return starts


def print_digest(html: str, stylesheet: Path) -> str:
    """What the page map depends on: the print HTML (book, language, settings) and the design."""
    digest = hashlib.sha256(html.encode("utf-8"))
    digest.update(b"\0" + stylesheet.read_bytes() + f"\0{PAGEMAP_VERSION}".encode())
    return digest.hexdigest()


def save_page_map(path: Path, digest: str, pages: int, starts: list[PageStart]) -> None:
    data: dict = {"version": PAGEMAP_VERSION, "print_digest": digest, "pages": pages,
                  "starts": [[start.index, start.label, start.element] for start in starts]}
    data["sha256"] = _content_digest(data)
    atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def load_page_map(path: Path, digest: str) -> list[PageStart] | None:
    """The saved page starts, or None when there are none, they describe another print edition, or the file is
    not what was saved (edited, truncated, a link: a page list is then made from the layout again)."""
    try:
        data = json.loads(read_regular_file(path).decode("utf-8"))
        if data.get("version") != PAGEMAP_VERSION or data.get("print_digest") != digest \
                or data.get("sha256") != _content_digest(data):
            return None
        return [PageStart(int(index), str(label), str(element)) for index, label, element in data["starts"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _content_digest(data: dict) -> str:
    content = {name: value for name, value in data.items() if name != "sha256"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
