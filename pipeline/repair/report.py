"""The repair report: ``output/reports/repair.json`` for tools, ``repair.md`` for the editor."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from ..findings import ACCEPTED, EDITED, FLAGGED, REJECTED, REPAIRED, Finding, Findings
from ..safety import atomic_write

SCOPE_NAMES = {
    None: "The book (front matter and imprint)", "foreword": "Foreword", "acknowledgements": "Acknowledgements",
    "book-outline": "Book Outline", "executive-summary": "Executive Summary",
    "opening": "Opening pages (text before the first chapter)",
}


def summary(findings: Findings) -> dict[str, int]:
    counts = Counter(finding.action for finding in findings)
    return {"repaired": counts[REPAIRED] + counts[ACCEPTED] + counts[EDITED], "needs_editor": counts[FLAGGED],
            "rejected_by_editor": counts[REJECTED], "total": len(findings)}


def record(finding: Finding) -> dict:
    entry = {
        "id": finding.id, "type": finding.type, "chapter": finding.chapter,
        "line": finding.where.line if finding.where else None,
        "lines": finding.lines,
        "page": finding.where.page if finding.where else None,
        "paragraph": finding.where.paragraph if finding.where else None,  # a DOCX has body paragraphs, not lines
        "action": finding.action, "before": finding.before, "after": finding.after, "message": finding.message,
    }
    if finding.data.get("part"):
        entry["part"] = finding.data["part"]  # the part whose lines hold a finding made before parts existed
    if finding.decision:
        entry["decision"] = finding.decision
    if finding.data.get("decision-problem"):
        entry["decision_problem"] = finding.data["decision-problem"]
    return entry


def write_reports(findings: Findings, directory: Path, manuscript: str, outlines: dict | None = None, *,
                  words: dict | None = None) -> list[Path]:
    """Write both reports atomically; unchanged reports are not rewritten.

    ``words`` is the word balance (``WordBalance.as_dict``): how many words were read, are in the
    book and were dropped on purpose (each drop is also a ``dropped-text`` finding).
    """
    data = {"manuscript": manuscript, "summary": summary(findings), **({"words": words} if words else {}),
            "types": dict(sorted(Counter(f.type for f in findings).items())),
            "findings": [record(f) for f in findings]}
    json_path, md_path = directory / "repair.json", directory / "repair.md"
    atomic_write(json_path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    atomic_write(md_path, markdown(findings, manuscript, outlines or {}, words))
    return [json_path, md_path]


def _scope_title(scope: str | None) -> str:
    if scope in SCOPE_NAMES:
        return SCOPE_NAMES[scope]
    if scope and scope.startswith("ch") and scope[2:].isdigit():
        return f"Chapter {scope[2:]}"
    return str(scope)


def _cell(text: str | None, limit: int = 110) -> str:
    if not text:
        return ""
    text = " ".join(text.split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("|", "\\|")


def markdown(findings: Findings, manuscript: str, outlines: dict, words: dict | None = None) -> str:
    totals = summary(findings)
    lines = [
        "# Repair report", "",
        f"Manuscript: `{manuscript}`. Repaired: **{totals['repaired']}**. Needs the editor: "
        f"**{totals['needs_editor']}**. Rejected by the editor: {totals['rejected_by_editor']}.", "",
        *_word_lines(words),
        "Answer a finding in `source/editorial.toml` by its id; decisions are applied on every build:", "",
        "```toml", "[[decision]]", 'id = "R1234abc"', "reject = true        # keep the manuscript's text",
        "# accept = true      # apply the suggested change of a flagged finding",
        '# text = "…"         # or give the text yourself', "```", "",
    ]
    furniture = [f for f in findings if f.type == "dropped-text" and f.chapter is None]
    reported = [f for f in findings if not (f.type == "dropped-text" and f.chapter is None)]
    order = []
    for finding in reported:
        if _part(finding) not in order:
            order.append(_part(finding))
    order.sort(key=lambda scope: (scope is not None, (scope or "").startswith("ch"),
                                  int(scope[2:]) if scope and scope[2:].isdigit() else 0))
    lines += _overview_lines(reported, order)
    for scope in order:
        group = [f for f in reported if _part(f) == scope]
        lines += [f"## {_scope_title(scope)}", "", *_kind_table(group)]
        needs = [f for f in group if f.action == FLAGGED]
        done = [f for f in group if f.action != FLAGGED]
        if needs:
            lines += ["### Needs the editor", ""]
            for kind, kind_findings in _by_kind(needs):
                lines += _details(kind, kind_findings, open_=True, rows=[
                    "| id | where | what | suggestion |", "|---|---|---|---|",
                    *[f"| {f.id} | {_lines(f)} | {_cell(f.message)} | {_cell(f.after)} |" for f in kind_findings]])
        if done:
            lines += ["### Done", ""]
            for kind, kind_findings in _by_kind(done):
                lines += _details(kind, kind_findings, open_=False, rows=[
                    "| id | where | action | before | after |", "|---|---|---|---|---|",
                    *[f"| {f.id} | {_lines(f)} | {f.action} | {_cell(f.before, 60)} | {_cell(f.after, 60)} |"
                      for f in kind_findings]])
        outline = outlines.get(scope)
        if outline and any(reason not in ("source style", "editorial decision") for _, _, reason, _ in outline):
            lines += ["### Outline (section levels a text manuscript does not show; fix in `[headings]`)", ""]
            lines += [f"{'  ' * (level - 1)}- {title} — *{reason}*" for level, title, reason, _ in outline]
            lines.append("")
    lines += _furniture_lines(furniture)
    return "\n".join(lines) + "\n"


def _part(finding: Finding) -> str | None:
    """The part of the book a finding is filed under: its chapter, else the part whose lines hold it."""
    return finding.chapter or finding.data.get("part")


def _by_kind(findings: list[Finding]) -> list[tuple[str, list[Finding]]]:
    """The findings grouped by type, in the order each type first appears."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.type, []).append(finding)
    return list(groups.items())


