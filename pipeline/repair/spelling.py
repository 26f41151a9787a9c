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

import atexit
import functools
import json
import os
import re
import shutil
import subprocess
import threading
import unicodedata
import weakref
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
    occurrences, known, candidates = spelling_candidates(root)
    unknown = _misspelt(program, dictionaries, candidates, known)
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


def spelling_candidates(root: etree._Element) -> tuple[list[tuple[etree._Element, re.Match]], set[str], list[str]]:
    """The running text's words (each element with its match), the book's own word list, and the words
    Hunspell is asked about, sorted: those of the running text the word list lacks, and each without its accents."""
    elements = root.xpath(_RUNNING_TEXT, namespaces=NS)
    occurrences = [(element, match) for element in elements for match in _words(element)]
    known = book_words(root)
    candidates = set(map(_base, {match.group(0) for _, match in occurrences})) - known
    # asked too, to offer "Defense" for "Défense" (an ASCII word has no accent to strip)
    candidates |= {_without_accents(word) for word in candidates if not word.isascii()}
    return occurrences, known, sorted(candidates)


def available_dictionaries() -> list[str]:
    """The English Hunspell dictionaries installed (a dictionary is its .dic and .aff pair)."""
    return [name for name in DICTIONARIES
            if any((folder / f"{name}.dic").exists() and (folder / f"{name}.aff").exists()
                   for folder in DICTIONARY_DIRS)]


def book_words(root: etree._Element) -> set[str]:
    """The book's own vocabulary (see the module docstring): words a dictionary cannot be expected to know."""
    words: set[str] = set()
    for element in root.xpath(_REFERENCE_TEXT, namespaces=NS):
        words.update(map(_base, set(_WORD.findall(" ".join(element.itertext())))))
    for element in root.xpath("//db:para | //db:title | //db:entry", namespaces=NS):
        text = text_of(element)
        lead = len(text) - len(text.lstrip())
        for match in _WORD.finditer(text):
            if match.group(0).islower():
                continue  # no capital: neither test below can hold (most words; the pass is timed in a build)
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


Answer = list[str] | None  # None: the word is correct; else Hunspell's suggestions (maybe none)

# how many unknown words pay for another dictionary load: a load is ~0.08 s, a word's suggestions ~25 ms
_UNKNOWN_WORDS_PER_PROCESS = 3
# from this many new words on, a process of its own lists the unknown ones first (~0.09 s with its load) even
# when none was started ahead: asked of ``-a`` directly, each unknown word's suggestions come one after another
_LIST_FIRST_FROM = 500
_MOST_PROCESSES = 8  # a larger machine gains little more on a book's dozen unknown words


