"""Quality checks on the catalogs' translations: what a reviewer should look at before publishing.

Each check is a small function over one entry (English source, translation, language) that says
what looks wrong and why. They run over every entry that has a translation — reviewed ones, machine
drafts and those whose source changed — and each finding says which state the entry is in, so a
reviewer can fix drafts before clearing their fuzzy flag. The checks are deliberately cautious: a
number may change its form (``$280 million`` → ``2億8000万ドル``, ``1977`` → ``១៩៧៧``) and a
source-identical entry may be a name; a false alarm teaches reviewers to ignore the report, so
only what is very likely wrong is reported.

Kinds: ``placeholders`` (lost, extra or misordered ``<e1>``/``</e1>``/``<n1/>`` tokens),
``numbers`` (a number of the source missing from the translation), ``urls`` (a URL not carried
over verbatim), ``untranslated`` (identical to the source, or no text in the language's script),
``length`` (target/source length ratio outside ``[review] length_ratio``) and ``terminology``
(the glossary, on reviewed entries only: a reviewer's final word must follow it).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

from babel.messages.catalog import Catalog

from ..config import BookConfig, ReviewSettings
from ..i18n.catalogs import (REVIEWED, UNTRANSLATED, catalog_path, entry_state, existing_parts, read_catalog,
                             source_text)
from ..i18n.placeholders import PLACEHOLDER, compare_placeholders
from .glossary import Glossary, load_glossary

KINDS = ("placeholders", "numbers", "urls", "untranslated", "length", "terminology")
URL = re.compile(r"(?:https?://|www\.)[^\s<>\"“”‘’]+")
_URL_TRAIL = ".,;:!?)]}'"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_TARGET_NUMBER = re.compile(r"\d+(?:[.,\u00a0\u202f]\d+)*")
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9&]*[A-Z0-9](?:-[A-Z0-9]+)*\b")
# Multipliers written after a number, in the three languages of this book (Japanese 万/億/兆 group by
# ten thousands; Khmer has words for 10⁴, 10⁵, 10⁶, 10⁷ and "thousand millions" for 10⁹).
SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12,
          "千": 1e3, "万": 1e4, "萬": 1e4, "億": 1e8, "兆": 1e12,
          "ទ្រីលាន": 1e12, "ពាន់លាន": 1e9, "ពាន់": 1e3, "ម៉ឺន": 1e4, "សែន": 1e5, "លាន": 1e6, "កោដិ": 1e7}
_SCALE = re.compile(r"\s*(" + "|".join(sorted(map(re.escape, SCALES), key=len, reverse=True)) + r")", re.I)
_KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANJI_NUMBER = re.compile(r"[〇一二三四五六七八九十百千]+")
# Small numbers a translator may well write as words.
KHMER_NUMBER_WORDS = {1: "មួយ", 2: "ពីរ", 3: "បី", 4: "បួន", 5: "ប្រាំ", 6: "ប្រាំមួយ", 7: "ប្រាំពីរ",
                      8: "ប្រាំបី", 9: "ប្រាំបួន", 10: "ដប់"}
# A translation with no letter of its language's script has not been translated.
SCRIPTS = {"km": ("Khmer", re.compile(r"[\u1780-\u17ff\u19e0-\u19ff]")),
           "ja": ("Japanese", re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")),
           "zh": ("Chinese", re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")),
           "ko": ("Korean", re.compile(r"[\uac00-\ud7af\u1100-\u11ff]"))}


@dataclass(frozen=True)
class CheckFinding:
    """One thing a reviewer should look at: where (catalog and segment id), what kind, and the entry's state."""

    part: str
    segment: str
    kind: str
    state: str
    message: str


@dataclass
class CheckResult:
    language: str
    findings: list[CheckFinding]
    checked: dict[str, int]  # translated entries checked, by state
    glossary_terms: int

    def counts(self) -> dict[str, int]:
        tally = Counter(finding.kind for finding in self.findings)
        return {kind: tally.get(kind, 0) for kind in KINDS}

    def to_json(self) -> dict:
        return {"language": self.language, "checked": self.checked, "glossary_terms": self.glossary_terms,
                "counts": self.counts(), "findings": [asdict(finding) for finding in self.findings]}


# --------------------------------------------------------------------------- one entry


def check_entry(source: str, target: str, language: str, *, glossary: Glossary | None = None,
                review: ReviewSettings | None = None, keep_terms: Iterable[str] = (),
                reviewed: bool = True) -> list[tuple[str, str]]:
    """What looks wrong in one translation, as (kind, message) pairs; an empty list when nothing does."""
    review = review or ReviewSettings()
    problems = [("placeholders", message) for message in placeholder_problems(source, target)]
    problems += [("numbers", message) for message in number_problems(source, target)]
    problems += [("urls", f"URL not carried over verbatim: {url}") for url in urls_in(source)
                 if url not in target]
    untranslated = untranslated_problem(source, target, language, keep_terms)
    if untranslated:
        problems.append(("untranslated", untranslated))
    else:
        length = length_problem(source, target, language, review)
        if length:
            problems.append(("length", length))
    if reviewed and glossary is not None:
        problems += [("terminology", message) for message in terminology_problems(source, target, language,
                                                                                  glossary)]
    return problems


