"""Findings: what a stage changed mechanically, or could not decide and leaves to the editor."""

from __future__ import annotations

from dataclasses import dataclass, field

from .ingest.model import Where

REPAIRED = "repaired"
FLAGGED = "flagged"


@dataclass
class Finding:
    type: str  # a word from the documented vocabulary, e.g. "page-break-join"
    message: str
    action: str = REPAIRED
    where: Where | None = None
    chapter: str | None = None  # xml:id of the part or chapter ("ch4", "foreword")
    before: str | None = None
    after: str | None = None
    data: dict = field(default_factory=dict)  # anything a later stage needs to act on the finding

    @property
    def line(self) -> int | None:
        return self.where.line if self.where else None


class Findings(list):
    """An ordered list of findings with helpers for the two kinds."""

    def repaired(self, type: str, message: str, **kwargs) -> Finding:
        finding = Finding(type, message, REPAIRED, **kwargs)
        self.append(finding)
        return finding

    def flagged(self, type: str, message: str, **kwargs) -> Finding:
        finding = Finding(type, message, FLAGGED, **kwargs)
        self.append(finding)
        return finding

    def of_type(self, type: str) -> list[Finding]:
        return [finding for finding in self if finding.type == type]
