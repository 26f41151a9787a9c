"""Fonts for the EPUB editions: the installed face behind a family name, cut down to the glyphs used.

A whole CJK font is 20 MB; the Japanese edition uses a few hundred characters. HarfBuzz's
subsetter (the library WeasyPrint already loads; fontTools when it cannot be loaded) keeps those
glyphs, plus the OpenType layout features that shape them (Khmer sub-consonants and vowel signs
need theirs), every name record (copyright, licence), and nothing else. HarfBuzz cuts a CJK face
in under 10 ms where fontTools takes half a second. The output is the same bytes
for the same font and characters (the font's own timestamp is kept, never "now"), and is kept
in ``output/.cache/fonts`` with its SHA-256 beside it, so an unchanged edition does not subset
again, and a damaged or substituted file there never reaches an EPUB.
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
from ..safety import atomic_write, read_regular_file
from .harfbuzz import face_bytes, harfbuzz

SUBSET_VERSION = "3"


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
                           capture_output=True, text=True, timeout=60, check=False).stdout
    path, index, families = (found.split("\t") + ["", "", ""])[:3]
    if family not in [name.strip() for name in families.split(",")] or not Path(path).is_file():
        raise EnvironmentProblem(f"the font '{family}' is not installed (fontconfig offers '{families}')",
                                 hint="install it (scripts/setup names the packages), or name another in [fonts]")
    return FontFace(family, Path(path), int(index or 0))


def _cache_key(face: FontFace, wanted: str) -> str:
    stat = face.path.stat()
    return hashlib.sha256("\0".join([SUBSET_VERSION, str(face.path), str(stat.st_size), str(stat.st_mtime_ns),
                                      str(face.index), wanted]).encode("utf-8")).hexdigest()


def _embedded(face: FontFace, data: bytes) -> EmbeddedFont:
    cff = data[:4] == b"OTTO"
    return EmbeddedFont(face.family, data, "otf" if cff else "ttf", "font/otf" if cff else "font/ttf")


def subset_fonts(faces: list[FontFace], characters: str, cache_dir: Path | None = None) -> list[EmbeddedFont]:
    """Each of ``faces`` with only the glyphs for ``characters`` (and what shaping them needs).

    Subsets are cached by font file and character set: an unchanged edition does not subset again.
    (Making the missing ones in worker processes was tried: forking a process that holds the print
    layouts cost more than the third of a second a CJK face takes.)
    """
    wanted = "".join(sorted(set(characters)))
    keys = [_cache_key(face, wanted) for face in faces]
    found: dict[int, bytes] = {}
    for number, key in enumerate(keys):
        cached = _cached_subset(cache_dir, key) if cache_dir is not None else None
        if cached is not None:
            found[number] = cached
    missing = [number for number in range(len(faces)) if number not in found]
    made = [_subset(faces[number], wanted) for number in missing]
    for number, data in zip(missing, made):
        found[number] = data
        if cache_dir is not None:  # the hash first: a subset without its hash is never used
            atomic_write(cache_dir / f"{keys[number]}.sha256", _subset_digest(keys[number], data) + "\n")
            atomic_write(cache_dir / f"{keys[number]}.font", data)
    return [_embedded(face, found[number]) for number, face in enumerate(faces)]


def _cached_subset(cache_dir: Path, key: str) -> bytes | None:
    """A subset made earlier, if it is still the bytes that were made: a truncated, overwritten, swapped or linked
    file (a link could put any file of the machine into the EPUB) does not match the hash recorded beside it, or
    is not read at all, and the subset is made again."""
    try:
        data = read_regular_file(cache_dir / f"{key}.font")
        recorded = read_regular_file(cache_dir / f"{key}.sha256").decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return data if _subset_digest(key, data) == recorded and _looks_like_font(data) else None


def _subset_digest(key: str, data: bytes) -> str:
    """The hash recorded beside a subset, over its key too: a pair of files swapped with another pair fails."""
    return hashlib.sha256(key.encode("ascii") + b"\0" + data).hexdigest()


def _looks_like_font(data: bytes) -> bool:
    """An sfnt font's first four bytes: TrueType outlines, CFF outlines ("OTTO") or Apple's "true"."""
    return data[:4] in (b"\x00\x01\x00\x00", b"OTTO", b"true")


def _subset(face: FontFace, characters: str) -> bytes:
    try:
        return _harfbuzz_subset(face, characters)
    except OSError:  # libharfbuzz-subset not loadable: the slower pure-Python subsetter
        return _fonttools_subset(face, characters)


_SETS_UNICODE, _SETS_NAME_ID = 1, 4  # hb_subset_sets_t
_FLAGS_NO_HINTING, _FLAGS_NOTDEF_OUTLINE = 0x01, 0x40  # hb_subset_flags_t


def _harfbuzz_subset(face: FontFace, characters: str) -> bytes:
    ffi, hb, hb_subset = harfbuzz()
    blob = hb.hb_blob_create_from_file_or_fail(str(face.path).encode())
    if blob == ffi.NULL:
        raise EnvironmentProblem(f"cannot read the font file {face.path}", face.path)
    source = hb.hb_face_create(blob, face.index)
    request = hb_subset.hb_subset_input_create_or_fail()
    try:
        codepoints = hb_subset.hb_subset_input_set(request, _SETS_UNICODE)
        for char in characters:
            hb.hb_set_add(codepoints, ord(char))
        hb.hb_set_add_range(hb_subset.hb_subset_input_set(request, _SETS_NAME_ID), 0, 0xFFFF)  # every name record
        hb_subset.hb_subset_input_set_flags(request, _FLAGS_NO_HINTING | _FLAGS_NOTDEF_OUTLINE)
        result = hb_subset.hb_subset_or_fail(source, request)
        if result == ffi.NULL:
            raise EnvironmentProblem(f"HarfBuzz could not subset {face.path}", face.path)
        data = face_bytes(result)
        hb.hb_face_destroy(result)
        return data
    finally:
        hb_subset.hb_subset_input_destroy(request)
        hb.hb_face_destroy(source)
        hb.hb_blob_destroy(blob)


def _fonttools_subset(face: FontFace, characters: str) -> bytes:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    logging.getLogger("fontTools").setLevel(logging.ERROR)  # "TSI5 NOT subset; dropped" is expected, not news
    # recalcBBoxes=False: the font-wide box stays the whole font's (harmless), and a CJK face subsets in
    # two thirds of the time, since the subset's outlines need not be measured again
    font = TTFont(str(face.path), fontNumber=face.index, lazy=True, recalcTimestamp=False, recalcBBoxes=False)
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
