"""Author-date citations in chapters that cite by numbered notes: flagged for the editor, never turned into notes.

A chapter whose sources are numbered notes sometimes also cites in author-date style: "(JICA Annual
Report 2023)", "Like Susan Strange (1988)", "As (AMRO 2025) observes". Such a citation has no note
marker and no entry in the chapter's notes, so a reader cannot find the work; the stage cannot
either, so it only reports each one at its line. When a note marker follows right after the
parenthesis, the note does cite the work and the parenthesis merely doubles it: that is reported
too, said as such. The editor may supply the text that replaces a citation (``text = "…"``).
"""

from __future__ import annotations

import re

from lxml import etree

from ..docbook import NS
from ..findings import Findings
from .locate import line_at, scope_of
from .text import TextNode, replace_once, text_nodes

_YEAR = r"(?:19|20)\d\d[a-z]?"
# a page after the year: "(Smith and Jones 2019, 12)", "(Baker 1999: 30-31)", "Baker (1999, p. 30)"
_PAGE = r"(?:[,:]\s*(?:pp?\.\s*)?\d{1,4}(?:\s*[–-]\s*\d{1,4})?)"
# "(JICA Annual Report 2023)", "(MOFA 2015 Policy Speech)", "(OECD, 2023)": a capitalised source and a year;
# several, separated by semicolons: "(Smith 2019; Jones 2020, 4)"; after "see", "e.g.", "cf."
_ONE_SOURCE = rf"[A-Z][^()\d;]{{1,60}}?,?\s{_YEAR}{_PAGE}?"
_PARENTHETICAL = re.compile(rf"\((?:(?:see(?: also)?|e\.g\.,?|cf\.|i\.e\.,?)\s+)?(?P<source>[A-Z][^()\d]{{1,60}}?),?\s(?P<year>{_YEAR}){_PAGE}?"
                            rf"(?:;\s*{_ONE_SOURCE})*(?P<rest>[^()\d]{{0,40}})\)")
# "Susan Strange (1988)", "George, et al. (2025)", "Brain & Company (2025)", "The OECD (2022)"
_NARRATIVE = re.compile(rf"(?P<source>(?:[A-Z][\w'’.-]*|&|et al\.?|,)(?:[ ,]+(?:[A-Z][\w'’.-]*|&|et al\.?))*)"
                        rf"\s\((?P<year>{_YEAR}){_PAGE}?\)")
# "the Paris Agreement (2015)", "the Fukuda Doctrine (1977)": a document or event named with its year, no citation
_NAMED_WITH_YEAR = {"Agreement", "Accord", "Act", "Charter", "Convention", "Declaration", "Doctrine", "Initiative",
                    "Plan", "Protocol", "Strategy", "Summit", "Treaty", "Vision", "Framework", "Law", "Crisis", "War"}
_NOT_SOURCES = {"In", "By", "Since", "From", "During", "Until", "Before", "After", "The", "As", "Like"}


def check_author_date_citations(root: etree._Element, findings: Findings) -> None:
    """Flag each author-date citation in the running text of a chapter that has numbered notes."""
    for chapter in root.xpath("db:chapter[.//db:footnote]", namespaces=NS):
        for element in chapter.xpath(".//db:para[not(ancestor::db:footnote)] | .//db:figure/db:title"
                                     " | .//db:table/db:title", namespaces=NS):
            for citation, node, end, offset in _citations(element):
                _report(element, citation, _marker_after(node, end), offset, findings)


def _citations(element: etree._Element) -> list[tuple[str, TextNode, int, int]]:
    """(citation, its text run, where it ends in the run, where it starts in the element's text)."""
    found = []
    position = 0
    for node in text_nodes(element):
        value = node.value
        taken: list[tuple[int, int]] = []
        for pattern in (_PARENTHETICAL, _NARRATIVE):
            for match in pattern.finditer(value):
                start, end = match.span()
                if pattern is _NARRATIVE:
                    start, text = _trim_narrative(match)
                    if text is None:
                        continue
                else:
                    text = match.group(0)
                if any(start < other_end and other_start < end for other_start, other_end in taken):
                    continue
                taken.append((start, end))
                found.append((text, node, end, position + start))
        position += len(value)
    return sorted(found, key=lambda item: item[3])


def _trim_narrative(match: re.Match) -> tuple[int, str | None]:
    """Drop leading sentence words from a narrative citation ("Like Susan Strange (1988)" → "Susan Strange
    (1988)"); None when no name is left (a date in parentheses after an ordinary capitalised word)."""
    words = match.group("source").split(" ")
    while words and (words[0] in _NOT_SOURCES or not words[0][:1].isupper()):
        words = words[1:]
    if not words or not any(word[:1].isupper() for word in words) or words[-1] in _NAMED_WITH_YEAR:
        return match.start(), None
    source = " ".join(words)
    start = match.start("source") + len(match.group("source")) - len(source)
    return start, f"{source} {match.group(0)[match.end('source') - match.start():].lstrip()}"


def _marker_after(node: TextNode, end: int) -> str | None:
    """The label of a note marker right after the citation, if there is one."""
    if node.value[end:].strip():
        return None
    following = node.owner.getnext() if node.is_tail else (node.owner[0] if len(node.owner) else None)
    while following is not None and isinstance(following, etree._ProcessingInstruction):
        following = following.getnext()
    if following is not None and etree.QName(following).localname == "footnote":
        return following.get("label")
    return None


def _report(element: etree._Element, citation: str, marker: str | None, offset: int, findings: Findings) -> None:
    line = line_at(element, offset, findings)
    if marker:
        message = (f"author-date citation '{citation}' in a chapter of numbered notes, beside note marker {marker}: "
                   "the note cites the work, the parenthesis doubles it")
    else:
        message = (f"author-date citation '{citation}' in a chapter of numbered notes: it has no note marker and no "
                   "entry in the chapter's notes; the editor should cite it as a note (none is invented)")
    chosen = findings.propose("author-date-citation", message, certain=False, before=citation, after=None,
                              where=line, chapter=scope_of(element), data={"marker": marker} if marker else {},
                              source_lines=[line.line] if line.line else [])
    if chosen is not None:
        replace_once(element, citation, chosen)
