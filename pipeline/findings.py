"""Findings: what a stage changed mechanically, or could not decide and leaves to the editor.

Every finding gets an id made from what it is and where (type, chapter, source line, the text
it concerns), so the id stays the same from run to run while the manuscript does not change.
The editor answers findings by id in ``source/editorial.toml``; a stage asks ``propose`` before
changing text, and the answer (the stage's own repair, the editor's text, or nothing) is final.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError
from .ingest.model import Where

REPAIRED = "repaired"  # changed mechanically, and safely
FLAGGED = "flagged"  # left as it is, for the editor
REJECTED = "rejected"  # a repair the editor turned down: the manuscript's text stays
ACCEPTED = "accepted"  # a flagged item whose suggestion the editor accepted
EDITED = "edited"  # a flagged item the editor supplied the text for

# The documented vocabulary of finding types (README, "Repair report").
TYPES = {
    "page-break-join", "markup-leftover", "escaped-character", "toc-mismatch", "marker-without-note",
    "note-without-marker", "duplicate-number", "numbering-gap", "ibid", "repeated-citation", "merged-references",
    "broken-url", "unsafe-link", "proxy-url", "tracking-parameter", "text-fragment-url", "split-url", "doi-url",
    "unbalanced-quote", "two-digit-year", "inconsistent-style", "front-matter-inconsistency", "name-inconsistency",
    "missing-subject", "duplicated-words", "isbn", "heading-level", "editorial-decision",
    "dropped-text", "reader-warning", "author-date-citation", "list-style-change", "spelling",
}


@dataclass(frozen=True)
class Markup:
    """Manuscript text a stage turned into markup rather than text: the "Chapter 3" of a chapter's label,
    a note's printed number, a contents line's page number, the "ISBN" before an ISBN. The book still
    carries it (as an attribute or an element the editions print their own label for), so the word
    balance counts it as in the book; it is not a finding, since nothing is lost or changed."""

    text: str
    reason: str  # "chapter-label", "note-number", "note-marker", "page-number", "imprint-label", ...


@dataclass
class Finding:
    type: str  # a word from TYPES
    message: str
    action: str = REPAIRED
    where: Where | None = None
    chapter: str | None = None  # xml:id of the part or chapter ("ch4", "foreword")
    before: str | None = None
    after: str | None = None
    id: str = ""
    decision: str | None = None  # what the editor decided, when they did
    data: dict = field(default_factory=dict)
    # Every manuscript line the finding concerns, when that is more than ``where`` says (the two lines a
    # join brought together, a note and the notes it repeats). Not part of the id, which stays as it was.
    source_lines: list[int] = field(default_factory=list)

    @property
    def line(self) -> int | None:
        return self.where.line if self.where else None

    @property
    def lines(self) -> list[int]:
        """The source lines an editor should look at: the explicit list, else ``where``'s line (and last line)."""
        if self.source_lines:
            return sorted(set(self.source_lines))
        if self.where is None or self.where.line is None:
            return []
        last = self.where.to_line
        return [self.where.line] if not last or last == self.where.line else [self.where.line, last]

    @property
    def needs_editor(self) -> bool:
        return self.action == FLAGGED


@dataclass
class Decision:
    id: str
    accept: bool = False
    reject: bool = False
    text: str | None = None
    note: str | None = None
    used: bool = False


