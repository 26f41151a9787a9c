"""Segments ⇄ gettext PO catalogs under ``locales/<lang>/``: read, merge, write — never regenerate.

One catalog per part of the book (``book``, each front-matter part, each chapter). An entry's
``msgctxt`` is its segment id, its ``msgid`` the source sentence. The merge rules keep every
translation a person or a machine made:

* same id and same text (or the same text moved elsewhere): translation and state kept;
* same id, changed text: the old translation kept, marked fuzzy, old source as ``#|`` previous msgid;
* gone: the entry becomes obsolete (``#~``), translation and flags kept, and comes back if the
  sentence does.

Babel reads the files. Its reader silently truncates a broken string, so every file is checked
(our own line guard, then ``msgfmt --check``) before it is read, and every file we write must pass
``msgfmt --check`` before it replaces the old one.

Files are written the way GNU gettext's own tools write them (Babel produces the entries unwrapped,
``msgcat`` lays them out: 79 columns, gettext's escapes and break points, which Poedit, Weblate and
``msgmerge --update`` keep), and a catalog whose entries did not change is never rewritten, whoever
last laid it out: the new catalog and the file's are compared entry by entry, not byte by byte. No
tool version is written into the file (Babel's ``Generated-By`` was, and churned every catalog when
Babel was upgraded).
"""

from __future__ import annotations

import codecs
import dataclasses
import difflib
import hashlib
import io
import json
import os
import pickle
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, unescape

from ..config import BookConfig
from ..errors import CatalogError, PipelineError
from ..safety import atomic_write, read_input_bytes, read_regular_file
from .segments import Segment

MT_PREFIX = "mt: "
TM_PREFIX = "tm: "  # a translation memory's match: "tm: exact <origin>" or "tm: 91% <origin>: <text>"
UNTRANSLATED, MACHINE, OUTDATED, REVIEWED = "untranslated", "machine draft", "needs review", "reviewed"
STATES = (UNTRANSLATED, MACHINE, OUTDATED, REVIEWED)
# How the status page and 'press status' count entries: the states, with the translation memory's exact
# matches (needs review, like any fuzzy entry) counted apart from machine drafts and changed sources.
MEMORY = "memory match"
COUNTED = (UNTRANSLATED, MACHINE, MEMORY, OUTDATED, REVIEWED)
SIMILARITY_CUTOFF = 0.5  # below this, a rewritten sentence's old translation is obsolete, not a fuzzy hint
_STRING_LINE = re.compile(r'^(?:#~\s*)?(?:#\|\s*)?(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)?\s*(".*)$')
# Header lines that say when or with what a file was written, not what it holds: a catalog that differs
# from the file on disk only there is not rewritten.
_VOLATILE_HEADER = re.compile(rb'^"(POT-Creation-Date|PO-Revision-Date|Generated-By): .*\\n"\n', re.MULTILINE)



# --------------------------------------------------------------------------- entry states and provenance


def source_text(message: Message) -> str:
    """An entry's source sentence. Press writes singular entries only; a plural entry a translator's tool
    added matches no segment and is kept as obsolete, so this reads its singular form."""
    return message.id if isinstance(message.id, str) else message.id[0]


def target_text(message: Message) -> str:
    """An entry's translation ("" when untranslated); for a plural entry, its first form (see source_text)."""
    string = message.string
    if isinstance(string, str):
        return string
    return (string[0] if string else "") or ""


def entry_state(message: Message) -> str:
    """Where an entry stands: untranslated, machine draft, needs review (source changed) or reviewed."""
    if not message.string:
        return UNTRANSLATED
    if not message.fuzzy:
        return REVIEWED
    if message.previous_id or not machine_provenance(message):
        return OUTDATED
    return MACHINE


def exact_memory_comment(origin: str) -> str:
    """The provenance line of a translation the memory filled (``tm: exact <origin>``)."""
    return f"{TM_PREFIX}exact {origin}"


def from_exact_memory(comments: Iterable[str]) -> bool:
    """Whether provenance lines say the memory filled the translation (the one reading of exact_memory_comment)."""
    return any(comment.startswith(exact_memory_comment("")) for comment in comments)


def memory_match(message: Message) -> bool:
    """Whether the entry's text came from the translation memory (an exact match not yet reviewed)."""
    return bool(message.string) and message.fuzzy and from_exact_memory(message.auto_comments)


def counted_state(message: Message) -> str:
    """The state an entry is counted under: ``entry_state``, with an unreviewed memory match apart."""
    state = entry_state(message)
    return MEMORY if state == OUTDATED and not message.previous_id and memory_match(message) else state


def provenance(message: Message) -> list[str]:
    """The comment lines saying where a translation or a suggestion came from (``mt:`` and ``tm:``); they
    travel with the entry through merges."""
    return [c for c in message.auto_comments if c.startswith((MT_PREFIX, TM_PREFIX))]


def machine_provenance(message: Message) -> list[str]:
    """The ``mt:`` comment lines (engine and model, weights' hash, draft fingerprint); comments are written
    one per line, never wrapped, so each reads back as it was written."""
    return [c for c in message.auto_comments if c.startswith(MT_PREFIX)]


def draft_fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def is_untouched_machine_draft(message: Message) -> bool:
    """A machine draft nobody has edited since: fuzzy, and its text still matches the recorded fingerprint."""
    return (bool(message.string) and message.fuzzy
            and f"{MT_PREFIX}draft:{draft_fingerprint(target_text(message))}" in message.auto_comments)


# --------------------------------------------------------------------------- checking


