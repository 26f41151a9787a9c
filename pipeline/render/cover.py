"""The EPUB cover: the publisher's image when there is one, otherwise one drawn from the metadata.

The drawn cover sets the title, the editors and the publisher with the edition's own fonts
(Pillow with Raqm shapes Khmer and Japanese as a browser would), so a bookshelf shows a
readable cover in every language. Same metadata and fonts, same PNG bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from ..config import BookConfig
from ..errors import RenderError
from .fonts import find_face

COVER_SIZE = (1200, 1800)
LINE_SPACING = {"km": 1.8}  # Khmer stacks subscripts and vowels above and below: more room than 1.45
TEXT_WIDTH = 920  # inside the frame (80 px) with a margin on each side
BACKGROUND = (24, 52, 84)
INK = (250, 247, 240)
ACCENT = (214, 170, 84)
MEDIA_TYPES = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg")}


@dataclass(frozen=True)
class Cover:
    data: bytes
    media_type: str
    extension: str
    supplied: Path | None  # the publisher's file, or None when drawn


def supplied_cover(config: BookConfig) -> Path | None:
    """The publisher's cover: ``[epub] cover`` in book.toml, else source/images/cover.png|jpg|jpeg."""
    if config.epub.cover:
        path = (config.source_dir / config.epub.cover).resolve()
        if not path.is_relative_to(config.source_dir.resolve()):
            raise RenderError("the cover image named in [epub] is outside source/", path,
                              hint="put the cover under source/images/")
        if not path.is_file():
            raise RenderError("the cover image named in [epub] cover is missing", path,
                              hint="put the file there, or remove 'cover' from [epub] in source/book.toml "
                                   "to use a generated cover")
        return path
    for suffix in (".png", ".jpg", ".jpeg"):
        candidate = config.source_dir / "images" / f"cover{suffix}"
        if candidate.is_file():
            return candidate
    return None


def load_cover(path: Path, config: BookConfig) -> Cover:
    """The publisher's cover, refused unless it is a PNG or JPEG that Pillow can read."""
    from PIL import Image

    from ..safety import read_input_bytes
    from .images import check_image
    if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise RenderError(f"unsupported cover image type {path.suffix or '(none)'}", path,
                          hint="EPUB readers need the cover as PNG or JPEG; export it as cover.png or cover.jpg")
    check_image(path, config)
    data = read_input_bytes(path, config.limits, what="image")
    with Image.open(io.BytesIO(data)) as image:
        kind = image.format
    if kind not in MEDIA_TYPES:
        raise RenderError(f"the cover is a {kind} image named {path.suffix}", path,
                          hint="export it again as PNG or JPEG")
    media_type, extension = MEDIA_TYPES[kind]
    return Cover(data, media_type, extension, path)


def _font(family: str, size: int):
    from PIL import ImageFont
    face = find_face(family)
    return ImageFont.truetype(str(face.path), size, index=face.index, layout_engine=ImageFont.Layout.RAQM)


def line_break_opportunities(text: str, lang: str, *, phrases: bool = True) -> list[int]:
    """Offsets where a line may break: ICU's line-break rules (strict kinsoku for Japanese, and with
    ``phrases`` its phrase breaks, so 台頭と stays whole; the dictionary for Khmer), less any that
    would split a written cluster (see ``khmer.may_break_between``)."""
    import icu

    from .khmer import ZWSP, break_khmer, may_break_between
    broken = break_khmer(text) if lang == "km" else text  # ICU's line rules need Khmer's word breaks
    original_offset: list[int] = []
    spaces = 0  # offset in ``broken`` -> offset in ``text``
    for char in broken:
        original_offset.append(len(original_offset) - spaces)
        spaces += char == ZWSP and broken is not text
    original_offset.append(len(broken) - spaces)
    locale = ("ja@lb=strict;lw=phrase" if phrases else "ja@lb=strict") if lang == "ja" else lang
    iterator = icu.BreakIterator.createLineInstance(icu.Locale(locale))
    iterator.setText(broken)
    offsets: list[int] = []
    for end in iterator:
        if 0 < end < len(broken) and may_break_between(broken[end - 1], broken[end]):
            position = original_offset[end]
            if 0 < position < len(text) and (not offsets or offsets[-1] != position):
                offsets.append(position)
    return offsets


def _pieces(text: str, offsets: list[int]) -> list[str]:
    bounds = [0, *offsets, len(text)]
    return [text[start:end] for start, end in zip(bounds, bounds[1:])]


