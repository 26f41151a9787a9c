"""The word balance: every word a reader read is in the book, or in the report as dropped on purpose.

A publishing pipeline must never lose text silently. The extract stage counts the words of the
reader's output (its blocks, with note bodies, table cells and image descriptions, plus the page
furniture it left out as ``Manuscript.dropped``) and the words of the finished DocBook book, and
compares the two as multisets of normalised tokens:

* in the book: the text of every element (processing instructions and generated titles aside),
  plus the text a stage kept as markup (``Findings.markup``: "Chapter 3", note numbers, contents
  page numbers), which the editions print from the markup;
* dropped on purpose: every ``dropped-text`` finding (a reader's running heads and folios, a
  repeated table header), each in the report with its reason and place;
* changed by a repair: what an applied finding's ``before`` has and its ``after`` has not (a
  tracking parameter removed from a printed URL), and the reverse for words a repair added;
* re-joined: a word cut by a line or page break ("inter-" + "national") and joined again, or a
  glued token split ("Chapter 586" read as Chapter 5, page 86), is the same letters in other
  pieces, so it balances.

Whatever is left over (a word of the manuscript not in the book, or a word in the book twice) is
an error: the stage writes nothing and names the words, so the developer can find the fault.

A *word* is a run of letters, marks and digits after NFKC normalisation and case folding
(punctuation, hyphens and spaces separate words and are not counted). Scripts written without
spaces between words (Khmer, Thai, Lao, Myanmar, Chinese, Japanese kana and kanji) have no
word boundaries in the text itself, so each of their letters counts as one word: the balance
needs no dictionary and a line break inside a Khmer sentence cannot hide a loss.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from .docbook import DB_NS, SOURCE_PI
from .findings import ACCEPTED, EDITED, REPAIRED, Findings
from .ingest.model import Block, Manuscript, Span

# Scripts whose words are not separated by spaces: each letter counts as a word.
_UNSPACED = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF), (0x19E0, 0x19FF),  # Khmer, Khmer symbols
    (0x3040, 0x30FF), (0x31F0, 0x31FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),  # CJK ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x3134F),  # CJK extensions
)
_MAX_PIECES = 8  # a word re-joined from at most this many pieces
_SHOWN = 12  # words named in an error message
_SEARCH_STEPS = 50_000  # in all, when looking for the pieces words were cut into


# Blocks whose combining marks (vowel signs, viramas, accents not precomposed) belong inside a word.
_MARK_BLOCKS = ((0x0300, 0x036F), (0x0483, 0x0489), (0x0591, 0x05C7), (0x0610, 0x061A), (0x064B, 0x065F),
                (0x0670, 0x0670), (0x06D6, 0x06ED), (0x0900, 0x0DFF), (0x0E00, 0x0EFF), (0x0F00, 0x0FFF),
                (0x1000, 0x109F), (0x1780, 0x17FF), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF),
                (0x3099, 0x309A), (0xFE20, 0xFE2F))
# A run of letters, digits and combining marks (`\w` without `_` knows no combining marks).
_WORD = re.compile("(?:[^\\W_]|[" + "".join(f"\\u{low:04x}-\\u{high:04x}" for low, high in _MARK_BLOCKS) + "])+")


def _unspaced(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _UNSPACED)


_ANY_UNSPACED = re.compile("[" + "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in _UNSPACED) + "]")


def words(text: str) -> list[str]:
    """The normalised words of ``text`` (see the module docstring for what a word is)."""
    if not text:
        return []
    text = unicodedata.normalize("NFKC", text).casefold()
    if not _ANY_UNSPACED.search(text):
        return _WORD.findall(text)
    found: list[str] = []
    for match in _WORD.finditer(text):
        run = match.group()
        if not _ANY_UNSPACED.search(run):
            found.append(run)
            continue
        piece = ""
        for char in run:
            if _unspaced(char):
                if piece:
                    found.append(piece)
                    piece = ""
                if unicodedata.category(char).startswith("L"):
                    found.append(char)
            elif unicodedata.category(char).startswith("M") and not piece:
                continue  # a vowel sign or mark of the unspaced letter before it
            else:
                piece += char
        if piece:
            found.append(piece)
    return found


# --------------------------------------------------------------------------- the two sides


def _span_texts(spans: Iterable[Span], texts: list[str]) -> None:
    """The spans' running text as one string (a word may change style part-way: "u" + "sing" is one
    word), then what hangs on them: remarks and attached notes, each apart."""
    running, hung = [], []
    for span in spans:
        # a note marker (superscript) stands apart from the word it follows: "War³" is "War" and "3"
        running.append(f"\n{span.text}\n" if span.superscript or span.note else span.text)
        remark = getattr(span, "remark", None)  # an editor's comment a reader keeps (DOCX), in <remark>
        if remark:
            hung.append(remark)
        if span.note:
            _block_texts(span.note, hung)
    texts.append("".join(running))
    texts.extend(hung)


def _block_texts(blocks: Iterable[Block], texts: list[str]) -> None:
    for block in blocks:
        _span_texts(block.spans, texts)
        for cell in block.cells or []:
            _span_texts(cell, texts)


def _counted(texts: list[str]) -> Counter:
    """The words of many texts, tokenised at once (a line break keeps neighbours apart)."""
    return Counter(words("\n".join(texts)))


def block_words(blocks: Iterable[Block]) -> Counter:
    """The words of a reader's blocks: their spans, attached notes and table cells."""
    texts: list[str] = []
    _block_texts(blocks, texts)
    return _counted(texts)