class Decisions:
    """The editor's answers to findings, from ``[[decision]]`` tables in source/editorial.toml."""

    def __init__(self, decisions: list[Decision] | None = None):
        self.by_id = {decision.id: decision for decision in decisions or []}

    @classmethod
    def from_editorial(cls, editorial: dict, path: Path | None = None) -> "Decisions":
        entries = editorial.get("decision", [])
        if not isinstance(entries, list):
            raise ConfigError("[[decision]] entries must be an array of tables", path)
        decisions = []
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                raise ConfigError("every [[decision]] needs an id = \"R…\" from output/reports/repair.md", path)
            unknown = set(entry) - {"id", "accept", "reject", "text", "note"}
            if unknown:
                raise ConfigError(f"unknown key(s) in decision {entry['id']}: {', '.join(sorted(unknown))}", path,
                                  hint="a decision has id, and one of accept = true, reject = true or text = \"…\"")
            chosen = [key for key in ("accept", "reject", "text") if entry.get(key) not in (None, False)]
            if len(chosen) != 1:
                raise ConfigError(f"decision {entry['id']} must say exactly one of accept, reject or text", path)
            decisions.append(Decision(entry["id"], bool(entry.get("accept")), bool(entry.get("reject")),
                                      entry.get("text"), entry.get("note")))
        if len({d.id for d in decisions}) != len(decisions):
            raise ConfigError("two decisions answer the same finding id", path)
        return cls(decisions)

    def get(self, finding_id: str) -> Decision | None:
        decision = self.by_id.get(finding_id)
        if decision is not None:
            decision.used = True
        return decision

    def unused(self) -> list[Decision]:
        return [decision for decision in self.by_id.values() if not decision.used]


def finding_id(finding: Finding, occurrence: int = 0) -> str:
    line = finding.where.line if finding.where and finding.where.line else (
        finding.where.page if finding.where else None)
    key = f"{finding.type}|{finding.chapter or ''}|{line or ''}|{finding.before or ''}|{occurrence}"
    return "R" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:7]


class Findings(list):
    """An ordered list of findings that gives each an id and applies the editor's decisions."""

    def __init__(self, decisions: Decisions | None = None):
        super().__init__()
        self.decisions = decisions or Decisions()
        self._seen: dict[str, int] = {}
        self.markup: list[Markup] = []  # text turned into markup, for the word balance (pipeline.conservation)

    def _add(self, finding: Finding) -> Finding:
        base = finding_id(finding)
        occurrence = self._seen.get(base, 0)
        self._seen[base] = occurrence + 1
        finding.id = base if occurrence == 0 else finding_id(finding, occurrence)
        self.append(finding)
        return finding

    def repaired(self, type: str, message: str, **kwargs) -> Finding:
        return self._add(Finding(type, message, REPAIRED, **kwargs))

    def flagged(self, type: str, message: str, **kwargs) -> Finding:
        return self._add(Finding(type, message, FLAGGED, **kwargs))

    def propose(self, type: str, message: str, *, certain: bool, before: str, after: str | None,
                **kwargs) -> str | None:
        """Record a change a stage would make; return the text to put in place of ``before``, or None.

        A certain repair is made unless the editor rejected it; an uncertain one is only
        flagged, and made only when the editor accepted the suggestion or supplied the text.
        """
        finding = self._add(Finding(type, message, REPAIRED if certain and after is not None else FLAGGED,
                                    before=before, after=after, **kwargs))
        decision = self.decisions.get(finding.id)
        if decision is None:
            return after if finding.action == REPAIRED else None
        finding.decision = "reject" if decision.reject else "accept" if decision.accept else "text"
        if decision.reject:
            finding.action = REJECTED
            return None
        if decision.text is not None:
            finding.action, finding.after = EDITED, decision.text
            return decision.text
        if after is None:  # nothing to accept
            finding.data["decision-problem"] = "accept has no suggestion to apply; give text = \"…\""
            return None
        if finding.action == FLAGGED:
            finding.action = ACCEPTED
        return after

    def as_markup(self, text: str, reason: str) -> None:
        """Record manuscript text the book keeps as markup (a label, a number), so the word balance holds."""
        if text and text.strip():
            self.markup.append(Markup(text, reason))

    def dropped(self, text: str, reason: str, message: str, **kwargs) -> Finding | None:
        """Record text a stage leaves out of the book on purpose: a ``dropped-text`` finding with its reason."""
        if not text or not text.strip():
            return None
        data = dict(kwargs.pop("data", None) or {}, reason=reason)
        return self.repaired("dropped-text", message, before=text, data=data, **kwargs)

    def of_type(self, type: str) -> list[Finding]:
        return [finding for finding in self if finding.type == type]

    def report_unused_decisions(self) -> None:
        for decision in self.decisions.unused():
            self.flagged("editorial-decision", f"decision {decision.id} matches no finding any more",
                         before=decision.id)
