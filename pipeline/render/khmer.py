"""Khmer line breaking: zero-width spaces at word boundaries, so that Pango can break lines.

Khmer puts no spaces between words and Pango does not break Khmer by dictionary, so an
unmarked Khmer phrase cannot wrap. ICU's dictionary-based word break iterator finds the word
boundaries; a U+200B goes at each one inside a run of Khmer letters. Zero-width spaces the
translator typed are kept (they win over the dictionary), and nothing else changes.
"""

from __future__ import annotations

import re
from functools import lru_cache

ZWSP = "\u200b"
_KHMER_RUN = re.compile(r"[\u1780-\u17FF\u19E0-\u19FF\u200b]+")


@lru_cache(maxsize=1)
def _iterator():
    try:
        import icu  # PyICU, from the pyicu-wheels package
    except ImportError:
        from ..errors import EnvironmentProblem
        raise EnvironmentProblem("ICU (PyICU) is not installed, and Khmer cannot be broken into lines without it",
                                 hint="run scripts/setup, or 'pip install pyicu-wheels' in the environment")
    return icu.BreakIterator.createWordInstance(icu.Locale("km"))


def break_khmer(text: str) -> str:
    """``text`` with a zero-width space at every Khmer word boundary that has none yet."""
    if not _KHMER_RUN.search(text):
        return text
    return _KHMER_RUN.sub(lambda match: _break_run(match.group(0)), text)


def _break_run(run: str) -> str:
    pieces = []
    for chunk in run.split(ZWSP):  # the translator's own breaks stay exactly where they are
        pieces.append(_segment(chunk) if chunk else chunk)
    return ZWSP.join(pieces)


def _segment(chunk: str) -> str:
    iterator = _iterator()
    iterator.setText(chunk)
    out, start = [], 0
    for end in iterator:
        out.append(chunk[start:end])
        start = end
    return ZWSP.join(piece for piece in out if piece)