def _overview_lines(findings: list[Finding], order: list[str | None]) -> list[str]:
    """One row per part of the book: how many findings need the editor, how many were done, and of which kinds."""
    lines = ["## Overview", "", "| part | needs the editor | done | kinds (count) |", "|---|---|---|---|"]
    for scope in order:
        group = [f for f in findings if _part(f) == scope]
        needs = sum(1 for f in group if f.action == FLAGGED)
        kinds = ", ".join(f"{kind} ({count})" for kind, count in Counter(f.type for f in group).most_common())
        lines.append(f"| {_scope_title(scope)} | {needs} | {len(group) - needs} | {kinds} |")
    return lines + [""]


def _kind_table(group: list[Finding]) -> list[str]:
    """The part's findings counted by kind: what an editor reads before opening the details."""
    counts: dict[str, list[int]] = {}
    for finding in group:
        counts.setdefault(finding.type, [0, 0])[0 if finding.action == FLAGGED else 1] += 1
    rows = [f"| {kind} | {needs} | {done} |" for kind, (needs, done) in counts.items()]
    return ["| kind | needs the editor | done |", "|---|---|---|", *rows, ""]


def _details(kind: str, findings: list[Finding], *, open_: bool, rows: list[str]) -> list[str]:
    """A collapsible section per kind (open when the editor must act), its table of findings inside."""
    places = _line_list(findings)
    summary = f"<b>{kind}</b> ({len(findings)})" + (f": {places}" if places else "")
    return [f"<details{' open' if open_ else ''}><summary>{summary}</summary>", "", *rows, "", "</details>", ""]


def _line_list(findings: list[Finding], limit: int = 24) -> str:
    """``lines 54, 57, 264 …``: every source line the findings name, once, in order (cut after ``limit``)."""
    numbers = sorted({line for finding in findings for line in finding.lines})
    if not numbers:
        return _cell(", ".join(dict.fromkeys(_where(f) for f in findings if _where(f))), 140)
    shown = ", ".join(str(line) for line in numbers[:limit]) + (f" … ({len(numbers)} lines)" if len(numbers) > limit else "")
    return ("line " if len(numbers) == 1 else "lines ") + shown


def _lines(finding: Finding) -> str:
    """Where the finding is, by its source lines ("line 305", "lines 169, 171"), else by page."""
    lines = finding.lines
    if len(lines) > 1:
        return "lines " + ", ".join(str(line) for line in lines)
    return f"line {lines[0]}" if lines else _where(finding)


def _furniture_lines(furniture: list[Finding]) -> list[str]:
    """What the reader left out as page furniture, one row per text and reason (each is in repair.json)."""
    if not furniture:
        return []
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in furniture:
        text = " ".join((finding.before or "").split())
        if re.fullmatch(r"[\divxlcdm]{1,8}", text, re.IGNORECASE):
            text = "(page numbers)"  # folios: one row, not one per page
        key = (finding.data.get("reason", "dropped"), text)
        groups.setdefault(key, []).append(finding)
    lines = ["## Left out on purpose (page furniture)", "",
             "The reader recognised these lines as furniture, not text (each is a `dropped-text` finding in "
             "repair.json).", "", "| reason | text | times | where |", "|---|---|---|---|"]
    for (reason, text), group in groups.items():
        lines.append(f"| {reason} | {_cell(text, 80)} | {len(group)} | {_cell(_places(group), 80)} |")
    return lines + [""]


def _places(group: list[Finding]) -> str:
    """``pages 2, 4, 6–9`` (or the lines, for a text manuscript)."""
    pages = sorted({f.where.page for f in group if f.where and f.where.page})
    if not pages:
        return ", ".join(_where(f) for f in group)
    runs: list[list[int]] = []
    for page in pages:
        if runs and page == runs[-1][-1] + 1:
            runs[-1].append(page)
        else:
            runs.append([page])
    return ("page " if len(pages) == 1 else "pages ") + ", ".join(
        str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs)


def _word_lines(words: dict | None) -> list[str]:
    """The word balance in one sentence: nothing is lost, and what was left out is listed below."""
    if not words:
        return []
    dropped = ", ".join(f"{count:,} as {reason.replace('-', ' ')}" for reason, count in words["dropped"].items())
    line = (f"Words: {words['read']:,} read, {words['in_book']:,} in the book"
            + (f", dropped on purpose {dropped} (the `dropped-text` findings)" if dropped else "")
            + (f"; repairs removed {words['removed_by_repairs']:,} and added {words['added_by_repairs']:,}"
               if words["removed_by_repairs"] or words["added_by_repairs"] else "") + ".")
    return [line, ""]


def _where(finding: Finding) -> str:
    if finding.where is None:
        return ""
    return finding.where.describe() if (finding.where.line or finding.where.page or finding.where.paragraph) else ""
