"""Citations in chapter notes and reference lists: which work each cites, and its typography.

A note may cite several works (``…2024; Warburton, Eve. …``): the ``;`` is a certain boundary.
Each citation is marked with ``<?cite work="ch1-w7"?>`` at its start, so that every note stays
as the author wrote it while the edition can gather one consolidated bibliography per chapter.
"Ibid." cites the previous note's work when that note cites exactly one; otherwise it is
reported as ambiguous. Reference lists in author-date style get entries that hold two works
split, and their numbering made sequential (nothing in the text points at those numbers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from ..docbook import NS, el, get_id, mark_source, set_id, source_of, text_of
from ..findings import Findings
from ..ingest.model import Where
from .locate import where_of
from ..structure.rules import INSTITUTIONAL
from .text import node_at, replace_once, replace_pattern, text_nodes

_CITE_PI = "cite"
_SEPARATOR = re.compile(r"\.?;\s+(?=[A-Z“\"(*])")
_QUOTED = re.compile(r"\"(?P<straight>[^\"]{3,})\"|“(?P<curly>[^”]{3,})”")
_IBID = re.compile(r"^\s*ibid\b\.?", re.IGNORECASE)
_URL = re.compile(r"https?://\S+")
_ACCESSED = re.compile(r"accessed( on)?[^.]*\.", re.IGNORECASE)
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_TWO_DIGIT_YEAR = re.compile(rf"\b(?P<day>\d{{1,2}}) (?P<month>{_MONTHS}) (?P<year>\d{{2}})(?![\d:])")
_AUTHOR_DATE = re.compile(r"^[^.]{2,120}?\.\s+(?:19|20)\d\d[a-z]?\.")
_SECOND_ENTRY = re.compile(r"(?<=\.\s)(?P<author>[A-Z][^.;]{2,100}?)\.\s+(?P<year>(?:19|20)\d\d[a-z]?)\.\s")
# A short-form note: a surname, a title (quoted or not), perhaps a page: "Smith, Title, p. 4." / "Lee, "Title", 12."
_SHORT_FORM = re.compile(r"^(?P<surname>[A-Z][\w'’-]+),\s+[\"“]?(?P<title>[^\"“”,]{3,150}?),?[\"”]?"
                         r"(?:,?\s*(?:pp?\.\s*)?\d[\d\s,–-]*)?\.?$")
_OP_CIT = re.compile(r"^(?P<surname>[A-Z][\w'’-]+),\s+op\.\s*cit\.", re.IGNORECASE)
_LEFTOVER = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>|(?<![\w*])\*{1,2}(?=\S)|\\[$*_#\[\]]")


@dataclass
class Citation:
    note: str  # the note's label
    element: etree._Element  # the paragraph that holds it
    text: str
    offset: int  # where it starts in the paragraph's text
    ibid: bool = False
    work: str | None = None


@dataclass
class Work:
    id: str
    key: str
    title: str
    authors: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)


def split_citations(text: str) -> list[tuple[int, str]]:
    """(offset, text) of each work a note cites; ``;`` outside quotes separates them."""
    pieces, start, depth = [], 0, 0
    quotes = {i for i, char in enumerate(text) if char in "\"“”"}
    for match in _SEPARATOR.finditer(text):
        inside = sum(1 for i in quotes if start <= i < match.start()) % 2 == 1 and "“" not in text
        if inside:
            continue
        pieces.append((start, text[start:match.start()]))
        start = match.end()
        depth += 1
    pieces.append((start, text[start:]))
    return [(offset, piece) for offset, piece in pieces if piece.strip()]


def title_of(citation: str) -> str | None:
    match = _QUOTED.search(citation)
    if match:
        return match.group("straight") or match.group("curly")
    return None


def work_key(citation: str) -> str:
    """What identifies a work: its quoted title, or else the citation without URLs and access dates."""
    title = title_of(citation)
    basis = title if title else _ACCESSED.sub("", _URL.sub("", citation))
    return re.sub(r"[^0-9a-z]+", " ", basis.lower()).strip()


def author_of(citation: str) -> str:
    match = _QUOTED.search(citation)
    head = citation[:match.start()] if match else citation.split(". ", 1)[0]
    return head.strip().rstrip(".,").strip()


def _similar_authors(first: str, second: str) -> bool:
    """Whether two citations' author parts may name the same author: the same first word, or the one's first
    word among the other's names ("Lee" in a short form, "Min Lee" in the full note it shortens)."""
    if not first or not second:
        return True
    word = lambda text: re.sub(r"[^a-z]", "", text.split()[0].lower()) if text.split() else ""  # noqa: E731
    if word(first) == word(second):
        return True
    shorter, longer = sorted((first, second), key=len)
    return len(shorter.split()) == 1 and word(shorter) in _names(longer)


