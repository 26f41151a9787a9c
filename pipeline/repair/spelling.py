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

import functools
import json
import re
import shutil
import subprocess
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lxml import etree
from rapidfuzz import fuzz, process

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
    """Which of ``words`` Hunspell does not know, each with its suggestions: for a capitalised word (a name, as
    likely as not) the book's own names nearest to it first, then Hunspell's."""
    answers = _hunspell(program, tuple(dictionaries)).ask(words)
    unknown: dict[str, list[str]] = {}
    for word in words:
        offered = answers.get(word)
        if offered is None:
            continue
        names = [name for name, _, _ in process.extract(word, known, scorer=fuzz.ratio, score_cutoff=85, limit=3)
                 if name[:1].isupper()] if word[:1].isupper() else []
        suggestions = names + [s for s in offered if s not in names]
        unknown[word] = suggestions
    for word, suggestions in unknown.items():
        plain = _without_accents(word)  # "Défense": Hunspell's edits do not strip an accent, but it may be all
        if plain != word and plain not in unknown and plain not in suggestions:
            suggestions.insert(0, plain)
    return unknown


class _Hunspell:
    """One ``hunspell -a`` process (ispell's pipe protocol) kept for the life of press's process, and its answers
    remembered: its dictionaries take a tenth of a second to load, which a run over many manuscripts (or a
    test suite) would pay per book. The answers depend on the dictionaries alone (the book's own words are
    filtered before Hunspell is asked), so remembering them across books is safe."""

    def __init__(self, program: str, dictionaries: tuple[str, ...]):
        self.command = [program, "-a", "-i", "utf-8", "-d", ",".join(dictionaries)]
        self.process: subprocess.Popen[str] | None = None
        self.known: dict[str, list[str] | None] = {}  # word -> None (correct) or Hunspell's suggestions

    def ask(self, words: list[str]) -> dict[str, list[str] | None]:
        kept = _kept_answers(self.command) if _answers_file is not None else None
        if kept is not None:
            self.known.update(kept)
        new = [word for word in dict.fromkeys(words) if word not in self.known]
        if new:
            try:
                self.known.update(zip(new, self._answers(new)))
            except (OSError, ValueError):  # the process died (killed, or a broken pipe): one fresh try
                self._stop()
                self.known.update(zip(new, self._answers(new)))
            if _answers_file is not None:
                _keep_answers(self.command, self.known)
        return {word: self.known[word] for word in words}

    def _answers(self, words: list[str]) -> list[list[str] | None]:
        process = self._started()
        assert process.stdin is not None and process.stdout is not None
        request = "".join(f"^{word}\n" for word in words)  # ^: the line is text, whatever its first character
        writer = threading.Thread(target=self._write, args=(process, request), daemon=True)
        writer.start()  # written beside the reading: a long request must not fill both pipes and stall
        answers: list[list[str] | None] = []
        current: list[str] | None = None
        while len(answers) < len(words):
            line = process.stdout.readline()
            if not line:
                raise ValueError("hunspell stopped answering")
            line = line.rstrip("\n")
            if not line:  # the end of one input line's answers
                answers.append(current)
                current = None
            elif line.startswith("&"):  # "& word n offset: suggestion, suggestion"
                current = [s.strip() for s in line.partition(": ")[2].split(",") if s.strip()]
            elif line.startswith("#"):  # "# word offset": unknown, no suggestion
                current = []
        writer.join()
        return answers

    @staticmethod
    def _write(process: subprocess.Popen[str], request: str) -> None:
        assert process.stdin is not None
        try:
            process.stdin.write(request)
            process.stdin.flush()
        except (OSError, ValueError):
            pass  # the reader sees the process gone and says so

    def _started(self) -> subprocess.Popen[str]:
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.DEVNULL, text=True, encoding="utf-8", bufsize=1)
            assert self.process.stdin is not None and self.process.stdout is not None
            self.process.stdout.readline()  # the version banner
            self.process.stdin.write("!\n")  # terse mode: a correct word gives only its blank line
            self.process.stdin.flush()
        return self.process

    def _stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        self.process = None


_answers_file: Path | None = None


@contextmanager
def answers_kept_in(path: Path) -> Iterator[None]:
    """Hunspell's answers kept in ``path`` across runs (the build's cache): asking it about the book's 3,000
    words took a third of a second of every build after a one-sentence edit, which brings a word or two new.
    The answers depend on Hunspell and its dictionary files alone, which name the kept answers."""
    global _answers_file
    previous, _answers_file = _answers_file, path
    try:
        yield
    finally:
        _answers_file = previous


def _dictionary_identity(command: list[str]) -> str:
    """The program and the dictionary files it reads (path, size, time): a package update changes it."""
    files = [folder / f"{name}.{suffix}" for name in command[-1].split(",") for folder in DICTIONARY_DIRS
             for suffix in ("dic", "aff")]
    program = Path(command[0])
    found = [f"{path} {path.stat().st_size} {path.stat().st_mtime_ns}" for path in [program, *files] if path.is_file()]
    return "\n".join([" ".join(command), *found])


def _kept_answers(command: list[str]) -> dict[str, list[str] | None] | None:
    assert _answers_file is not None
    try:
        data = json.loads(_answers_file.read_text(encoding="utf-8"))
        if data.get("dictionaries") != _dictionary_identity(command) or not isinstance(data.get("answers"), dict):
            return None
        return {word: answer if answer is None else [str(item) for item in answer]
                for word, answer in data["answers"].items() if answer is None or isinstance(answer, list)}
    except (OSError, ValueError):
        return None


def _keep_answers(command: list[str], known: dict[str, list[str] | None]) -> None:
    assert _answers_file is not None
    data = {"dictionaries": _dictionary_identity(command), "answers": dict(sorted(known.items()))}
    try:
        atomic_write(_answers_file, json.dumps(data, ensure_ascii=False) + "\n")
    except OSError:
        pass  # a cache: the next run asks again


@functools.lru_cache(maxsize=None)
def _hunspell(program: str, dictionaries: tuple[str, ...]) -> _Hunspell:
    return _Hunspell(program, dictionaries)


def _without_accents(word: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFD", word) if not unicodedata.combining(char))
