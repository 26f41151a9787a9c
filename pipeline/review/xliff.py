"""Review packages as XLIFF 2.1 (core, plus the Metadata module): what OmegaT, Okapi and Weblate read.

One ``<file>`` per part of the book, one ``<unit>`` per catalog entry (its id is the segment id),
one ``<segment>`` per unit, with ``canResegment="no"`` so no tool splits our sentences.

* ``state``: ``initial`` untranslated, ``translated`` a machine draft or a translation whose source
  changed (a note says so), ``final`` reviewed. Coming back, ``reviewed`` or ``final`` approves.
* Placeholders become inline codes a CAT tool protects: ``<e1>…</e1>`` → ``<pc id="e1">…</pc>``,
  ``<n1/>`` → ``<ph id="n1"/>`` with ``disp`` saying what they stand for; they come back exactly.
  A draft whose placeholders do not match its source's (MT can lose or duplicate them) is written
  as plain text with the tokens visible, which comes back exactly too.
* Notes: where the sentence is (``location``), the machine draft's provenance (``provenance``),
  the sentence an outdated translation was made for (``source-changed``), translator comments
  (``comment``; the only notes read back).
* Press's own metadata (``mda:``): the language and part the file was made for, and per unit the
  source and target fingerprints (see ``package.py``).

``conformance_problems`` checks what the XLIFF 2.1 schema cannot express (unique ids per scope,
``trgLang`` when targets exist, references between codes); every file written passes it, and so
must every file read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from lxml import etree

from ..errors import InputError
from ..i18n.catalogs import MACHINE, OUTDATED, REVIEWED, UNTRANSLATED, from_exact_memory
from ..i18n.placeholders import PLACEHOLDER, placeholders
from ..safety import parse_xml
from .package import FORMAT_VERSION, OutgoingEntry, ReturnedEntry, ReturnedPackage

XLIFF_NS = "urn:oasis:names:tc:xliff:document:2.0"
MDA_NS = "urn:oasis:names:tc:xliff:metadata:2.0"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
X = f"{{{XLIFF_NS}}}"
M = f"{{{MDA_NS}}}"
STATE_OUT = {UNTRANSLATED: "initial", MACHINE: "translated", OUTDATED: "translated", REVIEWED: "final"}
APPROVED_STATES = frozenset({"reviewed", "final"})
READABLE_VERSIONS = frozenset({"2.0", "2.1"})  # same namespace; tools may write either back
_CODE_TYPE = {"e": "fmt", "s": "fmt", "l": "link", "n": "other", "g": "other", "k": "other"}
_CODE_ID = re.compile(r"^[a-z]\d+$")
_INLINE = {"cp", "ph", "pc", "sc", "ec", "mrk", "sm", "em"}


# --------------------------------------------------------------------------- writing


def write_xliff(entries: Iterable[OutgoingEntry], *, source_language: str, language: str, part: str,
                original: str) -> bytes:
    """One part's review package as XLIFF 2.1 bytes (UTF-8, with an XML declaration)."""
    root = etree.Element(X + "xliff", nsmap={None: XLIFF_NS, "mda": MDA_NS},
                         version="2.1", srcLang=source_language, trgLang=language)
    file = etree.SubElement(root, X + "file", id=part, original=original, canResegment="no")
    _metadata(file, {"package-format": FORMAT_VERSION, "language": language, "part": part})
    for entry in entries:
        _unit(file, entry, language)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _metadata(parent: etree._Element, values: dict[str, str]) -> None:
    group = etree.SubElement(etree.SubElement(parent, M + "metadata"), M + "metaGroup", category="press")
    for kind, value in values.items():
        etree.SubElement(group, M + "meta", type=kind).text = value


def _unit(file: etree._Element, entry: OutgoingEntry, language: str) -> None:
    unit = etree.SubElement(file, X + "unit", id=entry.id)
    _metadata(unit, {"source-sha256": entry.source_fp, "target-sha256": entry.target_fp})
    notes = [("location", entry.context)] if entry.context else []
    notes += [("provenance", line) for line in entry.provenance]
    from_memory = from_exact_memory(entry.provenance) and not entry.previous_source
    if entry.state == OUTDATED and not from_memory:  # a memory match waits for review, its source unchanged
        notes.append(("source-changed", "The English sentence changed after this translation was made"
                      + (f"; it translated: {entry.previous_source}" if entry.previous_source else "")
                      + ". Check it against the new source."))
    notes += [("comment", comment) for comment in entry.comments]
    if notes:
        holder = etree.SubElement(unit, X + "notes")
        for category, text in notes:
            etree.SubElement(holder, X + "note", category=category).text = text
    segment = etree.SubElement(unit, X + "segment", state=STATE_OUT[entry.state])
    _fill(etree.SubElement(segment, X + "source"), entry.source, entry.legend, placeholders(entry.source))
    if entry.target:
        target = etree.SubElement(segment, X + "target")
        target.set(XML_LANG, language)
        _fill(target, entry.target, entry.legend, placeholders(entry.source))


