"""One embedded font program per face in a PDF stitched from parts (issue 15).

Each part WeasyPrint writes embeds its own subset of every face it draws, so a stitched edition carries
the Noto CJK faces eight times over. WeasyPrint subsets with HarfBuzz *keeping the glyph ids* of the
installed font (the glyphs it leaves out are emptied, not renumbered, and the PDF's CIDs are those ids:
``CIDToGIDMap /Identity``), so every part's subset of a face lives in the same glyph-id space. The
stitched book can therefore share one program per face: the installed font subset once to the glyphs all
the parts drew, with the very calls WeasyPrint makes. Nothing in the pages' content streams changes.

Nothing is trusted blindly. The installed file behind the subsets is found by the PostScript name they
carry (fontconfig lists every installed face with its own) and accepted only if cutting it to one part's
glyphs gives back that part's program byte for byte (the parts were laid out by the same WeasyPrint,
Pango and font files: their cache key holds them). A face that does not (a font loaded from a file
fontconfig does not list, a variable or colour font WeasyPrint rewrites after cutting, another
WeasyPrint's recipe, no HarfBuzz subsetter) keeps its subsets, only byte-identical ones shared. The font
dictionaries of one face (``BaseFont``) become one where each glyph they share is drawn with the same
advance (``/W``: WeasyPrint positions every glyph against it); dictionaries that disagree stay apart and
share the program. A glyph two parts read as different text keeps the first part's, as in the single
pass. The result depends only on the parts and the installed fonts (the cuts kept in the font cache
are those same bytes), so the same parts stitch into the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pikepdf

from ..safety import atomic_write, read_regular_file
from .harfbuzz import face_bytes, harfbuzz

_FONT_FILE_KEYS = ("/FontFile2", "/FontFile3")


@dataclass
class FontMergeReport:
    """What the merge did: font dictionaries and programs before and after, and the faces left alone."""

    dictionaries_before: int = 0
    dictionaries_after: int = 0
    programs_before: int = 0
    programs_after: int = 0
    program_bytes_before: int = 0
    program_bytes_after: int = 0
    unmerged: list[str] = field(default_factory=list)  # BaseFonts whose programs could not be re-subset
    texts_overruled: int = 0  # glyphs a later part read as other text than an earlier one (Khmer)


@dataclass(frozen=True)
class _Source:
    """An installed face: its file and its index in a collection (.ttc)."""

    path: Path
    index: int


@dataclass
class _Font:
    """One Type 0 font dictionary of the stitched book, read."""

    font: pikepdf.Dictionary  # the Type 0 dictionary
    base_font: str
    descendant: pikepdf.Dictionary
    descriptor: pikepdf.Dictionary
    file_key: str  # /FontFile2 (TrueType outlines) or /FontFile3 (CFF, /OpenType)
    program: bytes
    widths: dict[int, float]
    text: dict[int, str]  # glyph id -> the text ToUnicode maps it to
    source: _Source | None = None  # the installed face it was cut from, once that is checked


# --------------------------------------------------------------------------- reading the fonts


def _resources_in(book: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    """Every resource dictionary a page or a form drawn on it (the folio layer, say) uses, once."""
    seen: set[tuple[int, int]] = set()
    stack: list[pikepdf.Object] = [page.obj for page in book.pages]
    while stack:
        holder = stack.pop(0)
        resources = holder.get("/Resources")
        if not isinstance(resources, pikepdf.Dictionary):
            continue
        if resources.is_indirect:
            if resources.objgen in seen:
                continue
            seen.add(resources.objgen)
        yield resources
        for xobject in resources.get("/XObject", {}).values():
            if isinstance(xobject, pikepdf.Stream) and xobject.get("/Subtype") == "/Form" and (
                    xobject.objgen not in seen):
                seen.add(xobject.objgen)
                stack.append(xobject)


def _parse_widths(array: pikepdf.Array) -> dict[int, float]:
    """A CIDFont's /W: ``first [w1 w2 ...]`` runs and ``first last w`` ranges."""
    widths: dict[int, float] = {}
    items = list(array)
    index = 0
    while index < len(items):
        first = int(items[index])
        following = items[index + 1]
        if isinstance(following, pikepdf.Array):
            for offset, width in enumerate(following):
                widths[first + offset] = float(width)
            index += 2
        else:
            for cid in range(first, int(following) + 1):
                widths[cid] = float(items[index + 2])
            index += 3
    return widths


