"""Hyphenation a typesetter accepts: never inside a name, an acronym or a capitalised word.

WeasyPrint hyphenates with Pyphen's patterns and has no exception list, so `Ja-pan`, `Thail-and`
and `SUM-MIT` broke across lines. CSS has no per-word control short of wrapping every name in an
element; instead, while an edition is laid out, WeasyPrint's line breaker gets a Pyphen dictionary
that offers no break in a word with a capital letter or a digit (proper nouns, acronyms, sentence
openings, codes), nor in the book's own do-not-break terms. How much is hyphenated at all is the
stylesheet's business (``hyphenate-limit-chars``, ``hyphenate-limit-zone`` in print.css).

WeasyPrint has no ``hyphenate-limit-lines`` either, so ladders (three hyphenated lines in a row)
are prevented here too: the line breaker is watched line by line, and after two hyphenated lines
of the same run of text the next line is broken without hyphenation.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


def is_protected(word: str, terms: frozenset[str] = frozenset()) -> bool:
    """Whether a word must never be hyphenated."""
    return any(char.isupper() or char.isdigit() for char in word) or word.lower() in terms


@contextmanager
def book_hyphenation(terms: Iterable[str] = ()) -> Iterator[None]:
    """Lay out under this context to keep names, acronyms and ``terms`` whole."""
    import pyphen
    import weasyprint.text.line_break as line_break

    import weasyprint.layout.inline as inline

    protected = frozenset(term.lower() for term in terms)
    ladder = _LadderGuard()

    class BookPyphen(pyphen.Pyphen):
        def iterate(self, word: str):
            if ladder.suppress or is_protected(word, protected):
                return iter(())
            return super().iterate(word)

    shim = types.SimpleNamespace(Pyphen=BookPyphen, language_fallback=pyphen.language_fallback)
    original_pyphen, original_split = line_break.pyphen, inline.split_first_line
    line_break.pyphen = shim
    inline.split_first_line = ladder.wrap(original_split)
    try:
        yield
    finally:
        line_break.pyphen, inline.split_first_line = original_pyphen, original_split


def preload_dictionaries(languages: Iterable[str]) -> None:
    """Read the hyphenation patterns of ``languages`` now (those Pyphen has): Pyphen keeps each file's patterns for
    the process, and reading en_US's took 0.05 s of CPU in each render worker's first part; read once in the
    process the workers fork from, they inherit them."""
    import pyphen
    for language in languages:
        if pyphen.language_fallback(language):
            pyphen.Pyphen(lang=language)


MAX_HYPHENATED_LINES = 2  # in a row


class _LadderGuard:
    """Counts consecutive hyphenated lines of one run of text and stops a third."""

    def __init__(self) -> None:
        self.suppress = False
        self._runs: dict[int, tuple[str, int]] = {}  # id(style) -> (the text left for the next line, hyphenated run)

    def wrap(self, split_first_line):
        def split(text, style, *args, **kwargs):
            key = id(style)
            expected, run = self._runs.get(key, ("", 0))
            run = run if text == expected else 0
            self.suppress = run >= MAX_HYPHENATED_LINES
            try:
                result = split_first_line(text, style, *args, **kwargs)
            finally:
                self.suppress = False
            layout, resume_index = result[0], result[2]
            if resume_index is None:
                self._runs.pop(key, None)
                return result
            hyphen = style["hyphenate_character"]
            hyphenated = bool(hyphen) and layout.text.endswith(hyphen) and not text.encode()[:resume_index] \
                .decode(errors="ignore").rstrip().endswith(hyphen)
            self._runs[key] = (text.encode()[resume_index:].decode(errors="ignore"), run + 1 if hyphenated else 0)
            return result
        return split