def wrap_to_width(text: str, width_of, lang: str, max_width: float = TEXT_WIDTH) -> list[str]:
    """Balanced lines of ``text``, broken only at line-break opportunities: the fewest lines that fit
    ``max_width`` (by ``width_of``, the shaped width), then the most even ones, as a centred title
    wants. A phrase wider than a line is broken at its finer opportunities; a piece that still does
    not fit gets a line of its own."""
    pieces: list[str] = []
    for piece in _pieces(text, line_break_opportunities(text, lang)):
        if width_of(piece.strip()) > max_width and lang == "ja":
            pieces += _pieces(piece, line_break_opportunities(piece, lang, phrases=False))
        else:
            pieces.append(piece)
    count = len(pieces)
    best: list[tuple[int, float, int] | None] = [None] * (count + 1)  # (lines, badness, start of last line)
    best[0] = (0, 0.0, 0)
    for end in range(1, count + 1):
        for start in range(end - 1, -1, -1):
            line = "".join(pieces[start:end]).strip()
            width = width_of(line)
            if width > max_width and end - start > 1:
                break
            previous = best[start]
            if previous is None:
                continue
            candidate = (previous[0] + 1, previous[1] + (max_width - min(width, max_width)) ** 2, start)
            incumbent = best[end]
            if incumbent is None or candidate[:2] < incumbent[:2]:
                best[end] = candidate
    lines: list[str] = []
    end = count
    while end > 0:
        step = best[end]
        assert step is not None  # every end is reached: a single piece always fits a line of its own
        start = step[2]
        lines.insert(0, "".join(pieces[start:end]).strip())
        end = start
    return [line for line in lines if line]


def _fitted_lines(draw, text: str, family: str, size: int, lang: str, max_lines: int) -> tuple[list[str], int]:
    """The text wrapped by its shaped width at ``size``, or smaller (down to 60 %) when it would take
    more than ``max_lines`` lines or a phrase would have to be broken."""
    smallest = int(size * 0.6)
    while True:
        font = _font(family, size)

        def width_of(line: str, font=font) -> float:
            left, _, right, _ = draw.textbbox((0, 0), line, font=font, language=lang)
            return right - left
        phrases_fit = all(width_of(piece.strip()) <= TEXT_WIDTH
                          for piece in _pieces(text, line_break_opportunities(text, lang)))
        lines = wrap_to_width(text, width_of, lang)
        if (phrases_fit and len(lines) <= max_lines) or size <= smallest:
            return lines, size
        size -= 4


def _draw_lines(draw, lines: list[str], family: str, size: int, top: int, lang: str, fill) -> int:
    """Centered lines from ``top``; returns the y below them."""
    font = _font(family, size)
    for line in lines:
        left, _, right, _ = draw.textbbox((0, 0), line, font=font, language=lang)
        draw.text(((COVER_SIZE[0] - (right - left)) / 2 - left, top), line, font=font, fill=fill, language=lang)
        top += int(size * LINE_SPACING.get(lang, 1.45))
    return top


def draw_cover(title: str, editors: list[str], edited_by: str, publisher: str, lang: str,
               fonts: tuple[str, str], latin_font: str) -> Cover:
    """A typographic cover: title, editors and publisher on a plain ground."""
    from PIL import Image, ImageDraw
    body, heading = fonts
    image = Image.new("RGB", COVER_SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    width = COVER_SIZE[0]
    draw.rectangle((80, 80, width - 80, COVER_SIZE[1] - 80), outline=ACCENT, width=4)
    title_font = latin_font if title.isascii() else heading
    title_lang = "en" if title.isascii() else lang
    lines, size = _fitted_lines(draw, title.upper() if title.isascii() else title, title_font, 68, title_lang, 6)
    top = _draw_lines(draw, lines, title_font, size, 330, title_lang, INK)
    draw.line((width / 2 - 120, top + 40, width / 2 + 120, top + 40), fill=ACCENT, width=4)
    top = _draw_lines(draw, [edited_by], body, 40, top + 110, lang, ACCENT)
    _draw_lines(draw, editors, latin_font if all(name.isascii() for name in editors) else body, 48, top + 10,
                lang, INK)
    publisher_font = latin_font if publisher.isascii() else body
    lines, size = _fitted_lines(draw, publisher, publisher_font, 40, "en" if publisher.isascii() else lang, 2)
    _draw_lines(draw, lines, publisher_font, size, 1540, lang, INK)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return Cover(buffer.getvalue(), "image/png", "png", None)