_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_HEX = re.compile(rb"<([0-9A-Fa-f]*)>")


def _utf16(hex_digits: bytes) -> str:
    return bytes.fromhex(hex_digits.decode("ascii")).decode("utf-16-be", errors="surrogatepass")


def _parse_to_unicode(data: bytes) -> dict[int, str] | None:
    """A ToUnicode CMap's glyph-to-text map (bfchar and bfrange with a start code); None if it has a form
    this does not read (an array of destinations), so the font is left as it is."""
    text: dict[int, str] = {}
    for block in _BFCHAR.findall(data):
        values = _HEX.findall(block)
        for code, target in zip(values[0::2], values[1::2]):
            text[int(code, 16)] = _utf16(target)
    for block in _BFRANGE.findall(data):
        if b"[" in block:
            return None
        values = _HEX.findall(block)
        for low, high, start in zip(values[0::3], values[1::3], values[2::3]):
            first = _utf16(start)
            for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                text[code] = first[:-1] + chr(ord(first[-1]) + offset)
    return text


def _read_font(font: pikepdf.Object) -> _Font | None:
    """The font if it is what WeasyPrint writes for a vector face (Type 0, Identity-H, one CIDFont with
    identity CID-to-glyph map and an embedded program), else None: left as it is."""
    if not isinstance(font, pikepdf.Dictionary) or font.get("/Subtype") != "/Type0":
        return None
    if font.get("/Encoding") != "/Identity-H" or "/ToUnicode" not in font:
        return None  # WeasyPrint's own CMap: glyphs a face lacked, numbered per part
    descendants = font.get("/DescendantFonts")
    if not isinstance(descendants, pikepdf.Array) or len(descendants) != 1:
        return None
    descendant = descendants[0]
    if not isinstance(descendant, pikepdf.Dictionary) or descendant.get("/CIDToGIDMap", "/Identity") != "/Identity":
        return None
    descriptor = descendant.get("/FontDescriptor")
    if not isinstance(descriptor, pikepdf.Dictionary) or "/CIDSet" in descriptor:
        return None
    file_key = next((key for key in _FONT_FILE_KEYS if key in descriptor), None)
    widths, to_unicode = descendant.get("/W"), font.get("/ToUnicode")
    if (file_key is None or not isinstance(widths, pikepdf.Array) or not isinstance(to_unicode, pikepdf.Stream)
            or not isinstance(descriptor[file_key], pikepdf.Stream) or "/BaseFont" not in font):
        return None
    try:
        text = _parse_to_unicode(to_unicode.read_bytes())
        parsed_widths = _parse_widths(widths)
        program = descriptor[file_key].read_bytes()
    except (ValueError, TypeError, IndexError, pikepdf.PdfError):  # not as WeasyPrint writes it: left alone
        return None
    if text is None:
        return None
    return _Font(font, str(font.BaseFont), descendant, descriptor, file_key, program, parsed_widths, text)


# --------------------------------------------------------------------------- the installed faces


@lru_cache(maxsize=1)
def _installed_by_postscript_name() -> dict[str, tuple[_Source, ...]]:
    """Every installed face by its PostScript name (fontconfig's list, read once per process)."""
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return {}
    listing = subprocess.run([fc_list, "-f", "%{postscriptname}\t%{file}\t%{index}\n"], capture_output=True,
                             text=True, timeout=60, check=False).stdout
    faces: dict[str, list[_Source]] = {}
    for line in listing.splitlines():
        name, path, index = (line.split("\t") + ["", "", ""])[:3]
        if name and path and index.isdigit():
            faces.setdefault(name, []).append(_Source(Path(path), int(index)))
    return {name: tuple(sorted(set(found), key=lambda source: (str(source.path), source.index)))
            for name, found in faces.items()}


