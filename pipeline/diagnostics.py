"""Diagnostics: what a stage noticed, typed and with a severity, in one channel for the whole build.

Readers, stages and the layout check report here (kind, severity, location, message) instead of
in strings another stage would have to parse. The build's summary, the reports and ``--strict``
read this channel: ``--strict`` fails on anything at warning level or above, as pandoc's
``--fail-if-warnings`` does. Diagnostics survive the build cache as JSON, so a reused stage
reports what it reported when it ran.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from enum import IntEnum


class Severity(IntEnum):
    """How much a diagnostic matters: information is shown, a warning fails --strict, an error is one."""

    INFO = 10
    WARNING = 20
    ERROR = 30

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Diagnostic:
    stage: str  # "extract", "render", "localize", ...
    kind: str  # a short kind: "missing-glyph", "overflowing-line", "needs-editor", a reader's warning kind, ...
    severity: Severity
    message: str
    location: str | None = None  # "source/book.pdf:page 3", "en PDF page 12"

    def line(self) -> str:
        where = f" ({self.location})" if self.location else ""
        return f"{self.stage}: {self.severity.label}: {self.kind}: {self.message}{where}"

    def to_json(self) -> dict:
        return {**asdict(self), "severity": self.severity.label}

    @classmethod
    def from_json(cls, data: dict) -> Diagnostic:
        return cls(data["stage"], data["kind"], Severity[data["severity"].upper()], data["message"],
                   data.get("location"))


def at_least(diagnostics: list[Diagnostic], severity: Severity) -> list[Diagnostic]:
    return [diagnostic for diagnostic in diagnostics if diagnostic.severity >= severity]


def tally(diagnostics: list[Diagnostic]) -> str:
    """``2 missing-glyph, 14 needs-editor``: how many of each kind, for one summary line."""
    counts = Counter(diagnostic.kind for diagnostic in diagnostics)
    return ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))