def placeholder_problems(source: str, target: str) -> list[str]:
    """Lost or extra inline tokens (compared as multisets), and a closing tag before its opening: every
    problem of the one placeholder comparison (i18n/placeholders.py), whatever its severity."""
    return [problem.message for problem in compare_placeholders(source, target)]


def urls_in(text: str) -> list[str]:
    return [match.group(0).rstrip(_URL_TRAIL) for match in URL.finditer(text)]


def _plain(text: str) -> str:
    """The words of a segment: placeholders and URLs out, full-width forms and every script's digits as ASCII."""
    text = URL.sub(" ", PLACEHOLDER.sub(" ", text))
    text = unicodedata.normalize("NFKC", text)
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() and not char.isascii() else char
                   for char in text)


# --------------------------------------------------------------------------- numbers


def source_numbers(source: str) -> list[tuple[str, set[float]]]:
    """Each number of an English sentence as written, with the values it may appear as in a translation."""
    text = _plain(source)
    numbers = []
    for match in _NUMBER.finditer(text):
        written = match.group(0).rstrip(",. ")
        value = _english_value(written)
        if value is None:
            continue
        values = {value}
        scale = _SCALE.match(text, match.start() + len(written))
        if scale and scale.group(1).lower() in SCALES:
            values.add(value * SCALES[scale.group(1).lower()])
        numbers.append((written, values))
    return numbers


def _english_value(written: str) -> float | None:
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", written):
        return float(written.replace(",", ""))
    if re.fullmatch(r"\d+(\.\d+)?", written):
        return float(written)
    return None  # "1,2" or "3 4": a list, not one number; not checked


def target_values(target: str) -> set[float]:
    """Every value a translation's numbers may stand for, read generously: grouping with commas, dots or
    spaces, a decimal comma, kanji numerals, and multipliers (``2億8000万`` = 280 000 000)."""
    text = _KANJI_NUMBER.sub(_kanji_to_digits, _plain(target))
    values: set[float] = set()
    compound, last_scale, end = 0.0, None, -1
    for match in _TARGET_NUMBER.finditer(text):
        readings = _readings(match.group(0).rstrip(",. "))
        values |= readings
        scale = _SCALE.match(text, match.end())
        if not readings:
            continue
        if scale:
            factor = SCALES.get(scale.group(1).lower(), 1.0)
            values |= {reading * factor for reading in readings}
            reading = max(readings)
            if last_scale is not None and factor < last_scale and text[end:match.start()].strip() == "":
                compound += reading * factor
            else:
                compound = reading * factor
            last_scale, end = factor, scale.end()
            values.add(compound)
        elif last_scale is not None and text[end:match.start()].strip() == "":
            values.add(compound + max(readings))  # 1億2000万5000
            last_scale = None
        else:
            last_scale = None
    return {round(value, 6) for value in values}


def _readings(written: str) -> set[float]:
    readings = set()
    for group, point in ((",", "."), (".", ","), ("\u00a0", ","), ("\u202f", ","), ("\u00a0", "."), ("\u202f", ".")):
        if re.fullmatch(rf"\d{{1,3}}({re.escape(group)}\d{{3}})+({re.escape(point)}\d+)?", written):
            readings.add(float(written.replace(group, "").replace(point, ".")))
    if re.fullmatch(r"\d+([.,]\d+)?", written):
        readings.add(float(written.replace(",", ".")))
    return readings


def _kanji_to_digits(match: re.Match) -> str:
    run = match.group(0)
    before = match.string[match.start() - 1:match.start()]
    if before.isdigit() and all(char in _KANJI_UNITS for char in run):
        return run  # 5千: a multiplier after digits, read as such
    value = _kanji_value(run)
    return run if value is None else f" {value} "


def _kanji_value(text: str) -> int | None:
    """一九七七 (digit by digit) or 二千五百 (with units); None when it is not a number on its own."""
    if all(char in _KANJI_DIGITS for char in text):
        return int("".join(str(_KANJI_DIGITS[char]) for char in text))
    total, digit = 0, None
    for char in text:
        if char in _KANJI_DIGITS:
            if digit is not None:
                return None
            digit = _KANJI_DIGITS[char]
        else:
            total += (1 if digit is None else digit) * _KANJI_UNITS[char]
            digit = None
    return total + (digit or 0)


