"""The PDF reader's text layer: runs of text with their position, font and size, grouped into lines.

This is the level below the block assembly in ``pdf.py``: it knows glyphs, baselines and page
furniture (running heads and folios), not paragraphs. Superscript note markers are small runs
raised above a line's baseline; running heads and folios are lines at the top or bottom of many
pages that repeat.
"""

from __future__ import annotations

import math
import re
import statistics
import zlib
from array import array
from collections import Counter
from dataclasses import dataclass, field

from .model import Dropped, Where


@dataclass
class Run:
    x: float
    y: float
    size: float
    font: str
    text: str
    width: float = 0.0
    superscript: bool = False
    # for a superscript: the end of the text it is set against ("E = mc" in mc², "of 10" in 10³,
    # "landscape." before a note marker); "" when a space or the line's start comes before it
    attached_to: str = ""

    @property
    def end(self) -> float:
        return self.x + self.width

    @property
    def exponent(self) -> bool:
        """A raised number that is a power, not a note marker: set against a number (10³), a lone
        letter (x²), a closing bracket, a unit (km², m³) or letters in a formula (E = mc²). A note
        marker follows a word of prose or punctuation ("landscape.¹", "in 2019,²")."""
        if not self.superscript or not self.attached_to or not re.fullmatch(r"[-−+]?\d{1,3}", self.text.strip()):
            return False
        word = self.attached_to.split()[-1] if self.attached_to.split() else ""
        if re.fullmatch(r"\d+(?:[.,]\d+)?|[A-Za-z]|.*\)|(?:mm|cm|dm|km|m|ft|in|s)", word):
            return True
        return bool(re.fullmatch(r"[A-Za-z]{1,3}", word)) and "=" in self.attached_to

    @property
    def bold(self) -> bool:
        return bool(re.search(r"bold|black|heavy|semibold", self.font, re.IGNORECASE))

    @property
    def italic(self) -> bool:
        return bool(re.search(r"italic|oblique", self.font, re.IGNORECASE))


@dataclass
class Line:
    page: int
    y: float
    runs: list[Run] = field(default_factory=list)
    columns: int = 1  # how many aligned cells the line's runs stand in
    column: int = 0  # on a page set in two columns: 1 left, 2 right; 0 across the page (or one column)

    @property
    def x(self) -> float:
        return min(run.x for run in self.runs if not run.superscript) if self.body_runs else self.runs[0].x

    @property
    def body_runs(self) -> list[Run]:
        return [run for run in self.runs if not run.superscript]

    @property
    def size(self) -> float:
        runs = self.body_runs or self.runs
        return max(runs, key=lambda run: len(run.text.strip())).size

    @property
    def bold(self) -> bool:
        runs = [run for run in self.body_runs if run.text.strip()]
        return bool(runs) and all(run.bold for run in runs)

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs).strip()

    @property
    def end(self) -> float:
        return max(run.end for run in self.runs)





_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str) -> str:
    return _XML_UNSAFE.sub("", text)


# --------------------------------------------------------------------------- fonts


_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\ufb05": "st", "\ufb06": "st"})


class _Font:
    """One PDF font as the text layer needs it: each character code's text and advance width.

    pypdf parses the font dictionary (encodings, /Differences, ToUnicode CMaps, /Widths and /W);
    the per-code tables are filled on first use, so a page costs one dictionary lookup per glyph.
    A ligature presentation form (U+FB00-FB06, what glyph names like "fi" map to) is spelt out.
    """

    def __init__(self, resource):
        from pypdf.generic._font import Font
        self.name = str(resource.get("/BaseFont", "") or "").lstrip("/").split("+")[-1]
        try:
            metrics = Font.from_font_resource(resource)
        except Exception:  # a font pypdf cannot parse: its codes read as Latin-1, widths estimated
            metrics = None
        self.encoding = metrics.encoding if metrics else {}
        self.character_map = metrics.character_map if metrics else {}
        self.widths = dict(metrics.character_widths) if metrics else {}
        self.default_width = float(self.widths.get("default", 500) or 500)
        # Type 3 glyphs are measured in their own FontMatrix, not in thousandths of the size
        scale = 0.001
        if resource.get("/Subtype") == "/Type3":
            try:
                scale = abs(float(resource["/FontMatrix"][0])) or 0.001
            except (KeyError, IndexError, TypeError, ValueError):
                pass
        self.scale = scale
        # "utf-16-be" is Identity-H and the UCS-2 CMaps: two-byte codes; another codec name is a
        # predefined CJK CMap, decoded whole; a dict is a simple font's one-byte encoding.
        self.two_byte = self.encoding == "utf-16-be"
        # two-byte codes with no ToUnicode map are glyph numbers: their "text" is a guess
        self.guessed = self.two_byte and not self.character_map
        self.codec = self.encoding if isinstance(self.encoding, str) and not self.two_byte else None
        self.text: dict[int, str] = {}
        self.advance: dict[int, float] = {}

    def codes(self, data: bytes) -> list[int]:
        if self.two_byte:
            if len(data) % 2:
                data += b"\0"
            codes = array("H", data)
            if _LITTLE_ENDIAN:
                codes.byteswap()
            return codes.tolist()
        if self.codec:
            try:
                return [ord(char) for char in data.decode(self.codec, "replace")]
            except LookupError:
                self.codec = None
        return list(data)

    def decode(self, codes: list[int]) -> tuple[str, float]:
        """The codes' text and their summed advance (in text space units per unit of size)."""
        text, advance = self.text, self.advance
        try:
            return "".join([text[code] for code in codes]), sum([advance[code] for code in codes])
        except KeyError:
            for code in codes:
                if code not in text:
                    self._learn(code)
            return "".join([text[code] for code in codes]), sum([advance[code] for code in codes])

    def _learn(self, code: int) -> None:
        char = chr(code)
        if isinstance(self.encoding, dict):
            char = self.encoding.get(code, char)
            if len(char) > 1 and char.startswith("/"):  # a glyph name with no Unicode meaning
                char = ""
        unicode = self.character_map.get(char, char)
        if not isinstance(unicode, str):
            unicode = ""
        self.text[code] = unicode.translate(_LIGATURES)
        key = chr(code) if isinstance(self.encoding, dict) or self.two_byte else char
        width = self.widths.get(key, self.default_width)
        try:
            self.advance[code] = float(width) * self.scale
        except (TypeError, ValueError):
            self.advance[code] = self.default_width * self.scale


