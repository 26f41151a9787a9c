"""Khmer line breaking: zero-width spaces at word boundaries, so that Pango can break lines.

Khmer puts no spaces between words and Pango does not break Khmer by dictionary, so an
unmarked Khmer phrase cannot wrap. ICU's dictionary-based word break iterator finds the word
boundaries; a U+200B goes at each one inside a run of Khmer letters.

A boundary is only used where it cannot split a written cluster. ICU's dictionary falls back
to syllables for words it does not know (loanwords such as ស្ត្រាតេហ្ស៊ី), and its syllables, like
Unicode's default grapheme clusters, end right after a coeng (U+17D2): ``ស្|ត្|រា``. A line
break there leaves HarfBuzz a coeng with no consonant to subscript, so it draws a dotted circle
and the subscript is lost. So no break follows a coeng or a zero-width joiner, and none precedes
a combining mark (the dependent vowels and signs U+17B4–U+17D3, U+17DD, any mark of category
M, a joiner). The same rule applies to zero-width spaces already in the text: a translator's
own breaks are kept where they are legal and removed where they would split a cluster.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

ZWSP = "\u200b"
COENG = "\u17d2"
ZWNJ, ZWJ = "\u200c", "\u200d"
_KHMER_RUN = re.compile(r"[\u1780-\u17FF\u19E0-\u19FF\u200b\u200c\u200d]+")
_KHMER_MARKS = frozenset(chr(code) for code in range(0x17B4, 0x17D4)) | {"\u17dd"}


@lru_cache(maxsize=1)
def _iterator():
    try:
        import icu  # PyICU, from the pyicu-wheels package
    except ImportError:
        from ..errors import EnvironmentProblem
        raise EnvironmentProblem("ICU (PyICU) is not installed, and Khmer cannot be broken into lines without it",
                                 hint="run scripts/setup, or 'pip install pyicu-wheels' in the environment")
    return icu.BreakIterator.createWordInstance(icu.Locale("km"))


def joins_next(char: str) -> bool:
    """A character that binds to the one after it: no line may break right after it."""
    return char in (COENG, ZWJ)


def joins_previous(char: str) -> bool:
    """A character that belongs to the cluster before it: no line may break right before it."""
    return char in _KHMER_MARKS or char in (ZWNJ, ZWJ) or unicodedata.category(char).startswith("M")


def may_break_between(before: str, after: str) -> bool:
    """Whether a line may break between these two characters without splitting a cluster."""
    return not joins_next(before) and not joins_previous(after)


def break_khmer(text: str) -> str:
    """``text`` with a zero-width space at every Khmer word boundary that does not split a cluster."""
    if not _KHMER_RUN.search(text):
        return text
    return _KHMER_RUN.sub(lambda match: _break_run(match.group(0), match.start(), text), text)


def cluster_splitting_breaks(text: str) -> list[int]:
    """Offsets of the zero-width spaces in ``text`` that split a cluster (for checks and tests)."""
    return [index for index, char in enumerate(text)
            if char == ZWSP and 0 < index < len(text) - 1 and not may_break_between(text[index - 1], text[index + 1])]


def _break_run(run: str, start: int, text: str) -> str:
    """Segment one run of Khmer, keeping the translator's legal breaks and dropping illegal ones."""
    before_run = text[start - 1] if start else ""
    after_run = text[start + len(run)] if start + len(run) < len(text) else ""
    pieces: list[str] = []
    for chunk in run.split(ZWSP):
        if not chunk:
            continue
        if pieces:
            previous = pieces[-1]
            if may_break_between(previous[-1], chunk[0]):
                pieces.append(ZWSP)
        pieces.append(_segment(chunk))
    body = "".join(pieces)
    # Breaks the translator put at the run's edges stay when the neighbours allow them.
    if run.startswith(ZWSP) and (not before_run or not body or may_break_between(before_run, body[0])):
        body = ZWSP + body
    if run.endswith(ZWSP) and len(run) > 1 and (not after_run or not body or may_break_between(body[-1], after_run)):
        body = body + ZWSP
    return body or run


def _segment(chunk: str) -> str:
    """ICU's word boundaries in ``chunk``, less those that would split a cluster."""
    iterator = _iterator()
    iterator.setText(chunk)
    out, start = [], 0
    for end in iterator:
        if end < len(chunk) and not may_break_between(chunk[end - 1], chunk[end]):
            continue  # a boundary inside a cluster: the piece runs on to the next legal one
        out.append(chunk[start:end])
        start = end
    if start < len(chunk):
        out.append(chunk[start:])
    return ZWSP.join(piece for piece in out if piece)