def check_po_bytes(data: bytes, path: Path | str) -> str:
    """Refuse a PO file that is empty, not in the charset its header declares, or with a broken string line or
    one msgfmt rejects (Babel would read it silently); return its text."""
    if not data.strip():
        raise CatalogError("the catalog is empty", path,
                           hint="restore it from version control, or delete it and 'press build' writes a new one")
    data = without_bom(data)
    text = decode_catalog(data, path)
    digest = hashlib.sha256(data).digest()
    if digest in _PASSED_CHECKS:  # the same bytes passed the line guard and msgfmt earlier in this process
        return text
    msgfmt = shutil.which("msgfmt") if _kept is not None else None
    if _kept is not None and msgfmt is not None and _kept.checked(msgfmt, digest.hex()):  # ... or in an earlier run
        _PASSED_CHECKS.add(digest)
        return text
    for number, line in enumerate(text.splitlines(), start=1):
        match = _STRING_LINE.match(line.strip())
        if match and not _closed_string(match.group(1)):
            raise CatalogError("unterminated string", path, f"line {number}",
                               hint="close the quotation mark (a tool or an edit cut the line); nothing was changed")
    _msgfmt_check(data, path)
    _PASSED_CHECKS.add(digest)
    if _kept is not None and msgfmt is not None:
        _kept.remember_check(msgfmt, digest.hex())
    return text


_PASSED_CHECKS: set[bytes] = set()  # as _PASSED_MSGFMT, for the whole check (its verdict depends on the bytes)


def without_bom(data: bytes) -> bytes:
    """The bytes without a UTF-8 byte-order mark: editors that save 'UTF-8 with BOM' (Notepad) put one first,
    which msgfmt calls a syntax error although no entry is damaged; it is not part of the catalog."""
    return data.removeprefix(codecs.BOM_UTF8)


_CHARSET = re.compile(rb'^"Content-Type:[^"\n]*charset=([^"\s;\\]+)', re.MULTILINE | re.IGNORECASE)


def declared_charset(data: bytes) -> str:
    """The charset the header's Content-Type names (UTF-8 when it names none, or gettext's placeholder)."""
    match = _CHARSET.search(data)
    charset = match.group(1).decode("ascii", "replace") if match else "UTF-8"
    return "UTF-8" if charset.upper() == "CHARSET" else charset


def decode_catalog(data: bytes, path: Path | str) -> str:
    """The catalog's text in the charset it declares. A file whose bytes are not valid in that charset is refused,
    and so is one that declares a single-byte or legacy charset but holds UTF-8 (an editor saved UTF-8 under an
    ISO-8859-1 header): read as declared, 日 would become æ\x97¥ and the edition would ship the garble."""
    charset = declared_charset(data)
    try:
        codec = codecs.lookup(charset).name
        "".encode(codec)  # a text encoding, not one of Python's byte transforms (base64, zlib, rot13)
    except LookupError:
        raise CatalogError(f"the header declares an unknown charset '{charset}'", path,
                           hint="name the file's real encoding in its Content-Type header (UTF-8 is best); "
                                "nothing was changed") from None
    try:
        text = data.decode(codec)
    except UnicodeError as error:
        if not isinstance(error, UnicodeDecodeError):
            raise CatalogError(f"the bytes are not valid {charset} ({error})", path,
                               hint="save it in the declared charset; nothing was changed") from None
        line = data[:error.start].count(b"\n") + 1
        raise CatalogError(f"the bytes are not valid {charset}, the charset its header declares (byte {error.start})",
                           path, f"line {line}", hint="save it in the declared charset, or declare the one it is "
                                                     "in; nothing was changed") from None
    if codec != "utf-8" and _holds_utf8_text(data):
        raise CatalogError(f"the header declares charset={charset} but the file holds UTF-8 text (read as {charset} "
                           f"it would be garbled)", path, "header",
                           hint="change the header to charset=UTF-8 if the file is UTF-8; nothing was changed")
    return text


def _holds_utf8_text(data: bytes) -> bool:
    """Bytes beyond ASCII that are valid UTF-8 multibyte sequences: text in a legacy charset almost never is."""
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _closed_string(literal: str) -> bool:
    if len(literal) < 2 or not literal.endswith('"'):
        return False
    backslashes = len(literal[:-1]) - len(literal[:-1].rstrip("\\"))
    return backslashes % 2 == 0


def _c_locale() -> dict[str, str]:
    """The environment for gettext's tools: their messages in English, whatever the user's locale."""
    return {**os.environ, "LC_ALL": "C"}


# A header still at its template values (PO-Revision-Date, Last-Translator: a catalog filled by a script
# or not yet opened in an editor) is a warning in current gettext but fatal in older msgfmt; it is not
# a broken catalog, so it is never refused.
_TOLERATED = ("initial default value",)


def _tolerated(line: str) -> bool:
    return any(mark in line for mark in _TOLERATED)


def _only_tolerated(stderr: bytes) -> bool:
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return any(_tolerated(line) for line in lines) and all(
        _tolerated(line) or "warning:" in line or "fatal error" in line or line.startswith(" ") for line in lines)


# The digests of the PO bytes msgfmt already passed in this process: a build reads each catalog four or five
# times (merge, drafting, the state count, the review checks, localizing), and msgfmt's verdict depends on the
# bytes alone, so one run per content is enough (110 msgfmt processes an edit took 0.5 s of the build's
# serial part, before the editions start).
_PASSED_MSGFMT: set[bytes] = set()