_LITTLE_ENDIAN = array("H", b"\x01\x00")[0] == 1


class Fonts:
    """The fonts met so far, shared by all pages (a book's pages share their fonts)."""

    def __init__(self):
        self._fonts: dict = {}

    def get(self, resources, name: bytes) -> _Font | None:
        try:
            table = resources["/Font"]
            key = name.decode("latin-1")
            reference = table.raw_get(key) if hasattr(table, "raw_get") else table[key]
        except (KeyError, TypeError, AttributeError):
            return None
        identity = (reference.idnum, reference.generation) if hasattr(reference, "idnum") else id(reference)
        known = self._fonts.get(identity)
        if known is None:
            resource = reference.get_object()
            if not hasattr(resource, "get"):
                return None
            # the reference is kept with the font: a direct dictionary's id() stays its own
            known = self._fonts[identity] = (reference, _Font(resource))
        return known[1]


# --------------------------------------------------------------------------- content streams

_DELIMITED = rb"\((?:[^()\\]|\\.|\((?:[^()\\]|\\.)*\))*\)"
_TOKEN = re.compile(
    rb"[\x00\t\n\x0c\r ]+|%[^\r\n]*"  # 1 (no group): white space and comments
    rb"|(\[(?:[^\[\]()\\<>]|<[0-9A-Fa-f\s]*>|" + _DELIMITED + rb")*\])"  # 1: an array (TJ's)
    rb"|(" + _DELIMITED + rb")"  # 2: a literal string
    rb"|(<[0-9A-Fa-f\s]*>)"  # 3: a hex string
    rb"|(/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*)"  # 4: a name
    rb"|([+-]?(?:\d+\.?\d*|\.\d+))"  # 5: a number
    rb"|([A-Za-z'\"][A-Za-z0-9*'\"]*)"  # 6: an operator
    rb"|(<<|>>|[\[\]{}()<>])",  # 7: a dictionary or another delimiter, skipped
    re.DOTALL)
_ARRAY_ITEM = re.compile(rb"<([0-9A-Fa-f\s]*)>|(" + _DELIMITED + rb")|([+-]?(?:\d+\.?\d*|\.\d+))", re.DOTALL)
_INLINE_IMAGE = re.compile(rb"(?<![^\x00\t\n\x0c\r ])BI(?=[\x00\t\n\x0c\r /]).*?[\x00\t\n\x0c\r ]ID[\x00\t\n\x0c\r ]"
                           rb".*?[\x00\t\n\x0c\r ]EI(?=[\x00\t\n\x0c\r ]|$)", re.DOTALL)
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|\r\n|[\r\n]|.)", re.DOTALL)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"\r\n": b"", b"\r": b"", b"\n": b""}
_MAX_FORM_DEPTH = 12
_MAX_FORMS = 2000  # form XObjects drawn per page: a bound on crafted recursion


def _string_end(data: bytes, start: int) -> int:
    """Where the literal string opening at ``start`` ends (balanced parentheses, escapes skipped), or -1."""
    depth = 0
    index = start
    length = len(data)
    while index < length:
        char = data[index]
        if char == 0x5C:  # a backslash escapes the next byte
            index += 2
            continue
        if char == 0x28:
            depth += 1
        elif char == 0x29:
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return -1


def _literal(token: bytes) -> bytes:
    body = token[1:-1]
    if b"\\" not in body:
        return body
    return _ESCAPE.sub(lambda m: bytes([int(m[1], 8) & 0xFF]) if m[1][:1].isdigit() else _ESCAPES.get(m[1], m[1]),
                       body)


def _hex(token: bytes) -> bytes:
    return _hex_digits(token[1:-1])


