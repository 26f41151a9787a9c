"""The translation memory: reviewed translations kept as TMX 1.4b, offered again before the model drafts.

The memory lives in ``locales/tm/<lang>.tmx``, one file per target language, in TMX itself (the
exchange format every CAT tool reads and writes; plain XML that version control diffs and merges),
written sorted by source sentence and without dates, so an unchanged memory is never rewritten.

* ``press review export LANG --format tmx`` writes the book's reviewed entries as TMX;
* ``press tm import FILE.tmx`` adds a TMX (this book's, another book's, a CAT tool's) to the memory;
  a sentence the memory already holds takes the imported translation (the newest review wins);
* ``press translate`` (and the build) consult the memory before the model, for empty entries only:
  an *exact* match (the same sentence, so the same placeholders, and a translation carrying exactly
  those placeholders) fills the entry, fuzzy (it needs review) with ``#. tm: exact <origin>``; the
  best *fuzzy* match scoring at least 85 (rapidfuzz's normalised Indel similarity, 0-100) is shown
  to the reviewer as ``#. tm: 91% <origin>: <translation>`` and the model still drafts. A reviewed
  entry, a machine draft or any entry holding text is never touched.

Placeholders travel as TMX inline codes whose native code is the placeholder itself: ``<e1>…</e1>``
as ``<bpt i="1" x="1" type="italic">&lt;e1&gt;</bpt>…<ept i="1">&lt;/e1&gt;</ept>``, ``<n1/>`` as
``<ph x="2" type="fnote">&lt;n1/&gt;</ph>`` (``x`` pairs a code in the source with the same code in
the translation). A TMX from elsewhere is read through the project's safe XML parser (no entities,
no DTD loading, no network); its codes come back as their native text.
"""

from __future__ import annotations

import bisect
import codecs
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from lxml import etree

from ..config import BookConfig
from ..errors import InputError
from ..safety import DEFAULT_LIMITS, Limits, atomic_write, parse_xml, read_input_bytes
from .catalogs import TM_PREFIX, UNTRANSLATED, exact_memory_comment, entry_state, source_text, target_text
from .placeholders import PLACEHOLDER, blocking, compare_placeholders, placeholders

FUZZY_THRESHOLD = 85.0  # rapidfuzz score (0-100) from which a memory entry is shown as a suggestion
TMX_VERSION = "1.4"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ORIGIN_PROP = "x-press-origin"
_CODE_TYPES = {"e": ("bpt", "italic"), "l": ("bpt", "link"), "s": ("bpt", "bold")}
_PH_TYPES = {"n": "fnote"}
_EXTERNAL_DOCTYPE = re.compile(rb'<!DOCTYPE\s+tmx\s+(?:SYSTEM\s+"[^"\[\]<>]*"|PUBLIC\s+"[^"\[\]<>]*"\s+"[^"\[\]<>]*")\s*>')
_INLINE_CODES = {"bpt", "ept", "ph", "it"}


@dataclass(frozen=True)
class MemoryUnit:
    """One remembered translation: the source sentence and its translation, with press's placeholder
    tokens, and where it came from (``book-slug/segment-id`` or ``file.tmx#tuid``)."""

    source: str
    target: str
    origin: str


def normalise(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- writing TMX


def write_tmx(units: Iterable[MemoryUnit], *, source_language: str, target_language: str) -> bytes:
    """TMX 1.4b bytes: one ``<tu>`` per unit (source and target ``<tuv>``), sorted, without dates."""
    root = etree.Element("tmx", version=TMX_VERSION)
    etree.SubElement(root, "header", creationtool="press", creationtoolversion="1", segtype="sentence",
                     adminlang="en", srclang=source_language, datatype="plaintext", **{"o-tmf": "gettext PO"})
    body = etree.SubElement(root, "body")
    for unit in sorted(set(units), key=lambda u: (u.source, u.target, u.origin)):
        tu = etree.SubElement(body, "tu", tuid=unit.origin)
        etree.SubElement(tu, "prop", type=ORIGIN_PROP).text = unit.origin
        codes = _code_numbers(unit.source)
        for language, text in ((source_language, unit.source), (target_language, unit.target)):
            tuv = etree.SubElement(tu, "tuv", {XML_LANG: language})
            _fill_segment(etree.SubElement(tuv, "seg"), text, codes)
    doctype = '<!DOCTYPE tmx SYSTEM "tmx14.dtd">'
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True, doctype=doctype)