def number_problems(source: str, target: str) -> list[str]:
    """Numbers of the source that the translation does not have in any form (extra ones are not reported:
    translations add 第1 and 5倍 legitimately)."""
    numbers = source_numbers(source)
    if not numbers:
        return []
    values = target_values(target)
    missing = []
    for written, candidates in numbers:
        if any(round(candidate, 6) in values for candidate in candidates):
            continue
        value = min(candidates)
        if value.is_integer() and int(value) in KHMER_NUMBER_WORDS and KHMER_NUMBER_WORDS[int(value)] in target:
            continue
        missing.append(written)
    if not missing:
        return []
    expected = {round(v, 6) for _, candidates in numbers for v in candidates}
    others = sorted({m.group(0) for m in _TARGET_NUMBER.finditer(_plain(target))
                     if not _readings(m.group(0).rstrip(",. ")) & expected})
    found = f" (it has {', '.join(others)})" if others else ""
    return [f"{', '.join(missing)} of the source {'is' if len(missing) == 1 else 'are'} not in the "
            f"translation{found}"]


# --------------------------------------------------------------------------- untranslated, length, terms


def _words_to_translate(source: str, keep_terms: Iterable[str]) -> str:
    """The source without what stays as it is (numbers, URLs, acronyms, do-not-translate terms, punctuation)."""
    text = _plain(source)
    for term in sorted(set(keep_terms), key=len, reverse=True):
        text = re.sub(r"(?<!\w)" + re.escape(term) + r"(?!\w)", " ", text)
    text = _ACRONYM.sub(" ", text)
    return "".join(char for char in text if char.isalpha())


def untranslated_problem(source: str, target: str, language: str, keep_terms: Iterable[str]) -> str | None:
    if not _words_to_translate(source, keep_terms):
        return None  # only names, numbers, URLs or do-not-translate terms: nothing to translate
    if " ".join(target.split()) == " ".join(source.split()):
        return "the translation is the English source, copied"
    script = SCRIPTS.get(language.split("_")[0])
    if script and not script[1].search(target):
        return f"no {script[0]} text: the translation is still in another language"
    return None


def length_problem(source: str, target: str, language: str, review: ReviewSettings) -> str | None:
    source_length = len(" ".join(PLACEHOLDER.sub("", source).split()))
    if source_length < max(review.min_length, 1):
        return None
    ratio = len(" ".join(PLACEHOLDER.sub("", target).split())) / source_length
    low, high = review.ratio_bounds(language)
    if low <= ratio <= high:
        return None
    side = "short" if ratio < low else "long"
    return (f"the translation is {ratio:.2f}× the source's length, suspiciously {side} "
            f"(expected {low:g}–{high:g}× for {language}; [review] length_ratio)")


def terminology_problems(source: str, target: str, language: str, glossary: Glossary) -> list[str]:
    problems = []
    for term in glossary.terms:
        required = term.required(language)
        if not required or not term.pattern.search(PLACEHOLDER.sub(" ", source)):
            continue
        if any(form in target for form in required):
            continue
        where = f"glossary line {term.line}"
        if term.forms.get(language):
            problems.append(f"“{term.en}” should be {' or '.join(required)} ({where})")
        else:
            problems.append(f"“{term.en}” is not translated: it must appear as it is ({where})")
    return problems


# --------------------------------------------------------------------------- the catalogs


def read_catalogs(config: BookConfig, language: str) -> dict[str, Catalog]:
    return {part: read_catalog(catalog_path(config, language, part), language)
            for part in existing_parts(config, language)}


def check_translations(config: BookConfig, language: str, *, catalogs: Mapping[str, Catalog] | None = None,
                       glossary: Glossary | None = None) -> CheckResult:
    """Check every translated entry of ``language``'s catalogs; findings in catalog and entry order."""
    catalogs = read_catalogs(config, language) if catalogs is None else catalogs
    glossary = load_glossary(config) if glossary is None else glossary
    keep_terms = (*config.translation.keep_terms, *glossary.do_not_translate())
    findings = []
    checked: Counter[str] = Counter()
    for part, catalog in catalogs.items():
        for message in catalog:
            if not message.id or not isinstance(message.string, str):
                continue
            state = entry_state(message)
            if state == UNTRANSLATED:
                continue
            checked[state] += 1
            for kind, text in check_entry(source_text(message), message.string, language, glossary=glossary,
                                          review=config.review, keep_terms=keep_terms,
                                          reviewed=state == REVIEWED):
                findings.append(CheckFinding(part, message.context or "", kind, state, text))
    return CheckResult(language, findings, dict(sorted(checked.items())), len(glossary.terms))


def check_report(result: CheckResult) -> str:
    """The findings as text, grouped by catalog, then a count per kind."""
    total = sum(result.checked.values())
    lines = [f"translation check ({result.language}): {total:,} translated entries checked"
             + (f" ({', '.join(f'{count:,} {state}' for state, count in result.checked.items())})" if total else "")
             + f"; glossary: {result.glossary_terms} terms"]
    part = None
    for finding in result.findings:
        if finding.part != part:
            part = finding.part
            lines += ["", f"{part}:"]
        lines.append(f"  {finding.segment} [{finding.state}] {finding.kind}: {finding.message}")
    lines += ["", f"{len(result.findings)} finding{'s' if len(result.findings) != 1 else ''}: "
              + ", ".join(f"{kind} {count}" for kind, count in result.counts().items())]
    return "\n".join(lines) + "\n"