def _hex_digits(digits: bytes) -> bytes:
    try:
        return bytes.fromhex(digits.decode("ascii"))
    except ValueError:  # white space other than blanks, or an odd count: the last digit is followed by 0
        digits = re.sub(rb"[^0-9A-Fa-f]", b"", digits)
        return bytes.fromhex((digits + b"0" if len(digits) % 2 else digits).decode("ascii"))


def _multiply(m: tuple, n: tuple) -> tuple:
    """The product of two PDF matrices (a b c d e f), m applied first."""
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


_IDENTITY: tuple[float, ...] = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass
class _TextState:
    font: _Font | None = None
    size: float = 0.0
    char_spacing: float = 0.0
    word_spacing: float = 0.0
    scaling: float = 1.0
    leading: float = 0.0
    rise: float = 0.0

    def copy(self) -> "_TextState":
        return _TextState(self.font, self.size, self.char_spacing, self.word_spacing, self.scaling, self.leading,
                          self.rise)


@dataclass
class _Replacement:
    """An open /ActualText span: its text, and the glyphs drawn inside it (x, y, size, font, text, width)."""

    text: str
    glyphs: list[tuple[float, float, float, str, str, float]] = field(default_factory=list)


def _actual_text(operands: list) -> str | None:
    """The /ActualText of a BDC's inline property list (``/Span <</ActualText <FEFF…>>> BDC``), or None."""
    for index, operand in enumerate(operands[:-1]):
        if operand == b"/ActualText":
            token = operands[index + 1]
            if not isinstance(token, bytes) or token[:1] not in (b"<", b"("):
                return None
            raw = _hex(token) if token[:1] == b"<" else _literal(token)
            if raw[:2] in (b"\xfe\xff", b"\xff\xfe"):
                return raw.decode("utf-16", errors="replace")
            return raw.decode("latin-1")  # PDFDocEncoding agrees with Latin-1 on the letters that matter
    return None


@dataclass
class Problems:
    """What the text layer met and could not read, per page number, for the reader's warnings."""

    control: Counter = field(default_factory=Counter)  # characters XML cannot hold, dropped
    drawings: Counter = field(default_factory=Counter)  # form XObjects too damaged to read
    guessed: Counter = field(default_factory=Counter)  # glyphs in fonts without a Unicode map