def _msgfmt_check(data: bytes, path: Path | str) -> None:
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        return  # the line guard above still ran; scripts/setup installs gettext
    digest = hashlib.sha256(msgfmt.encode() + b"\0" + data).digest()
    content = hashlib.sha256(data).hexdigest()
    if digest in _PASSED_MSGFMT:
        if _kept is not None:  # passed before the build's verdicts were read: kept for the next run all the same
            _kept.remember_pass(msgfmt, content)
        return
    if _kept is not None and _kept.passed(msgfmt, content):  # an earlier run's msgfmt passed these very bytes
        _PASSED_MSGFMT.add(digest)
        return
    result = subprocess.run([msgfmt, "--check", "-o", "/dev/null", "-"], input=data, capture_output=True,
                            timeout=60, env=_c_locale())
    if result.returncode == 0 or _only_tolerated(result.stderr):
        if len(_PASSED_MSGFMT) > 10_000:  # a bound for a long-lived process
            _PASSED_MSGFMT.clear()
        _PASSED_MSGFMT.add(digest)
        if _kept is not None:
            _kept.remember_pass(msgfmt, content)
        return
    lines = [line.strip() for line in result.stderr.decode("utf-8", "replace").splitlines()
             if line.strip() and not _tolerated(line)]
    placed = [match for match in map(_MSGFMT_PLACE.match, lines)
              if match and not match["message"].startswith("warning")]
    if placed:  # "<stdin>:6:14: invalid control sequence": the line (and column) of the first error
        where: str | None = f"line {placed[0]['line']}" + (f", column {placed[0]['column']}" if placed[0]["column"] else "")
        message = placed[0]["message"]
    else:  # no place given (a missing header): msgfmt's first complaint, on one line
        where, message = None, next((line for line in lines if "warning:" in line), lines[0] if lines else "")
        message = message.removeprefix("<stdin>:").strip().removeprefix("warning:").strip()
    raise CatalogError(f"msgfmt --check fails: {message}", path, where,
                           hint="fix the entry named (or restore the file from version control); nothing was changed")


_MSGFMT_PLACE = re.compile(r"^<stdin>:(?P<line>\d+):(?:(?P<column>\d+):)? (?P<message>.+)$")


# --------------------------------------------------------------------------- gettext's verdicts, kept across runs

# Every 'press build' is a new process, so the memos above start empty: after a one-sentence edit, which changes
# two of the 22 catalogs, the build ran msgfmt on all 22 and msgcat on all 22 again (46 processes, 0.3 s of the
# serial part before the translated editions start). Their verdicts depend on the bytes and the tool alone, so
# the build keeps them in its cache (output/.cache/catalog-verdicts.json, see kept_verdicts_in): msgfmt's passes
# by the SHA-256 of the bytes, msgcat's layouts as the digest of what it was given -> the digest of what it wrote,
# each under the tool's identity (path, size, modification time: an upgrade forgets them). A failure is never
# kept: a broken catalog is checked again, and refused with msgfmt's own message, every time.
KEPT_VERDICTS_LIMIT = 1024  # entries per kind, the latest used: ten versions of a hundred catalogs (about 400 KB)
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def tool_identity(program: str) -> str:
    """A gettext program as its verdicts depend on it: its path, size and modification time (a package
    update, or another gettext first on PATH, changes it)."""
    try:
        found = Path(program).resolve()
        status = found.stat()
    except OSError:
        return program
    return f"{program} {found} {status.st_size} {status.st_mtime_ns}"