def manuscript_words(manuscript: Manuscript) -> Counter:
    """Everything the reader read: its blocks and the furniture it left out on purpose."""
    texts: list[str] = []
    _block_texts(manuscript.blocks, texts)
    texts.extend(dropped.text for dropped in manuscript.dropped)
    return _counted(texts)


def _q(tag: str) -> str:
    return f"{{{DB_NS}}}{tag}"


def _generated(element: etree._Element) -> bool:
    """Text the structuring stage made rather than read: not the manuscript's words.

    A bibliography's title repeats the chapter's notes heading (kept in ``bibliomisc``) or is a
    default "Notes"; an entry's number may come from the list's markers; the book's title without a source mark comes from the document's metadata
    or its file name.
    """
    parent = element.getparent()
    if element.tag == _q("abbrev") and element.get("role") == "list-marker":
        return True  # a reference list's number taken from its list markers (not read as text)
    if element.tag != _q("title") or parent is None:
        return False
    if parent.tag == _q("bibliography"):
        return True
    if parent.tag == _q("info") and parent.getparent() is not None and parent.getparent().tag == _q("book"):
        return not any(isinstance(child, etree._ProcessingInstruction) and child.target == SOURCE_PI
                       for child in element)
    return False


def book_words(root: etree._Element) -> Counter:
    """The words of the DocBook book's text (attributes and processing instructions are not text)."""
    texts: list[str] = []

    def walk(element: etree._Element) -> None:
        if _generated(element):
            return
        texts.append(element.text or "")
        for child in element:
            if isinstance(child.tag, str):  # a processing instruction's data is not text; its tail is
                walk(child)
            texts.append(child.tail or "")

    walk(root)
    return _counted(texts)


# --------------------------------------------------------------------------- the balance


@dataclass
class WordBalance:
    """How the words a reader read ended up: in the book, dropped on purpose, or changed by a repair."""

    read: int = 0
    in_book: int = 0  # words of the manuscript found in the book (as text, markup or re-joined)
    as_markup: int = 0  # of those, kept as markup (labels, note numbers, page numbers)
    rejoined: int = 0  # of those, words re-joined across a break or split apart
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> words left out on purpose
    removed_by_repairs: int = 0  # words an applied repair took out (tracking parameters, ...)
    added_by_repairs: int = 0  # words an applied repair (or the editor's text) put in
    missing: Counter = field(default_factory=Counter)  # words of the manuscript the book lacks
    extra: Counter = field(default_factory=Counter)  # words in the book the manuscript lacks (or twice)
    where_missing: str | None = None  # the manuscript place that holds most of the missing words

    @property
    def holds(self) -> bool:
        return not self.missing and not self.extra

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    def summary(self) -> str:
        """``words: 12,345 read, 12,301 in the book, 44 dropped as running heads (report)``."""
        line = f"words: {self.read:,} read, {self.in_book:,} in the book"
        dropped = {reason: count for reason, count in self.dropped.items() if count}  # dot leaders hold no words
        if dropped:
            kinds = ", ".join(f"{count:,} {'dropped as ' if i == 0 else 'as '}{_reason_words(reason)}"
                              for i, (reason, count) in enumerate(sorted(dropped.items(), key=lambda item: -item[1])))
            line += f", {kinds} (report)"
        if self.removed_by_repairs or self.added_by_repairs:
            line += (f"; repairs removed {self.removed_by_repairs:,} and added {self.added_by_repairs:,} "
                     f"(report)")
        if not self.holds:
            line += f"; UNBALANCED: {sum(self.missing.values()):,} missing, {sum(self.extra.values()):,} extra"
        return line

    def problem(self) -> str:
        """What does not balance, naming the words (for the developer who has to find the fault)."""
        parts = []
        if self.missing:
            parts.append(f"{sum(self.missing.values()):,} word(s) of the manuscript are not in the book "
                         f"({_shown(self.missing)})")
        if self.extra:
            parts.append(f"{sum(self.extra.values()):,} word(s) in the book are not in the manuscript or appear "
                         f"more often ({_shown(self.extra)})")
        return "; ".join(parts)

    def as_dict(self) -> dict:
        return {"read": self.read, "in_book": self.in_book, "as_markup": self.as_markup,
                "rejoined": self.rejoined, "dropped": dict(sorted(self.dropped.items())),
                "removed_by_repairs": self.removed_by_repairs, "added_by_repairs": self.added_by_repairs,
                "missing": dict(self.missing.most_common()), "extra": dict(self.extra.most_common())}