class _PageReader:
    """Interprets a page's content stream for its text: each shown string becomes glyphs at a place.

    Only the operators that move or show text (and the graphics state, and form XObjects) are
    followed; drawing is skipped. Neighbouring strings in one font and size on one baseline join
    into one run; a gap of a word space or more between them is a space.
    """

    def __init__(self, fonts: Fonts):
        self.fonts = fonts
        self.runs: list[Run] = []
        self.forms = 0
        self.broken = 0  # form XObjects that could not be decompressed
        self.guessed = 0  # glyphs shown in fonts without a Unicode map
        self._open: list | None = None  # the run being built: [x, y, size, font, parts, end x, last y]
        self._space: tuple | None = None  # a space glyph no run took yet: (x, y, size)
        self._marked: list[_Replacement | None] = []  # the open marked-content sequences (BMC/BDC … EMC)
        self._replacing: _Replacement | None = None  # the open /ActualText span whose glyphs it stands for

    # ----------------------------------------------------------------- the stream

    def read(self, data: bytes, resources, ctm: tuple = _IDENTITY, depth: int = 0) -> None:
        if b"BI" in data and b"ID" in data:
            data = _INLINE_IMAGE.sub(b" ", data)
        state = _TextState()
        saved: list = []
        tm = tlm = _IDENTITY
        operands: list = []
        push = operands.append
        resume = 0  # after a string the pattern could not take whole, the tokens inside it are skipped
        for match in _TOKEN.finditer(data):
            if match.start() < resume:
                continue
            kind = match.lastindex
            if kind is None:
                continue
            token = match[kind]
            if kind == 7:
                if token == b"(":  # parentheses nested deeper than the pattern goes, or never closed
                    resume = _string_end(data, match.start())
                    if resume < 0:
                        break  # the rest of the stream is inside a string that never ends
                    push(data[match.start():resume])
                continue
            if kind != 6:
                push(token)
                continue
            op = token
            try:
                if op == b"TJ" or op == b"Tj":
                    if operands and state.font is not None:
                        tm = self._show(operands[-1], op == b"TJ", state, tm, ctm)
                elif op == b"Tf":
                    state.font = self.fonts.get(resources, operands[-2]) if len(operands) >= 2 else None
                    state.size = float(operands[-1])
                elif op == b"Tm" and len(operands) >= 6:
                    tm = tlm = tuple(float(value) for value in operands[-6:])
                elif op == b"Td" or op == b"TD":
                    tx, ty = float(operands[-2]), float(operands[-1])
                    if op == b"TD":
                        state.leading = -ty
                    tm = tlm = (tlm[0], tlm[1], tlm[2], tlm[3], tx * tlm[0] + ty * tlm[2] + tlm[4],
                                tx * tlm[1] + ty * tlm[3] + tlm[5])
                elif op == b"T*" or op == b"'" or op == b'"':
                    if op == b'"' and len(operands) >= 3:
                        state.word_spacing, state.char_spacing = float(operands[-3]), float(operands[-2])
                    ty = -state.leading
                    tm = tlm = (tlm[0], tlm[1], tlm[2], tlm[3], ty * tlm[2] + tlm[4], ty * tlm[3] + tlm[5])
                    if op != b"T*" and operands and state.font is not None:
                        tm = self._show(operands[-1], False, state, tm, ctm)
                elif op == b"BT":
                    tm = tlm = _IDENTITY
                elif op == b"cm" and len(operands) >= 6:
                    ctm = _multiply(tuple(float(value) for value in operands[-6:]), ctm)
                elif op == b"q":
                    saved.append((ctm, state.copy()))
                elif op == b"Q":
                    if saved:
                        ctm, state = saved.pop()
                elif op == b"Tc":
                    state.char_spacing = float(operands[-1])
                elif op == b"Tw":
                    state.word_spacing = float(operands[-1])
                elif op == b"Tz":
                    state.scaling = float(operands[-1]) / 100.0
                elif op == b"TL":
                    state.leading = float(operands[-1])
                elif op == b"Ts":
                    state.rise = float(operands[-1])
                elif op == b"Do" and operands:
                    self._form(resources, operands[-1], ctm, depth)
                elif op == b"BDC":
                    self._begin_marked(operands)
                elif op == b"BMC":
                    self._marked.append(None)
                elif op == b"EMC":
                    self._end_marked()
            except (IndexError, ValueError, TypeError, ArithmeticError):
                pass  # an operator with missing or malformed operands changes nothing, as in viewers
            operands.clear()

    def _form(self, resources, name: bytes, ctm: tuple, depth: int) -> None:
        """A form XObject is a content stream of its own, drawn through its /Matrix."""
        if depth >= _MAX_FORM_DEPTH or self.forms >= _MAX_FORMS or not isinstance(name, bytes):
            return
        try:
            form = resources["/XObject"][name.decode("latin-1")]
        except (KeyError, TypeError, AttributeError):
            return
        if getattr(form, "get", None) is None or form.get("/Subtype") != "/Form":
            return
        from pypdf.errors import LimitReachedError, PyPdfError
        self.forms += 1
        matrix = tuple(float(value) for value in form.get("/Matrix", _IDENTITY))
        if len(matrix) != 6:
            return
        try:
            data = form.get_data()
        except LimitReachedError:
            raise  # a decompression bomb is refused, not skipped
        except (PyPdfError, ValueError, zlib.error):
            self.broken += 1  # one broken drawing does not make the page unreadable; it is reported
            return
        self.read(data, form.get("/Resources") or resources, _multiply(matrix, ctm), depth + 1)

    # ----------------------------------------------------------------- showing text

    def _show(self, operand: bytes, array: bool, state: _TextState, tm: tuple, ctm: tuple) -> tuple:
        """Show a string (Tj) or an array of strings and displacements (TJ); return the moved Tm."""
        size = state.size
        if array:
            if operand[:1] != b"[":
                return tm
            inner = operand[1:-1].replace(b">0<", b"")  # WeasyPrint: one hex string per glyph
            items = _ARRAY_ITEM.findall(inner)
        else:
            if operand[:1] not in (b"(", b"<"):
                return tm
            items = [(b"", operand, b"")] if operand[:1] == b"(" else [(operand[1:-1], b"", b"")]
        m = _multiply(tm, ctm)
        scale = math.hypot(m[0], m[1])
        height = math.hypot(m[2], m[3])
        if not scale or not height:
            return tm
        effective = round(size * height, 2)
        pen = 0.0  # in text space along the baseline
        unit = size * state.scaling / 1000.0  # a TJ displacement of 1 moves this far
        chunk: list[bytes] = []  # strings kerned closer than a word space are measured as one
        kern = 0.0
        for hex_digits, literal, number in items:
            if number:
                displacement = float(number)
                if -150.0 < displacement < 150.0:
                    if chunk:
                        kern -= displacement * unit
                    else:
                        pen -= displacement * unit
                    continue
                if chunk:
                    pen = self._chunk(b"".join(chunk), kern, pen, m, state, effective)
                    chunk, kern = [], 0.0
                pen -= displacement * unit
                continue
            chunk.append(_literal(literal) if literal else _hex_digits(hex_digits))
        if chunk:
            pen = self._chunk(b"".join(chunk), kern, pen, m, state, effective)
        return (tm[0], tm[1], tm[2], tm[3], pen * tm[0] + tm[4], pen * tm[1] + tm[5])

    def _chunk(self, data: bytes, kern: float, pen: float, m: tuple, state: _TextState, size: float) -> float:
        """Place one chunk of glyphs at ``pen`` on the baseline; return the pen after it."""
        font = state.font
        assert font is not None, "glyphs are shown only once a font is set (_show's caller checks)"
        if not data:
            return pen + kern
        codes = font.codes(data)
        text, advance = font.decode(codes)
        if font.guessed:
            self.guessed += len(codes)
        width = advance * state.size + state.char_spacing * len(codes)
        if state.word_spacing and not font.two_byte:
            width += state.word_spacing * codes.count(32)
        width = width * state.scaling + kern
        if text:
            scale = math.hypot(m[0], m[1])
            x = m[4] + pen * m[0] + state.rise * m[2]
            y = m[5] + pen * m[1] + state.rise * m[3]
            if math.isfinite(x + y + width * scale + size):  # a crafted matrix can overflow
                if self._replacing is not None:
                    self._replacing.glyphs.append((x, y, size, font.name, text, width * scale))
                else:
                    self._add(x, y, size, font.name, text, width * scale)
        return pen + width

    # ----------------------------------------------------------------- /ActualText

    def _begin_marked(self, operands: list) -> None:
        """A marked-content sequence; one whose properties carry /ActualText (PDF 32000-1 14.9.4) gives the
        text its glyphs stand for. press's Khmer editions wrap each line so: a Khmer glyph (a subscript
        consonant, a vowel drawn before its consonant) can stand in several clusters, and its font's
        Unicode map names one of them only ("ពុម្រ្ព" for "ពុម្ព")."""
        actual = _actual_text(operands)
        if actual is None or self._replacing is not None:  # nested ones: the outer text stands for all
            self._marked.append(None)
            return
        self._replacing = _Replacement(actual)
        self._marked.append(self._replacing)

    def _end_marked(self) -> None:
        if not self._marked:
            return  # an EMC without its BMC/BDC
        ended = self._marked.pop()
        if ended is None or ended is not self._replacing:
            return
        self._replacing = None
        glyphs = ended.glyphs
        if not glyphs:
            return  # nothing drawn: no place to put the text, and nothing shown to read
        x, y, size, font = glyphs[0][:4]
        # one line: a Khmer subscript or vowel sign is drawn up to half a size off the baseline
        if all(abs(glyph[1] - y) <= 0.6 * size for glyph in glyphs):
            end = max(glyph[0] + glyph[5] for glyph in glyphs)
            self._add(x, y, size, font, ended.text, end - x)
            return
        for glyph in glyphs:  # a span over several lines: its text has no one place, the glyphs' own is kept
            self._add(*glyph)

    def _add(self, x: float, y: float, size: float, font: str, text: str, width: float) -> None:
        """Join the glyphs to the open run when they continue it on its baseline, else open a run."""
        run = self._open
        if text.isspace():  # a space glyph of its own (justified text) ends the word before it
            if run is not None and abs(y - run[6]) <= 0.1 * max(size, run[2]) and -0.2 * size <= x - run[5] <= 3 * size:
                if not run[4][-1].endswith(" "):
                    run[4].append(" ")
                run[5] = x + width
            else:  # after a raised marker, say: it begins the next run on this baseline
                self._space = (x, y, size)
            return
        if run is not None and run[3] == font and run[2] == size and abs(y - run[6]) <= 0.1 * size:
            gap = x - run[5]
            if -0.2 * size <= gap <= 0.6 * size:
                parts = run[4]
                if gap >= 0.15 * size and not parts[-1].endswith(" ") and not text.startswith(" "):
                    parts.append(" ")
                parts.append(text)
                run[5] = x + width
                run[6] = y
                return
        self.flush()
        space, self._space = self._space, None
        end = x + width
        if space is not None and abs(space[1] - y) <= 0.1 * size and 0 <= x - space[0] <= 2 * size:
            x, text = space[0], " " + text
        self._open = [x, y, size, font, [text], end, y]

    def flush(self) -> None:
        run, self._open = self._open, None
        if run is not None:
            x, y, size, font, parts, end = run[:6]
            self.runs.append(Run(x, y, size, font, "".join(parts), end - x))