class KeptVerdicts:
    """msgfmt's passes and msgcat's layouts as a previous run left them, and press's own verdicts on catalogs (a
    merge that left a file as it was, a file's entry states); each part holds only while the identity it was
    recorded under is the current one: the tool's, or for press's own the catalogs stage's code fingerprint."""

    def __init__(self, path: Path, code: str | None = None) -> None:
        self.path = path
        self.code = code  # the catalogs stage's code (its modules, Babel's version): None, press's part unused
        self.tools: dict[str, str] = {}  # "msgfmt"/"msgcat"/"press" -> the identity their entries were made under
        self.passes: dict[str, None] = {}  # digests of bytes msgfmt --check passed (a dict: insertion-ordered set)
        self.checks: dict[str, None] = {}  # ... and of those that passed check_po_bytes whole (line guard, msgfmt)
        self.layouts: dict[str, str] = {}  # digest of bytes given to msgcat -> digest of its layout of them
        self.merged: dict[str, None] = {}  # merge_key()s of catalogs the merge left as they were
        self.states: dict[str, list[int]] = {}  # digest of a catalog's bytes and language -> counts in COUNTED order
        self.changed = False
        self._identities: dict[str, str] = {}  # per program path, taken once a run
        self._load()

    def _load(self) -> None:
        """The file's entries, or none when it is missing, damaged or not what this code writes."""
        try:
            data = json.loads(read_regular_file(self.path).decode("utf-8"))
            tools, passes, checks, layouts = data["tools"], data["msgfmt"], data["checked"], data["msgcat"]
            merged, states = data["merged"], data["states"]
            if not (isinstance(tools, dict) and all(isinstance(v, str) for v in tools.values())
                    and isinstance(passes, list) and isinstance(checks, list) and isinstance(layouts, dict)
                    and isinstance(merged, list) and isinstance(states, dict)):
                return
        except (OSError, ValueError, KeyError, TypeError):
            return  # the first run, or a damaged file: the tools run, and the file is written whole again
        self.tools = {name: tools[name] for name in ("msgfmt", "msgcat", "press") if name in tools}
        self.passes = {digest: None for digest in passes if isinstance(digest, str) and _DIGEST.match(digest)}
        self.checks = {digest: None for digest in checks if isinstance(digest, str) and _DIGEST.match(digest)}
        self.layouts = {given: laid for given, laid in layouts.items()
                        if _DIGEST.match(given) and isinstance(laid, str) and _DIGEST.match(laid)}
        self.merged = {key: None for key in merged if isinstance(key, str) and _DIGEST.match(key)}
        self.states = {key: counts for key, counts in states.items() if _DIGEST.match(key) and isinstance(counts, list)
                       and len(counts) == len(COUNTED) and all(type(n) is int and n >= 0 for n in counts)}

    def _under(self, tool: str, program: str) -> bool:
        """Whether the kept entries of ``tool`` were made by ``program`` as it is now (for "press", ``program`` is
        the code fingerprint itself); if not, they are dropped."""
        identity = self._identities.get(program)
        if identity is None:
            identity = self._identities[program] = program if tool == "press" else tool_identity(program)
        if self.tools.get(tool) == identity:
            return True
        for entries in self._parts()[tool]:
            entries.clear()
        self.tools[tool] = identity
        self.changed = True
        return False

    def _parts(self) -> dict[str, tuple[dict, ...]]:
        return {"msgfmt": (self.passes, self.checks), "msgcat": (self.layouts,), "press": (self.merged, self.states)}

    def passed(self, msgfmt: str, digest: str) -> bool:
        if not self._under("msgfmt", msgfmt) or digest not in self.passes:
            return False
        self.passes[digest] = self.passes.pop(digest)  # used: kept among the latest
        return True

    def remember_pass(self, msgfmt: str, digest: str) -> None:
        self._under("msgfmt", msgfmt)
        self.changed |= self.passes.pop(digest, "") is not None
        self.passes[digest] = None

    def checked(self, msgfmt: str, digest: str) -> bool:
        """Whether these bytes passed the whole of check_po_bytes (the line guard, then msgfmt) before."""
        if not self._under("msgfmt", msgfmt) or digest not in self.checks:
            return False
        self.checks[digest] = self.checks.pop(digest)
        return True

    def remember_check(self, msgfmt: str, digest: str) -> None:
        self._under("msgfmt", msgfmt)
        self.changed |= self.checks.pop(digest, "") is not None
        self.checks[digest] = None

    def layout(self, msgcat: str, digest: str) -> str | None:
        if not self._under("msgcat", msgcat) or digest not in self.layouts:
            return None
        self.layouts[digest] = laid = self.layouts.pop(digest)
        return laid

    def remember_layout(self, msgcat: str, digest: str, laid: str) -> None:
        self._under("msgcat", msgcat)
        self.changed |= self.layouts.pop(digest, "") != laid
        self.layouts[digest] = laid

    def merged_before(self, key: str) -> bool:
        """Whether a merge with these inputs (merge_key) left the catalog as it was, under this code."""
        if self.code is None or not self._under("press", self.code) or key not in self.merged:
            return False
        self.merged[key] = self.merged.pop(key)
        return True

    def remember_merged(self, key: str) -> None:
        if self.code is not None:
            self._under("press", self.code)
            self.changed |= self.merged.pop(key, "") is not None
            self.merged[key] = None

    def states_of(self, key: str) -> dict[str, int] | None:
        """A catalog's live entries counted by state (``COUNTED``), as counted before under this code."""
        if self.code is None or not self._under("press", self.code) or key not in self.states:
            return None
        self.states[key] = counts = self.states.pop(key)
        return dict(zip(COUNTED, counts))

    def remember_states(self, key: str, tally: dict[str, int]) -> None:
        if self.code is not None:
            self._under("press", self.code)
            counts = [tally[state] for state in COUNTED]
            self.changed |= self.states.pop(key, None) != counts
            self.states[key] = counts

    def save(self) -> None:
        """Written atomically when something changed, the latest entries of each tool up to the limit; a cache,
        so a file that cannot be written only means the tools run again next time."""
        if not self.changed:
            return
        kept = KeptVerdicts(self.path)  # what another process kept meanwhile (the language workers of a build)
        tools = {**kept.tools, **self.tools}  # a tool this process never ran keeps the other's entries
        same = {tool: kept.tools.get(tool) == tools.get(tool) for tool in ("msgfmt", "msgcat", "press")}
        passes = _latest(kept.passes if same["msgfmt"] else {}, self.passes)
        checks = _latest(kept.checks if same["msgfmt"] else {}, self.checks)
        layouts = _latest(kept.layouts if same["msgcat"] else {}, self.layouts)
        merged = _latest(kept.merged if same["press"] else {}, self.merged)
        states = _latest(kept.states if same["press"] else {}, self.states)
        data = {"tools": tools, "msgfmt": list(passes)[-KEPT_VERDICTS_LIMIT:],
                "checked": list(checks)[-KEPT_VERDICTS_LIMIT:],
                "msgcat": dict(list(layouts.items())[-KEPT_VERDICTS_LIMIT:]),
                "merged": list(merged)[-KEPT_VERDICTS_LIMIT:],
                "states": dict(list(states.items())[-KEPT_VERDICTS_LIMIT:])}
        try:
            atomic_write(self.path, json.dumps(data, indent=0) + "\n")
        except (OSError, PipelineError):
            pass


def _latest(theirs: dict, ours: dict) -> dict:
    """Another process's entries, then this one's in the order used (so the bound drops the least recent)."""
    return {**{key: value for key, value in theirs.items() if key not in ours}, **ours}


_kept: KeptVerdicts | None = None


@contextmanager
def kept_verdicts_in(path: Path, code: str | None = None) -> Iterator[KeptVerdicts]:
    """msgfmt's and msgcat's verdicts read from ``path`` (the build's cache) for the stages that check and write
    catalogs, and written back there at the end, so the next build runs the tools only on bytes they have not
    seen. With ``code`` (the catalogs stage's code fingerprint), press's own verdicts too: a merge that left a
    catalog as it was is not done again for the same inputs, and a catalog's states are counted once."""
    global _kept
    if _kept is not None and _kept.path == path:  # a stage inside another's: one memo, saved once
        _kept.code = _kept.code or code
        yield _kept
        return
    previous, _kept = _kept, KeptVerdicts(path, code)
    kept = _kept
    try:
        yield kept
    finally:
        _kept = previous
        kept.save()


# --------------------------------------------------------------------------- headers

# Header fields press writes itself, from the book and Babel's locale data; every other field belongs to
# whoever wrote it (Poedit's X-Generator and X-Poedit-*, Weblate's X-Generator, a team's own) and is kept.
OWN_HEADERS = {"project-id-version", "report-msgid-bugs-to", "pot-creation-date", "po-revision-date",
               "last-translator", "language", "language-team", "plural-forms", "mime-version", "content-type",
               "content-transfer-encoding", "generated-by"}
PLACEHOLDER_VALUES = ("EMAIL@ADDRESS", "LL@li.org", "FULL NAME", "LANGUAGE <")
_HEADER_ENTRY = re.compile(r'^msgid ""\nmsgstr ((?:"(?:[^"\\]|\\.)*"[ \t]*\n?)+)', re.MULTILINE)


