"""Cut the block stream into the book's regions: opening pages, printed contents, parts, chapters.

Chapters are found by their labels ("Chapter 3") or, in formats that know heading levels, by
the top heading level the document uses (Heading 1, or Heading 2 when it has no Heading 1; the
largest PDF size); in a text without labels, by its headings. Parts by the titles books give them
(Foreword, Acknowledgements, ...). A Title-style block (level 0) is the book's title, not a chapter.
A chapter's opening image survives in a text extraction only as its attribution line
(``Source: …``) and any words printed in the image; those lines belong to the chapter they
introduce, so the region of a chapter starts there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..ingest.model import Block, Kind
from .. import textrules
from . import rules


@dataclass
class Region:
    kind: str  # "opening", "toc", "loose" (between the contents and the first division), "part", "chapter", "back-cover"
    start: int  # first block index
    end: int  # one past the last block index
    head: int | None = None  # the part title or chapter label block
    role: str | None = None  # the part's role ("foreword", ...)
    opener_start: int | None = None  # first block of a chapter's opening-image lines


def is_heading_like(block: Block) -> bool:
    """A line that could be a title: a heading, or a short line that does not end a sentence."""
    if block.kind is Kind.HEADING:
        return True
    if block.kind is not Kind.TEXT:
        return False
    text = block.text.strip()
    return len(text.split()) <= 14 and not textrules.ends_sentence(text) and not text.endswith((",", ";"))


def is_prose(block: Block) -> bool:
    """A block of running text: ends like a sentence or is too long to be a title."""
    if block.kind is not Kind.TEXT:
        return False
    text = block.text.strip()
    return textrules.ends_sentence(text) or len(text.split()) > 25


def chapter_label(block: Block) -> re.Match | None:
    if block.kind is Kind.ROW or (block.level is not None and block.level > 1):
        return None
    return rules.CHAPTER_LABEL.match(block.text.strip())


def top_heading_level(blocks: list[Block]) -> int | None:
    """The highest heading level the document uses below its title (None when the format has no levels)."""
    levels = [block.level for block in blocks if block.kind is Kind.HEADING and block.level]
    return min(levels) if levels else None


def find_regions(blocks: list[Block]) -> list[Region]:
    """The book's regions in order; blocks between regions do not exist (every block is covered)."""
    top = top_heading_level(blocks)
    back_start = _back_cover_start(blocks)  # the trailing imprint lines; no other region reaches into them
    toc_start = next((i for i, block in enumerate(blocks[:back_start])
                      if block.kind is not Kind.ROW and rules.TOC_TITLE.match(block.text.strip())), None)
    toc_end = min(_toc_end(blocks, toc_start), back_start) if toc_start is not None else None
    heads = _division_heads(blocks, toc_end or 0, top)
    if not any(kind == "chapter" for _, kind, _ in heads) and top is None:
        heads = _text_heads(blocks, toc_end or 0, heads)
    if top is not None and len(heads) > 1 and heads[0] == (0, "chapter", None) and heads[1][0] == 1 \
            and not chapter_label(blocks[0]):
        heads = heads[1:]  # a first top heading with nothing under it is the book's title (a PDF's largest type)
    regions: list[Region] = []
    heads = [head for head in heads if head[0] < back_start]  # the back cover's lines are not divisions
    opening_end = toc_start if toc_start is not None else min(_opening_end(blocks, heads), back_start)
    if opening_end > 0:
        regions.append(Region("opening", 0, opening_end))
    if toc_start is not None:
        assert toc_end is not None  # found with toc_start
        regions.append(Region("toc", toc_start, toc_end))
        first = min([_opener_start(blocks, index, toc_end) or index if kind == "chapter" else index
                     for index, kind, _ in heads] or [back_start])
        if first > toc_end:  # the contents ended before the first division: the text between is kept
            regions.append(Region("loose", toc_end, first))
    for index, kind, role in heads:
        start = index
        opener = None
        if kind == "chapter":
            opener = _opener_start(blocks, index, floor=(toc_end or 0))
            start = opener if opener is not None else index
        regions.append(Region(kind, start, 0, head=index, role=role, opener_start=opener))
    for current, following in zip(regions, regions[1:]):
        if current.kind in ("part", "chapter"):
            current.end = following.start
    if regions and regions[-1].kind in ("part", "chapter"):
        regions[-1].end = back_start
    if back_start < len(blocks):
        regions.append(Region("back-cover", back_start, len(blocks)))
    return regions