def page_lines(page, number: int, fonts: Fonts | None = None, problems: Problems | None = None) -> list[Line]:
    """The page's text runs grouped into lines; characters XML cannot hold are dropped and counted,
    as are drawings too damaged to read, in ``problems``."""
    problems = problems if problems is not None else Problems()
    reader = _PageReader(fonts or Fonts())
    contents = page.get("/Contents")
    if contents is not None:
        contents = contents.get_object()
        streams = [stream.get_object() if stream is not None else None
                   for stream in (contents if isinstance(contents, list) else [contents])]
        # decompressed here under pypdf's limits, even on a page without fonts; a stream a damaged
        # file lost is skipped (pypdf says "Object N 0 not defined": a tolerant-read warning)
        data = b"\n".join(stream.get_data() for stream in streams if stream is not None and hasattr(stream, "get_data"))
        reader.read(data, page.get("/Resources") or {})
        reader.flush()
    if reader.broken:
        problems.drawings[number] += reader.broken
    if reader.guessed:
        problems.guessed[number] += reader.guessed
    runs = []
    for run in reader.runs:
        text = run.text.replace("\n", " ")
        clean = xml_safe(text)
        if len(clean) != len(text):
            problems.control[number] += len(text) - len(clean)
        if clean.strip():
            run.text = clean
            runs.append(run)
    return _in_columns(_lines(runs, number))

