"""An edition's typography: transforms applied to the book an edition sets, after its translations.

Typographer's quotes are set here, on the DocBook book, not inside a writer: the print edition, the
EPUB (its pages, navigation and package metadata) and any later writer read the same curled text.
They are set after localization, as Docutils' SmartQuotes transform runs after Sphinx's Locale
transform: the catalogs' msgids keep the quotes the manuscript typed (curling them in the repaired
book would change about a fifth of the committed catalogs' msgids), and a translation's straight
quotes are curled like the source's.

Quotes are decided block by block (a paragraph, a title, a note's paragraph, a table cell), as
Docutils decides them per text element: a block that opens with a quote opens it, whatever the
block before it ended with. Inside a block the context runs through the inline markup.
"""

from __future__ import annotations

from lxml import etree

from .docbook import DB_NS, XLINK_NS
from .transforms import BOOK, Transform, TransformContext, Transformer

D = f"{{{DB_NS}}}"
HREF = f"{{{XLINK_NS}}}href"
SMART_QUOTE_LANGUAGES = ("en", "km", "ja")  # the editions whose text takes “curly” quotes for straight ones
_OPENING_CONTEXT = set(" \t\n([{\u2014\u2013-/\u00a0\u200b")
# Inline elements: the quote context runs through them. Any other element is a block and starts afresh.
INLINE = {f"{D}{name}" for name in (
    "emphasis", "link", "superscript", "subscript", "phrase", "citetitle", "abbrev", "acronym", "orgname",
    "personname", "firstname", "surname", "honorific", "lineage", "othername", "bibliomisc", "quote", "citation",
    "anchor", "footnoteref", "inlinemediaobject", "foreignphrase", "firstterm", "wordasword", "trademark")}
# Characters that are not typography: their quotes stay as typed (they still set the context after them).
LITERAL = {f"{D}{name}" for name in ("code", "literal", "programlisting", "uri", "email", "filename")}
NOT_PRINTED = {f"{D}remark"}  # an editor's remark (a DOCX comment): the editions leave it out


def smart_quotes(text: str, before: str = " ") -> str:
    """Typographer's quotes for straight ones: opening after a space or bracket, closing otherwise."""
    out = []
    previous = before
    for char in text:
        if char == '"':
            char = "“" if previous in _OPENING_CONTEXT else "”"
        elif char == "'":
            char = "‘" if previous in _OPENING_CONTEXT else "’"
        out.append(char)
        previous = char
    return "".join(out)


def _last(text: str | None, previous: str) -> str:
    return text[-1] if text else previous


def _is_printed_url(element: etree._Element) -> bool:
    """A link that prints its own address: its characters are the URL's, not typography."""
    return element.tag == f"{D}link" and bool(element.get(HREF)) and element.text == element.get(HREF) \
        and len(element) == 0


def _literal_end(element: etree._Element, previous: str) -> str:
    """The last character of an element kept as typed (the context after it)."""
    text = "".join(element.itertext())
    return text[-1] if text else previous


def educate(element: etree._Element, previous: str = " ") -> str:
    """Curl the quotes of ``element``'s text and its descendants'; returns the last character set."""
    if element.text:
        element.text = smart_quotes(element.text, previous)
        previous = element.text[-1]
    for child in element:
        if not isinstance(child.tag, str):  # a processing instruction or comment: only its tail is text
            pass
        elif child.tag in NOT_PRINTED:
            pass
        elif child.tag in LITERAL or _is_printed_url(child):
            previous = _literal_end(child, previous)
        elif child.tag == f"{D}footnote":
            educate(child)  # the note's paragraphs are blocks; the text after the call goes on from before it
        elif child.tag in INLINE:
            previous = educate(child, previous)
        else:
            educate(child)
            previous = " "
        if child.tail:
            child.tail = smart_quotes(child.tail, previous)
            previous = child.tail[-1]
    return previous


class EditionContext(TransformContext):
    """What an edition's transforms need: the edition's language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang


class SmartQuotes(Transform):
    """Set typographer's quotes for straight ones, block by block (the catalogs keep the manuscript's)."""

    name, default_priority, unit = "smart-quotes", 850, BOOK

    def apply(self, target: etree._Element, ctx: EditionContext) -> None:
        if ctx.lang in SMART_QUOTE_LANGUAGES:
            educate(target)


EDITION_TRANSFORMS: tuple[Transform, ...] = (SmartQuotes(),)


def typeset(book: etree._Element, lang: str) -> etree._Element:
    """Apply the edition's transforms to ``book`` (an edition's own copy, already localized) in place."""
    Transformer(EDITION_TRANSFORMS).apply(book, EditionContext(lang))
    return book
