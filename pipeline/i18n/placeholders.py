"""The segment contract's one rule for placeholders: a translation must carry its source's inline tokens.

``<e1>…</e1>`` (emphasis), ``<l1>…</l1>`` / ``<l1/>`` (links) and ``<n1/>`` (note markers) stand for
markup the editions put back. Drafting, localizing, the quality checks and review import all compare a
translation's tokens with its source's here, each deciding by severity, in translate-toolkit's
critical / functional / cosmetic spirit:

* ``extra`` (a token the source lacks, or one repeated): **error** — it would publish markup from
  nowhere; review import refuses the file, drafting drops the draft, the editions do not use it.
* ``lost`` (a token of the source missing): **warning** — a note marker or a link disappears; the
  editions and drafting do not use the translation, review import takes it and says so.
* ``misordered`` (a closing tag before its opening): **info** — the tokens are all there; the quality
  check shows it to the reviewer.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ..diagnostics import Severity

PLACEHOLDER = re.compile(r"</?([a-z])(\d+)/?>")


@dataclass(frozen=True)
class PlaceholderProblem:
    kind: str  # "extra", "lost", "misordered"
    tokens: tuple[str, ...]  # each token once, with its count in ``counts``
    severity: Severity
    counts: tuple[int, ...] = ()

    @property
    def message(self) -> str:
        if self.kind == "misordered":
            return f"{self.tokens[0]} comes before its opening tag"
        listed = ", ".join(token + (f" ×{count}" if count > 1 else "") for token, count in zip(self.tokens, self.counts))
        return f"{self.kind} {listed}"


def placeholders(text: str) -> list[str]:
    """The placeholder tokens of a sentence (``<e1>``, ``</e1>``, ``<n1/>``), in order."""
    return [match.group(0) for match in PLACEHOLDER.finditer(text)]


def compare_placeholders(source: str, target: str) -> list[PlaceholderProblem]:
    """What is wrong with ``target``'s tokens against ``source``'s (compared as multisets, then in order)."""
    expected, found = Counter(placeholders(source)), Counter(placeholders(target))
    problems = []
    lost, extra = expected - found, found - expected
    if lost:
        problems.append(PlaceholderProblem("lost", tuple(sorted(lost)), Severity.WARNING,
                                           tuple(lost[token] for token in sorted(lost))))
    if extra:
        problems.append(PlaceholderProblem("extra", tuple(sorted(extra)), Severity.ERROR,
                                           tuple(extra[token] for token in sorted(extra))))
    if not problems:
        opened: set[str] = set()
        for token in placeholders(target):
            if token.startswith("</") and f"<{token[2:]}" not in opened:
                problems.append(PlaceholderProblem("misordered", (token,), Severity.INFO, (1,)))
                break
            if not token.endswith("/>"):
                opened.add(token)
    return problems


def blocking(problems: list[PlaceholderProblem], severity: Severity = Severity.WARNING) -> list[PlaceholderProblem]:
    """The problems at ``severity`` or above: what makes a translation unusable for the caller."""
    return [problem for problem in problems if problem.severity >= severity]