# Runs whose baselines differ by at most this many sizes share a line: a Khmer edition's list numbers are
# set in a Khmer font 0.2 size below the Latin text beside them; a superscript stands 0.33 size or more higher.
_SAME_LINE = 0.25


def _lines(runs: list[Run], page: int) -> list[Line]:
    """Group runs into lines by baseline; small raised runs join the line below as superscripts."""
    lines: list[Line] = []
    largest: list[float] = []  # each line's largest run size so far
    tallest = max((run.size for run in runs), default=0.0)
    for run in sorted(runs, key=lambda r: (-r.y, r.x)):
        found = None
        for index in range(len(lines) - 1, -1, -1):  # runs come top down: only the last lines can match
            line = lines[index]
            if line.y - run.y > _SAME_LINE * max(run.size, tallest):
                break
            if abs(line.y - run.y) <= _SAME_LINE * max(run.size, largest[index]):
                found = index
                break
        if found is None:
            lines.append(Line(page, run.y, [run]))
            largest.append(run.size)
        else:
            lines[found].runs.append(run)
            largest[found] = max(largest[found], run.size)
    merged: list[Line] = []
    by_height = sorted(lines, key=lambda line: -line.y)
    for index, line in enumerate(by_height):
        if not all(len(run.text.strip()) <= 4 for run in line.runs):
            merged.append(line)
            continue
        host = next((other for other in lines if other is not line and 0 < line.y - other.y <= 0.6 * other.size
                     and (other.size >= 1.1 * line.size or _set_against(line, other))
                     and not any(_overlaps(run, sup) for run in other.runs for sup in line.runs)), None)
        if host is None:  # a marker that wrapped onto a line of its own ends the line above
            host = next((other for other in reversed(by_height[:index]) if other.size >= 1.1 * line.size
                         and other.y - line.y <= 2.0 * other.size), None)
        if host is None:
            merged.append(line)
            continue
        for run in line.runs:
            run.superscript = True
            host.runs.append(run)
    for line in merged:
        line.runs.sort(key=lambda r: r.x)
        _space_apart(line)
        line.columns = _count_columns(line)
    return merged


def _set_against(raised: Line, line: Line) -> bool:
    """Raised text in the line's own size is a superscript when each piece starts where a run of
    the line ends (troff's \\u, a formula's exponent): E = mc², not a line of its own."""
    return all(any(abs(sup.x - run.end) <= 0.25 * run.size for run in line.runs) for sup in raised.runs)


def _space_apart(line: Line) -> None:
    """Runs a word space or more apart are separate words; a space is put where the PDF drew none
    (wider gaps, table cells and columns, are the block level's to read). A superscript learns
    the word it is set against."""
    previous = None
    for run in line.runs:
        if previous is not None:
            gap = run.x - previous.end
            size = min(run.size, previous.size)
            spaced = previous.text.endswith((" ", "\u00a0")) or run.text.startswith((" ", "\u00a0"))
            if 0.15 * size <= gap < 1.5 * size and not spaced:
                run.text = " " + run.text
                spaced = True
            if run.superscript and not previous.superscript:
                run.attached_to = "" if spaced or gap >= 0.15 * size else previous.text[-16:]
        previous = run


def _in_columns(lines: list[Line]) -> list[Line]:
    """A page set in two columns, read column by column: the left column's lines, then the right's.

    Lines that cross the gutter (a title, an abstract across the page) cut the page into bands;
    each band is read left column first. Tables are not columns: their halves hold cells apart.
    """
    gutter = _gutter(lines)
    if gutter is None:
        return lines
    ordered: list[Line] = []
    left: list[Line] = []
    right: list[Line] = []

    def close_band() -> None:
        ordered.extend(left)
        ordered.extend(right)
        left.clear()
        right.clear()

    for line in lines:
        sides = {_side(run, gutter) for run in line.runs}
        if 0 in sides:
            close_band()
            ordered.append(line)
            continue
        for side, target in ((1, left), (2, right)):
            runs = [run for run in line.runs if _side(run, gutter) == side]
            if runs:
                part = Line(line.page, line.y, runs, column=side)
                part.columns = _count_columns(part)
                target.append(part)
    close_band()
    return ordered


def _side(run: Run, gutter: float) -> int:
    """Which side of the gutter a run stands on: 1 left, 2 right, 0 across it."""
    if run.end <= gutter + 0.2 * run.size:
        return 1
    if run.x >= gutter - 0.2 * run.size:
        return 2
    return 0