class _Hunspell:
    """Hunspell asked in two steps, its answers remembered for the life of press's process.

    ``hunspell -a`` (ispell's pipe protocol) computes suggestions for every unknown word it meets, ~25 ms each:
    a book's dozen unknown words were two thirds of the spelling pass. So a ``hunspell -L`` process first names
    the unknown words of a request (it prints the input lines holding one; it checks each line with the same
    parser and dictionaries as ``-a``, without suggesting, 3,000 words in a hundredth of a second), then the
    unknown words are shared among ``-a`` processes, one per core, their suggestions merged back in order.

    The answers are the ones a single ``-a`` process would give the whole request: with two dictionaries
    (en_US, en_GB) Hunspell suggests from the dictionary that accepted the last word it knew, so each ``-a``
    process is sent every known word of the request, in order, with its own share of the unknown ones (a
    known word costs microseconds; an unknown one moves nothing, so leaving the others' out changes no
    state). An unknown line Hunspell reads as several words could move it, so if one turns up the request
    is asked again of one fresh process, as before. The ``-a`` processes are kept (the dictionaries take a
    tenth of a second to load, which a run over many manuscripts, or a test suite, would pay per book);
    the ``-L`` process reads to the end of its input and is used once. ``prestart`` starts the ``-L`` process
    and one ``-a`` while the extract stage reads the manuscript, so their dictionaries are loaded by the time
    the spelling pass asks; the other ``-a`` processes start when the unknown words are known to be enough to
    pay for their load (which then overlaps the first one's work, and earns them a smaller share). Not all
    ahead: on two cores, four processes loading at once took the main thread's core from the extract stage.
    """

    def __init__(self, program: str, dictionaries: tuple[str, ...]):
        self.command = [program, "-a", "-i", "utf-8", "-d", ",".join(dictionaries)]  # also names the kept answers
        self.list_command = [program, "-L", "-i", "utf-8", "-d", ",".join(dictionaries)]
        self.suggesters: list[_Suggester] = []  # the kept ``-a`` processes, in step with one another
        self.lister: subprocess.Popen[bytes] | None = None  # a ``-L`` process started ahead, not yet used
        self.known: dict[str, Answer] = {}
        self._owner = os.getpid()
        _CLIENTS.add(self)

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The first kept ``-a`` process, if one runs."""
        return self.suggesters[0].process if self.suggesters else None

    def prestart(self) -> None:
        """Start the processes a request will want, without waiting for them: the dictionaries load meanwhile.
        With answers already kept (a build after an edit, a second book) a request brings a few new words: one
        ``-a`` process answers them directly. Otherwise (a cold build) a ``-L`` process and one ``-a``."""
        warm = bool(self.known) or (_answers_file is not None and _kept_answers(self.command) is not None)
        if not warm and (self.lister is None or self.lister.poll() is not None):
            self.lister = self._popen(self.list_command)
        self._suggesters(1)

    def ask(self, words: list[str]) -> dict[str, Answer]:
        kept = _kept_answers(self.command) if _answers_file is not None else None
        if kept is not None:
            self.known.update(kept)
        new = [word for word in dict.fromkeys(words) if word not in self.known]
        if new:
            # With en_US and en_GB, Hunspell suggests from the dictionary that knew the last correct word: a new
            # word is asked after the correct words the request has before it, as a request with nothing kept
            # asks it (an unknown word changes no state, so those already answered are left out).
            stream = [word for word in dict.fromkeys(words) if word not in self.known or self.known[word] is None]
            try:
                answers = self._answers(stream, len(new))
            except (OSError, ValueError):  # a process died (killed, or a broken pipe): one fresh try
                self._stop()
                answers = self._answers(stream, len(new))
            self.known.update({word: answers[word] for word in new})
            if _answers_file is not None:
                _keep_answers(self.command, self.known)
        return {word: self.known[word] for word in words}

    def _answers(self, words: list[str], asking: int | None = None) -> dict[str, Answer]:
        """Hunspell's answer for each of ``words``, of which ``asking`` (default all) are not known yet."""
        lister = self._lister(len(words) if asking is None else asking)
        if lister is None:  # a few words: asked of ``-a`` directly
            replies = _exchange_all([(suggester, words) for suggester in self._suggesters(1)])
            return {word: answer for word, (answer, _) in zip(words, replies[0])}
        unknown = _unknown_lines(lister, words)
        started = len(self.suggesters)
        suggesters = self._suggesters(min(_cores(), max(1, len(unknown) // _UNKNOWN_WORDS_PER_PROCESS)))
        # a process started now loads its dictionaries first, the time of a few words' suggestions: fewer for it
        share = _shares(unknown, [0 if turn < started else _UNKNOWN_WORDS_PER_PROCESS
                                  for turn in range(len(suggesters))])
        streams = [[word for word in words if share.get(word, turn) == turn] for turn in range(len(suggesters))]
        replies = _exchange_all(list(zip(suggesters, streams)))
        answers: dict[str, Answer] = {}
        for turn, (stream, reply) in enumerate(zip(streams, replies)):
            for word, (answer, tokens) in zip(stream, reply):
                if word in share:
                    if tokens != [word]:  # read as several words (or not as itself): the shared state may differ
                        return self._answers_from_one(words)
                    answers[word] = answer
                elif answer is not None:  # ``-L`` called it known: never seen, but then trust neither
                    return self._answers_from_one(words)
                elif turn == 0:
                    answers[word] = None
        return answers

    def _answers_from_one(self, words: list[str]) -> dict[str, Answer]:
        """The request asked of one fresh ``-a`` process, every word in order (as press asked before)."""
        self._stop()
        replies = _exchange_all([(suggester, words) for suggester in self._suggesters(1)])
        return {word: answer for word, (answer, _) in zip(words, replies[0])}

    def _lister(self, words: int) -> subprocess.Popen[bytes] | None:
        """The ``-L`` process started ahead, else a fresh one if the request is long enough to pay its load."""
        lister, self.lister = self.lister, None
        if lister is not None and lister.poll() is None:
            return lister
        return self._popen(self.list_command) if words >= _LIST_FIRST_FROM else None

    def _suggesters(self, count: int) -> list[_Suggester]:
        """The kept ``-a`` processes, ``count`` at least (any that died are dropped: the retry starts anew)."""
        if any(suggester.process.poll() is not None for suggester in self.suggesters):
            self._stop()  # one died: the others may be out of step with it, so all start again
        while len(self.suggesters) < count:
            self.suggesters.append(_Suggester(self._popen(self.command)))
        return self.suggesters

    @staticmethod
    def _popen(command: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def _stop(self) -> None:
        processes = [suggester.process for suggester in self.suggesters] + ([self.lister] if self.lister else [])
        self.suggesters, self.lister = [], None
        for running in processes:
            _end(running)

    def _stop_if_own(self) -> None:
        if os.getpid() == self._owner:  # a forked worker does not end its parent's processes
            self._stop()


_CLIENTS: weakref.WeakSet[_Hunspell] = weakref.WeakSet()


@atexit.register
def end_hunspell() -> None:
    """End every Hunspell process this process started (the answers stay remembered; a later request starts
    them again). Called when the build's extract stage is done (~22 MB a process is freed) and when press exits,
    for processes started ahead and never asked."""
    for client in list(_CLIENTS):
        client._stop_if_own()


def _let_go_of_pipes() -> None:
    """In a process forked while Hunspell runs (the build's render workers start beside the spelling pass): its
    copies of the pipes to Hunspell let go. ``hunspell -L`` reads its input to the end, which never comes while
    a copy of the writing end is open in another process. Each copy is pointed at /dev/null rather than closed,
    so the pipe objects the child inherited stay whole (closed or collected there, they close /dev/null)."""
    streams = [stream for client in list(_CLIENTS)
               for running in [suggester.process for suggester in client.suggesters] + [client.lister]
               if running is not None for stream in (running.stdin, running.stdout)
               if stream is not None and not stream.closed]
    if not streams:
        return
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for stream in streams:
            os.dup2(null, stream.fileno())
    finally:
        os.close(null)


os.register_at_fork(after_in_child=_let_go_of_pipes)


class _Suggester:
    """One ``hunspell -a`` process; its version banner is read when it is first asked (it comes once the
    dictionaries are loaded: a process started ahead is not waited for).

    Its answers are read in large chunks straight from the pipe, not line by line: in a build the WeasyPrint
    import runs in a thread beside the extract stage, and each blocking read gives that thread the GIL back
    for up to a switch interval (5 ms), so reading 3,000 answer lines one at a time took most of a second."""

    def __init__(self, process: subprocess.Popen[bytes]):
        assert process.stdin is not None
        self.process = process
        self.ready = False
        self.pending = b""  # bytes read past the last complete line
        process.stdin.write(b"!\n")  # terse mode: a correct word gives only its blank line (read after the banner)
        process.stdin.flush()

    def exchange(self, words: list[str]) -> list[tuple[Answer, list[str]]]:
        """Each word's answer, and the unknown words Hunspell read in its line (the word itself, normally)."""
        request = "".join(f"^{word}\n" for word in words).encode("utf-8")  # ^: the line is text, whatever it holds
        writer = threading.Thread(target=_write, args=(self.process, request), daemon=True)
        writer.start()  # written beside the reading: a long request must not fill both pipes and stall
        answers: list[tuple[Answer, list[str]]] = []
        current: Answer = None
        tokens: list[str] = []
        lines = self._lines()
        while len(answers) < len(words):
            line = next(lines)
            if not self.ready:  # the version banner
                self.ready = True
            elif not line:  # the end of one input line's answers
                answers.append((current, tokens))
                current, tokens = None, []
            elif line.startswith("&"):  # "& word n offset: suggestion, suggestion"
                current = [s.strip() for s in line.partition(": ")[2].split(",") if s.strip()]
                tokens.append(line.split(" ", 2)[1])
            elif line.startswith("#"):  # "# word offset": unknown, no suggestion
                current = []
                tokens.append(line.split(" ", 2)[1])
        writer.join()
        return answers

    def _lines(self) -> Iterator[str]:
        """The process's output lines as they come, read in chunks; ValueError if it stops answering. Hunspell
        writes nothing past a request's last answer, so no complete line is left unread when the request ends."""
        assert self.process.stdout is not None
        descriptor = self.process.stdout.fileno()
        while True:
            *complete, self.pending = (self.pending + self._read(descriptor)).split(b"\n")
            for line in complete:
                yield line.decode("utf-8")

    @staticmethod
    def _read(descriptor: int) -> bytes:
        chunk = os.read(descriptor, 1 << 16)
        if not chunk:
            raise ValueError("hunspell stopped answering")
        return chunk


def _write(process: subprocess.Popen[bytes], request: bytes) -> None:
    assert process.stdin is not None
    try:
        process.stdin.write(request)
        process.stdin.flush()
    except (OSError, ValueError):
        pass  # the reader sees the process gone and says so


def _exchange_all(requests: list[tuple[_Suggester, list[str]]]) -> list[list[tuple[Answer, list[str]]]]:
    """Each ``-a`` process asked its words at the same time (a thread each waits on its pipe), answers in order."""
    if len(requests) == 1:
        suggester, words = requests[0]
        return [suggester.exchange(words)]
    replies: list[list[tuple[Answer, list[str]]] | BaseException] = [[] for _ in requests]

    def run(index: int, suggester: _Suggester, words: list[str]) -> None:
        try:
            replies[index] = suggester.exchange(words)
        except BaseException as error:  # handed to the asking thread
            replies[index] = error

    threads = [threading.Thread(target=run, args=(index, *request), daemon=True, name="press-hunspell")
               for index, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for reply in replies:
        if isinstance(reply, BaseException):
            raise reply
    return [reply for reply in replies if not isinstance(reply, BaseException)]


def _shares(unknown: list[str], head_starts: list[int]) -> dict[str, int]:
    """Which process suggests for each unknown word: each word, in order, to the process with the least to do
    (its words so far, plus its dictionary load counted in words). Any sharing gives the same answers."""
    work = list(head_starts)
    share = {}
    for word in unknown:
        turn = work.index(min(work))
        share[word] = turn
        work[turn] += 1
    return share


def _unknown_lines(lister: subprocess.Popen[bytes], words: list[str]) -> list[str]:
    """The words ``hunspell -L`` prints back (the lines holding a word it does not know), in request order.
    Its lines carry no ``^``: outside ``-a`` no line is a command, so the parser reads the same text."""
    output, _ = lister.communicate("".join(f"{word}\n" for word in words).encode("utf-8"))
    if lister.returncode != 0:
        raise ValueError(f"hunspell -L stopped (status {lister.returncode})")
    printed = set(output.decode("utf-8").split("\n"))
    return [word for word in words if word in printed]


def _end(process: subprocess.Popen[bytes]) -> None:
    """Stop a Hunspell process and reap it (no zombie). Its pipes close with the Popen object, not here: a
    thread may still be reading one, and a descriptor closed under it could be reused by another file."""
    if process.poll() is None:
        process.kill()
    process.wait()


def _cores() -> int:
    """The cores this process may run on (a container's share, not the machine's), at most _MOST_PROCESSES."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    return max(1, min(count, _MOST_PROCESSES))


def prestart(language: str) -> None:
    """Start Hunspell for the spelling pass ahead of it (called as the extract stage begins, while the manuscript
    is read and structured), if the book is English and Hunspell is installed; nothing otherwise. Processes
    never asked are ended when press exits."""
    program = shutil.which("hunspell") if language.startswith("en") else None
    dictionaries = available_dictionaries() if program else []
    if program and dictionaries:
        try:
            _hunspell(program, tuple(dictionaries)).prestart()
        except OSError:
            pass  # the pass starts it when it asks, and says so if it cannot


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