def _sfnt_tables(program: bytes, wanted: tuple[bytes, ...] = (b"name", b"maxp")) -> dict[bytes, bytes]:
    """The ``wanted`` tables of an sfnt font by tag (found in its table directory, not parsed)."""
    if len(program) < 12:
        return {}
    count = struct.unpack_from(">H", program, 4)[0]
    tables = {}
    for number in range(count):
        entry = 12 + 16 * number
        if entry + 16 > len(program):
            break
        tag, _, offset, length = struct.unpack_from(">4sIII", program, entry)
        if tag in wanted:
            tables[tag] = program[offset:offset + length]
    return tables


def _postscript_name(tables: dict[bytes, bytes]) -> str | None:
    """The font's PostScript name (name record 6, Windows Unicode or Macintosh Roman), what fontconfig
    lists each installed face by."""
    table = tables.get(b"name", b"")
    if len(table) < 6:
        return None
    count, strings = struct.unpack_from(">HH", table, 2)
    for number in range(count):
        if 6 + 12 * (number + 1) > len(table):
            break
        platform, encoding, _, name_id, length, offset = struct.unpack_from(">6H", table, 6 + 12 * number)
        if name_id != 6:
            continue
        raw = table[strings + offset:strings + offset + length]
        if platform == 3 and encoding in (0, 1):
            return raw.decode("utf-16-be", errors="replace")
        if platform == 1 and encoding == 0:
            return raw.decode("mac-roman", errors="replace")
    return None


def _glyph_count(tables: dict[bytes, bytes]) -> int | None:
    maxp = tables.get(b"maxp", b"")
    return struct.unpack_from(">H", maxp, 4)[0] if len(maxp) >= 6 else None


_NO_HINTING, _RETAIN_GIDS, _DESUBROUTINIZE, _PASSTHROUGH_UNRECOGNIZED = 0x01, 0x02, 0x04, 0x20  # hb_subset_flags_t
_SETS_DROP_TABLE_TAG = 3  # hb_subset_sets_t
# the tables WeasyPrint drops from an embedded font (a PDF viewer needs no shaping or bitmaps)
_DROPPED_TABLES = (b"BASE", b"DSIG", b"EBDT", b"EBLC", b"EBSC", b"GPOS", b"GSUB", b"JSTF", b"LTSH", b"PCLT",
                   b"SVG ")


def _subset_pass(face, glyphs: list[int] | range, flags: int):
    """One hb_subset_or_fail call: ``face`` cut to the glyph ids ``glyphs`` (a new face, or NULL)."""
    ffi, hb, hb_subset = harfbuzz()
    request = hb_subset.hb_subset_input_create_or_fail()
    try:
        glyph_set = hb_subset.hb_subset_input_glyph_set(request)
        if isinstance(glyphs, range):
            hb.hb_set_add_range(glyph_set, glyphs.start, glyphs.stop - 1)
        else:
            for glyph in glyphs:
                hb.hb_set_add(glyph_set, glyph)
        drop = hb_subset.hb_subset_input_set(request, _SETS_DROP_TABLE_TAG)
        for tag in _DROPPED_TABLES:
            hb.hb_set_add(drop, hb.hb_tag_from_string(tag, -1))
        hb_subset.hb_subset_input_set_flags(request, flags)
        return hb_subset.hb_subset_or_fail(face, request)
    finally:
        hb_subset.hb_subset_input_destroy(request)


