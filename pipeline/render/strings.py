"""The editions' fixed strings (Contents, Chapter N, …) in each language, and their numbers.

Labels come from ``locales/ui/<lang>.po`` (gettext, so translators review them like any other
catalog, and it is read and checked by the same reader as the book's catalogs); English is the msgid itself. Numbers follow the language's printing custom: Khmer
books print Khmer digits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path


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


@lru_cache(maxsize=8)
def _load(lang: str, locales: str) -> dict[str, str]:
    path = Path(locales) / "ui" / f"{lang}.po"
    if lang == "en" or not path.exists():
        return {}
    from ..i18n.catalogs import read_catalog  # the book's catalogs' reader: the same checks, the same errors
    catalog = read_catalog(path, lang)
    return {message.id: message.string for message in catalog
            if isinstance(message.id, str) and message.id and isinstance(message.string, str) and message.string
            and not message.fuzzy}


def ui_strings(lang: str, locales: Path) -> Strings:
    return Strings(lang, _load(lang, str(locales)))
