"""The EPUB cover: the publisher's image when there is one, otherwise one drawn from the metadata.

The drawn cover sets the title, the editors and the publisher with the edition's own fonts
(Pillow with Raqm shapes Khmer and Japanese as a browser would), so a bookshelf shows a
readable cover in every language. Same metadata and fonts, same PNG bytes.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from pathlib import Path

from ..config import BookConfig
from ..errors import RenderError
from .fonts import find_face

COVER_SIZE = (1200, 1800)
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


def _draw_lines(draw, lines: list[str], family: str, size: int, top: int, lang: str, fill) -> int:
    """Centered lines from ``top``; returns the y below them."""
    font = _font(family, size)
    for line in lines:
        left, _, right, _ = draw.textbbox((0, 0), line, font=font, language=lang)
        draw.text(((COVER_SIZE[0] - (right - left)) / 2 - left, top), line, font=font, fill=fill, language=lang)
        top += int(size * 1.45)
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
    top = _draw_lines(draw, textwrap.wrap(title.upper() if title.isascii() else title, 22), title_font, 68, 330,
                      "en" if title.isascii() else lang, INK)
    draw.line((width / 2 - 120, top + 40, width / 2 + 120, top + 40), fill=ACCENT, width=4)
    top = _draw_lines(draw, [edited_by], body, 40, top + 110, lang, ACCENT)
    _draw_lines(draw, editors, latin_font if all(name.isascii() for name in editors) else body, 48, top + 10,
                lang, INK)
    _draw_lines(draw, textwrap.wrap(publisher, 34), latin_font if publisher.isascii() else body, 40, 1540,
                lang, INK)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return Cover(buffer.getvalue(), "image/png", "png", None)
