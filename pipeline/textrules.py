"""Small rules about how a line of text ends and how it is capitalised: one home for each.

Readers use them to tell a heading line from a line of prose, the structuring stage to decide
whether a paragraph goes on across a break. They are about text only, so any stage may use them.
"""

from __future__ import annotations

import re

# A sentence's end: . ! ? or : with closing quotes or brackets after it.
SENTENCE_END = re.compile(r"[.!?:][\"'”’)\]]*$")
# Any punctuation a heading does not end with: a sentence's end, ; or , (also before a note marker).
LINE_END_PUNCTUATION = re.compile(r"[.!?:;,][\"'”’)\]]*[⁰¹²³⁴⁵⁶⁷⁸⁹]*$|[⁰¹²³⁴⁵⁶⁷⁸⁹]$")
_SIGNIFICANT_WORD = re.compile(r"[^\W\d_][\w'’-]*")


def ends_sentence(text: str) -> bool:
    """Does this text end a sentence (so that the next block starts a new paragraph)?"""
    return bool(SENTENCE_END.search(text.rstrip()))


def ends_with_punctuation(text: str) -> bool:
    """Does this line end in punctuation (or a note marker) as prose does, and a heading does not?"""
    return bool(LINE_END_PUNCTUATION.search(text.rstrip()))


def title_case_ratio(text: str) -> float:
    """Share of the significant words (four letters or more) that start with a capital; a text without
    any counts as capitalised when it starts with a capital."""
    words = [word for word in _SIGNIFICANT_WORD.findall(text) if len(word) >= 4]
    if not words:
        return 1.0 if text[:1].isupper() else 0.0
    return sum(1 for word in words if word[0].isupper()) / len(words)
