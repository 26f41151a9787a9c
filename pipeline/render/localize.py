"""The book in an edition's language: translated text where a reviewed translation exists,
the source text (marked as such) everywhere else.

Until a catalog supplies a block's translation, the block keeps the source language's words
and says so with ``xml:lang``; the renderers show such blocks visibly marked, and count them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from lxml import etree

from ..docbook import DB_NS, XML_NS

LANG = f"{{{XML_NS}}}lang"
D = f"{{{DB_NS}}}"
# Blocks whose words a reader reads: the unit of translation and of fallback marking.
TEXT_BLOCKS = {f"{D}{name}" for name in ("para", "title", "entry", "glossterm", "tocentry", "bibliomixed",
                                          "orgname", "personname", "phrase")}

Translator = Callable[[etree._Element], bool]  # translates a block in place; False when it has no translation


def localize(root: etree._Element, lang: str, translate: Translator | None = None,
             source_language: str = "en") -> tuple[etree._Element, int, int]:
    """A copy of ``root`` in ``lang``: (book, blocks translated, blocks left in the source language)."""
    book = copy.deepcopy(root)
    book.set(LANG, lang)
    if lang == source_language:
        return book, 0, 0
    translated = untranslated = 0
    for element in book.iter(*TEXT_BLOCKS):
        if any(ancestor.tag in TEXT_BLOCKS for ancestor in element.iterancestors()):
            continue
        if not "".join(element.itertext()).strip():
            continue
        if translate is not None and translate(element):
            element.set(LANG, lang)
            translated += 1
        else:
            element.set(LANG, source_language)
            untranslated += 1
    return book, translated, untranslated