class PressCatalog(Catalog):
    """A Babel catalog whose header is laid out as gettext's ``msginit`` lays it out (the fields in its
    order), keeps the fields Babel does not know (Babel would drop them) and names no tool version."""

    extra_headers: list[tuple[str, str]] = []
    source_charset = "utf-8"  # the charset the file was read in (Python's name for it)

    def _get_mime_headers(self) -> list[tuple[str, str]]:
        babel = dict(Catalog._get_mime_headers(self))
        revision = self.revision_date
        headers = [("Project-Id-Version", babel["Project-Id-Version"]),
                   ("Report-Msgid-Bugs-To", self.msgid_bugs_address),
                   ("POT-Creation-Date", _header_date(self.creation_date)),
                   ("PO-Revision-Date", _header_date(revision)),
                   ("Last-Translator", self.last_translator),
                   ("Language-Team", babel["Language-Team"]),
                   ("Language", babel.get("Language", "")),
                   ("MIME-Version", "1.0"),
                   ("Content-Type", f"text/plain; charset={self.charset}"),
                   ("Content-Transfer-Encoding", "8bit")]
        if "Plural-Forms" in babel:
            headers.append(("Plural-Forms", babel["Plural-Forms"]))
        known = {name.lower() for name, _ in headers} | {"generated-by"}
        headers += [(name, value) for name, value in self.extra_headers if name.lower() not in known]
        name, value = headers[-1]
        return [*headers[:-1], (name, value + "\n")]  # Babel joins the fields with newlines: the last one's own

    mime_headers = property(_get_mime_headers, Catalog._set_mime_headers)


def _header_date(value: object) -> str:
    """A header date as gettext writes it (``2026-11-25 12:56+0000``), independent of Babel's formatting;
    a value Babel kept as text (a template's placeholder) is written back as it was."""
    if isinstance(value, str):
        return value
    if not isinstance(value, datetime):
        return "YEAR-MO-DA HO:MI+ZONE"
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M%z")


def header_fields(data: bytes) -> list[tuple[str, str]]:
    """The header entry's fields as written in the file, in order (unknown ones included)."""
    match = _HEADER_ENTRY.search(data.decode("utf-8", "replace"))
    if match is None:
        return []
    text = "".join(unescape(literal) for literal in re.findall(r'"(?:[^"\\]|\\.)*"', match.group(1)))
    fields = []
    for line in text.split("\n"):
        name, colon, value = line.partition(":")
        if colon and name.strip():
            fields.append((name.strip(), value.strip()))
    return fields


def is_placeholder(value: str | None) -> bool:
    """Whether a header value is a template's placeholder (or empty) rather than something a person wrote."""
    return not value or not value.strip() or any(mark in value for mark in PLACEHOLDER_VALUES)


# --------------------------------------------------------------------------- reading and writing


def read_catalog(path: Path, language: str) -> PressCatalog:
    """Read a checked catalog, with Babel's losses undone (``#|`` previous msgids, format flags, unknown
    header fields)."""
    data = read_input_bytes(path, what="catalog")
    check_po_bytes(data, path)
    return parse_catalog(data, path, language)


# Catalogs parsed in this process, pickled, by their bytes and language: a build parses each four or five times
# (Babel takes 3 ms a catalog, unpickling a tenth of that), and each reader gets a catalog of its own to change.
_PARSED: dict[tuple[bytes, str], bytes] = {}


def parse_catalog(data: bytes, path: Path | str, language: str) -> PressCatalog:
    """PO bytes (already checked) as a catalog, decoded in the charset their header declares; the reader
    every catalog of the project goes through, the book's and the editions' fixed strings (``locales/ui``)
    alike."""
    key = (hashlib.sha256(data).digest(), language)
    if key in _PARSED:
        return pickle.loads(_PARSED[key])
    catalog = _parse_catalog(data, path, language)
    if len(_PARSED) > 512:
        _PARSED.clear()
    _PARSED[key] = pickle.dumps(catalog, protocol=pickle.HIGHEST_PROTOCOL)
    return catalog


def _parse_catalog(data: bytes, path: Path | str, language: str) -> PressCatalog:
    data = without_bom(data)
    text = decode_catalog(data, path)
    try:
        catalog = read_po(io.StringIO(_OBSOLETE_PREVIOUS.sub("#|", text)), locale=language, abort_invalid=True)  # decoded as its header says
    except Exception as error:  # Babel raises PoFileError and, on odd input, ValueError/IndexError
        raise CatalogError(f"not a readable PO file ({error})", path, hint="restore it from version control")
    for message in [*catalog, *catalog.obsolete.values()]:
        _normalise(message)
    press_catalog = PressCatalog.__new__(PressCatalog)
    press_catalog.__dict__.update(catalog.__dict__)
    press_catalog.extra_headers = [(name, value) for name, value in header_fields(text.encode("utf-8"))
                                   if name.lower() not in OWN_HEADERS]
    press_catalog.source_charset = codecs.lookup(declared_charset(data)).name  # for the note when it is converted
    press_catalog.charset = "UTF-8"  # always written as UTF-8 (read in the charset its header declares)
    return press_catalog


# msgmerge keeps an obsolete fuzzy entry's previous msgid as '#~| msgid "…"', which Babel's reader refuses; read
# as '#|', it becomes the entry's previous_id like a live entry's, and is written back as '#~|'.
_OBSOLETE_PREVIOUS = re.compile(r"^#~\|", re.MULTILINE)


def _normalise(message: Message) -> None:
    """Babel guesses python-format from a stray '%' (python-brace-format from '{…}') and keeps '#|' lines
    as comments; undo both."""
    message.flags -= GUESSED_FLAGS
    previous = [c for c in message.user_comments if c.startswith("|")]
    if previous:
        message.user_comments = [c for c in message.user_comments if not c.startswith("|")]
        literals = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', " ".join(c[1:] for c in previous
                                                                       if not c[1:].strip().startswith("msgid_plural"))))
        message.previous_id = [unescape(f'"{literals}"')]