def _code_numbers(source: str) -> dict[str, int]:
    """Each placeholder's ``x`` (``e1`` → 1, ``n1`` → 2, …), from the source's order, shared by both tuvs."""
    numbers: dict[str, int] = {}
    for match in PLACEHOLDER.finditer(source):
        numbers.setdefault(match.group(1) + match.group(2), len(numbers) + 1)
    return numbers


def _fill_segment(seg: etree._Element, text: str, codes: dict[str, int]) -> None:
    """A sentence into ``<seg>``: text, with each placeholder an inline code holding it as native code."""
    position, last, pair = 0, seg, 0
    open_pairs: dict[str, int] = {}
    for match in PLACEHOLDER.finditer(text):
        _append_text(seg, last, text[position:match.start()])
        position = match.end()
        token, name = match.group(0), match.group(1) + match.group(2)
        x = str(codes.get(name, len(codes) + 1))
        if token.endswith("/>"):
            code = etree.SubElement(seg, "ph", x=x)
            if match.group(1) in _PH_TYPES:
                code.set("type", _PH_TYPES[match.group(1)])
        elif token.startswith("</"):
            if name in open_pairs:
                code = etree.SubElement(seg, "ept", i=str(open_pairs.pop(name)))
            else:
                code = etree.SubElement(seg, "it", pos="end", x=x)
        else:
            pair += 1
            open_pairs[name] = pair
            code = etree.SubElement(seg, "bpt", i=str(pair), x=x)
            if match.group(1) in _CODE_TYPES:
                code.set("type", _CODE_TYPES[match.group(1)][1])
        code.text = token
        last = code
    _append_text(seg, last, text[position:])
    for code in seg:  # an opening tag whose closing never came: an isolated code, as TMX requires
        if code.tag == "bpt" and not any(other.tag == "ept" and other.get("i") == code.get("i") for other in seg):
            code.tag, code.attrib["pos"] = "it", "begin"
            del code.attrib["i"]


def _append_text(seg: etree._Element, last: etree._Element, text: str) -> None:
    if not text:
        return
    if last is seg:
        seg.text = (seg.text or "") + text
    else:
        last.tail = (last.tail or "") + text


# --------------------------------------------------------------------------- reading TMX


def read_tmx(data: bytes, path: Path | str, target_language: str, source_language: str) -> list[MemoryUnit]:
    """The units of a TMX file that translate ``source_language`` into ``target_language`` (language tags
    compared by their primary subtag: ``en-US`` is ``en``, ``ja-JP`` is ``ja``)."""
    root = parse_xml(_without_external_doctype(data), path, keep_processing_instructions=False)
    if _local(root.tag) != "tmx":
        raise InputError(f"not a TMX file (the root element is <{_local(root.tag)}>)", path,
                         hint="give a .tmx file exported by press or a CAT tool")
    body = next((child for child in root if _local(child.tag) == "body"), None)
    if body is None:
        raise InputError("the TMX file has no <body>", path, hint="re-export it from the tool that made it")
    units = []
    for number, tu in enumerate((child for child in body if _local(child.tag) == "tu"), start=1):
        texts: dict[str, str] = {}
        for tuv in (child for child in tu if _local(child.tag) == "tuv"):
            language = tuv.get(XML_LANG) or tuv.get("lang") or ""
            seg = next((child for child in tuv if _local(child.tag) == "seg"), None)
            if seg is not None:
                texts.setdefault(_primary(language), normalise(_segment_text(seg)))
        source, target = texts.get(_primary(source_language)), texts.get(_primary(target_language))
        if source and target:
            units.append(MemoryUnit(source, target, _origin(tu, path, number)))
    return units