class _Faces:
    """The installed faces opened once for a merge (HarfBuzz keeps what it parsed of a face with it, so
    cutting the same face again costs a third of the first time), closed at the end."""

    def __init__(self) -> None:
        self.opened: dict[_Source, tuple] = {}

    def face(self, source: _Source):
        if source not in self.opened:
            ffi, hb, _ = harfbuzz()
            blob = hb.hb_blob_create_from_file_or_fail(str(source.path).encode())
            self.opened[source] = (blob, hb.hb_face_create(blob, source.index) if blob != ffi.NULL else ffi.NULL)
        return self.opened[source][1]

    def close(self) -> None:
        ffi, hb, _ = harfbuzz()
        for blob, face in self.opened.values():
            if face != ffi.NULL:
                hb.hb_face_destroy(face)
            if blob != ffi.NULL:
                hb.hb_blob_destroy(blob)
        self.opened.clear()


def weasyprint_subset(faces: _Faces, source: _Source, glyphs: set[int]) -> bytes | None:
    """The face cut to ``glyphs`` as WeasyPrint 70 embeds it (``pdf/fonts.py``, ``Font._harfbuzz_subset``):
    the glyphs kept at their ids, then the empty ones after the last dropped, no hinting, no layout
    tables. None if HarfBuzz cannot do it."""
    ffi, hb, _ = harfbuzz()
    face = faces.face(source)
    if not glyphs or face == ffi.NULL:
        return None
    kept = renumbered = ffi.NULL
    try:
        kept = _subset_pass(face, sorted(glyphs), _RETAIN_GIDS | _PASSTHROUGH_UNRECOGNIZED | _DESUBROUTINIZE)
        if kept == ffi.NULL:
            return None
        renumbered = _subset_pass(kept, range(max(glyphs) + 1),
                                  _PASSTHROUGH_UNRECOGNIZED | _DESUBROUTINIZE | _NO_HINTING)
        if renumbered == ffi.NULL:
            return None
        return face_bytes(renumbered) or None
    finally:
        for made in (renumbered, kept):
            if made != ffi.NULL:
                hb.hb_face_destroy(made)


MERGE_VERSION = "1"  # part of every cache key: a change to the recipe above makes every cached cut stale
_KEPT_PER_FACE = 6  # cuts of one installed face kept in the cache (three editions, each with a previous set)


class _Cuts:
    """Cuts of the installed faces remembered between builds in ``output/.cache/fonts/stitched`` (beside the
    EPUB's subsets): a CJK face takes 30-60 ms to cut with its glyph ids kept, twice per face, and an edit seldom
    changes the glyphs a face draws. A cut is stored with the SHA-256 of its key and bytes beside it (a
    damaged or swapped file is cut again, never embedded); a check only as the digest of the cut. The
    oldest cuts of a face are forgotten past a few, so editing does not grow the cache."""

    def __init__(self, faces: _Faces, folder: Path | None) -> None:
        self.faces = faces
        self.folder = folder

    @staticmethod
    def _key(source: _Source, glyphs: set[int]) -> tuple[str, str]:
        stat = source.path.stat()
        face = hashlib.sha256(f"{MERGE_VERSION}\0{source.path}\0{source.index}\0{stat.st_size}\0"
                              f"{stat.st_mtime_ns}".encode()).hexdigest()[:24]
        return face, hashlib.sha256(",".join(map(str, sorted(glyphs))).encode()).hexdigest()[:32]

    def _path(self, face: str, cut: str, suffix: str) -> Path:
        assert self.folder is not None
        return self.folder / f"{face}-{cut}{suffix}"

    def matches(self, source: _Source, glyphs: set[int], program: bytes) -> bool:
        """Does cutting ``source`` to ``glyphs`` give back ``program``? (Remembered once it did.)"""
        digest = hashlib.sha256(program).hexdigest()
        face, cut = self._key(source, glyphs)
        if self.folder is not None:
            try:
                if read_regular_file(self._path(face, cut, ".check")).decode("ascii").strip() == digest:
                    return True
            except (OSError, UnicodeDecodeError):
                pass
        if weasyprint_subset(self.faces, source, glyphs) != program:
            return False
        if self.folder is not None:
            atomic_write(self._path(face, cut, ".check"), digest + "\n")
        return True

    def cut(self, source: _Source, glyphs: set[int]) -> bytes | None:
        """``source`` cut to ``glyphs``, from the cache or made (and kept)."""
        face, cut = self._key(source, glyphs)
        if self.folder is None:
            return weasyprint_subset(self.faces, source, glyphs)
        program_path, digest_path = self._path(face, cut, ".font"), self._path(face, cut, ".sha256")
        try:
            program = read_regular_file(program_path)
            recorded = read_regular_file(digest_path).decode("ascii").strip()
            if recorded == hashlib.sha256(f"{face}-{cut}".encode() + b"\0" + program).hexdigest():
                os.utime(program_path)  # recently used: kept when the face's older cuts are forgotten
                return program
        except (OSError, UnicodeDecodeError):
            pass
        made = weasyprint_subset(self.faces, source, glyphs)
        if made is not None:  # the hash first: a cut without its hash is never used
            atomic_write(digest_path, hashlib.sha256(f"{face}-{cut}".encode() + b"\0" + made).hexdigest() + "\n")
            atomic_write(program_path, made)
            self._forget_old(face)
        return made

    def _forget_old(self, face: str) -> None:
        assert self.folder is not None
        cuts = sorted(self.folder.glob(f"{face}-*.font"), key=lambda path: path.stat().st_mtime_ns,
                      reverse=True)
        checks = sorted(self.folder.glob(f"{face}-*.check"), key=lambda path: path.stat().st_mtime_ns,
                        reverse=True)
        for path in cuts[_KEPT_PER_FACE:]:
            path.unlink(missing_ok=True)
            path.with_suffix(".sha256").unlink(missing_ok=True)
        for path in checks[8 * _KEPT_PER_FACE:]:
            path.unlink(missing_ok=True)


