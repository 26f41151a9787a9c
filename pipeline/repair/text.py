"""Editing the text of DocBook mixed content without disturbing its markup.

Text lives in ``element.text`` and in each child's ``tail``; processing instructions (the
``src`` provenance) and footnotes sit between. These helpers find and change text inside one
text node, so that a repair never moves a note marker or a link.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from ..docbook import DB_NS

_SKIP = {f"{{{DB_NS}}}footnote"}


@dataclass
class TextNode:
    """One run of text: ``owner.text`` (when ``is_tail`` is False) or ``owner.tail``."""

    owner: etree._Element
    is_tail: bool

    @property
    def value(self) -> str:
        return (self.owner.tail if self.is_tail else self.owner.text) or ""

    @value.setter
    def value(self, new: str) -> None:
        if self.is_tail:
            self.owner.tail = new
        else:
            self.owner.text = new

    @property
    def parent(self) -> etree._Element:
        return self.owner.getparent() if self.is_tail else self.owner


def text_nodes(element: etree._Element, *, into_notes: bool = False) -> Iterator[TextNode]:
    """The text runs of ``element`` in reading order (footnotes skipped unless asked for)."""
    if element.text and isinstance(element.tag, str):
        yield TextNode(element, False)
    for child in element:
        descend = isinstance(child.tag, str) and (into_notes or child.tag not in _SKIP)
        if descend:
            yield from text_nodes(child, into_notes=into_notes)
        if child.tail:
            yield TextNode(child, True)


def replace_once(element: etree._Element, before: str, after: str, *, into_notes: bool = False) -> bool:
    """Replace the first occurrence of ``before`` found inside one text run; True when done."""
    for node in text_nodes(element, into_notes=into_notes):
        index = node.value.find(before)
        if index >= 0:
            node.value = node.value[:index] + after + node.value[index + len(before):]
            return True
    return False


def replace_pattern(element: etree._Element, pattern: re.Pattern, replacement, *, into_notes: bool = False) -> int:
    """Apply a regular-expression substitution to every text run; returns how many were made."""
    count = 0
    for node in list(text_nodes(element, into_notes=into_notes)):
        new, made = pattern.subn(replacement, node.value)
        if made:
            node.value = new
            count += made
    return count


def _put_after_head(node: TextNode, head: str, new: etree._Element) -> None:
    """Cut the text run to ``head`` and put ``new`` right after it."""
    if node.is_tail:
        node.owner.tail = head
        node.owner.addnext(new)
    else:
        node.owner.text = head
        node.owner.insert(0, new)


def split_text_at(node: TextNode, offset: int, new: etree._Element) -> None:
    """Insert ``new`` (an element or processing instruction) at ``offset`` inside a text run."""
    value = node.value
    rest = value[offset:]
    _put_after_head(node, value[:offset], new)
    new.tail = rest + (new.tail or "") if new.tail else rest


def wrap_text(node: TextNode, start: int, end: int, new: etree._Element) -> None:
    """Replace ``[start, end)`` of a text run by the element ``new`` (which holds that text or a fix)."""
    value = node.value
    _put_after_head(node, value[:start], new)
    new.tail = value[end:]


def node_at(element: etree._Element, offset: int, *, into_notes: bool = False) -> tuple[TextNode, int] | None:
    """The text run holding character ``offset`` of the element's text (as ``text_of`` counts it)."""
    position = 0
    for node in text_nodes(element, into_notes=into_notes):
        length = len(node.value)
        if position <= offset < position + length or (offset == position + length and offset > 0):
            return node, offset - position
        position += length
    return None
