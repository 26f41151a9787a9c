"""The editions' fixed strings (Contents, Chapter N, …) in each language, and their numbers.

Labels come from ``locales/ui/<lang>.po`` (gettext, so translators review them like any other
catalog); English is the msgid itself. Numbers follow the language's printing custom: Khmer
books print Khmer digits.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from ..errors import CatalogError
from ..safety import read_input_bytes

NATIVE_DIGITS = {"km": "០១២៣៤៥៦៧៨៩"}
CSS_COUNTER_STYLE = {"km": "khmer"}


@dataclass
class Strings:
    lang: str
    messages: dict[str, str] = field(default_factory=dict)

    def __call__(self, message: str, **values) -> str:
        """The label in this language, with ``{number}``-style values filled in (in native digits)."""
        template = self.messages.get(message) or message
        return template.format(**{key: self.number(value) if isinstance(value, int) else value
                                  for key, value in values.items()})

    def number(self, value: int | str) -> str:
        digits = NATIVE_DIGITS.get(self.lang)
        text = str(value)
        return text.translate(str.maketrans("0123456789", digits)) if digits else text

    @property
    def counter_style(self) -> str:
        """The CSS counter style folios and chapter numbers use in this language."""
        return CSS_COUNTER_STYLE.get(self.lang, "decimal")


def check_po(path: Path) -> None:
    """Refuse a damaged catalog before Babel reads it (Babel silently truncates unterminated strings)."""
    msgfmt = shutil.which("msgfmt")
    if msgfmt:
        result = subprocess.run([msgfmt, "--check-format", "--check-header", "--check-domain", "-o", "/dev/null",
                                 str(path)], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            first = next((line for line in result.stderr.splitlines() if "error" in line or ":" in line),
                         result.stderr.strip())
            raise CatalogError(f"the catalog is damaged: {first.strip()}", path,
                               hint="fix the line msgfmt names (an unclosed quote?) or restore the file from git")
        return
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith(('msgid "', 'msgstr "', 'msgctxt "', '"')) and not (
                stripped.endswith('"') and not stripped.endswith('\\"') or stripped.endswith('\\\\"')):
            raise CatalogError("the catalog has an unterminated string", path, f"line {number}",
                               hint="close the quote, or restore the file from git")


@lru_cache(maxsize=8)
def _load(lang: str, locales: str) -> dict[str, str]:
    path = Path(locales) / "ui" / f"{lang}.po"
    if lang == "en" or not path.exists():
        return {}
    check_po(path)
    from babel.messages.pofile import read_po
    catalog = read_po(BytesIO(read_input_bytes(path, what="catalog")), locale=lang)
    return {message.id: message.string for message in catalog
            if message.id and message.string and not message.fuzzy and isinstance(message.id, str)}


def ui_strings(lang: str, locales: Path) -> Strings:
    return Strings(lang, _load(lang, str(locales)))
