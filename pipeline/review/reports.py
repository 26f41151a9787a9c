"""Reports for the people who finish the translations: the check findings and the status page.

Everything here is derived from the catalogs alone (no dates, no machine names), so an unchanged
project writes the same bytes and a no-op build rewrites nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from lxml import etree

from ..config import BookConfig
from ..docbook import append
from ..i18n.catalogs import (MACHINE, MEMORY, OUTDATED, REVIEWED, UNTRANSLATED, counted_state, existing_parts,
                             source_text)
from ..i18n.catalogs import COUNTED as STATES  # the page counts memory matches apart from machine drafts
from ..render.html import h
from ..reportfiles import STATUS_PAGE, check_report_paths, reports_dir
from ..safety import atomic_write
from .checks import CheckResult, check_report, check_translations, read_catalogs
from .glossary import Glossary, load_glossary


def write_check_reports(config: BookConfig, result: CheckResult) -> str:
    """Write the check's text report (for people) and JSON (for CI); returns the text."""
    text = check_report(result)
    text_path, json_path = check_report_paths(config, result.language)
    atomic_write(text_path, text)
    atomic_write(json_path, json.dumps(result.to_json(), ensure_ascii=False, indent=1) + "\n")
    return text


# --------------------------------------------------------------------------- the status page

STATE_COLOURS = {UNTRANSLATED: "#d9d9d9", MACHINE: "#f0b429", MEMORY: "#4dabf7", OUTDATED: "#e5534b",
                 REVIEWED: "#2f9e44"}
STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 62em; padding: 0 1em; color: #222; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0 2em; }
th, td { padding: 0.3em 0.5em; border-bottom: 1px solid #e4e4e4; text-align: right; vertical-align: middle; }
th:first-child, td:first-child, td.title { text-align: left; }
td.title { color: #555; max-width: 18em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
tr.total td { font-weight: bold; border-top: 2px solid #999; }
.bar { display: flex; width: 14em; height: 0.9em; border: 1px solid #bbb; }
.bar span { display: block; height: 100%; }
.legend span { display: inline-block; width: 0.9em; height: 0.9em; margin: 0 0.3em 0 1em; vertical-align: -0.1em; }
""" + "".join(f".s{index} {{ background: {colour}; }}\n" for index, colour in enumerate(STATE_COLOURS.values()))


@dataclass
class LanguageStatus:
    """One language's catalogs, read once: entries by state per catalog, each catalog's title, check results."""

    language: str
    counts: dict[str, dict[str, int]]
    titles: dict[str, str]
    check: CheckResult

    def totals(self) -> dict[str, int]:
        return {state: sum(tally[state] for tally in self.counts.values()) for state in STATES}


def language_status(config: BookConfig, language: str, glossary: Glossary | None = None) -> LanguageStatus:
    catalogs = read_catalogs(config, language)
    counts, titles = {}, {}
    for part, catalog in catalogs.items():
        tally = dict.fromkeys(STATES, 0)
        for message in catalog:
            if message.id:
                tally[counted_state(message)] += 1
                if message.context == f"{part}-title.1":
                    titles[part] = source_text(message)
        counts[part] = tally
    return LanguageStatus(language, counts, titles, check_translations(config, language, catalogs=catalogs,
                                                                       glossary=glossary))


def _percent(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else "0.0%"


def _bar(tally: dict[str, int]) -> etree._Element:
    total = sum(tally.values())
    bar = h("div", class_="bar", role="img",
            aria_label=", ".join(f"{_percent(tally[state], total)} {state}" for state in STATES))
    for index, state in enumerate(STATES):
        if tally[state]:
            bar.append(h("span", class_=f"s{index}", style=f"width: {100 * tally[state] / total:.2f}%",
                         title=f"{tally[state]:,} {state}"))
    return bar


def _row(name: str, title: str, tally: dict[str, int], css: str | None = None) -> etree._Element:
    total = sum(tally.values())
    row = h("tr", h("td", name), h("td", title, class_="title"), class_=css)
    for state in STATES:
        row.append(h("td", f"{tally[state]:,}"))
    row.append(h("td", _percent(tally[REVIEWED], total)))
    row.append(h("td", _bar(tally)))
    return row


def status_html(config: BookConfig, statuses: list[LanguageStatus]) -> str:
    """A self-contained page (no script, no external resources) per language and catalog: counts and bars."""
    body = h("body", h("h1", "Translation status"),
             h("p", f"{config.slug}: entries of the catalogs in locales/ by state. Final editions use reviewed "
                    "entries only; machine drafts appear only in draft editions (press build --drafts). Memory "
                    "matches are translations the translation memory (locales/tm) supplied for sentences it "
                    "knew word for word; like machine drafts they wait for a reviewer."))
    legend = h("p", class_="legend")
    for index, state in enumerate(STATES):
        legend.append(h("span", class_=f"s{index}"))
        append(legend, state)
    body.append(legend)
    for status in statuses:
        totals = status.totals()
        grand = sum(totals.values())
        body.append(h("h2", f"{status.language}: {_percent(totals[REVIEWED], grand)} reviewed"))
        findings = len(status.check.findings)
        body.append(h("p", f"{grand:,} segments in {len(status.counts)} catalogs; quality checks: "
                           f"{findings:,} finding{'s' if findings != 1 else ''} "
                           f"(translation-check-{status.language}.txt)"))
        table = h("table", h("thead", h("tr", h("th", "catalog"), h("th", "title"),
                                        *[h("th", state) for state in STATES], h("th", "reviewed"), h("th", ""))))
        rows = h("tbody")
        for part, tally in status.counts.items():
            rows.append(_row(part, status.titles.get(part, ""), tally))
        rows.append(_row("total", "", totals, "total"))
        table.append(rows)
        body.append(table)
    if not statuses:
        body.append(h("p", "No catalogs yet: run press build or press translate."))
    page = h("html", h("head", h("meta", charset="utf-8"), h("title", f"Translation status — {config.slug}"),
                       h("style", STYLE)), body, lang="en")
    return etree.tostring(page, method="html", encoding="unicode", doctype="<!DOCTYPE html>") + "\n"


def write_review_reports(config: BookConfig, languages: tuple[str, ...]) -> list[LanguageStatus]:
    """Check each language and write its check reports, then the status page covering them all."""
    statuses = review_statuses(config, languages)
    write_status_pages(config, statuses)
    return statuses


def review_statuses(config: BookConfig, languages: tuple[str, ...]) -> list[LanguageStatus]:
    """Each language's catalogs counted and checked (nothing written)."""
    glossary = load_glossary(config)
    return [language_status(config, language, glossary) for language in languages if existing_parts(config, language)]


def write_status_pages(config: BookConfig, statuses: list[LanguageStatus]) -> bool:
    """The check reports and the status page; True when the status page changed (and so was written)."""
    for status in statuses:
        write_check_reports(config, status.check)
    return atomic_write(reports_dir(config) / STATUS_PAGE, status_html(config, statuses))
