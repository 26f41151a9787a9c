"""Returned review packages → catalog changes: checked whole, then written whole, or not at all.

The rules, the same for every format:

* **Refused** (an error; nothing is written): a language the book does not have, a package
  relabelled with another language or part than it was made for, a segment id the catalog never
  had, an English source edited in the package (its fingerprint no longer matches), inline codes
  the source does not have.
* **Conflict** (reported; that entry is left alone, the rest applied): the English sentence changed
  in the book since the export, or the segment is gone from it; or the reviewer changed a
  translation that someone else changed in the catalog meanwhile.
* **Applied**: an edited translation is a person's work — it becomes the entry's text, reviewed
  (not fuzzy); an unedited translation marked reviewed/final clears the fuzzy flag (approval).
  Either way the ``#|`` previous source, which only explained the flag, goes. New comments are
  added as translator comments (never removed: a tool that drops notes must not erase them).
* A translation that merely copies the English source counts only when marked reviewed (tools fill
  empty targets with the source; names and numbers are legitimately the same).
* An unedited package changes nothing: no catalog is rewritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from babel.messages.catalog import Catalog, Message

from ..config import BookConfig
from ..diagnostics import Severity
from ..errors import ConfigError, InputError
from ..i18n.catalogs import catalog_path, existing_parts, read_catalog, source_text, target_text, write_catalog
from ..i18n.placeholders import compare_placeholders
from ..safety import check_writable
from .package import (ReturnedEntry, ReturnedPackage, normalise, source_fingerprint,
                      target_fingerprint)


@dataclass(frozen=True)
class Conflict:
    segment_id: str
    reason: str


@dataclass
class PartChanges:
    """What importing one package does to one catalog."""

    language: str
    part: str
    path: Path
    catalog: Catalog
    updated: list[str] = field(default_factory=list)  # translations replaced by the reviewer's
    approved: list[str] = field(default_factory=list)  # fuzzy cleared, text kept
    commented: list[str] = field(default_factory=list)  # translator comments added
    conflicts: list[Conflict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.updated or self.approved or self.commented)


def plan_changes(config: BookConfig, package: ReturnedPackage) -> PartChanges:
    """Check one returned package against its catalog and compute the changes, writing nothing."""
    language, part, path = package.language, package.part, package.path
    if language not in config.target_languages:
        raise InputError(f"the package is for language {language!r}, which this book is not translated into",
                         path, hint=f"the book's target languages are {', '.join(config.target_languages)}")
    if package.exported_language and package.exported_language != language:
        raise InputError(f"the package was exported for {package.exported_language!r} but now says {language!r}",
                         path, hint="import it unchanged, or export a package for the other language")
    catalog_file = catalog_path(config, language, part)
    if not catalog_file.is_file():
        raise InputError(f"the package is for part {part!r}, which has no {language} catalog", path,
                         hint=f"parts with catalogs: {', '.join(existing_parts(config, language)) or 'none'}")
    catalog = read_catalog(catalog_file, language)
    live = {message.context: message for message in catalog if message.id}
    gone = {message.context for message in catalog.obsolete.values()}
    changes = PartChanges(language, part, catalog_file, catalog)
    seen: set[str] = set()
    for entry in package.entries:
        if entry.id in seen:
            raise InputError(f"{entry.where}: segment {entry.id} appears twice", path,
                             hint="each segment may come back once; re-export the package")
        seen.add(entry.id)
        _check_source(config, package, entry, entry.id in live or entry.id in gone)
        message = live.get(entry.id)
        if message is None:
            changes.conflicts.append(Conflict(entry.id, "the segment is no longer in the book (removed or "
                                                        "rewritten since the export); not applied"))
            continue
        _plan_entry(entry, message, changes, path)
    return changes


def _check_source(config: BookConfig, package: ReturnedPackage, entry: ReturnedEntry, known: bool) -> None:
    """Refuse an entry whose source or id was altered in the package, naming what was altered."""
    if entry.source_fp is None:  # a tool dropped press's metadata: only the catalog comparison is left
        if not known:
            raise InputError(f"{entry.where}: unknown segment id {entry.id!r} (not in the "
                             f"{package.language}/{package.part} catalog)", package.path,
                             hint="rows and units must keep the ids they were exported with")
        return
    if entry.source_fp == source_fingerprint(package.language, package.part, entry.id, entry.source):
        return
    for language in config.target_languages:
        for part in existing_parts(config, language):
            if (language, part) != (package.language, package.part) and \
                    entry.source_fp == source_fingerprint(language, part, entry.id, entry.source):
                raise InputError(f"{entry.where}: segment {entry.id} was exported for {language}/{part}, but the "
                                 f"package says {package.language}/{package.part}", package.path,
                                 hint="import the package as it was exported; do not move rows between packages")
    if not known:
        raise InputError(f"{entry.where}: unknown segment id {entry.id!r} (not in the "
                         f"{package.language}/{package.part} catalog)", package.path,
                         hint="rows and units must keep the ids they were exported with")
    raise InputError(f"{entry.where}: the English source (or the segment id) was changed in the package",
                     package.path,
                     hint="only the translation, status and comments may be edited; restore the source "
                          "or export a fresh package")


def _plan_entry(entry: ReturnedEntry, message: Message, changes: PartChanges, path: Path) -> None:
    if normalise(entry.source) != normalise(source_text(message)):
        changes.conflicts.append(Conflict(entry.id, "the English source changed in the book since the export; "
                                                    "not applied (export again to review the new sentence)"))
        return
    text = normalise(entry.target or "")
    current = target_text(message)
    exported = entry.target_fp
    edited = bool(text) and (target_fingerprint(text) != exported if exported else text != normalise(current))
    moved = exported is not None and target_fingerprint(current) != exported
    if edited and text == normalise(source_text(message)) and not entry.approved:
        changes.warnings.append(f"{entry.id}: the translation is a copy of the English source and is not marked "
                                f"reviewed; not applied (a tool's copy-source-to-target?)")
        edited = False
    if edited:
        _check_codes(entry, text, source_text(message), path, changes)
        if text == normalise(current):
            if message.fuzzy:
                _approve(message, changes.approved, entry.id)
        elif moved:
            changes.conflicts.append(Conflict(entry.id, "the translation was changed in the catalog since the "
                                                        "export; the package's edit was not applied"))
            return
        else:
            message.string = text
            _approve(message, changes.updated, entry.id)
    elif entry.approved and message.fuzzy and current:
        if moved:
            changes.conflicts.append(Conflict(entry.id, "the translation was changed in the catalog since the "
                                                        "export; approve the new text there or in a new package"))
            return
        _approve(message, changes.approved, entry.id)
    _add_comments(entry, message, changes)


def _approve(message: Message, tally: list[str], segment_id: str) -> None:
    message.flags.discard("fuzzy")
    message.previous_id = []
    tally.append(segment_id)


def _check_codes(entry: ReturnedEntry, text: str, source: str, path: Path, changes: PartChanges) -> None:
    """Placeholders the source lacks, or doubled, would publish markup from nowhere: refused.
    Missing ones are a translator's choice the quality check reports: a warning here."""
    problems = compare_placeholders(source, text)
    extra = [token for problem in problems if problem.severity >= Severity.ERROR for token in problem.tokens]
    if extra:
        raise InputError(f"{entry.where}: the translation has placeholders the source does not "
                         f"({', '.join(extra)})", path,
                         hint="copy the placeholders from the English source; do not invent or repeat them")
    missing = [token for problem in problems if problem.kind == "lost" for token in problem.tokens]
    if missing:
        changes.warnings.append(f"{entry.id}: the translation lacks {', '.join(missing)}")