def _check_sources(cuts: _Cuts, fonts: list[_Font]) -> None:
    """Each font's installed face, set where it is certain: the installed faces bearing its PostScript name
    are cut to one font's glyphs (its smallest, the cheapest to cut) until one gives back that program
    byte for byte. The parts were laid out by the same WeasyPrint, Pango and font files (their cache key
    holds those versions and files), so the other programs of that name were cut from the same face the
    same way; each must still hold every glyph id up to its last, as that recipe leaves them (and perhaps
    more: HarfBuzz adds the glyphs the drawn ones' substitutions lead to)."""
    by_name: dict[str, list[_Font]] = {}
    for font in fonts:
        tables = _sfnt_tables(font.program)
        name = _postscript_name(tables)
        if name and (_glyph_count(tables) or 0) >= max(font.text, default=-1) + 1 > 0:
            by_name.setdefault(name, []).append(font)
    for name, named in by_name.items():
        probe = min(named, key=lambda font: (max(font.text), len(font.text)))
        for source in _installed_by_postscript_name().get(name, ()):
            try:
                if cuts.matches(source, set(probe.text), probe.program):
                    for font in named:
                        font.source = source
                    break
            except OSError:  # libharfbuzz-subset cannot be loaded: the subsets stay as they are
                return


# --------------------------------------------------------------------------- writing the merged fonts


def _program_stream(book: pikepdf.Pdf, program: bytes, file_key: str) -> pikepdf.Stream:
    """An embedded font program as WeasyPrint writes it (Flate; the length of a TrueType program, or the
    /OpenType subtype of a CFF one)."""
    stream = pikepdf.Stream(book, zlib.compress(program))
    stream.Filter = pikepdf.Name.FlateDecode
    if file_key == "/FontFile3":
        stream.Subtype = pikepdf.Name.OpenType
    else:
        stream.Length1 = len(program)
    return book.make_indirect(stream)