def render_catalog(catalog: Catalog) -> bytes:
    """The PO bytes as gettext's tools write them: the entries from Babel, unwrapped, laid out by
    ``msgcat`` (without gettext installed, left unwrapped: valid, and read the same by every tool)."""
    return gettext_layout(_unwrapped(catalog))


def _unwrapped(catalog: Catalog) -> bytes:
    """The catalog as PO text, one line per string and per comment: press writes the entries itself
    (Babel only reads), so no layout decision of a Babel version reaches the file; ``msgcat`` lays it out."""
    lines = [line if line.startswith("#") else f"# {line}".rstrip() for line in catalog.header_comment.splitlines()]
    header = "".join(f"{name}: {value.rstrip(chr(10))}\n" for name, value in catalog.mime_headers)
    lines += ['msgid ""', 'msgstr ""', *(_quoted(line) for line in header.splitlines(keepends=True)), ""]
    for message in catalog:
        if message.id:
            lines += _entry_lines(message, obsolete=False) + [""]
    for message in catalog.obsolete.values():
        lines += _entry_lines(message, obsolete=True) + [""]
    return "\n".join(lines).rstrip("\n").encode("utf-8") + b"\n"


# Flags Babel adds by guessing from the text ('%' or '{...}' in a sentence), which msgfmt would then enforce.
GUESSED_FLAGS = frozenset({"python-format", "python-brace-format"})
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\a": "\\a", "\b": "\\b",
            "\f": "\\f", "\v": "\\v"}


_ESCAPE_TABLE = str.maketrans(_ESCAPES)


def _quoted(text: str) -> str:
    return '"' + text.translate(_ESCAPE_TABLE) + '"'


def _entry_lines(message: Message, *, obsolete: bool) -> list[str]:
    """One entry's lines in gettext's order: comments, extracted comments, locations, flags, previous
    msgid, then the strings (``#~ `` before each string line of an obsolete entry)."""
    lines = [f"# {comment}".rstrip() for comment in message.user_comments]
    lines += [f"#. {comment}".rstrip() for comment in message.auto_comments]
    if message.locations and not obsolete:
        lines.append("#: " + " ".join(f"{name}:{line}" if line else name for name, line in message.locations))
    flags = sorted(set(message.flags) - GUESSED_FLAGS - {"fuzzy"})
    if message.fuzzy:
        flags.insert(0, "fuzzy")
    if flags:
        lines.append("#, " + ", ".join(flags))
    if message.previous_id:
        lines.append(("#~| msgid " if obsolete else "#| msgid ") + _quoted(message.previous_id[0]))
    strings = [f"msgctxt {_quoted(message.context)}"] if message.context is not None else []
    if isinstance(message.id, (list, tuple)):
        translations = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        strings += [f"msgid {_quoted(message.id[0])}", f"msgid_plural {_quoted(message.id[1])}"]
        strings += [f"msgstr[{index}] {_quoted(text or '')}" for index, text in enumerate(translations)]
    else:
        strings += [f"msgid {_quoted(source_text(message))}", f"msgstr {_quoted(target_text(message))}"]
    return lines + [f"#~ {line}" if obsolete else line for line in strings]


def gettext_layout(data: bytes) -> bytes:
    """``msgcat``'s layout of PO bytes: what ``msgmerge --update``, ``msgcat`` and the editors built on
    gettext write, so their saves and press's agree line for line. Unchanged when gettext is missing or
    refuses the bytes (the msgfmt check that follows every write then names the problem)."""
    msgcat = shutil.which("msgcat")
    if msgcat is None:
        return data
    digest = hashlib.sha256(data).digest()
    if digest in _LAID_OUT:  # the same entries rendered again (an unchanged catalog, a merge run twice)
        return _LAID_OUT[digest]
    result = subprocess.run([msgcat, "-"], input=data, capture_output=True, timeout=60, env=_c_locale())
    if result.returncode != 0 or not result.stdout:
        return data
    if len(_LAID_OUT) >= 64:  # the latest catalogs only: a book's are a few megabytes at most
        del _LAID_OUT[next(iter(_LAID_OUT))]
    _LAID_OUT[digest] = result.stdout
    if _kept is not None:
        _kept.remember_layout(msgcat, digest.hex(), hashlib.sha256(result.stdout).hexdigest())
    return result.stdout


_LAID_OUT: dict[bytes, bytes] = {}  # sha256 of PO bytes -> msgcat's layout of them, in this process


def write_catalog(path: Path, catalog: Catalog) -> bool:
    """Write a catalog atomically if its entries changed; every written file passes msgfmt --check.

    "Changed" is judged on the entries and the header (dates aside), not on the bytes: a file a
    translator's tool saved with its own line wrapping, or an older press with another Babel, is left
    alone byte for byte until an entry in it really changes.
    """
    unwrapped = _unwrapped(catalog)
    existing = read_input_bytes(path, what="catalog") if path.is_file() else None
    if existing is not None and _kept_layout_of(unwrapped, existing):
        return False
    data = gettext_layout(unwrapped)
    try:
        _msgfmt_check(data, path)
    except CatalogError as error:
        raise CatalogError(f"the catalog press produced is invalid: {error.message}", path, error.where,
                           hint="this is a bug in press; the old catalog was left as it was")
    if existing is not None:
        if existing == data or _same_entries(existing, catalog, path):
            return False
        if _crlf(existing):  # saved on Windows: the changed entries change, not every line's ending
            data = data.replace(b"\n", b"\r\n")
    return atomic_write(path, data)


def _kept_layout_of(unwrapped: bytes, existing: bytes) -> bool:
    """Whether the file already holds msgcat's layout of ``unwrapped``, as an earlier run's msgcat made it and
    its msgfmt passed it (the build's kept verdicts): then it is what this run would write, without running
    either tool. Without gettext, or with another gettext than the one the verdicts were made with, False."""
    if _kept is None:
        return False
    msgcat, msgfmt = shutil.which("msgcat"), shutil.which("msgfmt")
    if msgcat is None or msgfmt is None:
        return False
    laid = _kept.layout(msgcat, hashlib.sha256(unwrapped).hexdigest())
    return laid is not None and laid == hashlib.sha256(existing).hexdigest() and _kept.passed(msgfmt, laid)


