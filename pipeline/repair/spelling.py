"""A spelling pass with a real dictionary: Hunspell proposes, the editor decides, the stage never corrects.

The running text (paragraphs, titles, list items and table cells; not the notes, reference lists or
links, which quote other people's titles and names) is checked with the ``hunspell`` program and
Debian's English dictionaries (``hunspell-en-us`` and ``hunspell-en-gb``: the book mixes both
spellings, and either is right). A dictionary does not know the book's own vocabulary, so the book
gives an extra word list, derived from itself:

- acronyms and other words with a capital inside (ASEAN, ReCAAP, SMEs);
- capitalised words met in the middle of a sentence, which by English convention are names (Kimlong, Fukuda);
- every word of the notes and reference lists (the authors and titles the chapters cite).

Each remaining unknown word is a ``spelling`` finding at its line, flagged with Hunspell's suggestions;
the text changes only when the editor accepts a suggestion or supplies the word.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import unicodedata
from pathlib import Path

from lxml import etree

from ..docbook import NS, text_of
from ..findings import Findings
from ..safety import atomic_write
from .locate import line_at, scope_of
from .text import replace_once

DICTIONARY_DIRS = (Path("/usr/share/hunspell"), Path("/usr/share/myspell/dicts"))
DICTIONARIES = ("en_US", "en_GB")
# a word: letters, with inner apostrophes; never next to a digit ("21st", "5G", "FY2025" are not words)
_WORD = re.compile(r"(?<![\d\w])[^\W\d_]+(?:['’][^\W\d_]+)*(?![\d\w])")
_SENTENCE_START = re.compile(r"(?:(?<!\bDr)(?<!\bMr)(?<!\bMs)(?<!\bMrs)(?<!\bH\.E)(?<!\bProf)(?<!\bSt)(?<!\b[A-Z])[.!?:;]\s+"
                             r"|[“\"(]\s*)$")
_RUNNING_TEXT = ("//db:para[not(ancestor::db:footnote) and not(ancestor::db:info)] | //db:title[not(ancestor::db:info"
                 " and not(parent::db:info/parent::db:chapter))] | //db:entry")
_REFERENCE_TEXT = "//db:footnote | //db:bibliography | //db:info//db:personname | //db:info//db:affiliation"


def check_spelling(root: etree._Element, findings: Findings) -> None:
    """Flag each word neither the dictionaries nor the book's own word list knows, with suggestions."""
    if not (root.get("{http://www.w3.org/XML/1998/namespace}lang") or "en").startswith("en"):
        return
    dictionaries = available_dictionaries()
    program = shutil.which("hunspell")
    if program is None or not dictionaries:
        findings.flagged("spelling", "the spelling pass was skipped: the hunspell program or its English "
                                     "dictionaries are not installed (scripts/setup installs them)")
        return
    elements = root.xpath(_RUNNING_TEXT, namespaces=NS)
    occurrences = [(element, match) for element in elements for match in _words(element)]
    known = book_words(root)
    candidates = {_base(match.group(0)) for _, match in occurrences} - known
    candidates |= {_without_accents(word) for word in candidates}  # asked too, to offer "Defense" for "Défense"
    unknown = _misspelt(program, dictionaries, sorted(candidates), known)
    for element, match in occurrences:
        word = _base(match.group(0))
        if word not in unknown:
            continue
        suggestions = unknown[word]
        where = line_at(element, match.start(), findings)
        chosen = findings.propose(
            "spelling", f"'{word}' is in neither the dictionary ({', '.join(dictionaries)}) nor the book's word list"
            + (f"; Hunspell suggests {', '.join(suggestions[:4])}" if suggestions else "; Hunspell has no suggestion"),
            certain=False, before=word, after=suggestions[0] if suggestions else None, where=where,
            chapter=scope_of(element), data={"suggestions": suggestions[:6]},
            source_lines=[where.line] if where.line else [])
        if chosen is not None and chosen != word:
            replace_once(element, word, chosen)


def available_dictionaries() -> list[str]:
    """The English Hunspell dictionaries installed (a dictionary is its .dic and .aff pair)."""
    return [name for name in DICTIONARIES
            if any((folder / f"{name}.dic").exists() and (folder / f"{name}.aff").exists()
                   for folder in DICTIONARY_DIRS)]


def book_words(root: etree._Element) -> set[str]:
    """The book's own vocabulary (see the module docstring): words a dictionary cannot be expected to know."""
    words: set[str] = set()
    for element in root.xpath(_REFERENCE_TEXT, namespaces=NS):
        words.update(_base(word) for word in _WORD.findall(" ".join(element.itertext())))
    for element in root.xpath("//db:para | //db:title | //db:entry", namespaces=NS):
        text = text_of(element)
        lead = len(text) - len(text.lstrip())
        for match in _WORD.finditer(text):
            word = _base(match.group(0))
            if word[1:].lower() != word[1:]:
                words.add(word)  # an acronym, or a name with a capital inside
            elif word[:1].isupper() and match.start() > lead \
                    and not _SENTENCE_START.search(text[max(0, match.start() - 12):match.start()]):
                words.add(word)  # a capitalised word inside a sentence: a name
    # a surname set in capitals ("Dr. CHHENG Kimlong", "Alfredo C. PANIZALES") is spelt "Chheng" in a sentence
    words.update(word.capitalize() for word in list(words) if word.isupper() and len(word) > 2)
    return words


def _words(element: etree._Element) -> list[re.Match]:
    """The words of an element's own text (links left out: a URL is not spelt), hyphenated parts apart."""
    text = text_of(element)
    for link in element.iter("{http://docbook.org/ns/docbook}link"):
        printed = "".join(link.itertext())
        if printed:
            text = text.replace(printed, " " * len(printed))
    return [match for match in _WORD.finditer(text) if len(match.group(0)) > 1]


def _base(word: str) -> str:
    """The word without a possessive ending ("ASEAN's" → "ASEAN")."""
    return word[:-2] if word.endswith(("'s", "’s")) else word


def _misspelt(program: str, dictionaries: list[str], words: list[str], known: set[str]) -> dict[str, list[str]]:
    """Ask Hunspell (pipe mode, the book's words as a personal dictionary) which words it does not know, and
    its suggestions for each."""
    if not words:
        return {}
    with tempfile.TemporaryDirectory(prefix="press-spelling-") as directory:
        personal = Path(directory) / "book-words.dic"
        atomic_write(personal, "\n".join(sorted(known)) + "\n")  # the project's one way to write a file
        result = subprocess.run([program, "-a", "-i", "utf-8", "-d", ",".join(dictionaries), "-p", str(personal)],
                                input="!\n" + "".join(f"^{word}\n" for word in words), capture_output=True,
                                text=True, encoding="utf-8", timeout=120, check=False)
    # terse mode ("!"): a known word gives no line; "& word n offset: suggestions", or "# word offset" if none
    answers = [line for line in result.stdout.splitlines()[1:] if line.strip()]
    unknown: dict[str, list[str]] = {}
    for line in answers:
        if line.startswith("&"):
            head, _, offered = line.partition(": ")
            unknown[head.split()[1]] = [s.strip() for s in offered.split(",") if s.strip()]
        elif line.startswith("#"):
            unknown[line.split()[1]] = []
    for word, suggestions in unknown.items():
        plain = _without_accents(word)  # "Défense": Hunspell's edits do not strip an accent, but it may be all
        if plain != word and plain not in unknown and plain not in suggestions:
            suggestions.insert(0, plain)
    return unknown


def _without_accents(word: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFD", word) if not unicodedata.combining(char))