def _reason_words(reason: str) -> str:
    text = reason.replace("-", " ")
    return text if text.endswith("s") else text + "s"


def _shown(counts: Counter) -> str:
    shown = ", ".join(f"{word!r}" + (f" ×{count}" if count > 1 else "")
                      for word, count in counts.most_common(_SHOWN))
    return shown + (", …" if len(counts) > _SHOWN else "")


def balance(manuscript: Manuscript, root: etree._Element, findings: Findings) -> WordBalance:
    """Compare what the reader read with the book and the report (see the module docstring)."""
    read = manuscript_words(manuscript)
    dropped_by_reason: dict[str, int] = {}
    dropped: Counter = Counter()
    removable: Counter = Counter()
    addable: Counter = Counter()
    for finding in findings:
        if finding.type == "dropped-text":
            found = words(finding.before or "")
            dropped.update(found)
            reason = finding.data.get("reason", "dropped")
            dropped_by_reason[reason] = dropped_by_reason.get(reason, 0) + len(found)
        elif finding.action in (REPAIRED, ACCEPTED, EDITED) and finding.before is not None \
                and finding.after is not None:
            before, after = Counter(words(finding.before)), Counter(words(finding.after))
            removable.update(before - after)
            addable.update(after - before)
    markup: Counter = Counter()
    for item in findings.markup:
        markup.update(words(item.text))
    in_book = book_words(root) + markup
    kept = read - dropped
    missing, extra = kept - in_book, in_book - kept
    rejoined = _reconcile(missing, extra)
    removed, added = missing & removable, extra & addable
    missing, extra = missing - removed, extra - added
    result = WordBalance(
        read=sum(read.values()), dropped=dropped_by_reason,
        in_book=sum(kept.values()) - sum(missing.values()) - sum(removed.values()),
        as_markup=sum(markup.values()), rejoined=rejoined,
        removed_by_repairs=sum(removed.values()), added_by_repairs=sum(added.values()),
        missing=missing, extra=extra + (dropped - read))
    if missing:
        result.where_missing = _first_place(manuscript, missing)
    return result


def _reconcile(missing: Counter, extra: Counter) -> int:
    """Take out words that are the same letters cut differently; returns how many manuscript words that was.

    ``inter`` + ``national`` missing and ``international`` extra is a word re-joined across a
    line break; ``586`` missing and ``5`` + ``86`` extra is a glued token split. Both counters
    are changed in place.
    """
    reconciled = 0
    budget = [_SEARCH_STEPS]
    for token in sorted(list(extra), key=len, reverse=True):
        while extra[token] > 0:
            pieces = _compose(token, missing, _MAX_PIECES, budget)
            if pieces is None:
                break
            missing.subtract(pieces)
            extra[token] -= 1
            reconciled += len(pieces)
    for token in sorted(list(missing), key=len, reverse=True):
        while missing[token] > 0:
            pieces = _compose(token, extra, _MAX_PIECES, budget)
            if pieces is None:
                break
            extra.subtract(pieces)
            missing[token] -= 1
            reconciled += 1
    for counter in (missing, extra):
        for token in [token for token, count in counter.items() if count <= 0]:
            del counter[token]
    return reconciled


def _compose(token: str, pieces: Counter, limit: int, budget: list[int]) -> list[str] | None:
    """Two or more available pieces that concatenate to ``token``, or None (also when the search has used up
    its ``budget``: digits can be cut many ways, and a balance that far off fails anyway)."""
    def search(rest: str, used: Counter, depth: int) -> list[str] | None:
        budget[0] -= 1
        if not rest:
            return [] if depth >= 2 else None
        if depth >= limit or budget[0] <= 0:
            return None
        for end in range(len(rest), 0, -1):
            head = rest[:end]
            if pieces[head] - used[head] > 0 and (end < len(token) or depth > 0):
                used[head] += 1
                tail = search(rest[end:], used, depth + 1)
                if tail is not None:
                    return [head] + tail
                used[head] -= 1
        return None

    if not pieces:
        return None
    return search(token, Counter(), 0)


def _first_place(manuscript: Manuscript, missing: Counter) -> str | None:
    """The manuscript place that holds most of the missing words (the first such, on a tie)."""
    best, best_score = None, 0
    for block in manuscript.blocks:
        score = sum((block_words([block]) & missing).values())
        if score > best_score:
            best, best_score = block, score
    return best.where.describe() if best is not None else None