def _crlf(data: bytes) -> bool:
    """Whether a file's lines end in CRLF (msgfmt and press read either; a rewrite keeps the file's own)."""
    return data.count(b"\r\n") * 2 > data.count(b"\n")


def _same_entries(existing: bytes, catalog: Catalog, path: Path) -> bool:
    """Whether the file on disk holds what ``catalog`` holds, whatever its layout (and its charset: a catalog in
    another charset is converted to UTF-8 only when its entries change)."""
    try:
        on_disk = parse_catalog(existing, path, str(catalog.locale))
    except CatalogError:
        return False
    return _in_any_order(on_disk) == _in_any_order(catalog)


def _in_any_order(catalog: Catalog) -> tuple[bytes, list[bytes]]:
    """The header (dates aside) and the entries as a sorted list: a file a tool sorted (``msgcat
    --sort-output``, an editor's sort order) holds the same entries as the merge, so it is not rewritten."""
    header, *entries = _without_volatile(_unwrapped(catalog)).rstrip(b"\n").split(b"\n\n")
    return header, sorted(entries)


def _without_volatile(data: bytes) -> bytes:
    return _VOLATILE_HEADER.sub(b"", data)


# --------------------------------------------------------------------------- merging


def new_catalog(language: str, part: str, config: BookConfig, old: Catalog | None = None) -> PressCatalog:
    """An empty catalog with the project's header, keeping what translators' tools wrote in the old one.

    Language and Plural-Forms come from Babel's locale data; Report-Msgid-Bugs-To from ``[translation]
    contact``; Language-Team as a tool or team wrote it, else ``[translation.<lang>] team``, else the
    language's name; Last-Translator, PO-Revision-Date, every field press does not own (X-Generator,
    X-Poedit-*) and the translators' own header comment lines are carried over as they were.
    """
    team = old.language_team if old is not None and not is_placeholder(old.language_team) else None
    bugs_to = config.translation.contact or (old.msgid_bugs_address if old is not None and not is_placeholder(
        old.msgid_bugs_address) else "")
    catalog = PressCatalog(locale=language, project=f"{config.slug} {part}", version="1", fuzzy=False,
                           charset="UTF-8",
                           creation_date=old.creation_date if old else datetime.now(timezone.utc),
                           revision_date=old.revision_date if old else None,
                           last_translator=old.last_translator if old else None,
                           language_team=team or config.translation.teams.get(language)
                           or Locale.parse(language).english_name)
    catalog.msgid_bugs_address = bugs_to  # after construction: Babel turns an empty one into EMAIL@ADDRESS
    catalog.extra_headers = list(getattr(old, "extra_headers", []))
    ours = [f"# {Locale.parse(language).english_name} translation of {config.slug}, part {part}.",
            "# Written by press: msgctxt is the segment id, msgid the source sentence.",
            "# Fuzzy entries (machine drafts, changed sources) are not published until",
            "# a reviewer corrects them and clears the fuzzy flag."]
    theirs = [line for line in (old.header_comment.splitlines() if old is not None else [])
              if line not in ours and line.strip() not in ("#", "")
              and not any(mark in line for mark in ("FIRST AUTHOR", "SOME DESCRIPTIVE TITLE", "YEAR THE PACKAGE"))]
    catalog.header_comment = "\n".join(ours + theirs)
    return catalog


def merge_catalog(catalog: Catalog, old: Catalog | None, segments: Iterable[Segment], source_name: str) -> Catalog:
    """Fill ``catalog`` (empty, with its header) from the segments, carrying over everything ``old`` holds."""
    pool = _Pool(old)
    for segment in segments:
        match = pool.take_exact(segment)
        if match is not None:
            message = _carry(match, segment, source_name, previous=match.previous_id, fuzzy=match.fuzzy)
        else:
            changed = pool.take_changed(segment)
            if changed is not None:
                message = _carry(changed, segment, source_name, previous=[changed.id], fuzzy=True)
            else:
                message = _fresh(segment, source_name)
        message.flags.discard("python-format")
        catalog[segment.text] = message
    for message in pool.leftovers():
        entry = Message(message.id, message.string, flags=message.flags, context=message.context,
                        auto_comments=provenance(message),
                        user_comments=message.user_comments, previous_id=message.previous_id)
        entry.flags.discard("python-format")
        source = source_text(message)  # keyed as Babel keys its own: the id, with the context when there is one
        catalog.obsolete[(source, message.context) if message.context is not None else source] = entry
    return catalog


class _Pool:
    """The old catalog's entries, each usable once: by id and text, by text alone, or by id."""

    def __init__(self, old: Catalog | None):
        active = [m for m in old if m.id] if old else []
        obsolete = list(old.obsolete.values()) if old else []
        self.entries = active + obsolete
        self.used: set[int] = set()
        self.by_key: dict[tuple[str | None, str], Message] = {}
        for message in reversed(self.entries):  # live entries win over obsolete ones with the same key
            self.by_key[(message.context, source_text(message))] = message
        self.by_text: dict[str, list[Message]] = {}
        for message in self.entries:
            self.by_text.setdefault(source_text(message), []).append(message)
        self.by_context = {message.context: message for message in active}

    def _take(self, message: Message | None) -> Message | None:
        if message is None or id(message) in self.used:
            return None
        self.used.add(id(message))
        return message

    def take_exact(self, segment: Segment) -> Message | None:
        same = self._take(self.by_key.get((segment.id, segment.text)))
        if same is not None:
            return same
        candidates = [m for m in self.by_text.get(segment.text, ()) if id(m) not in self.used]
        candidates.sort(key=lambda m: not m.string)  # a translated twin first
        return self._take(candidates[0]) if candidates else None

    def take_changed(self, segment: Segment) -> Message | None:
        old = self.by_context.get(segment.id)
        if old is None or id(old) in self.used or not old.string:
            return None
        if difflib.SequenceMatcher(None, old.id, segment.text).ratio() < SIMILARITY_CUTOFF:
            return None
        return self._take(old)

    def leftovers(self) -> list[Message]:
        """Unmatched entries that hold a translation; untranslated ones have nothing to keep."""
        return [m for m in self.entries if id(m) not in self.used and m.string]