def _fill(element: etree._Element, text: str, legend: dict[str, str], source_tokens: list[str]) -> None:
    """Write text with its placeholders as inline codes, or as plain text if they do not nest
    properly or do not match the source's (the tokens then stay visible and come back as written)."""
    tokens = placeholders(text)
    if sorted(tokens) != sorted(set(tokens)) or not set(tokens) <= set(source_tokens) or not _nests(tokens):
        element.text = text
        return
    stack, position = [element], 0
    for match in PLACEHOLDER.finditer(text):
        _append_text(stack[-1], text[position:match.start()])
        token, code = match.group(0), match.group(1) + match.group(2)
        kind = _CODE_TYPE.get(match.group(1), "other")
        if token.startswith("</"):
            stack.pop()
        elif token.endswith("/>"):
            etree.SubElement(stack[-1], X + "ph", id=code, type=kind, disp=legend.get(token, token), equiv="")
        else:
            meaning = legend.get(token, code)
            stack.append(etree.SubElement(stack[-1], X + "pc", id=code, type=kind,
                                          dispStart=f"<{meaning}>", dispEnd=f"</{meaning}>"))
        position = match.end()
    _append_text(stack[-1], text[position:])


def _append_text(parent: etree._Element, text: str) -> None:
    """Text goes after the parent's last child so far, or inside it when it has none."""
    if not text:
        return
    if len(parent):
        parent[-1].tail = (parent[-1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _nests(tokens: list[str]) -> bool:
    stack: list[str] = []
    for token in tokens:
        if token.startswith("</"):
            if not stack or stack.pop() != token[2:-1]:
                return False
        elif not token.endswith("/>"):
            stack.append(token[1:-1])
    return not stack


# --------------------------------------------------------------------------- conformance


def conformance_problems(root: etree._Element) -> list[str]:
    """What the XLIFF 2.1 core specification requires beyond its schema, as ``line N: problem`` strings.

    Checked: root element and version; ``trgLang`` present when a target is (spec 4.2.2.1
    ``xliff``); unique ``file`` ids; ``unit``/``group`` ids unique within their file; every unit
    holds a segment; segment, ignorable and inline ids unique within a unit's source and within its
    target; ``dataRef`` naming a ``data`` of the unit; ``startRef`` of ``ec``/``em`` naming an
    ``sc``/``sm`` of the same content; ``xml:lang`` of sources and targets agreeing with
    ``srcLang``/``trgLang``; unique note ids within their ``notes``.
    """
    problems: list[str] = []

    def problem(element: etree._Element, message: str) -> None:
        problems.append(f"line {element.sourceline}: {message}")

    if root.tag != X + "xliff":
        return [f"line {root.sourceline}: the root element is {etree.QName(root).localname!r} in "
                f"{etree.QName(root).namespace or 'no namespace'}, not <xliff> in {XLIFF_NS}"]
    if root.get("version") not in READABLE_VERSIONS:
        problem(root, f"version is {root.get('version')!r}, not 2.1")
    if not root.get("srcLang"):
        problem(root, "<xliff> has no srcLang")
    targets = root.findall(f".//{X}target")
    if targets and not root.get("trgLang"):
        problem(root, "targets are present but <xliff> has no trgLang")
    _unique(root.findall(X + "file"), "id", "file id", problem)
    for file in root.findall(X + "file"):
        _unique([e for e in file.iter(X + "unit", X + "group")], "id", "unit/group id within its file", problem)
        for unit in file.iter(X + "unit"):
            _check_unit(unit, root, problem)
    for notes in root.iter(X + "notes"):
        _unique([n for n in notes.findall(X + "note") if n.get("id")], "id", "note id within <notes>", problem)
    return problems


def _unique(elements: list[etree._Element], attribute: str, what: str, problem) -> None:
    seen: set[str] = set()
    for element in elements:
        value = element.get(attribute)
        if value is None:
            continue
        if value in seen:
            problem(element, f"duplicate {what}: {value!r}")
        seen.add(value)


def _check_unit(unit: etree._Element, root: etree._Element, problem) -> None:
    parts = [child for child in unit if child.tag in (X + "segment", X + "ignorable")]
    if not any(child.tag == X + "segment" for child in parts):
        problem(unit, f"unit {unit.get('id')!r} has no <segment>")
    _unique(parts, "id", f"segment/ignorable id in unit {unit.get('id')!r}", problem)
    data_ids = {data.get("id") for data in unit.findall(f"{X}originalData/{X}data")}
    _unique(unit.findall(f"{X}originalData/{X}data"), "id", "data id", problem)
    segment_ids = {child.get("id") for child in parts if child.get("id")}
    for side, language in (("source", root.get("srcLang")), ("target", root.get("trgLang"))):
        contents = [child.find(X + side) for child in parts if child.find(X + side) is not None]
        codes = [code for content in contents for code in content.iter() if code is not content]
        _unique([c for c in codes if c.get("id")], "id", f"inline id in the {side} of unit {unit.get('id')!r}",
                problem)
        for code in codes:
            if code.get("id") in segment_ids:
                problem(code, f"inline id {code.get('id')!r} is also a segment id in unit {unit.get('id')!r}")
        starts = {c.get("id") for c in codes if c.tag == X + "sc"}
        markers = {c.get("id") for c in codes if c.tag == X + "sm"}
        for code in codes:
            for reference in ("dataRef", "dataRefStart", "dataRefEnd"):
                if code.get(reference) is not None and code.get(reference) not in data_ids:
                    problem(code, f"{reference}={code.get(reference)!r} names no <data> of the unit")
            if code.tag == X + "ec" and code.get("isolated") != "yes" and code.get("startRef") not in starts:
                problem(code, f"<ec startRef={code.get('startRef')!r}> names no <sc> of the same {side}")
            if code.tag == X + "em" and code.get("startRef") not in markers:
                problem(code, f"<em startRef={code.get('startRef')!r}> names no <sm> of the same {side}")
        for content in contents:
            declared = content.get(XML_LANG)
            if declared is not None and language and declared.lower() != language.lower():
                problem(content, f"<{side} xml:lang={declared!r}> differs from the file's "
                                 f"{'srcLang' if side == 'source' else 'trgLang'} {language!r}")


# --------------------------------------------------------------------------- reading


def read_xliff(data: bytes, path: Path) -> list[ReturnedPackage]:
    """Read a returned XLIFF file (every ``<file>`` in it) after checking it is safe and conforming."""
    root = parse_xml(data, path)
    problems = conformance_problems(root)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(f"not a conforming XLIFF 2.1 file: {problems[0]}{more}", path,
                         hint="re-export it from the translation tool, or export a fresh package with "
                              "'press review export'")
    language = root.get("trgLang")
    if not language:
        raise InputError("the XLIFF file names no target language (trgLang)", path,
                         hint="use a package written by 'press review export'")
    packages = []
    for file in root.findall(X + "file"):
        meta = _meta(file)
        packages.append(ReturnedPackage(path, "xliff", language, meta.get("part") or file.get("id"),
                                        [_returned(unit, path) for unit in file.iter(X + "unit")],
                                        exported_language=meta.get("language")))
    return packages


def _meta(element: etree._Element) -> dict[str, str]:
    """Press's own ``mda:meta`` values directly under ``element`` (empty if a tool dropped them)."""
    return {meta.get("type"): (meta.text or "").strip()
            for meta in element.findall(f"{M}metadata/{M}metaGroup[@category='press']/{M}meta")}


def _returned(unit: etree._Element, path: Path) -> ReturnedEntry:
    where = f"unit {unit.get('id')}"
    parts = [child for child in unit if child.tag in (X + "segment", X + "ignorable")]
    source = "".join(_content_text(part.find(X + "source"), path, where) for part in parts)
    targets = [part.find(X + "target") for part in parts]
    has_target = any(target is not None for target in targets)
    target = "".join(_content_text(t, path, where) for t in targets if t is not None) if has_target else None
    segments = [part for part in parts if part.tag == X + "segment"]
    approved = bool(segments) and all(s.get("state", "initial") in APPROVED_STATES for s in segments)
    comments = tuple(note.text.strip() for note in unit.findall(f"{X}notes/{X}note[@category='comment']")
                     if note.text and note.text.strip())
    meta = _meta(unit)
    return ReturnedEntry(unit.get("id"), source, target, approved, comments,
                         meta.get("source-sha256"), meta.get("target-sha256"), where)


def _content_text(element: etree._Element | None, path: Path, where: str) -> str:
    """A source or target back to catalog text: inline codes become placeholder tokens again."""
    if element is None:
        return ""
    parts = [element.text or ""]
    for child in element:
        if not isinstance(child.tag, str):  # comments and processing instructions a tool left
            parts.append(child.tail or "")
            continue
        name = etree.QName(child)
        if name.namespace != XLIFF_NS or name.localname not in _INLINE:
            raise InputError(f"{where}: unexpected <{name.localname}> inside a source or target", path,
                             f"line {child.sourceline}", hint="re-export it from the translation tool")
        parts.append(_code_text(child, name.localname, path, where))
        parts.append(child.tail or "")
    return "".join(parts)


def _code_text(code: etree._Element, kind: str, path: Path, where: str) -> str:
    if kind == "cp":
        try:
            return chr(int(code.get("hex", ""), 16))
        except ValueError:
            raise InputError(f"{where}: <cp hex={code.get('hex')!r}> is not a code point", path,
                             f"line {code.sourceline}")
    if kind == "mrk":  # an annotation a tool added: its content is the text
        return _content_text(code, path, where)
    if kind in ("sm", "em"):
        return ""
    code_id = code.get("startRef") if kind == "ec" and code.get("startRef") else code.get("id")
    if not code_id or not _CODE_ID.match(code_id):
        raise InputError(f"{where}: inline code <{kind} id={code_id!r}> is not one press wrote", path,
                         f"line {code.sourceline}", hint="keep the inline codes of the source; do not add new ones")
    if kind == "ph":
        return f"<{code_id}/>"
    if kind == "sc":
        return f"<{code_id}>"
    if kind == "ec":
        return f"</{code_id}>"
    return f"<{code_id}>{_content_text(code, path, where)}</{code_id}>"  # pc
