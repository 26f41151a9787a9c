"""What a review package carries, whatever its format: the entries going out and coming back.

Both formats (XLIFF 2.1 and bilingual DOCX) are written from the same ``OutgoingEntry`` list and
read back into the same ``ReturnedPackage``, so the import rules live once, in ``apply.py``.

Each entry carries two fingerprints (SHA-256 prefixes), computed at export:

* the *source* fingerprint covers the language, the part, the segment id and the English text, so
  import can tell a source edited in the package (the fingerprint no longer matches: the file is
  refused) from a source that changed in the book since the export (the fingerprint matches the
  package but the catalog now holds another sentence: a conflict), and can name the language or
  part a relabelled package was really made for;
* the *target* fingerprint covers the translation as exported, so import can tell what the
  reviewer edited from what someone else changed in the catalog meanwhile (never overwritten).

They detect accidents (a tool or a person changing the wrong column), not forgery.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog, Message

from ..i18n.catalogs import MT_PREFIX, TM_PREFIX, entry_state, source_text, target_text

FORMAT_VERSION = "1"  # of the metadata press keeps in its packages
_LEGEND = re.compile(r"^(</?[a-z]\d+/?>) = (.*)$")


def normalise(text: str) -> str:
    """Whitespace as the catalogs keep it: single spaces, none at the ends (tools and Word re-wrap freely)."""
    return " ".join(text.split())


def source_fingerprint(language: str, part: str, segment_id: str, source: str) -> str:
    """Which sentence of which package this was: language, part, id and English text (16 hex digits)."""
    key = "\0".join((language, part, segment_id, normalise(source)))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def target_fingerprint(text: str) -> str:
    """The translation as it left (16 hex digits); an empty translation has one too."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()[:16]


# --------------------------------------------------------------------------- going out


@dataclass(frozen=True)
class OutgoingEntry:
    """One catalog entry as a package shows it to a reviewer."""

    id: str
    source: str
    target: str
    state: str  # one of catalogs.STATES
    comments: tuple[str, ...]  # translator comments (``# ...`` in the PO file)
    context: str  # where in the book: "chapter 1, section ch1-s1, source line 167"
    provenance: tuple[str, ...]  # the ``mt:`` lines of a machine draft, the ``tm:`` lines of a memory match
    previous_source: str | None  # for an entry whose source changed: the sentence it translated
    legend: dict[str, str]  # placeholder token -> what it stands for ("<n1/>" -> "note 1 (ch1-fn1)")
    source_fp: str
    target_fp: str


def outgoing_entries(catalog: Catalog, language: str, part: str) -> list[OutgoingEntry]:
    """The catalog's live entries in file order, with what a reviewer needs to judge each one."""
    return [_outgoing(message, language, part) for message in catalog if message.id]


def _outgoing(message: Message, language: str, part: str) -> OutgoingEntry:
    legend, context, provenance = {}, [], []
    for comment in message.auto_comments:
        match = _LEGEND.match(comment)
        if comment.startswith((MT_PREFIX, TM_PREFIX)):
            provenance.append(comment)
        elif match:
            legend[match.group(1)] = match.group(2)
        else:
            context.append(comment)
    previous = message.previous_id[0] if message.previous_id else None
    segment_id, source, target = message.context or "", source_text(message), target_text(message)
    return OutgoingEntry(
        id=segment_id, source=source, target=target, state=entry_state(message),
        comments=tuple(message.user_comments), context="; ".join(context), provenance=tuple(provenance),
        previous_source=previous, legend=legend,
        source_fp=source_fingerprint(language, part, segment_id, source),
        target_fp=target_fingerprint(target))


# --------------------------------------------------------------------------- coming back


@dataclass(frozen=True)
class ReturnedEntry:
    """One entry as the reviewer sent it back."""

    id: str
    source: str
    target: str | None  # None: the package holds no translation for it
    approved: bool  # marked reviewed (XLIFF reviewed/final, DOCX status "reviewed")
    comments: tuple[str, ...]
    source_fp: str | None  # None when a tool dropped press's metadata
    target_fp: str | None
    where: str  # for messages: "unit ch1-p1.1", "row 12"


@dataclass
class ReturnedPackage:
    """One part of one language as it came back from review."""

    path: Path
    format: str  # "xliff" or "docx"
    language: str
    part: str
    entries: list[ReturnedEntry] = field(default_factory=list)
    exported_language: str | None = None  # what press recorded at export, when the tool kept it