def _gutter(lines: list[Line]) -> float | None:
    """The x of the gutter of a two-column page, or None.

    The right column's lines start at one x in the middle of the page (the most common start
    there); the gutter is just left of it. It is a gutter when few lines cross it (a title, an
    abstract), both sides hold prose (neither splits again into cells, as a table's rows do), and
    the left column's lines run up to it (justified or nearly). The columns' baselines need not
    line up: a heading in one column shifts its lines against the other's.
    """
    body = [line for line in lines if line.body_runs]
    if len(body) < 8:
        return None
    left_edge = min(line.x for line in body)
    right_edge = max(line.end for line in body)
    width = right_edge - left_edge
    starts = Counter(round(run.x) for line in body for run in line.body_runs
                     if left_edge + 0.3 * width <= run.x <= left_edge + 0.7 * width)
    if not starts or starts.most_common(1)[0][1] < 4:
        return None
    size = statistics.median(line.size for line in body)
    gutter = starts.most_common(1)[0][0] - 0.5 * size
    left_parts: list[list[Run]] = []
    right_parts: list[list[Run]] = []
    crossing = 0
    for line in body:
        sides = [_side(run, gutter) for run in line.body_runs]
        if 0 in sides:
            crossing += 1
            continue
        left = [run for run, side in zip(line.body_runs, sides) if side == 1]
        right = [run for run, side in zip(line.body_runs, sides) if side == 2]
        if left:
            left_parts.append(left)
        if right:
            right_parts.append(right)
    if len(left_parts) < 4 or len(right_parts) < 4 or crossing > 0.4 * len(body):
        return None
    parts = left_parts + right_parts
    if any(statistics.median(len("".join(run.text for run in part).strip()) for part in side) < 15
           for side in (left_parts, right_parts)):
        return None  # short pieces on a side: labels, numbers, cells
    whole = sum(1 for part in parts if not _splits(part))
    if whole < 0.8 * len(parts):
        return None  # the halves split again into cells: a table
    ends = [max(run.end for run in part) for part in left_parts]
    if sum(1 for end in ends if max(ends) - end <= 3 * size) < 0.6 * len(ends):
        return None  # the left halves stop anywhere: cells, not a column of text
    return gutter


def _splits(runs: list[Run]) -> bool:
    ordered = sorted(runs, key=lambda run: run.x)
    return any(after.x - before.end >= 1.0 * after.size for before, after in zip(ordered, ordered[1:]))


def _overlaps(a: Run, b: Run) -> bool:
    """Do two runs share horizontal space? Widths ignore kerning, so allow a third of an em."""
    tolerance = 0.33 * min(a.size, b.size)
    return a.x < b.end - tolerance and b.x < a.end - tolerance


def _count_columns(line: Line) -> int:
    """Runs far apart on one line stand in different table cells."""
    columns = 1
    runs = sorted(line.runs, key=lambda run: run.x)
    end = runs[0].end
    for run in runs[1:]:
        # A superscript never opens a cell: justified spacing can leave a gap before it.
        if not run.superscript and run.x - end > 1.5 * run.size and not run.text.startswith(" "):
            columns += 1
        end = max(end, run.end)
    return columns


_ARABIC = r"\d{1,4}"
_ROMAN = r"(?=[ivxlcdm])m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
_FOLIO = re.compile(rf"^(?:(?:page|p\.)\s*)?[-–—]?\s*(?P<number>{_ARABIC}|{_ROMAN})\s*[-–—]?(?:\s+of\s+\d+)?$",
                    re.IGNORECASE)
_FOLIO_AT_ENDS = re.compile(rf"^(?:{_ARABIC}|{_ROMAN})\s+|\s+(?:{_ARABIC}|{_ROMAN})$", re.IGNORECASE)
_EDGE_LINES = 2  # furniture is among the first and last two lines of a page


def folio_number(text: str) -> tuple[str, int] | None:
    """A page number standing alone ("12", "xiv", "- 7 -", "Page 3 of 9"): its kind and value.

    Roman numerals must be well formed and in one case, so words such as "mix", "did" or
    "civil" are never taken for folios.
    """
    match = _FOLIO.match(text.strip())
    if not match:
        return None
    number = match["number"]
    if number.isdigit():
        return "arabic", int(number)
    if not (number.islower() or number.isupper()):
        return None
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
    total = 0
    for char, following in zip(number.lower(), number.lower()[1:] + " "):
        value = values[char]
        total += -value if following != " " and values[following] > value else value
    return "roman", total


def running_head_key(text: str) -> str:
    """A running head's text without the folio it may carry, for comparing heads across pages."""
    return " ".join(_FOLIO_AT_ENDS.sub(" ", text.strip()).lower().split())


