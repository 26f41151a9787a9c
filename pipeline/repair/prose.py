"""Running text checked for what a copy-editor would query: lost subjects and doubled words.

Nothing here is changed by the stage itself: the editor sees each passage with its location
and may supply the corrected text in source/editorial.toml.
"""

from __future__ import annotations

import re

from lxml import etree

from ..docbook import NS, text_of
from ..findings import Findings
from .locate import line_at, scope_of
from .text import replace_once

REPORTING_VERBS = ("argue", "argues", "argued", "report", "reports", "reported", "note", "notes", "noted", "state",
                   "states", "stated", "suggest", "suggests", "suggested", "find", "finds", "found", "highlight",
                   "highlights", "highlighted", "emphasise", "emphasises", "emphasize", "emphasizes", "show", "shows",
                   "showed", "claim", "claims", "contend", "contends", "observe", "observes", "explain", "explains",
                   "assert", "asserts", "maintain", "maintains", "demonstrate", "demonstrates", "posit", "posits",
                   "delved", "describes", "describe", "estimates", "estimate")
_VERB = "|".join(REPORTING_VERBS)
# "According to the AMRO Report, highlights a retrospective…": the clause after the comma lacks its subject.
_ACCORDING = re.compile(rf"\bAccording to (?P<source>[^,.;]{{3,80}}), (?P<verb>{_VERB})\b")
_DOUBLE_WORD = re.compile(r"\b(?P<word>[A-Za-z]{2,})\s+(?P=word)\b", re.IGNORECASE)
_DOUBLE_PHRASE = re.compile(r"\b(?P<phrase>(?:\w+\s+){1,5}\w+),?\s+(?P=phrase)\b", re.IGNORECASE)
_ALLOWED_DOUBLES = {"that", "had", "is"}
_OPENERS = re.compile(r"(?:^|[.!?]\s+)(?P<opener>(?:[A-Z][a-z]+(?: [a-z]+){0,2}|According to [^,]{3,60}),)$")



def check_missing_subjects(root: etree._Element, findings: Findings) -> None:
    """A note marker standing where the cited author's name should be: "Moreover,¹¹ argue that …"."""
    for note in root.xpath("//db:para[not(ancestor::db:footnote)]/db:footnote", namespaces=NS):
        para = note.getparent()
        before_text = _text_before(para, note)
        after_text = note.tail or ""
        opener = _OPENERS.search(before_text)
        verb = re.match(rf"\s+(?P<verb>{_VERB})\b", after_text)
        if opener and verb:
            passage = f"{opener.group('opener')}{note.get('label')} {verb.group('verb')}"
            chosen = findings.propose(
                "missing-subject", f"'{passage} …': the subject is missing (the cited author's name seems replaced "
                f"by note {note.get('label')}); supply the text that goes before the marker",
                certain=False, before=opener.group("opener"), after=None,
                where=line_at(para, max(len(before_text) - 1, 0), findings), chapter=scope_of(para))
            if chosen is not None:
                _replace_before_note(para, note, opener.group("opener"), chosen)
    for para in root.xpath("//db:para[not(ancestor::db:footnote) and not(ancestor::db:info)]", namespaces=NS):
        for match in _ACCORDING.finditer(text_of(para)):
            chosen = findings.propose(
                "missing-subject", f"'{match.group(0)} …': the clause after 'According to …' has no subject",
                certain=False, before=match.group(0), after=None, where=line_at(para, match.start(), findings),
                chapter=scope_of(para))
            if chosen is not None:
                replace_once(para, match.group(0), chosen)


def _text_before(para: etree._Element, child: etree._Element) -> str:
    """The text of ``para`` from the start of the run that ends at ``child``."""
    previous = child.getprevious()
    while previous is not None and isinstance(previous, etree._ProcessingInstruction):
        previous = previous.getprevious()
    if previous is None:
        text = para.text or ""
        pi = next((c for c in para if isinstance(c, etree._ProcessingInstruction)), None)
        return text + ((pi.tail or "") if pi is not None and pi.getnext() is child else "")
    return previous.tail or ""


def _replace_before_note(para: etree._Element, note: etree._Element, before: str, after: str) -> None:
    previous = note.getprevious()
    if previous is None:
        if para.text and para.text.endswith(before):
            para.text = para.text[: -len(before)] + after
    elif previous.tail and previous.tail.endswith(before):
        previous.tail = previous.tail[: -len(before)] + after


def check_duplicated_words(root: etree._Element, findings: Findings) -> None:
    """Doubled words ("the the") and phrases ("to strategic cooperation, to strategic cooperation")."""
    for para in root.xpath("//db:para[not(ancestor::db:footnote) and not(ancestor::db:info)]", namespaces=NS):
        text = text_of(para)
        seen: set[str] = set()
        for pattern in (_DOUBLE_PHRASE, _DOUBLE_WORD):
            for match in pattern.finditer(text):
                repeated = match.group(1)
                if match.group(0) in seen or (pattern is _DOUBLE_WORD and repeated.lower() in _ALLOWED_DOUBLES):
                    continue
                if any(match.group(0) in other for other in seen):
                    continue
                seen.add(match.group(0))
                after = text[match.start():match.start() + len(repeated)]
                first, last = line_at(para, match.start(), findings), line_at(para, match.end() - 1, findings)
                chosen = findings.propose("duplicated-words", f"'{repeated}' appears twice in a row",
                                          certain=False, before=match.group(0), after=after, where=first,
                                          chapter=scope_of(para),
                                          source_lines=[n for n in dict.fromkeys((first.line, last.line)) if n])
                if chosen is not None:
                    replace_once(para, match.group(0), chosen)