def _comments(segment: Segment) -> list[str]:
    line = f", source line {segment.line}" if segment.line else ""
    return [f"{segment.where}{line}", *(f"{token} = {meaning}" for token, meaning in segment.placeholders)]


def _fresh(segment: Segment, source_name: str) -> Message:
    return Message(segment.text, "", locations=_locations(segment, source_name), auto_comments=_comments(segment),
                   context=segment.id)


def _carry(old: Message, segment: Segment, source_name: str, *, previous: list, fuzzy: bool) -> Message:
    carried = provenance(old)
    flags = set(old.flags) - {"python-format"}
    flags = flags | {"fuzzy"} if fuzzy else flags - {"fuzzy"}
    return Message(segment.text, old.string, locations=_locations(segment, source_name), flags=flags,
                   auto_comments=_comments(segment) + carried, user_comments=old.user_comments,
                   previous_id=list(previous or []), context=segment.id)


def _locations(segment: Segment, source_name: str) -> list[tuple[str, int]]:
    return [(source_name, segment.line)] if segment.line else []


# --------------------------------------------------------------------------- the project's catalogs


def catalog_path(config: BookConfig, language: str, part: str) -> Path:
    return config.locales_dir / language / f"{part}.po"


def existing_parts(config: BookConfig, language: str) -> list[str]:
    directory = config.locales_dir / language
    return sorted(path.stem for path in directory.glob("*.po")) if directory.is_dir() else []


@dataclass
class CatalogUpdate:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    other_charsets: dict[Path, str] = field(default_factory=dict)  # catalogs read in a charset other than UTF-8


def update_catalogs(config: BookConfig, segments: list[Segment], languages: Iterable[str]) -> CatalogUpdate:
    """Merge the book's segments into every language's catalogs; reads (and checks) all before writing any."""
    by_part: dict[str, list[Segment]] = {}
    for segment in segments:
        by_part.setdefault(segment.part, []).append(segment)
    plans: list[tuple[Path, str, str, PressCatalog | None, str | None]] = []
    as_before: set[Path] = set()  # catalogs whose kept merge_key says the merge leaves them as they are
    digests: dict[str, bytes] = {}  # per part: its segments' digest (segments_digest)
    for language in languages:
        for part in list(by_part) + [p for p in existing_parts(config, language) if p not in by_part]:
            path = catalog_path(config, language, part)
            old, key = None, None
            if path.exists():
                data = read_input_bytes(path, what="catalog")
                check_po_bytes(data, path)
                if _kept is not None and _kept.code is not None:
                    if part not in digests:
                        digests[part] = segments_digest(by_part.get(part, []))
                    key = merge_key(config, language, part, data, digests[part])
                if key is not None and _kept is not None and _kept.merged_before(key):
                    as_before.add(path)
                else:
                    old = parse_catalog(data, path, language)
            plans.append((path, language, part, old, key))
    update = CatalogUpdate()
    for path, language, part, old, key in plans:
        if path in as_before:
            update.unchanged.append(path)
            continue
        merged = merge_catalog(new_catalog(language, part, config, old), old, by_part.get(part, []),
                               config.manuscript.name)
        written = write_catalog(path, merged)
        (update.written if written else update.unchanged).append(path)
        if old is not None and old.source_charset != "utf-8":
            update.other_charsets[path] = old.source_charset
        elif not written and key is not None and _kept is not None:
            _kept.remember_merged(key)
    return update


def merge_key(config: BookConfig, language: str, part: str, data: bytes, segments: bytes) -> str:
    """Everything the merge of one catalog reads (the file's bytes, the part's segments as segments_digest gives
    them, the header's settings): the same key under the same code (KeptVerdicts.code) gives the same merged
    catalog. Only a merge that left the file as it was is kept, so a catalog whose key was kept is unchanged
    without reading it into Babel."""
    settings = [language, part, config.manuscript.name, config.slug, config.translation.contact,
                config.translation.teams.get(language)]
    return hashlib.sha256(json.dumps(settings).encode() + b"\0" + hashlib.sha256(data).digest()
                          + segments).hexdigest()


_SEGMENT_FIELDS = tuple(field.name for field in dataclasses.fields(Segment))


def segments_digest(segments: list[Segment]) -> bytes:
    """The SHA-256 of a part's segments, every field of each in order (one digest for all its languages)."""
    rows = [[getattr(segment, name) for name in _SEGMENT_FIELDS] for segment in segments]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).digest()


def count_states(config: BookConfig, language: str) -> dict[str, dict[str, int]]:
    """Per catalog, how many live entries are counted under each of ``COUNTED``."""
    return {part: catalog_states(catalog_path(config, language, part), language)
            for part in existing_parts(config, language)}


def catalog_states(path: Path, language: str) -> dict[str, int]:
    """How many of a catalog's live entries are counted under each of ``COUNTED``; the file is checked as every
    read is, and counted once per content in a build (kept with the build's verdicts)."""
    data = read_input_bytes(path, what="catalog")
    check_po_bytes(data, path)
    key = hashlib.sha256(language.encode() + b"\0" + data).hexdigest()
    kept = _kept.states_of(key) if _kept is not None else None
    if kept is not None:
        return kept
    tally = dict.fromkeys(COUNTED, 0)
    for message in parse_catalog(data, path, language):
        if message.id:
            tally[counted_state(message)] += 1
    if _kept is not None:
        _kept.remember_states(key, tally)
    return tally