def _opening_end(blocks: list[Block], heads: list[tuple[int, str, str | None]]) -> int:
    if not heads:
        return len(blocks)
    index, kind, _ = heads[0]
    if kind == "chapter":
        opener = _opener_start(blocks, index, floor=0)
        return opener if opener is not None else index
    return index


def _toc_end(blocks: list[Block], toc_start: int) -> int:
    """The printed contents run until a title they listed appears again as a real title, a part or chapter
    title followed by prose, or prose."""
    listed: set[str] = set()
    i = toc_start + 1
    while i < len(blocks):
        block = blocks[i]
        if block.kind is Kind.ITEM or is_prose(block):
            break
        label, page = rules.split_toc_line(block.text)
        key = rules.normalized(label)
        if page is None and key in listed and (rules.part_role(label) or rules.CHAPTER_LABEL.match(label)):
            break
        if page is None and i + 1 < len(blocks) and is_prose(blocks[i + 1]) and (
                rules.part_role(label) or rules.CHAPTER_LABEL.match(label)):
            break  # a title the text follows is the book's own, not a line of its contents
        listed.add(key)
        i += 1
    return i


def _text_heads(blocks: list[Block], start: int, parts: list[tuple[int, str, str | None]]
                ) -> list[tuple[int, str, str | None]]:
    """A text without chapter labels: its headings (the first level a text shows) are its chapters.

    The first heading of the text, when nothing but title lines precede it, is the book's title.
    """
    part_heads = {index for index, _, _ in parts}
    candidates = [i for i in range(start, len(blocks))
                  if blocks[i].kind is Kind.HEADING and i not in part_heads and is_heading_like(blocks[i])
                  and not rules.is_notes_title(blocks[i].text) and not rules.TOC_TITLE.match(blocks[i].text.strip())
                  and not rules.ATTRIBUTION.match(blocks[i].text.strip())]
    if candidates and all(blocks[i].kind is Kind.HEADING for i in range(start, candidates[0])):
        candidates = candidates[1:]  # the title
    return sorted(parts + [(i, "chapter", None) for i in candidates])


def _division_heads(blocks: list[Block], start: int, top: int | None) -> list[tuple[int, str, str | None]]:
    """(index, "part" | "chapter", role) of every part title and chapter label after ``start``."""
    heads: list[tuple[int, str, str | None]] = []
    after_label = False
    seen_chapter = False
    for i in range(start, len(blocks)):
        block = blocks[i]
        if block.kind in (Kind.ROW, Kind.ITEM):
            after_label = False
            continue
        text = block.text.strip()
        if chapter_label(block) and is_heading_like(block):
            heads.append((i, "chapter", None))
            label = rules.CHAPTER_LABEL.match(text)
            after_label = label is None or label.group("title") is None
            seen_chapter = True
            continue
        at_top = block.kind is Kind.HEADING and (block.level in (None, top))
        role = rules.part_role(text) if at_top and is_heading_like(block) else None
        if role and (not seen_chapter or role == "contributors"):
            heads.append((i, "part", role))
        elif (top is not None and block.kind is Kind.HEADING and block.level == top and not after_label
              and not rules.is_notes_title(text) and not rules.TOC_TITLE.match(text)):
            heads.append((i, "chapter", None))
            seen_chapter = True
        after_label = False
    return heads


def _opener_start(blocks: list[Block], label: int, floor: int) -> int | None:
    """The first line of a chapter's opening-image remains (attribution and the image's words)."""
    i = label - 1
    if i < floor or not rules.ATTRIBUTION.match(blocks[i].text.strip()):
        return None
    start = i
    i -= 1
    while i >= floor:
        block = blocks[i]
        text = block.text.strip()
        if (block.kind not in (Kind.HEADING, Kind.TEXT) or not is_heading_like(block) or rules.part_role(text)
                or rules.is_notes_title(text) or rules.NOTE_ENTRY.match(text)):
            break
        start = i
        i -= 1
    return start


def _back_cover_start(blocks: list[Block]) -> int:
    """Trailing lines that repeat the imprint (copyright, ISBN, publisher site) form the back cover."""
    i = len(blocks)
    while i > 0:
        text = blocks[i - 1].text.strip()
        if (rules.COPYRIGHT_LINE.match(text) and ("©" in text or "copyright" in text.lower())) \
                or rules.ISBN_LINE.search(text) or rules.WEBSITE.match(text):
            i -= 1
            continue
        break
    return i
