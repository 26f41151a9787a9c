"""Front matter checked against itself and the book: title, ISBN, names, contents, claims."""

from __future__ import annotations

import re

from lxml import etree

from ..docbook import NS, text_of
from ..findings import Findings
from ..ingest.model import Where
from ..structure import rules
from .locate import scope_of, where_of
from .text import replace_once

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
WORD_FOR = {value: key for key, value in NUMBER_WORDS.items()}



def _where(element: etree._Element | None) -> Where | None:
    return None if element is None else where_of(element)


def _plain(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", " ", text.lower().replace("&", " and ")).strip()


def repair_title(root: etree._Element, findings: Findings) -> None:
    """One canonical title: the title page's, written as the book itself writes it in running text."""
    title = root.find("db:info/db:title", NS)
    if title is None:
        return
    printed = text_of(title).strip()
    if printed.upper() == printed and any(char.isalpha() for char in printed):
        mention = next((m for m in _mentions(root) if _plain(m) == _plain(printed) and m != printed), None)
        chosen = findings.propose(
            "front-matter-inconsistency",
            "the title page sets the title in capitals; the canonical title takes the book's own spelling"
            + (" in the Book Outline" if mention else " (no mixed-case mention found: supply it)"),
            certain=mention is not None, before=printed, after=mention, where=_where(title))
        if chosen:
            for child in list(title):
                if not isinstance(child, etree._ProcessingInstruction):
                    title.remove(child)
            pi = next((c for c in title if isinstance(c, etree._ProcessingInstruction)), None)
            if pi is not None:
                pi.tail = chosen
            else:
                title.text = chosen
            printed = chosen
    cover = root.xpath("db:info/db:mediaobject[@role='cover']//db:para[@role='title']", namespaces=NS)
    if cover:
        cover_title = " ".join(text_of(p).strip() for p in cover)
        if _plain(cover_title) != _plain(printed):
            findings.flagged("front-matter-inconsistency",
                             f"the cover reads '{cover_title}' but the title page '{printed}'; the cover artwork "
                             "needs correcting", where=_where(cover[0]), before=cover_title, after=printed)


def _mentions(root: etree._Element) -> list[str]:
    """Quoted titles in the front matter's running text."""
    found = []
    for para in root.xpath("db:preface//db:para | db:acknowledgements//db:para", namespaces=NS):
        found += re.findall(r"[“\"]([^”\"]{10,200})[”\"]", text_of(para))
    return found


def check_isbn(root: etree._Element, findings: Findings) -> None:
    """The ISBN's check digit, and its hyphens placed by the official ranges (python-stdnum)."""
    element = root.find("db:info/db:biblioid[@class='isbn']", NS)
    if element is None:
        findings.flagged("isbn", "the book has no ISBN on its imprint page")
        return
    from stdnum import isbn
    from stdnum.exceptions import ValidationError
    printed = text_of(element).strip()
    try:
        isbn.validate(printed)
    except ValidationError as error:
        findings.flagged("isbn", f"ISBN {printed} is not valid: {error}", where=_where(element), before=printed)
        return
    if isbn.isbn_type(printed) != "ISBN13":
        findings.flagged("isbn", f"ISBN {printed} is an ISBN-10; an ISBN-13 is expected", where=_where(element),
                         before=printed, after=isbn.format(isbn.to_isbn13(printed)))
        return
    formatted = isbn.format(printed)
    if formatted != printed:
        chosen = findings.propose("isbn", f"ISBN hyphenated by the registration-group ranges: {formatted}",
                                  certain=True, before=printed, after=formatted, where=_where(element))
        if chosen:
            replace_once(element, printed, chosen)


# --------------------------------------------------------------------------- people


def check_names(root: etree._Element, findings: Findings) -> None:
    """Each contributor spelt the same in contents, chapter heading, title page, foreword and thanks."""
    canonical: dict[str, tuple[str, etree._Element]] = {}
    for person in root.xpath("db:info/db:editor/db:personname | db:chapter/db:info/db:author/db:personname",
                             namespaces=NS):
        name = rules.parse_person(text_of(person).strip())
        if name.known_parts and name.family:
            canonical.setdefault(name.family.lower(), (text_of(person).strip(), person))
    mentions = [(text_of(e).strip(), e, "contents") for e in
                root.xpath("db:toc//db:tocentry[@role='author']", namespaces=NS)]
    mentions += [(text_of(e).strip(), e, "cover") for e in
                 root.xpath("db:info/db:mediaobject[@role='cover']//db:para[@role='editor']", namespaces=NS)]
    mentions += [(text_of(e).strip(), e, "signature") for e in
                 root.xpath("db:preface/db:info/db:author/db:personname", namespaces=NS)]
    honorific = r"(?:Dr|Mr|Ms|Mrs|Prof|H\.E)\.?"
    for para in root.xpath("db:preface[@role='foreword']//db:para | db:acknowledgements//db:para", namespaces=NS):
        for match in re.finditer(rf"\b{honorific}\s+((?:[A-Z][\w’'-]*\.?\s+){{0,3}}[A-Z][\w’'-]+)", text_of(para)):
            mentions.append((match.group(1), para, "running text"))
    for text, element, place in mentions:
        words = [w.strip(".,").lower() for w in text.split() if w not in rules.HONORIFICS]
        for family, (printed, _) in canonical.items():
            if family not in words:
                continue
            expected = [w.strip(".,").lower() for w in printed.split() if w not in rules.HONORIFICS]
            given_seen = " ".join(w for w in words if w != family)
            given_expected = " ".join(w for w in expected if w != family)
            if given_seen == given_expected or not given_seen:
                continue
            # A different given name is a different person (the same family name is common);
            # a given name a letter or two away is the same person misspelt.
            if _distance(given_seen, given_expected) <= max(1, len(given_expected) // 4):
                findings.flagged("name-inconsistency", f"{place} writes '{text}' where the book has '{printed}'",
                                 where=_where(element), before=text, after=printed)


def _distance(first: str, second: str) -> int:
    from .citations import _edit_distance
    return _edit_distance(first, second)


# --------------------------------------------------------------------------- contents and claims


def check_contents(root: etree._Element, findings: Findings) -> None:
    """The printed table of contents against the real structure (labels, titles, authors)."""
    toc = root.find("db:toc[@role='printed']", NS)
    if toc is None:
        return
    parts = [text_of(p.find("db:info/db:title", NS)).strip()
             for p in root.xpath("db:preface | db:acknowledgements", namespaces=NS)]
    listed = [text_of(e).strip() for e in toc.xpath("db:tocentry", namespaces=NS)]
    for entry in listed:
        if rules.normalized(entry) not in {rules.normalized(p) for p in parts}:
            findings.flagged("toc-mismatch", f"the contents list '{entry}', which the book does not have",
                             before=entry)
    for part in parts:
        if rules.normalized(part) not in {rules.normalized(e) for e in listed}:
            findings.flagged("toc-mismatch", f"the contents omit the front-matter part '{part}'", after=part)
    chapters = root.xpath("db:chapter", namespaces=NS)
    divisions = toc.xpath("db:tocdiv", namespaces=NS)
    if len(divisions) != len(chapters):
        findings.flagged("toc-mismatch", f"the contents list {len(divisions)} chapters; the book has {len(chapters)}")
    for division, chapter in zip(divisions, chapters):
        label = text_of(division.find("db:title", NS)).strip()
        if label != f"Chapter {chapter.get('label')}":
            findings.flagged("toc-mismatch", f"contents '{label}' stands where Chapter {chapter.get('label')} is",
                             where=_where(division), before=label)
        _compare(findings, division, "title", text_of(chapter.find("db:info/db:title", NS)).strip(), chapter)
        authors = [text_of(a.find("db:personname", NS)).strip() for a in chapter.xpath("db:info/db:author",
                                                                                          namespaces=NS)]
        _compare(findings, division, "author", "; ".join(authors), chapter)
    pages = [int(d.get("pagenum")) for d in divisions if (d.get("pagenum") or "").isdigit()]
    if pages != sorted(pages):
        findings.flagged("toc-mismatch", f"the contents' page numbers do not increase: {pages}")


def _compare(findings: Findings, division: etree._Element, role: str, actual: str, chapter: etree._Element) -> None:
    entry = division.find(f"db:tocentry[@role='{role}']", NS)
    printed = text_of(entry).strip() if entry is not None else ""
    if _plain(printed) != _plain(actual):
        findings.flagged("toc-mismatch", f"contents {role} for chapter {chapter.get('label')}: "
                         f"'{printed}' but the chapter has '{actual}'", where=_where(entry), before=printed,
                         after=actual, chapter=chapter.get("{http://www.w3.org/XML/1998/namespace}id"))


def check_claims(root: etree._Element, findings: Findings) -> None:
    """What the front matter says about the book, counted: "brings together seven chapters"."""
    chapters = len(root.xpath("db:chapter", namespaces=NS))
    pattern = re.compile(rf"\b(?P<count>{'|'.join(NUMBER_WORDS)}|\d+)\s+chapters\b", re.IGNORECASE)
    for para in root.xpath("db:preface//db:para | db:acknowledgements//db:para", namespaces=NS):
        for match in pattern.finditer(text_of(para)):
            word = match.group("count")
            claimed = int(word) if word.isdigit() else NUMBER_WORDS[word.lower()]
            if claimed == chapters:
                continue
            fixed = str(chapters) if word.isdigit() else WORD_FOR.get(chapters, str(chapters))
            if word[0].isupper():
                fixed = fixed.capitalize()
            before = match.group(0)
            chosen = findings.propose("front-matter-inconsistency",
                                      f"the text claims {claimed} chapters; the book has {chapters}",
                                      certain=False, before=before, after=before.replace(word, fixed, 1),
                                      where=_where(para), chapter=scope_of(para))
            if chosen is not None:
                replace_once(para, before, chosen)
        for match in re.finditer(r"\bChapter (\d+)\b", text_of(para)):
            if int(match.group(1)) > chapters:
                findings.flagged("front-matter-inconsistency",
                                 f"the text speaks of Chapter {match.group(1)}; the book has {chapters}",
                                 where=_where(para), chapter=scope_of(para), before=match.group(0))