def _to_unicode_stream(book: pikepdf.Pdf, text: dict[int, str]) -> pikepdf.Stream:
    """A ToUnicode CMap of ``text`` in WeasyPrint's form (bfchar entries, a hundred a block)."""
    lines = [b"/CIDInit /ProcSet findresource begin", b"12 dict begin", b"begincmap", b"/CIDSystemInfo",
             b"<< /Registry (Adobe)", b"/Ordering (UCS)", b"/Supplement 0", b">> def",
             b"/CMapName /Adobe-Identity-UCS def", b"/CMapType 2 def", b"1 begincodespacerange",
             b"<0000> <ffff>", b"endcodespacerange"]
    items = sorted(text.items())
    for start in range(0, len(items), 100):
        batch = items[start:start + 100]
        lines.append(f"{len(batch)} beginbfchar".encode())
        lines += [f"<{glyph:04x}> <{value.encode('utf-16-be', errors='surrogatepass').hex()}>".encode()
                  for glyph, value in batch]
        lines.append(b"endbfchar")
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    stream = pikepdf.Stream(book, zlib.compress(b"\n".join(lines)))
    stream.Filter = pikepdf.Name.FlateDecode
    return book.make_indirect(stream)


def _widths_array(widths: dict[int, float]) -> pikepdf.Array:
    """/W as WeasyPrint writes it: one ``first [w ...]`` run per stretch of consecutive glyph ids."""
    array: list = []
    previous = None
    for glyph in sorted(widths):
        if previous is None or glyph != previous + 1:
            array += [glyph, []]
        array[-1].append(_number(widths[glyph]))
        previous = glyph
    return pikepdf.Array([pikepdf.Array(item) if isinstance(item, list) else item for item in array])


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _merge_dictionaries(book: pikepdf.Pdf, group: list[_Font]) -> int:
    """The group's first dictionary made to serve them all: the widths and text of every glyph they drew.

    A glyph one part read as other text than an earlier part keeps the earlier text, as the single pass
    does (WeasyPrint maps a glyph to the text it first drew it for). That happens in Khmer only, where one
    glyph stands in several clusters; each line of Khmer carries its real text as /ActualText, which is
    what extraction and screen readers use there. Returns how many glyphs had a text overruled."""
    kept = group[0]
    widths: dict[int, float] = {}
    text: dict[int, str] = {}
    overruled = 0
    for font in group:
        widths.update(font.widths)
        for glyph, value in font.text.items():
            overruled += text.setdefault(glyph, value) != value
    kept.descendant.W = _widths_array(widths)
    kept.font.ToUnicode = _to_unicode_stream(book, text)
    bbox = [float(value) for value in kept.descriptor.FontBBox]
    kept.descriptor.FontBBox = pikepdf.Array([_number(value) for value in
                                              (bbox[0], bbox[1], max(widths.values(), default=0), bbox[3])])
    fixed_pitch = len(widths) > 1 and len(set(widths.values())) == 1
    kept.descriptor.Flags = (int(kept.descriptor.Flags) & ~1) | int(fixed_pitch)
    kept.widths, kept.text = widths, text
    return overruled


# --------------------------------------------------------------------------- the merge


def merge_fonts(book: pikepdf.Pdf, cache: Path | None = None) -> FontMergeReport:
    """Share one embedded program per installed face, and one font dictionary per face where the parts'
    dictionaries agree; every page's resources pointed at what is kept. ``cache``: a folder where the
    faces' cuts are kept between builds (none: cut every time)."""
    report = FontMergeReport()
    resources = list(_resources_in(book))
    fonts = _fonts_in(resources)
    report.dictionaries_before = len(fonts)
    programs = {font.descriptor[font.file_key].objgen: font.program for font in fonts}
    report.programs_before = len(programs)
    report.program_bytes_before = sum(len(program) for program in programs.values())
    faces = _Faces()
    cuts = _Cuts(faces, cache)
    try:
        _check_sources(cuts, fonts)
        report.unmerged = sorted({font.base_font for font in fonts if font.source is None})
        kept, report.texts_overruled = _merge_dictionaries_per_face(book, resources, fonts)
        report.dictionaries_after = len(kept)
        streams = _share_programs(book, cuts, kept)
    finally:
        faces.close()
    report.programs_after = len(streams)
    report.program_bytes_after = sum(streams.values())
    return report


