"""Fonts for the EPUB editions: the installed face behind a family name, cut down to the glyphs used.

A whole CJK font is 20 MB; the Japanese edition uses a few hundred characters. The fontTools
subsetter keeps those glyphs, plus the OpenType layout features that shape them (Khmer
sub-consonants and vowel signs need theirs), and nothing else. The output is the same bytes
for the same font and characters (the font's own timestamp is kept, never "now"), and is kept
in ``output/.cache/fonts`` so an unchanged edition does not subset again.
"""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import EnvironmentProblem
from ..safety import atomic_write

SUBSET_VERSION = "1"


@dataclass(frozen=True)
class FontFace:
    family: str
    path: Path
    index: int  # the face inside a .ttc collection


@dataclass(frozen=True)
class EmbeddedFont:
    family: str
    data: bytes
    extension: str  # "otf" (CFF outlines) or "ttf"
    media_type: str

    @property
    def filename(self) -> str:
        return "fonts/" + "".join(char for char in self.family if char.isalnum()) + "." + self.extension


@lru_cache(maxsize=32)
def find_face(family: str) -> FontFace:
    """The installed regular face of ``family`` (fontconfig's choice, refused if it is a substitute)."""
    fc_match = shutil.which("fc-match")
    if not fc_match:
        raise EnvironmentProblem("fontconfig (fc-match) is not installed", hint="apt-get install fontconfig")
    found = subprocess.run([fc_match, "-f", "%{file}\t%{index}\t%{family}", f"{family}:style=Regular"],
                           capture_output=True, text=True, timeout=60).stdout
    path, index, families = (found.split("\t") + ["", "", ""])[:3]
    if family not in [name.strip() for name in families.split(",")] or not Path(path).is_file():
        raise EnvironmentProblem(f"the font '{family}' is not installed (fontconfig offers '{families}')",
                                 hint="install it (scripts/setup names the packages), or name another in [fonts]")
    return FontFace(family, Path(path), int(index or 0))


def subset_font(face: FontFace, characters: str, cache_dir: Path | None = None) -> EmbeddedFont:
    """``face`` with only the glyphs for ``characters`` (and what shaping them needs)."""
    wanted = "".join(sorted(set(characters)))
    stat = face.path.stat()
    key = hashlib.sha256("\0".join([SUBSET_VERSION, str(face.path), str(stat.st_size), str(stat.st_mtime_ns),
                                    str(face.index), wanted]).encode("utf-8")).hexdigest()
    cached = cache_dir / f"{key}.font" if cache_dir else None
    if cached is not None and cached.is_file():
        data = cached.read_bytes()
    else:
        data = _subset(face, wanted)
        if cached is not None:
            atomic_write(cached, data)
    cff = data[:4] == b"OTTO"
    return EmbeddedFont(face.family, data, "otf" if cff else "ttf", "font/otf" if cff else "font/ttf")


def _subset(face: FontFace, characters: str) -> bytes:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    logging.getLogger("fontTools").setLevel(logging.ERROR)  # "TSI5 NOT subset; dropped" is expected, not news
    font = TTFont(str(face.path), fontNumber=face.index, lazy=True, recalcTimestamp=False)
    options = subset.Options()
    options.hinting = False  # e-readers rasterize at screen sizes without the font's hints
    options.name_IDs = ["*"]  # keep the copyright and licence records
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()
