"""The book's glossary, ``locales/glossary.csv``: how key terms are translated, and which are never translated.

A CSV file because the people who keep it use spreadsheets (Excel and LibreOffice open it as it
is, Weblate imports it as a glossary). One row per English term; columns ``en``, one per target
language (``km``, ``ja``), ``do_not_translate`` and ``note``. A language cell may give several
accepted forms separated by ``|`` (``グローバル・サウス|グローバルサウス``). What a reviewed
translation must contain when the English term occurs in its source:

* the language's cell, when it is filled in (any one of its forms);
* otherwise the English term itself, verbatim, when the term is marked do-not-translate;
* otherwise nothing: an empty cell is a term nobody has decided yet, so it is not enforced.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..config import BookConfig
from ..errors import ConfigError
from ..safety import read_input_bytes

FIXED_COLUMNS = ("en", "do_not_translate", "note")
YES, NO = {"yes", "y", "true", "1", "x"}, {"no", "n", "false", "0", ""}


@dataclass(frozen=True)
class Term:
    """One glossary row: the English term, its accepted forms per language, and whether it stays English."""

    en: str
    forms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    do_not_translate: bool = False
    note: str = ""
    line: int = 0

    @property
    def pattern(self) -> re.Pattern:
        """The English term as a case-insensitive whole word or phrase (hyphens and spaces as written)."""
        return re.compile(r"(?<![\w-])" + re.escape(self.en) + r"(?![\w-])", re.IGNORECASE)

    def required(self, language: str) -> tuple[str, ...]:
        """The forms a translation into ``language`` must contain one of (empty: not enforced)."""
        if self.forms.get(language):
            return self.forms[language]
        return (self.en,) if self.do_not_translate else ()


@dataclass(frozen=True)
class Glossary:
    terms: tuple[Term, ...] = ()
    path: Path | None = None

    def do_not_translate(self) -> tuple[str, ...]:
        return tuple(term.en for term in self.terms if term.do_not_translate)


def load_glossary(config: BookConfig) -> Glossary:
    """Read ``locales/glossary.csv`` (absent: an empty glossary); any mistake is one line naming the row."""
    path = config.glossary_file
    if not path.exists():
        return Glossary((), None)
    data = read_input_bytes(path, config.limits, what="glossary")
    return parse_glossary(data, path, config.target_languages)


def parse_glossary(data: bytes, path: Path, languages: tuple[str, ...]) -> Glossary:
    try:
        text = data.decode("utf-8-sig")  # Excel saves "CSV UTF-8" with a byte-order mark
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ConfigError("the glossary is not UTF-8", path, f"line {line}",
                          hint="save it as \"CSV UTF-8\" (Excel) or with the UTF-8 character set (LibreOffice)")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as error:
        raise ConfigError(f"the glossary is not valid CSV ({error})", path, f"line {reader.line_num}",
                          hint="check the quotation marks on that line")
    if not rows:
        raise ConfigError("the glossary is empty; it needs a header row", path, "line 1",
                          hint=f"start it with: {','.join(('en', *languages, 'do_not_translate', 'note'))}")
    header_line, header = rows[0]
    columns = [name.strip() for name in header]
    allowed = set(FIXED_COLUMNS) | set(languages)
    unknown = [name for name in columns if name not in allowed]
    if unknown:
        raise ConfigError(f"unknown glossary column {unknown[0]!r}", path, f"line {header_line}",
                          hint=f"the columns are en, {', '.join(languages)}, do_not_translate and note")
    if "en" not in columns:
        raise ConfigError("the glossary has no 'en' column", path, f"line {header_line}",
                          hint=f"the first row names the columns: en, {', '.join(languages)}, do_not_translate, note")
    if len(set(columns)) != len(columns):
        raise ConfigError("a glossary column is named twice", path, f"line {header_line}")
    terms: list[Term] = []
    seen: dict[str, int] = {}  # a term's casefolded English -> its line
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue  # a blank row, as spreadsheets leave them
        if len(row) > len(columns):
            raise ConfigError(f"{len(row)} cells where the header has {len(columns)} columns", path, f"line {line}",
                              hint="a comma inside a term needs the cell in quotation marks")
        cells = {name: (row[index].strip() if index < len(row) else "") for index, name in enumerate(columns)}
        terms.append(_term(cells, languages, path, line))
        key = terms[-1].en.casefold()
        if key in seen:
            raise ConfigError(f"the term {terms[-1].en!r} is already on line {seen[key]}", path, f"line {line}")
        seen[key] = line
    return Glossary(tuple(terms), path)


def _term(cells: dict[str, str], languages: tuple[str, ...], path: Path, line: int) -> Term:
    english = " ".join(cells["en"].split())
    if not english:
        raise ConfigError("a glossary row without its English term", path, f"line {line}")
    flag = cells.get("do_not_translate", "").casefold()
    if flag not in YES | NO:
        raise ConfigError(f"do_not_translate is {cells['do_not_translate']!r}; write yes or no (or leave it empty)",
                          path, f"line {line}")
    forms = {}
    for language in languages:
        alternatives = tuple(form.strip() for form in cells.get(language, "").split("|") if form.strip())
        if alternatives:
            forms[language] = alternatives
    return Term(english, forms, flag in YES, cells.get("note", ""), line)