def drop_furniture(pages: list[list[Line]]) -> tuple[list[list[Line]], list[Dropped]]:
    """Remove running heads and folios, and say what was removed.

    Both sit among the first or last lines of a page at a height that recurs from page to page.
    A folio is a page number there (arabic or roman) that keeps step with the page count; a running
    head is a short line there, no larger than the text, whose words recur on other pages at that
    height (chapter titles, author names, the book title; a number at either end does not count).
    A line that recurs nowhere is text, even alone on its page (a caption on an image page).
    """
    body = _body_size(pages)
    edges = [_edge_lines(lines) for lines in pages]
    texts = sum(1 for lines in pages if lines)
    threshold = max(2, texts // 5)
    bands: Counter[int] = Counter()
    for candidates in edges:
        for y in {round(line.y) for line in candidates}:
            bands[y] += 1
    recurring = {y for y, count in bands.items() if count >= threshold}

    def in_band(line: Line) -> bool:
        return any(round(line.y) + delta in recurring for delta in (-2, -1, 0, 1, 2))

    heads: Counter[str] = Counter()
    steps: Counter[tuple[str, int]] = Counter()
    for number, (lines, candidates) in enumerate(zip(pages, edges), 1):
        for key in {running_head_key(line.text) for line in candidates if in_band(line) and _set_apart(line, lines)}:
            if key:
                heads[key] += 1
        for line in candidates:
            folio = folio_number(line.text)
            if folio and in_band(line):
                steps[(folio[0], folio[1] - number)] += 1

    def looks_like_head(line: Line, lines: list[Line]) -> bool:
        return len(line.text) <= 120 and line.size <= body + 0.5 and _set_apart(line, lines)

    # the look of the heads that recur (height, size, font), to know a one-page chapter's head too
    styles = {_head_style(line) for lines, candidates in zip(pages, edges) for line in candidates
              if in_band(line) and looks_like_head(line, lines) and heads[running_head_key(line.text)] >= 2}

    def reason(line: Line, number: int, lines: list[Line]) -> str | None:
        if not in_band(line):
            return None
        folio = folio_number(line.text)
        if folio:
            step = steps[(folio[0], folio[1] - number)]
            return "folio" if step >= 2 or sum(steps.values()) < 3 else None
        if looks_like_head(line, lines) and (heads[running_head_key(line.text)] >= 2 or _head_style(line) in styles):
            return "running-head"
        return None

    cleaned: list[list[Line]] = []
    dropped: list[Dropped] = []
    for number, lines in enumerate(pages, 1):
        keep = list(lines)
        for edge in (0, -1) * _EDGE_LINES:
            if not keep:
                break
            why = reason(keep[edge], number, lines)
            if why:
                line = keep.pop(edge)
                dropped.append(Dropped(line.text, Where(page=number), why))
        cleaned.append(keep)
    if not any(cleaned) and any(pages):
        return pages, []  # nothing but "furniture": then it is the text
    return cleaned, dropped


def _set_apart(line: Line, lines: list[Line]) -> bool:
    """Furniture stands apart from the text block: more than two of its lines' height from its
    neighbour towards the middle of the page (a last line of notes at the foot does not)."""
    index = next(i for i, other in enumerate(lines) if other is line)
    neighbours = [other for other in lines[index + 1:index + 2] + lines[max(0, index - 1):index]
                  if other is not line]
    return all(abs(other.y - line.y) >= 2.0 * max(other.size, line.size) for other in neighbours)


def _head_style(line: Line) -> tuple:
    runs = line.body_runs or line.runs
    return round(line.y), round(line.size * 2) / 2, runs[0].font


def _edge_lines(lines: list[Line]) -> list[Line]:
    return lines[:_EDGE_LINES] + lines[_EDGE_LINES:][-_EDGE_LINES:]


def _body_size(pages: list[list[Line]]) -> float:
    sizes: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            sizes[round(line.size * 2) / 2] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


# --------------------------------------------------------------------------- damaged files

_OBJECT = re.compile(rb"(?<![0-9])(\d{1,10})\s+(\d{1,5})\s+obj\b")
_ROOT = re.compile(rb"/Root\s+(\d{1,10})\s+(\d{1,5})\s+R")
_CATALOG = re.compile(rb"/Type\s*/Catalog\b")
_XREF_KEYWORD = re.compile(rb"(?<=[\r\n])xref(?=[\r\n ])")


def rebuilt_cross_reference(data: bytes) -> bytes | None:
    """The file with its end replaced so that pypdf finds every object by scanning for it.

    Damage that pdftotext shrugs off (a missing or wrong ``startxref``, a cut-off end, shifted
    offsets) stops pypdf when the cross-reference table cannot be reached. Pointing ``startxref``
    at nothing makes pypdf rebuild the table from the ``N G obj`` headers (and object streams) it
    finds; a trailer naming the catalogue is added when the file lost its own. None when the
    bytes hold no PDF objects at all.
    """
    start = data.find(b"%PDF-")
    if start < 0 or not _OBJECT.search(data, start):
        return None
    body = data[start:]
    end = body.rfind(b"startxref")
    if end > 0:
        body = body[:end]
    body = _XREF_KEYWORD.sub(b"%ref", body)  # a table pypdf would fall back on, offsets and all
    trailer = b""
    if not _ROOT.search(body):
        catalog = _CATALOG.search(body)
        if catalog is None:
            return None
        headers = [match for match in _OBJECT.finditer(body, 0, catalog.start())]
        if not headers:
            return None
        number, generation = headers[-1].group(1), headers[-1].group(2)
        trailer = b"\ntrailer\n<< /Root " + number + b" " + generation + b" R >>\n"
    return body + trailer + b"\nstartxref\n0\n%%EOF\n"