def _names(author: str) -> set[str]:
    """The words of an author part that may be names (two letters or more), lower-cased."""
    return {name for name in (re.sub(r"[^a-z]", "", w.lower()) for w in author.split()) if len(name) > 1}


class ChapterCitations:
    """Works and citations of one chapter, built from its notes."""

    def __init__(self, chapter: etree._Element, findings: Findings):
        self.chapter = chapter
        self.scope = get_id(chapter) or "book"
        self.findings = findings
        self.works: list[Work] = []
        self.notes: list[tuple[str, etree._Element, list[Citation]]] = []

    def where(self, element: etree._Element) -> Where:
        return where_of(element)

    def collect(self) -> None:
        for note in self.chapter.xpath(".//db:footnote", namespaces=NS):
            paragraphs = note.xpath("db:para", namespaces=NS)
            if not paragraphs:
                continue
            para = paragraphs[0]
            text = text_of(para)
            citations = [Citation(note.get("label") or "?", para, piece, offset, bool(_IBID.match(piece)))
                         for offset, piece in split_citations(text)]
            self.notes.append((note.get("label") or "?", note, citations))

    def identify(self) -> None:
        """Give each citation its work; resolve Ibid. from the note before."""
        previous: list[Citation] = []
        for label, _, citations in self.notes:
            for citation in citations:
                if citation.ibid:
                    self._resolve_ibid(citation, previous, label)
                else:
                    citation.work = self._work_for(citation).id
            previous = citations

    def _resolve_ibid(self, citation: Citation, previous: list[Citation], label: str) -> None:
        works = {c.work for c in previous if c.work}
        before = citation.text.strip()
        if len(works) == 1 and len(previous) == 1:
            work = works.pop()
            cited = previous[0].note
            title = self._work(work).title
            self.findings.repaired("ibid", f"note {label}: Ibid. resolved to the work of note {cited} "
                                           f"({title[:60]}); the note stays as written",
                                   where=self.where(citation.element), chapter=self.scope, before=before,
                                   data={"work": work, "note": cited})
            citation.work = work
            self._work(work).citations.append(citation)
        else:
            reason = (f"note {previous[0].note} cites {len(previous)} works" if previous
                      else "no note comes before it")
            chosen = self.findings.propose(
                "ibid", f"note {label}: Ibid. is ambiguous ({reason}); the editor should name the work",
                certain=False, before=before, after=None, where=self.where(citation.element), chapter=self.scope)
            if chosen is not None:
                replace_once(citation.element, before, chosen)
                citation.text = chosen
                citation.ibid = False
                citation.work = self._work_for(citation).id

    def _work(self, identifier: str) -> Work:
        return next(work for work in self.works if work.id == identifier)

    def _work_for(self, citation: Citation) -> Work:
        key = work_key(citation.text)
        author = author_of(citation.text)
        for work in self.works:
            if work.key == key and any(_similar_authors(author, other) for other in work.authors or [""]):
                work.citations.append(citation)
                if author and author not in work.authors:
                    self._compare_spellings(work, author, citation)
                    work.authors.append(author)
                return work
        shortened = self._short_form_of(citation.text)
        if shortened is not None:
            shortened.citations.append(citation)
            return shortened
        work = Work(f"{self.scope}-w{len(self.works) + 1}", key, title_of(citation.text) or citation.text[:80],
                    [author] if author else [], [citation])
        self.works.append(work)
        return work

    def _short_form_of(self, text: str) -> Work | None:
        """The work an earlier note cited in full that this note names in short form: "Smith, Title, p. 4."
        or "Smith, "Title", 12." -- the author's surname, then a title of two words or more that the full
        citation holds (quoted or not), then perhaps a page."""
        cited = _OP_CIT.match(text.strip())
        if cited:  # "Smith, op. cit., 9.": the latest work of that author
            surname = cited.group("surname").lower()
            return next((work for work in reversed(self.works)
                         if any(surname in _names(author) for author in work.authors)), None)
        short = _SHORT_FORM.match(text.strip())
        if not short:
            return None
        surname = short.group("surname").lower()
        title = re.sub(r"[^0-9a-z]+", " ", short.group("title").lower()).strip()
        if len(title.split()) < 2:
            return None
        for work in self.works:
            first = work.citations[0].text
            full = re.sub(r"[^0-9a-z]+", " ", first.lower()).strip()
            authors = {name for author in work.authors for name in _names(author)}
            if surname in authors and f" {title} " in f" {full} " and len(full) > len(title) + len(surname) + 4:
                return work
        return None

    def _compare_spellings(self, work: Work, author: str, citation: Citation) -> None:
        for other in work.authors:
            if other.lower() != author.lower() and _similar_authors(other, author) and \
                    _edit_distance(other.lower(), author.lower()) <= max(2, len(other) // 6):
                self.findings.flagged("name-inconsistency",
                                      f"note {citation.note}: '{author}' cites the same work as '{other}'",
                                      where=self.where(citation.element), chapter=self.scope, before=author,
                                      after=other)

    def mark(self) -> None:
        """Insert ``<?cite work=…?>`` at the start of every identified citation."""
        for _, _, citations in self.notes:
            for citation in sorted(citations, key=lambda c: c.offset, reverse=True):
                if not citation.work:
                    continue
                data = f'work="{citation.work}"' + (' ibid="yes"' if citation.ibid else "")
                located = node_at(citation.element, citation.offset)
                if located is None:
                    continue
                node, offset = located
                from .text import split_text_at
                split_text_at(node, offset, etree.ProcessingInstruction(_CITE_PI, data))

    def report_repeats(self) -> None:
        """One finding per note that cites a work an earlier note already cited, at that note's own line and
        naming the group's other notes: the editor may shorten each to a short-form note. (An "Ibid." has its
        own finding.) The notes stay as written and the edition gives the work one bibliography entry."""
        repeats: list[tuple[int, Work, Citation]] = []
        for work in self.works:
            notes = [c.note for c in work.citations]
            if len(set(notes)) < 2:
                continue
            reported = {work.citations[0].note}
            for citation in work.citations[1:]:
                if not citation.ibid and citation.note not in reported:
                    reported.add(citation.note)
                    repeats.append((self.where(citation.element).line or 0, work, citation))
        for _, work, citation in sorted(repeats, key=lambda repeat: repeat[0]):  # in the order of the notes
            self._report_repeat(work, citation)

    def _report_repeat(self, work: Work, citation: Citation) -> None:
        notes = [c.note for c in work.citations]
        lines = {c.note: self.where(c.element).line for c in work.citations}
        named = ", ".join(f"{note} (line {lines[note]})" if lines.get(note) else note for note in dict.fromkeys(notes))
        first = work.citations[0]
        others = [note for note in dict.fromkeys(notes) if note != citation.note]
        self.findings.repaired(
            "repeated-citation",
            f"note {citation.note} cites the work note {first.note} cited first ({work.title[:60]}); "
            f"the group is notes {named}. It may be shortened to a short-form note; it stays as written "
            "and the work has one bibliography entry",
            where=self.where(citation.element), chapter=self.scope, before=citation.text.strip()[:120],
            data={"work": work.id, "notes": notes, "first": first.note, "others": others},
            source_lines=[lines[citation.note]] if lines.get(citation.note) else [])


def _edit_distance(first: str, second: str) -> int:
    """Edits between two spellings, a swap of neighbouring letters counting as one ("Seun"/"Suen")."""
    rows = [[0] * (len(second) + 1) for _ in range(len(first) + 1)]
    for i in range(len(first) + 1):
        rows[i][0] = i
    for j in range(len(second) + 1):
        rows[0][j] = j
    for i in range(1, len(first) + 1):
        for j in range(1, len(second) + 1):
            cost = first[i - 1] != second[j - 1]
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and first[i - 1] == second[j - 2] and first[i - 2] == second[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[-1][-1]


# --------------------------------------------------------------------------- typography


def repair_quotes(entries: list[etree._Element], scope: str, findings: Findings, where_of) -> None:
    """Unbalanced quotation marks: repaired when another citation shows the title, else reported
    (with a suggestion where the closing quote plainly belongs)."""
    titles = {title for e in entries if (title := title_of(text_of(e))) is not None}
    for entry in entries:
        text = text_of(entry)
        if text.count('"') % 2 == 0 and text.count("“") == text.count("”"):
            continue
        label = entry.getparent().get("label") if entry.getparent() is not None else None
        name = f"note {label}" if label else "entry"
        before, after, certain = _quote_fix(entry, text, titles)
        message = f"{name}: unbalanced quotation marks" + (
            " (opening quote restored: another note quotes the same title)" if certain else "")
        chosen = findings.propose("unbalanced-quote", message, certain=certain, before=before, after=after,
                                  where=where_of(entry), chapter=scope)
        if chosen is not None and chosen != before:
            replace_once(entry, before, chosen)


def _quote_fix(entry: etree._Element, text: str, titles: set[str]) -> tuple[str, str | None, bool]:
    """(the passage, the passage with the quote mended or None, whether the mend is certain)."""
    quotes = [i for i, char in enumerate(text) if char == '"']
    if len(quotes) == 1:
        position = quotes[0]
        head = text[:position].strip()
        title = head if head in titles else head.split(". ", 1)[-1]
        if title in titles:  # a closing quote whose opening one was lost
            start = text.find(title)
            passage = text[start:position + 1]
            return passage, '"' + passage, True
        closing = _closing_position(entry, text, position)
        if closing is not None:
            passage = text[position:closing]
            return passage, passage + '"', False
    first = min(i for i, char in enumerate(text) if char in '"“”')
    return text[first:first + 60].strip(), None, False


def _closing_position(entry: etree._Element, text: str, opening: int) -> int | None:
    """Where a lone opening quote most likely closes: before ", <journal in italics>" or ". <date>"."""
    emphasis = entry.find(".//{http://docbook.org/ns/docbook}emphasis")
    if emphasis is not None:
        offset = _offset_of(entry, emphasis)
        if offset is not None and offset > opening and text[:offset].rstrip().endswith(","):
            return len(text[:offset].rstrip()) - 1
    match = re.search(r"\.\s+(?=\d{1,2} [A-Z][a-z]+ \d{4}|(?:19|20)\d\d\b)", text[opening + 1:])
    if not match:
        return None
    title = text[opening + 1:opening + 1 + match.start()]
    if re.search(r":\s+(?:" + "|".join(w.capitalize() for w in INSTITUTIONAL) + r")\b", title):
        return None  # the quote probably closed before the publisher, but where is not certain
    return opening + 1 + match.start()


def _offset_of(entry: etree._Element, child: etree._Element) -> int | None:
    """How much of the entry's text comes before ``child``."""
    position = 0
    for node in text_nodes(entry):
        if not node.is_tail and node.owner is child:
            return position
        position += len(node.value)
    return None


def repair_two_digit_years(entries: list[etree._Element], scope: str, book_year: int, findings: Findings,
                           where_of) -> None:
    for entry in entries:
        for node in list(text_nodes(entry)):
            for match in list(_TWO_DIGIT_YEAR.finditer(node.value)):
                short = int(match.group("year"))
                full = 2000 + short
                certain = full <= book_year
                before = match.group(0)
                after = f"{match.group('day')} {match.group('month')} {full}"
                message = (f"two-digit year '{before}' read as {full}" if certain else
                           f"two-digit year '{before}': 19{short:02d} or {full}?")
                chosen = findings.propose("two-digit-year", message, certain=certain, before=before, after=after,
                                          where=where_of(entry), chapter=scope)
                if chosen is not None:
                    node.value = node.value.replace(before, chosen, 1)


def unify_quote_style(entries: list[etree._Element], scope: str, findings: Findings, where_of) -> None:
    """Within one list, citations that use the minority quote style are set in the majority one."""
    straight = sum(text_of(e).count('"') for e in entries)
    curly = sum(text_of(e).count("“") + text_of(e).count("”") for e in entries)
    if not straight or not curly:
        return
    to_straight = straight >= curly
    for entry in entries:
        text = text_of(entry)
        uses = ("“" in text or "”" in text) if to_straight else ('"' in text)
        if not uses:
            continue
        after = _requote(text, to_straight)
        style = "straight" if to_straight else "curly"
        label = entry.getparent().get("label") if entry.getparent() is not None else None
        chosen = findings.propose("inconsistent-style",
                                  f"{'note ' + label if label else 'entry'}: quotation marks set {style} like the "
                                  f"rest of the list ({straight} straight, {curly} curly)",
                                  certain=True, before=text.strip(), after=after.strip(), where=where_of(entry),
                                  chapter=scope)
        if chosen is not None:
            if to_straight:
                replace_pattern(entry, re.compile("[“”]"), '"')
                replace_pattern(entry, re.compile("[‘’]"), "'")
            else:
                for node in list(text_nodes(entry)):
                    node.value = _requote(node.value, False)


_STRAIGHT = str.maketrans("“”‘’", "\"\"''")


def _requote(text: str, to_straight: bool) -> str:
    if to_straight:
        return text.translate(_STRAIGHT)
    out, opening = [], True
    for index, char in enumerate(text):
        if char == '"':
            opening = index == 0 or text[index - 1] in " ([\u00a0"
            out.append("“" if opening else "”")
        else:
            out.append(char)
    return "".join(out)


def report_leftovers(entries: list[etree._Element], scope: str, findings: Findings, where_of) -> None:
    for entry in entries:
        for match in _LEFTOVER.finditer(text_of(entry)):
            findings.flagged("markup-leftover", f"markup left in the text: {match.group(0)[:40]!r}",
                             where=where_of(entry), chapter=scope, before=match.group(0))


# --------------------------------------------------------------------------- reference lists


def repair_reference_list(bibliography: etree._Element, scope: str, findings: Findings, where_of) -> None:
    """Split entries that hold two works (author-date lists only) and number the list 1..N."""
    entries = bibliography.xpath("db:bibliomixed", namespaces=NS)
    texts = [_entry_text(e) for e in entries]
    author_date = entries and sum(1 for t in texts if _AUTHOR_DATE.match(t)) >= 0.8 * len(entries)
    for entry, text in zip(entries, texts):
        second = _SECOND_ENTRY.search(text) if author_date else None
        if second and second.start() > 10:
            head, tail = text[:second.start()].rstrip(), text[second.start():]
            chosen = findings.propose(
                "merged-references", f"entry {entry.xpath('string(db:abbrev)', namespaces=NS)} holds two works; "
                f"split before '{second.group('author')}. {second.group('year')}.'",
                certain=True, before=text, after=f"{head} ¶ {tail}", where=where_of(entry), chapter=scope)
            if chosen is not None:
                _split_entry(entry, second.group(0)[:30])
        elif not author_date and len(_QUOTED.findall(text)) >= 2 and ";" not in text:
            findings.flagged("merged-references", "entry may hold two works (two titles, no separator)",
                             where=where_of(entry), chapter=scope, before=text[:160])
    _renumber(bibliography, scope, findings, where_of)


def _entry_text(entry: etree._Element) -> str:
    abbrev = entry.xpath("string(db:abbrev)", namespaces=NS)
    return text_of(entry)[len(abbrev):].strip() if abbrev else text_of(entry).strip()


def _split_entry(entry: etree._Element, start: str) -> None:
    """Move everything from ``start`` on into a new entry after ``entry``."""
    new = el("bibliomixed")
    for node in text_nodes(entry):
        index = node.value.find(start)
        if index < 0:
            continue
        moved_text = node.value[index:]
        node.value = node.value[:index].rstrip() + ("" if node.value[:index].rstrip().endswith(".") else "")
        new.text = moved_text
        siblings = list(node.owner.itersiblings()) if node.is_tail else list(node.owner)
        for sibling in siblings:
            new.append(sibling)
        break
    source = source_of(entry)
    entry.addnext(new)
    new.insert(0, etree.Element("{http://docbook.org/ns/docbook}abbrev"))
    new[0].tail = " " + (new.text or "")
    new.text = None
    if source:
        mark_source(new, Where(line=int(source["line"])) if "line" in source else None)
    set_id(new, (get_id(entry) or "bib") + "b")


def _renumber(bibliography: etree._Element, scope: str, findings: Findings, where_of) -> None:
    entries = bibliography.xpath("db:bibliomixed", namespaces=NS)
    numbers = [e.xpath("string(db:abbrev)", namespaces=NS) for e in entries]
    if not any(numbers):
        return
    expected = [str(n) for n in range(1, len(entries) + 1)]
    numbered = [e.find("{http://docbook.org/ns/docbook}abbrev") is not None for e in entries]  # the ones renumbered
    if numbers == expected:
        return
    chosen = findings.propose("duplicate-number", f"reference list numbered {' '.join(n or '·' for n in numbers)}; "
                              f"renumbered 1–{len(entries)} (the text does not cite these numbers)",
                              certain=True, before=" ".join(n or "·" for n in numbers),
                              after=" ".join(n if numbered[i] else "·" for i, n in enumerate(expected)),
                              where=where_of(entries[0]), chapter=scope)
    if chosen is None:
        return
    for position, entry in enumerate(entries, 1):
        abbrev = entry.find("{http://docbook.org/ns/docbook}abbrev")
        if abbrev is not None:
            abbrev.text = str(position)
        set_id(entry, f"{scope}-bib{position}")