def _fonts_in(resources: list[pikepdf.Dictionary]) -> list[_Font]:
    """The Type 0 fonts the resources name, each once, in the order the pages use them."""
    fonts: dict[tuple[int, int], _Font | None] = {}
    for resource in resources:
        for value in resource.get("/Font", {}).values():
            if isinstance(value, pikepdf.Dictionary) and value.is_indirect and value.objgen not in fonts:
                fonts[value.objgen] = _read_font(value)
    return [font for font in fonts.values() if font is not None]


def _can_share(group: list[_Font], candidate: _Font) -> bool:
    """One dictionary can serve the candidate and the group: each glyph they share is drawn with the same
    advance (WeasyPrint positions every glyph against its /W width), and one program can hold all their
    glyphs (the installed face they were all cut from, or, for a face that cannot be cut again, the very
    same bytes). Their texts may differ: see ``_merge_dictionaries``."""
    for font in group:
        if font.source != candidate.source or (font.source is None and font.program != candidate.program):
            return False
        if any(candidate.widths[glyph] != font.widths[glyph] for glyph in candidate.widths.keys() & font.widths.keys()):
            return False
    return True


def _merge_dictionaries_per_face(book: pikepdf.Pdf, resources: list[pikepdf.Dictionary],
                                 fonts: list[_Font]) -> tuple[list[_Font], int]:
    """The font dictionaries of each face (BaseFont) that can be one made one, the pages' resources
    pointed at it; returns the dictionaries kept and how many glyphs' texts were overruled."""
    by_face: dict[str, list[_Font]] = {}
    for font in fonts:
        by_face.setdefault(font.base_font, []).append(font)
    replacement: dict[tuple[int, int], pikepdf.Dictionary] = {}
    kept: list[_Font] = []
    overruled = 0
    for group in by_face.values():
        clusters: list[list[_Font]] = []
        for font in group:
            home = next((cluster for cluster in clusters if _can_share(cluster, font)), None)
            if home is None:
                clusters.append([font])
            else:
                home.append(font)
        for cluster in clusters:
            if len(cluster) > 1:
                overruled += _merge_dictionaries(book, cluster)
            kept.append(cluster[0])
            for font in cluster[1:]:
                replacement[font.font.objgen] = cluster[0].font
    for resource in resources:
        table = resource.get("/Font")
        if not isinstance(table, pikepdf.Dictionary):
            continue
        for name, value in list(table.items()):
            if isinstance(value, pikepdf.Dictionary) and value.objgen in replacement:
                table[name] = replacement[value.objgen]
    return kept, overruled


def _share_programs(book: pikepdf.Pdf, cuts: _Cuts, kept: list[_Font]) -> dict[tuple[int, int], int]:
    """One program per installed face: every kept dictionary's descriptor pointed at the face cut to the
    glyphs all of them draw (a face that cannot be cut again: one copy of each distinct program).
    Returns the programs left, with their sizes."""
    by_source: dict[_Source, list[_Font]] = {}
    identical: dict[bytes, pikepdf.Object] = {}
    streams: dict[tuple[int, int], int] = {}
    for font in kept:
        if font.source is not None:
            by_source.setdefault(font.source, []).append(font)
            continue
        stream = identical.setdefault(hashlib.sha256(font.program).digest(), font.descriptor[font.file_key])
        font.descriptor[font.file_key] = stream
        streams[stream.objgen] = len(font.program)
    for source, group in by_source.items():
        try:
            program = cuts.cut(source, set().union(*(font.text for font in group)))
        except OSError:  # the face's file went away since it was checked: its subsets stay as they are
            program = None
        for file_key in sorted({font.file_key for font in group}):
            sharing = [font for font in group if font.file_key == file_key]
            if program is None:  # cannot happen for a face that was cut again to check it; kept as it was
                streams.update((font.descriptor[file_key].objgen, len(font.program)) for font in sharing)
                continue
            stream = _program_stream(book, program, file_key)
            for font in sharing:
                font.descriptor[file_key] = stream
            streams[stream.objgen] = len(program)
    return streams
