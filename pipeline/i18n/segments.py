"""DocBook book → translation segments: sentences with stable ids, inline markup as placeholders.

A segment is one sentence of one block (title, paragraph, list item, table cell, caption), so an
edit to one sentence touches only that sentence's catalog entry. Its id is the nearest
``xml:id`` plus the block's place under it and the sentence number (``ch1-s2-p3.2``).

Inline structure travels as placeholders that machine translation must carry over unchanged:
``<e1>…</e1>`` emphasis, ``<l1>…</l1>`` a link with words, ``<l1/>`` a bare URL, ``<n1/>`` a note
marker, ``<s1>…</s1>`` super/subscript, ``<g1>…</g1>`` any other inline element. For drafting,
terms that must not be translated (acronyms, names) are masked as ``<k1/>`` too.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lxml import etree

from ..config import TranslationSettings
from ..docbook import NS, XLINK_NS, get_id, q, source_of, text_of
from .placeholders import PLACEHOLDER, blocking, compare_placeholders

# Words that end with a full stop without ending a sentence (compared lower-case, without the stop).
ABBREVIATIONS = frozenset("""
    dr mr mrs ms prof rev hon gen col lt sgt capt gov sen rep st jr sr no nos vol vols ed eds
    pp p para fig figs tab ch chap sec art eq ref refs approx est dept univ assn inst corp inc ltd co
    vs cf al etc ibid op cit jan feb mar apr jun jul aug sep sept oct nov dec mt ft
