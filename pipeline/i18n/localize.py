"""The book in an edition's language: translated text where the catalogs hold a usable
translation, the source text (visibly marked) everywhere else.

A block is translated only when every one of its sentences is: a paragraph half in Khmer and
half in English reads worse than one marked as not yet translated. Reviewed entries are always
used; machine drafts only when the build asks for them (``--drafts``, and the pages say so);
entries whose source changed since they were translated (fuzzy with ``#|``) never are. The
inline markup (emphasis, links, note markers) comes back from the placeholders, so the notes
keep their numbers and links.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from babel.messages.catalog import Message
from lxml import etree

from ..config import BookConfig
from ..docbook import DB_NS, NS, XML_NS, append
from ..typography import typeset
from .catalogs import (MACHINE, REVIEWED, catalog_path, entry_state, existing_parts, read_catalog, source_text,
                       target_text)
from .placeholders import blocking, compare_placeholders
from .segments import PLACEHOLDER, BlockSegments, translatable_blocks

LANG = f"{{{XML_NS}}}lang"
UNTRANSLATED = "untranslated"  # the DocBook effectivity value (condition) of a block shown in the source language
D = f"{{{DB_NS}}}"
# Words that are never translated (names, reference entries) keep the source language's tag, unmarked.
SOURCE_LANGUAGE_ONLY = {f"{D}{name}" for name in ("personname", "bibliomixed", "glossterm", "orgname")}
UNSPACED = {"ja", "zh", "th", "lo", "my"}  # scripts that join sentences without a space (Khmer uses one)


@dataclass
class Localized:
    book: etree._Element
    translated: int = 0  # blocks
    untranslated: int = 0  # blocks shown in the source language
    broken: list[str] = field(default_factory=list)  # segment ids whose translation lost its placeholders


def _usable(message: Message | None, drafts: bool) -> bool:
    if message is None or not message.string:
        return False
    state = entry_state(message)
    return state == REVIEWED or (drafts and state == MACHINE)


def load_translations(config: BookConfig, lang: str) -> dict[tuple[str, str], Message]:
    """(segment id, source sentence) → catalog entry, from every catalog of ``lang``."""
    entries: dict[tuple[str, str], Message] = {}
    for part in existing_parts(config, lang):
        for message in read_catalog(catalog_path(config, lang, part), lang):
            if message.id and message.context:
                entries[(message.context, source_text(message))] = message
    return entries


def localize(root: etree._Element, lang: str, config: BookConfig, *, drafts: bool = False,
             translations: dict[tuple[str, str], Message] | None = None) -> Localized:
    """A copy of ``root`` in ``lang``, with the catalogs' translations put in place, then set as the edition
    sets it (``pipeline.typography``: curly quotes, in the translations as in the source text)."""
    book = copy.deepcopy(root)
    book.set(LANG, lang)
    result = Localized(book)
    if lang == config.source_language:
        typeset(book, lang)
        return result
    if translations is None:
        translations = load_translations(config, lang)
    # Innermost first: a note's own paragraphs are translated before the paragraph carrying its marker.
    for block in reversed(list(translatable_blocks(book, config.translation))):
        if _translate_block(block, translations, lang, drafts, result.broken):
            block.block.set(LANG, lang)
            result.translated += 1
        else:
            block.block.set(LANG, config.source_language)
            block.block.set("condition", UNTRANSLATED)
            result.untranslated += 1
    for element in book.iter(*SOURCE_LANGUAGE_ONLY):
        if element.get(LANG) is None:
            element.set(LANG, config.source_language)
    # Notes kept as published (citations) are English in every edition: say so, so that they are set
    # with Latin leading and hyphenation, and read by screen readers in the right voice.
    for para in book.xpath("//db:footnote/db:para[not(@xml:lang)]", namespaces=NS):
        para.set(LANG, config.source_language)
    typeset(book, lang)
    return result


def _numbered_back(text: str, back: dict[str, str]) -> str:
    """The catalog's placeholders (numbered from 1 in each sentence) renumbered as the block numbers them."""
    def renumber(match: re.Match[str]) -> str:
        return match.group(0).replace(match.group(2), back[match.group(2)], 1)
    return PLACEHOLDER.sub(renumber, text)


def _translate_block(block: BlockSegments, translations: dict[tuple[str, str], Message], lang: str,
                     drafts: bool, broken: list[str]) -> bool:
    sentences = []
    for segment, numbers in zip(block.segments, block.renumbering):
        message = translations.get((segment.id, segment.text))
        if message is None or not _usable(message, drafts):
            return False
        translation = target_text(message)
        if blocking(compare_placeholders(segment.text, translation)):  # lost or extra: markup would break
            broken.append(segment.id)
            return False
        sentences.append(_numbered_back(translation.strip(), {str(new): old for old, new in numbers.items()}))
    _refill(block.block, ("" if lang in UNSPACED else " ").join(sentences), block.elements)
    return True


_TOKEN = re.compile(r"<(/?)([a-z])(\d+)(/?)>")


def _refill(target: etree._Element, text: str, elements: dict[str, etree._Element]) -> None:
    """Replace the block's words with ``text``, turning placeholders back into the original elements."""
    keep = [child for child in target if not isinstance(child.tag, str)]  # source-line and citation PIs
    for child in list(target):
        target.remove(child)
    target.text = None
    for pi in keep:
        pi.tail = None
        target.append(pi)
    stack = [target]
    position = 0
    for match in _TOKEN.finditer(text):
        append(stack[-1], text[position:match.start()])
        position = match.end()
        closing, number, empty = match.group(1), match.group(3), match.group(4)
        if closing:
            if len(stack) > 1:
                stack.pop()
            continue
        original = elements[number]
        original.tail = None
        if empty:
            stack[-1].append(original)
        else:
            for child in list(original):
                original.remove(child)
            original.text = None
            stack[-1].append(original)
            stack.append(original)
    append(stack[-1], text[position:])