def _without_external_doctype(data: bytes) -> bytes:
    """CAT tools declare ``<!DOCTYPE tmx SYSTEM "tmx14.dtd">``; the safe parser refuses every DOCTYPE, and
    this one (no internal subset, nothing to expand) carries nothing, so it is dropped. Any other
    DOCTYPE stays and is refused."""
    data = _as_utf8(data)
    return _EXTERNAL_DOCTYPE.sub(b"", data[:4096], count=1) + data[4096:]


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_XML_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?\bencoding\s*=\s*)["'][^"']*["']""")


def _as_utf8(data: bytes) -> bytes:
    """A TMX in UTF-16 (as Trados and other Windows CAT tools write them, with or without a byte-order mark) as UTF-8
    bytes, its declaration saying so, so the DOCTYPE above is recognised; any other file is left as it is
    (bytes that are not valid UTF-16 are left for the parser to refuse)."""
    codec = ("utf-16" if data.startswith(_UTF16_BOMS) else "utf-16-le" if data.startswith(b"<\x00?\x00")
             else "utf-16-be" if data.startswith(b"\x00<\x00?") else None)  # UTF-16LE/BE declared, no BOM
    if codec is None:
        return data
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return data
    return _XML_ENCODING.sub(r'\1"UTF-8"', text, count=1).encode("utf-8")


def _segment_text(seg: etree._Element) -> str:
    """A ``<seg>``'s text; an inline code contributes its native code (press's own placeholders come back
    as themselves), a highlight (``<hi>``) its text; ``<sub>`` belongs to its code."""
    parts = [seg.text or ""]
    for child in seg:
        if not isinstance(child.tag, str):
            parts.append(child.tail or "")
            continue
        name = _local(child.tag)
        if name in _INLINE_CODES:
            parts.append("".join(child.itertext()) if not any(_local(c.tag) == "sub" for c in child
                                                                if isinstance(c.tag, str)) else child.text or "")
        elif name in ("hi", "mrk", "g"):
            parts.append(_segment_text(child))
        elif name == "ut":
            parts.append(child.text or "")
        parts.append(child.tail or "")
    return "".join(parts)


def _origin(tu: etree._Element, path: Path | str, number: int) -> str:
    for prop in tu:
        if isinstance(prop.tag, str) and _local(prop.tag) == "prop" and prop.get("type") == ORIGIN_PROP and prop.text:
            return normalise(prop.text)
    return f"{Path(path).name}#{normalise(tu.get('tuid') or str(number))}".replace(" ", "_")


def _local(tag: str) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _primary(language: str) -> str:
    return language.replace("_", "-").split("-")[0].lower()


# --------------------------------------------------------------------------- the project's memory


def memory_path(config: BookConfig, language: str) -> Path:
    return config.locales_dir / "tm" / f"{language}.tmx"


def load_memory(config: BookConfig, language: str, limits: Limits = DEFAULT_LIMITS) -> list[MemoryUnit]:
    path = memory_path(config, language)
    if not path.is_file():
        return []
    return read_tmx(read_input_bytes(path, limits, what="translation memory"), path, language,
                    config.source_language)


@dataclass
class MemoryImport:
    language: str
    path: Path
    added: int = 0
    replaced: int = 0
    known: int = 0  # already in the memory, word for word
    written: bool = False


def import_memory(config: BookConfig, tmx: Path) -> list[MemoryImport]:
    """Add a TMX file's units to the memory of every target language of the book it has; a sentence the
    memory holds already takes the new translation. Reads and checks everything before writing."""
    data = read_input_bytes(tmx, config.limits, what="TMX file")
    plans = []
    for language in config.target_languages:
        incoming = read_tmx(data, tmx, language, config.source_language)
        if incoming:
            plans.append((language, incoming, load_memory(config, language, config.limits)))
    if not plans:
        raise InputError(f"the TMX file has no {config.source_language}→{'/'.join(config.target_languages)} "
                         "translation units", tmx,
                         hint="each <tu> needs a <tuv xml:lang=...> in the book's source language and one in a "
                              "target language")
    results = []
    for language, incoming, current in plans:
        by_source = {unit.source: unit for unit in current}
        result = MemoryImport(language, memory_path(config, language))
        for unit in incoming:
            old = by_source.get(unit.source)
            if old is not None and old.target == unit.target:
                result.known += 1
                continue
            result.replaced += old is not None
            result.added += old is None
            by_source[unit.source] = unit
        result.written = atomic_write(result.path, write_tmx(by_source.values(), source_language=config.source_language,
                                                             target_language=language))
        results.append(result)
    return results


# --------------------------------------------------------------------------- using the memory


@dataclass
class MemoryUse:
    exact: list[str] = field(default_factory=list)  # segment ids filled from the memory
    suggested: list[str] = field(default_factory=list)  # segment ids given a fuzzy match to look at
    parts: set[str] = field(default_factory=set)  # catalogs changed


class Memory:
    """A language's memory, indexed for exact and fuzzy lookups."""

    def __init__(self, units: Iterable[MemoryUnit]):
        self.exact = {unit.source: unit for unit in units}
        self.sources = sorted(self.exact, key=len)  # by length: a fuzzy lookup reads only the lengths that can match
        self.lengths = [len(source) for source in self.sources]

    def exact_match(self, source: str) -> MemoryUnit | None:
        """The unit for this very sentence, if its translation carries exactly the sentence's placeholders."""
        unit = self.exact.get(normalise(source))
        if unit is None or placeholders(unit.source) != placeholders(normalise(source)):
            return None
        if compare_placeholders(source, unit.target):  # lost, extra or misordered: not this sentence's markup
            return None
        return unit

    def fuzzy_match(self, source: str) -> tuple[MemoryUnit, float] | None:
        if not self.sources:
            return None
        from rapidfuzz import fuzz, process
        source = normalise(source)
        # ratio = 2·LCS / (a + b) ≤ 2·min / (a + b): a score ≥ t needs the shorter at least t / (200 − t) of the longer
        bound = FUZZY_THRESHOLD / (200 - FUZZY_THRESHOLD)
        low = bisect.bisect_left(self.lengths, math.floor(len(source) * bound))
        high = bisect.bisect_right(self.lengths, math.ceil(len(source) / bound))
        best = process.extractOne(source, self.sources[low:high], scorer=fuzz.ratio, score_cutoff=FUZZY_THRESHOLD)
        return (self.exact[best[0]], float(best[1])) if best else None


