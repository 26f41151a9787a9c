"""The PDF reader's text layer: runs of text with their position, font and size, grouped into lines.

This is the level below the block assembly in ``pdf.py``: it knows glyphs, baselines and page
furniture (running heads and folios), not paragraphs. Superscript note markers are small runs
raised above a line's baseline; running heads and folios are lines at the top or bottom of many
pages that repeat.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

_FOLIO = re.compile(r"^(?:\d{1,4}|[ivxlcdm]{1,7})$", re.IGNORECASE)


@dataclass
class Run:
    x: float
    y: float
    size: float
    font: str
    text: str
    width: float = 0.0
    superscript: bool = False

    @property
    def end(self) -> float:
        return self.x + self.width

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





class Widths:
    """Advance widths of text in a PDF font, so that a run's right end is known."""

    def __init__(self):
        self._fonts: dict[int, tuple[dict, dict, float]] = {}

    def width(self, font, text: str, size: float) -> float:
        key = id(font)
        if key not in self._fonts:
            self._fonts[key] = self._load(font)
        widths, reverse, default = self._fonts[key]
        if not widths:
            return len(text) * size * 0.55
        total = sum(widths.get(reverse.get(char, char), default) for char in text)
        return total * size / 1000.0

    @staticmethod
    def _load(font) -> tuple[dict, dict, float]:
        try:
            from pypdf.generic._font import Font  # metrics parsing lives here in pypdf 6+
            metrics = Font.from_font_resource(font)
        except Exception:  # older pypdf, or a font it cannot parse: fall back to an estimate
            return {}, {}, 0.0
        reverse = {unicode: code for code, unicode in metrics.character_map.items() if isinstance(unicode, str)}
        widths = dict(metrics.character_widths)
        return widths, reverse, float(widths.get("default", 500))


_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str) -> str:
    return _XML_UNSAFE.sub("", text)


def page_lines(page, number: int, widths: Widths | None = None, dropped: Counter | None = None) -> list[Line]:
    """The page's text runs grouped into lines; characters XML cannot hold are dropped and counted."""
    widths = widths or Widths()
    runs: list[Run] = []
    contents = page.get_contents()  # decompressed here under pypdf's limits, even without fonts
    if contents is not None:
        contents.get_data()

    def visit(text, cm, tm, font, size):
        if not text or not text.strip() or not font:
            return
        a = tm[0] * cm[0] + tm[1] * cm[2]
        b = tm[0] * cm[1] + tm[1] * cm[3]
        c = tm[2] * cm[0] + tm[3] * cm[2]
        d = tm[2] * cm[1] + tm[3] * cm[3]
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = math.sqrt(abs(a * d - b * c)) or 1.0
        name = str(font.get("/BaseFont", "")).split("+")[-1]
        joined = text.replace("\n", "")
        clean = xml_safe(joined)
        if dropped is not None and len(clean) != len(joined):
            dropped[number] += len(joined) - len(clean)
        if not clean.strip():
            return
        effective = round(size * scale, 2)
        runs.append(Run(x, y, effective, name, clean, widths.width(font, clean, effective)))

    page.extract_text(visitor_text=visit)
    return _lines(runs, number)


def _lines(runs: list[Run], page: int) -> list[Line]:
    """Group runs into lines by baseline; small raised runs join the line below as superscripts."""
    lines: list[Line] = []
    for run in sorted(runs, key=lambda r: (-r.y, r.x)):
        line = next((line for line in lines if abs(line.y - run.y) <= 0.2 * max(run.size, line.size)), None)
        if line is None:
            lines.append(Line(page, run.y, [run]))
        else:
            line.runs.append(run)
    merged: list[Line] = []
    by_height = sorted(lines, key=lambda l: -l.y)
    for index, line in enumerate(by_height):
        if not all(len(run.text.strip()) <= 4 for run in line.runs):
            merged.append(line)
            continue
        host = next((other for other in lines if other is not line and other.size >= 1.1 * line.size
                     and 0 < line.y - other.y <= 0.6 * other.size
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
        line.columns = _count_columns(line)
    return merged


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


def drop_furniture(pages: list[list[Line]]) -> list[list[Line]]:
    """Remove running heads and folios.

    They sit in bands at the top and bottom of the page that recur on many pages; a line
    there is furniture when it is a page number or short and set no larger than the text.
    """
    if len(pages) < 3:
        return [[line for line in lines if not _FOLIO.match(line.text)] for lines in pages]
    bands = {edge: _recurring_y([lines[edge].y for lines in pages if lines]) for edge in (0, -1)}
    sizes = Counter(round(line.size * 2) / 2 for lines in pages for line in lines)
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    cleaned = []
    for lines in pages:
        keep = list(lines)
        for edge in (0, -1, 0, -1):
            if not keep:
                break
            line = keep[edge]
            in_band = any(abs(line.y - y) <= 2.0 for y in bands[edge])
            if _FOLIO.match(line.text) or (in_band and len(line.text) <= 120 and line.size <= body + 0.5):
                keep.pop(edge)
        cleaned.append(keep)
    return cleaned


def _recurring_y(values: list[float]) -> list[float]:
    """Positions that recur on at least a fifth of the pages (and three of them)."""
    counts = Counter(round(value) for value in values)
    threshold = max(3, len(values) // 5)
    return [float(y) for y, count in counts.items() if count >= threshold]
