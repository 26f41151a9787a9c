"""Images the publisher supplies under ``source/images/``: chapter openers and figures.

A file named after the element it illustrates is used for it (``ch3-opener.jpg``,
``ch5-figure1.png``); ``[images]`` in source/book.toml may name others explicitly. Every
image is checked (readable, a supported type, not a decompression bomb) before a renderer
sees it; a named image that is missing or broken stops the render with the file named.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from lxml import etree

from ..config import BookConfig
from ..docbook import NS, get_id
from ..errors import InputError, LimitError, RenderError
from ..safety import read_input_bytes

SUPPORTED = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}


def image_targets(root: etree._Element) -> list[str]:
    """Ids of everything that may carry an image: chapter openers and figures."""
    targets = [f"{get_id(chapter)}-opener" for chapter in root.xpath("db:chapter", namespaces=NS)]
    targets += [figure_id for figure in root.xpath("//db:figure", namespaces=NS) if (figure_id := get_id(figure))]
    return targets


def check_image(path: Path, config: BookConfig) -> tuple[int, int]:
    """Width and height of an image, refusing what is not safe or not supported."""
    from PIL import Image
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise RenderError(f"unsupported image type {suffix or '(none)'}", path,
                          hint=f"supply {', '.join(sorted(SUPPORTED))}")
    data = read_input_bytes(path, config.limits, what="image")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > config.limits.max_image_pixels:
                    raise LimitError(f"image is {width}×{height} pixels, over the limit of "
                                     f"{config.limits.max_image_pixels:,}", path,
                                     hint="scale it down, or raise [limits] max_image_pixels")
                image.verify()
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
            raise LimitError(f"image is too large to decode safely ({error})", path)
        except (OSError, SyntaxError, ValueError) as error:
            raise InputError(f"image cannot be read ({error})", path, hint="export it again as PNG or JPEG")
    return width, height


def find_images(root: etree._Element, config: BookConfig) -> dict[str, Path]:
    """Element id → image file, for the images the publisher supplied."""
    directory = config.source_dir / "images"
    found: dict[str, Path] = {}
    for identifier, relative in config.images.items():
        path = (config.source_dir / relative).resolve()
        if not path.is_relative_to(config.source_dir.resolve()):
            raise RenderError(f"image for {identifier} is outside source/", path)
        if not path.is_file():
            raise RenderError(f"the image named for {identifier} is missing", path,
                              hint="put the file there, or remove the line from [images] in source/book.toml")
        found[identifier] = path
    if directory.is_dir():
        for target in image_targets(root):
            if target in found:
                continue
            for suffix in SUPPORTED:
                candidate = directory / f"{target}{suffix}"
                if candidate.is_file():
                    found[target] = candidate
                    break
    for path in found.values():
        check_image(path, config)
    return found