def _add_comments(entry: ReturnedEntry, message: Message, changes: PartChanges) -> None:
    new = [_comment_line(line) for comment in entry.comments for line in comment.splitlines() if line.strip()]
    added = [line for line in new if line not in message.user_comments]
    if added:
        message.user_comments = [*message.user_comments, *dict.fromkeys(added)]
        changes.commented.append(entry.id)


def _comment_line(line: str) -> str:
    """A translator comment line as the PO file can hold it: ``# |`` would read back as a previous msgid."""
    line = line.strip()
    return "¦" + line[1:] if line.startswith("|") else line


def write_changes(plans: list[PartChanges], translator: str | None = None) -> None:
    """Write each changed catalog once, atomically, after every package of the file was checked and every
    catalog to change was found writable (so a read-only catalog or folder refuses the whole file).

    A changed catalog's ``PO-Revision-Date`` becomes now, and its ``Last-Translator`` the reviewer named
    with ``--translator`` (as Poedit sets them when a translator saves)."""
    check_writable([changes.path for changes in plans if changes.changed])
    for changes in plans:
        if changes.changed:
            changes.catalog.revision_date = datetime.now(timezone.utc).replace(second=0, microsecond=0)
            if translator:
                changes.catalog.last_translator = translator
            changes.written = write_catalog(changes.path, changes.catalog)


_TRANSLATOR = re.compile(r"^[^<>\n]*[^<>\s][^<>\n]* <[^<>\s@]+@[^<>\s@]+>$")


def check_translator(value: str) -> str:
    """``--translator`` as the Last-Translator header wants it: ``Name <mail>``."""
    value = " ".join(value.split())
    if not _TRANSLATOR.match(value):
        raise ConfigError(f"--translator {value!r} is not 'Name <mail>'",
                          hint='write it as the Last-Translator header does, e.g. --translator "Sok Dara <dara@example.org>"')
    return value