""".split())
# Notes that are citations: a URL, an access date, a year, a quoted title or a publisher's place.
_CITATION = re.compile(r"https?://|www\.|\baccessed\b|\b(1[89]|20)\d\d\b|[\"“”]|\bpp?\.\s*\d|:\s*[A-Z][a-z]+ (Press|Publishing)",
                       re.IGNORECASE)
_OPEN_TAG = re.compile(r"<([a-z])(\d+)>")
_BOUNDARY = re.compile(r"""
    (?P<end>[.!?…]+)                        # sentence-final punctuation
    (?P<close>["'”’)\]]*)                   # closing quotes and brackets
    (?P<marks>(?:<n\d+/>|</[a-z]\d+>)*)     # note markers and closing tags that follow it
    (?P<space>\s+)
    (?=(?:<[a-z]\d+/?>)*["'“‘(\[]?[A-Z0-9])  # the next sentence starts with a capital or a digit
""", re.VERBOSE)
_INITIALS = re.compile(r"^(?:[A-Za-z]\.)*[A-Za-z]$")  # C, U.S, e.g, i.e
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9&]*[A-Z0-9](?:-[A-Z0-9]+)*\b")
# Inline elements a translator does not translate: an editor's remark (a DOCX comment), a bookmark,
# an inline picture. Each is one empty placeholder and comes back unchanged.
_KEPT_WHOLE = {q("remark"): "editor's remark (not translated)", q("anchor"): "link target",
               q("inlinemediaobject"): "picture"}
_SKIPPED_CONTAINERS = {"toc", "bibliography", "bibliomixed", "personname", "glossterm", "abbrev"}
_SKIPPED_MEDIA_ROLES = {"cover", "back-cover"}


@dataclass(frozen=True)
class Segment:
    """One translatable sentence: its catalog, stable id, source text and where it came from."""

    id: str
    text: str
    part: str  # the catalog it belongs to: "book", "foreword", ..., "ch1"
    line: int | None
    where: str  # "chapter 1, section ch1-s2"
    placeholders: tuple[tuple[str, str], ...] = ()  # ("<n1/>", "note 6 (ch1-fn6)")


# --------------------------------------------------------------------------- sentences


def split_sentences(text: str) -> list[str]:
    """Split text (which may hold placeholders) into sentences, keeping abbreviations and numbers whole."""
    sentences, start = [], 0
    for match in _BOUNDARY.finditer(text):
        cut = match.start("space")
        if _is_abbreviation(text[start:match.start("end")], match.group("end")) or _inside_pair(text[start:cut]):
            continue
        sentences.append(text[start:cut].strip())
        start = match.end()
    sentences.append(text[start:].strip())
    return [sentence for sentence in sentences if sentence]


def _is_abbreviation(before: str, end: str) -> bool:
    if end != ".":
        return False
    words = PLACEHOLDER.sub(" ", before).split()
    if not words:
        return False
    word = words[-1].lstrip("(\"'“‘[")
    if word.lower() in ABBREVIATIONS or _INITIALS.match(word):
        return True
    return False


def _inside_pair(text: str) -> bool:
    """Whether a paired placeholder (``<e1>…</e1>``) opened in ``text`` is still open at its end."""
    return any(f"</{kind}{number}>" not in text for kind, number in _OPEN_TAG.findall(text))


# --------------------------------------------------------------------------- inline markup


class _Inline:
    """Turns a block's mixed content into text with numbered placeholders."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.meanings: dict[str, str] = {}
        self.elements: dict[str, etree._Element] = {}  # placeholder number -> the inline element it stands for
        self.counter = 0

    def add_block(self, block: etree._Element) -> str:
        self._children(block, top=True)
        return " ".join("".join(self.parts).split())

    def _children(self, node: etree._Element, top: bool = False) -> None:
        if node.text:
            self.parts.append(node.text)
        for child in node:
            if isinstance(child, (etree._ProcessingInstruction, etree._Comment)):
                pass
            elif child.tag in (q("footnote"), q("footnoteref")):
                target = get_id(child) or child.get("linkend") or ""
                label = child.get("label") or target.rpartition("fn")[2]
                self._empty("n", f"note {label} ({target})", child)
            elif child.tag in _KEPT_WHOLE:  # not words to translate: carried over as they are
                self._empty("g", _KEPT_WHOLE[child.tag], child)
            elif child.tag == q("link") and _bare_url(child):
                self._empty("l", f"link {child.get(f'{{{XLINK_NS}}}href') or text_of(child)}", child)
            else:
                self._paired(child)
            if child.tail:
                self.parts.append(child.tail)

    def _empty(self, kind: str, meaning: str, element: etree._Element) -> None:
        self.counter += 1
        self.elements[str(self.counter)] = element
        token = f"<{kind}{self.counter}/>"
        self.meanings[token] = meaning
        self.parts.append(token)

    def _paired(self, element: etree._Element) -> None:
        name = etree.QName(element).localname
        kind = {"emphasis": "e", "link": "l", "superscript": "s", "subscript": "s"}.get(name, "g")
        self.counter += 1
        self.elements[str(self.counter)] = element
        token = f"<{kind}{self.counter}>"
        self.meanings[token] = name if kind != "l" else f"link {element.get(f'{{{XLINK_NS}}}href')}"
        self.parts.append(token)
        self._children(element)
        self.parts.append(f"</{kind}{self.counter}>")


def _bare_url(link: etree._Element) -> bool:
    words = text_of(link).strip()
    return not words or words == link.get(f"{{{XLINK_NS}}}href") or re.match(r"(https?://|www\.)\S+$", words) is not None


def _renumber(sentence: str, meanings: dict[str, str],
              numbers: dict[str, int] | None = None) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Number a sentence's placeholders from 1, so its text does not depend on its neighbours.

    ``numbers`` (old number → new), when given, is filled so a translation can be numbered back."""
    numbers = {} if numbers is None else numbers

    def replace(match: re.Match) -> str:
        old = match.group(2)
        numbers.setdefault(old, len(numbers) + 1)
        return match.group(0).replace(old, str(numbers[old]), 1)

    text = PLACEHOLDER.sub(replace, sentence)
    legend = []
    for token, meaning in meanings.items():
        match = PLACEHOLDER.match(token)
        assert match is not None  # the legend's tokens are placeholders PLACEHOLDER found
        number = match.group(2)
        if number in numbers:
            legend.append((token.replace(number, str(numbers[number]), 1), meaning))
    return text, tuple(legend)


# --------------------------------------------------------------------------- the book


@dataclass
class BlockSegments:
    """A translatable block with its sentences, and what a translation needs to be put back in place."""

    block: etree._Element
    part: str
    segments: list[Segment]
    elements: dict[str, etree._Element]  # block-level placeholder number -> inline element
    renumbering: list[dict[str, int]]  # per sentence: block-level number -> the sentence's own number


def translatable_blocks(root: etree._Element, settings: TranslationSettings) -> Iterator[BlockSegments]:
    """The book's translatable blocks in reading order, each with its sentences as segments."""
    counters: dict[str, int] = defaultdict(int)
    for part_name, part in _parts(root):
        for block, block_id in _blocks(part, part_name, settings, counters):
            inline = _Inline()
            text = inline.add_block(block)
            if not PLACEHOLDER.sub("", text).strip():
                continue
            line = source_of(block).get("line")
            where = _describe(block, part_name)
            segments, renumbering = [], []
            for number, sentence in enumerate(split_sentences(text), start=1):
                numbers: dict[str, int] = {}
                sentence_text, legend = _renumber(sentence, inline.meanings, numbers)
                segments.append(Segment(f"{block_id}.{number}", sentence_text, part_name,
                                        int(line) if line and line.isdigit() else None, where, legend))
                renumbering.append(numbers)
            yield BlockSegments(block, part_name, segments, inline.elements, renumbering)


def extract_segments(root: etree._Element, settings: TranslationSettings) -> list[Segment]:
    """Every translatable sentence of the book, in reading order, grouped by catalog."""
    return [segment for block in translatable_blocks(root, settings) for segment in block.segments]


def _parts(root: etree._Element) -> Iterator[tuple[str, etree._Element]]:
    """The catalogs: the book's own front (title, notices), each front-matter part, each chapter."""
    for child in root:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if name == "info":
            yield "book", child
        elif name in ("preface", "acknowledgements", "chapter", "appendix") and (part_id := get_id(child)):
            yield part_id, child


def _blocks(part: etree._Element, part_name: str, settings: TranslationSettings,
            counters: dict[str, int]) -> Iterator[tuple[etree._Element, str]]:
    """Translatable blocks under ``part`` with their ids, in document order."""
    for node in part.iter(q("title"), q("para"), q("entry"), q("orgname"), q("bibliomisc")):
        if _skipped(node, part, settings):
            continue
        yield node, _block_id(node, part_name, counters)


def _skipped(node: etree._Element, part: etree._Element, settings: TranslationSettings) -> bool:
    name = etree.QName(node).localname
    if name == "bibliomisc" and node.get("role") != "notes-title":
        return True
    if name == "para" and node.getparent().tag == q("entry"):
        return True  # the cell is the block
    for ancestor in node.iterancestors():
        local = etree.QName(ancestor).localname
        if local in _SKIPPED_CONTAINERS:
            return True
        if local == "mediaobject" and ancestor.get("role") in _SKIPPED_MEDIA_ROLES:
            return True
        if local == "textobject" and ancestor.get("role") in ("image-text", "missing-image"):
            return True
        if local == "footnote" and not _note_translatable(ancestor, settings):
            return True
        if ancestor is part:
            break
    return False


def _note_translatable(note: etree._Element, settings: TranslationSettings) -> bool:
    if settings.notes == "all":
        return True
    return settings.notes == "explanatory" and not _CITATION.search(text_of(note))


def _block_id(node: etree._Element, part_name: str, counters: dict[str, int]) -> str:
    name = etree.QName(node).localname
    anchor = next((a for a in node.iterancestors() if get_id(a)), None)
    anchor_id = get_id(anchor) if anchor is not None else part_name
    if name == "title":
        owner = node.getparent()
        if owner.tag == q("info"):
            owner = owner.getparent()
        owner_id = "book" if owner.getparent() is None else get_id(owner)
        return f"{owner_id}-title" if owner_id else f"{anchor_id}-{etree.QName(owner).localname}-title"
    if name == "entry":
        row = node.getparent()
        rows = list(node.getparent().getparent().getparent().iter(q("row")))
        cells = [cell for cell in row if cell.tag == q("entry")]
        return f"{anchor_id}-r{rows.index(row) + 1}c{cells.index(node) + 1}"
    if name == "bibliomisc":
        return f"{anchor_id}-notes-title"
    glossentry = next(node.iterancestors(q("glossentry")), None)
    if glossentry is not None:
        term = "".join(glossentry.findtext(q("glossterm")) or "").strip()
        return f"{anchor_id}-gloss-{re.sub(r'[^A-Za-z0-9]+', '-', term).strip('-')}"
    kind = {"orgname": "org"}.get(name, "p")
    key = f"{anchor_id}-{kind}"
    counters[key] += 1
    return f"{key}{counters[key]}"


def _describe(block: etree._Element, part_name: str) -> str:
    chapter = next((a for a in block.iterancestors(q("chapter"))), None)
    where = f"chapter {chapter.get('label')}" if chapter is not None else part_name
    section = next(block.iterancestors(q("section")), None)
    if section is not None:
        where += f", section {get_id(section)}"
    return where


# --------------------------------------------------------------------------- do-not-translate terms


def book_keep_terms(root: etree._Element, settings: TranslationSettings) -> tuple[str, ...]:
    """Terms MT must not touch: the configured list, the book's personal names and its acronyms."""
    terms = set(settings.keep_terms)
    for person in root.iterfind(".//db:personname", NS):
        terms.add(" ".join(text_of(person).split()))
        for part in person.xpath("db:surname | db:firstname", namespaces=NS):
            terms.add(text_of(part).strip())
    terms.discard("")
    for term in root.iterfind(".//db:glossterm", NS):
        terms.update(_ACRONYM.findall(text_of(term)))
    return tuple(sorted(terms, key=lambda term: (-len(term), term)))


def acronyms_in(text: str) -> list[str]:
    """All-capital words of a sentence in ordinary case (in an all-capitals title they are just words)."""
    plain = PLACEHOLDER.sub(" ", text)
    letters = [c for c in plain if c.isalpha()]
    if not letters or sum(c.islower() for c in letters) < 0.3 * len(letters):
        return []
    return _ACRONYM.findall(plain)


@dataclass(frozen=True)
class MachineInput:
    """A segment prepared for MT: masked text, the note markers held back, and what the masks stand for."""

    text: str
    tail: str  # note markers after the final punctuation, re-attached after translation
    masks: tuple[tuple[str, str], ...]  # ("<k1/>", "ASEAN")


def prepare_for_machine(text: str, keep_terms: Iterable[str]) -> MachineInput:
    """Mask do-not-translate terms and hold back trailing note markers, which MT has no reason to see."""
    tail_match = re.search(r"(?:\s*<n\d+/>)+\s*$", text)
    tail = tail_match.group(0).strip() if tail_match else ""
    body = text[:tail_match.start()] if tail_match else text
    terms = sorted(set(keep_terms) | set(acronyms_in(body)), key=lambda term: (-len(term), term))
    masks: list[tuple[str, str]] = []
    if terms:
        pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(term) for term in terms) + r")(?!\w)")

        def mask(match: re.Match) -> str:
            token = f"<k{len(masks) + 1}/>"
            masks.append((token, match.group(1)))
            return token

        body = pattern.sub(mask, body)
    return MachineInput(body, tail, tuple(masks))


def restore_from_machine(output: str, prepared: MachineInput) -> tuple[str, list[str]]:
    """Unmask a machine translation; returns the text and the placeholders (or masked terms) it lost, added
    or duplicated: a draft with any of them is not saved."""
    problems = [token for problem in blocking(compare_placeholders(prepared.text, output))
                for token in problem.tokens]
    for token, term in prepared.masks:
        output = output.replace(token, term)
    text = output.strip()
    if prepared.tail:
        text = f"{text}{prepared.tail}"
    return text, problems
