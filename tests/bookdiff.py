"""Compare two DocBook books element by element and say readably where they differ.

Used by the round-trip tests: a book read back from one of its own editions (or from a
PDF another tool made of it) must be the same book as the one the manuscript gave. What
is compared is what a reader must keep: editors, the front-matter parts, chapters with
their titles, authors, section outline, paragraphs, lists, notes, tables with every row,
glossaries and reference lists. Text is compared with whitespace collapsed and line-end
hyphenation undone, since a typeset page cannot say more than that.
"""

from __future__ import annotations

import difflib
import re

from lxml import etree

from pipeline.docbook import NS, text_of

PARTS = "db:preface | db:acknowledgements | db:appendix"
BODY_PARAS = (".//db:para[not(ancestor::db:footnote) and not(ancestor::db:info) and not(ancestor::db:table)"
              " and not(ancestor::db:informaltable) and not(ancestor::db:glossdef) and not(ancestor::db:listitem)]")


_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})


def normalise(text: str) -> str:
    """Whitespace collapsed, soft and line-end hyphens gone, a space before punctuation dropped, and
    quotes straight: the print edition sets typographic quotes where the manuscript had straight ones."""
    text = text.replace("\u00ad", "").replace("\u2010", "").translate(_QUOTES)
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r" ([.,;:])", r"\1", text)


def _texts(element: etree._Element, xpath: str) -> list[str]:
    return [normalise(text_of(found)) for found in element.xpath(xpath, namespaces=NS)]


def _person(element: etree._Element) -> str:
    return normalise(" ".join(element.xpath(".//text()")))


def _tables(element: etree._Element) -> list[dict]:
    tables = []
    for table in element.xpath(".//db:table | .//db:informaltable", namespaces=NS):
        tables.append({
            "label": table.get("label"),
            "title": normalise(text_of(table.find("db:title", NS))) if table.find("db:title", NS) is not None else "",
            "rows": [[normalise(text_of(entry)) for entry in row.xpath("db:entry", namespaces=NS)]
                     for row in table.xpath(".//db:row", namespaces=NS)],
        })
    return tables


def _division(element: etree._Element) -> dict:
    return {
        "title": normalise(text_of(element.find("db:info/db:title", NS))),
        "authors": [_person(person) for person in element.xpath("db:info/db:author/db:personname", namespaces=NS)],
        "sections": [(len(section.xpath("ancestor::db:section", namespaces=NS)),
                      normalise(text_of(section.find("db:title", NS))))
                     for section in element.xpath(".//db:section", namespaces=NS)],
        "paragraphs": _texts(element, BODY_PARAS),
        "list items": _texts(element, ".//db:listitem"),
        "notes": _texts(element, ".//db:footnote"),
        "references": _texts(element, ".//db:bibliomixed"),
        "glossary": _texts(element, ".//db:glossentry/db:glossterm"),
        "tables": _tables(element),
    }


def outline(root: etree._Element) -> dict:
    """What must survive a round trip, keyed so that a difference names its place."""
    book = {"editors": [_person(person) for person in root.xpath("db:info/db:editor/db:personname", namespaces=NS)],
            "printed contents": bool(root.xpath("db:toc[@role='printed']", namespaces=NS))}
    for part in root.xpath(PARTS, namespaces=NS):
        book[f"{etree.QName(part).localname} {part.get('role') or ''}".strip()] = _division(part)
    for chapter in root.xpath("db:chapter", namespaces=NS):
        book[f"chapter {chapter.get('label')}"] = _division(chapter)
    return book


def differences(expected: dict, actual: dict, limit: int = 6) -> list[str]:
    """Readable differences between two outlines: missing and extra divisions, then field by field."""
    found: list[str] = []
    missing = [key for key in expected if key not in actual]
    extra = [key for key in actual if key not in expected]
    if missing:
        found.append(f"missing: {', '.join(missing)}")
    if extra:
        found.append(f"extra: {', '.join(extra)}")
    for key in expected:
        if key not in actual or expected[key] == actual[key]:
            continue
        if not isinstance(expected[key], dict):
            found.append(f"{key}: expected {expected[key]!r}, got {actual[key]!r}")
            continue
        for field, want in expected[key].items():
            got = actual[key].get(field)
            if want != got:
                found.append(f"{key} / {field}: " + _describe(want, got, limit))
    return found


def _describe(want, got, limit: int) -> str:
    if not isinstance(want, list) or not isinstance(got, list):
        return f"expected {want!r}, got {got!r}"
    lines = [f"{len(want)} expected, {len(got)} read back"]
    shown = 0
    matcher = difflib.SequenceMatcher(a=[repr(x) for x in want], b=[repr(x) for x in got], autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if shown >= limit:
            lines.append("    …")
            break
        shown += 1
        if tag == "replace" and a1 - a0 == b1 - b0 == 1 and isinstance(want[a0], str) and isinstance(got[b0], str):
            lines.append(f"    ~ [{a0}] {_where_they_part(want[a0], got[b0])}")
            continue
        for item in want[a0:a1][:3]:
            lines.append(f"    - [{a0}] {_short(item)}")
        for item in got[b0:b1][:3]:
            lines.append(f"    + [{b0}] {_short(item)}")
    return "\n".join(lines)


def _where_they_part(want: str, got: str, width: int = 50) -> str:
    """Two texts that differ inside: the place where they part, each side from there on."""
    start = next((i for i, (a, b) in enumerate(zip(want, got)) if a != b), min(len(want), len(got)))
    before = want[max(0, start - width):start]
    return f"…{before}|{want[start:start + width]!r} expected, |{got[start:start + width]!r} read back"


def _short(item, width: int = 160) -> str:
    text = item if isinstance(item, str) else repr(item)
    return text if len(text) <= width else text[:width // 2] + " … " + text[-width // 2:]