def apply_memory(memory: Memory, catalogs: Mapping[str, Catalog]) -> MemoryUse:
    """Fill the empty entries the memory knows exactly (fuzzy, ``tm: exact <origin>``) and note the best
    fuzzy match on the others; entries holding any text are never touched."""
    use = MemoryUse()
    if not memory.sources:
        return use
    for part, catalog in catalogs.items():
        for message in catalog:
            if not message.id or entry_state(message) != UNTRANSLATED:
                continue
            unit = memory.exact_match(source_text(message))
            if unit is not None:
                _fill(message, unit)
                use.exact.append(message.context or "")
                use.parts.add(part)
                continue
            match = memory.fuzzy_match(source_text(message))
            line = f"{TM_PREFIX}{match[1]:.0f}% {match[0].origin}: {match[0].target}" if match else None
            if _suggest(message, line):
                use.parts.add(part)
            if line:
                use.suggested.append(message.context or "")
    return use


def _fill(message: Message, unit: MemoryUnit) -> None:
    message.string = unit.target
    message.flags.add("fuzzy")
    message.previous_id = []
    message.auto_comments = [c for c in message.auto_comments if not c.startswith(TM_PREFIX)]
    message.auto_comments.append(exact_memory_comment(unit.origin))


def _suggest(message: Message, line: str | None) -> bool:
    """Replace the entry's memory suggestion with ``line`` (None: no suggestion); whether it changed."""
    kept = [c for c in message.auto_comments if not c.startswith(TM_PREFIX)]
    new = kept + ([line] if line else [])
    if new == message.auto_comments:
        return False
    message.auto_comments = new
    return True


def units_from_catalogs(catalogs: Mapping[str, Catalog], slug: str) -> list[MemoryUnit]:
    """The reviewed entries of a language's catalogs, as memory units (what TMX export writes)."""
    from .catalogs import REVIEWED
    return [MemoryUnit(normalise(source_text(message)), normalise(target_text(message)), f"{slug}/{message.context}")
            for catalog in catalogs.values() for message in catalog
            if message.id and entry_state(message) == REVIEWED
            and not blocking(compare_placeholders(source_text(message), target_text(message)))]
