"""The book is DocBook 5.0 that other tools can rely on: valid, and read the same by pandoc."""

from __future__ import annotations

import copy
import json
import subprocess

from lxml import etree

from conftest import NS, need
from pipeline.docbook import schema_path, validate


def test_book_validates_against_the_docbook_5_schema(book):
    assert validate(book) == []


def test_an_independent_validator_agrees(extracted):
    """jing (the reference RELAX NG validator) checks the written file against the same schema."""
    jing = need("jing")
    result = subprocess.run([jing, str(schema_path()), str(extracted.output)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_validation_catches_what_the_schema_forbids(book):
    broken = etree.fromstring(etree.tostring(book))
    chapter = broken.xpath("db:chapter", namespaces=NS)[0]
    chapter.insert(1, etree.Element("{http://docbook.org/ns/docbook}section"))  # a section with no title
    note = broken.xpath("//db:footnote", namespaces=NS)[0]
    nested = copy.deepcopy(note)
    nested.tail = None
    nested.attrib.pop("{http://www.w3.org/XML/1998/namespace}id")
    note.xpath("db:para", namespaces=NS)[0].append(nested)  # a footnote inside a footnote
    problems = validate(broken)
    assert any("footnote inside a footnote" in p for p in problems)
    assert any("section" in p.lower() or "title" in p.lower() for p in problems if "footnote" not in p)


def _pandoc_document(path) -> dict:
    pandoc = need("pandoc")
    result = subprocess.run([pandoc, "-f", "docbook", "-t", "json", str(path)], capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def _walk(node, kind: str):
    if isinstance(node, dict):
        if node.get("t") == kind:
            yield node
        for value in node.values():
            yield from _walk(value, kind)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, kind)


def test_pandoc_reads_the_same_chapters_sections_and_notes(extracted, book):
    document = _pandoc_document(extracted.output)
    headers = [(h["c"][0], h["c"][1][0]) for h in _walk(document["blocks"], "Header")]
    chapter_ids = [identifier for level, identifier in headers if level == 1 and identifier.startswith("ch")]
    assert chapter_ids == [f"ch{n}" for n in range(1, 7)]
    sections_seen = sum(1 for level, _ in headers if level >= 2)
    assert sections_seen == len(book.xpath("//db:section", namespaces=NS))
    notes_seen = sum(1 for _ in _walk(document["blocks"], "Note"))
    assert notes_seen == len(book.xpath("//db:footnote", namespaces=NS)) == 186
    per_chapter = {}
    current = None
    for block in document["blocks"]:
        if block.get("t") == "Header" and block["c"][0] == 1:
            current = block["c"][1][0] or None
        elif current and current.startswith("ch"):
            per_chapter[current] = per_chapter.get(current, 0) + sum(1 for _ in _walk(block, "Note"))
    for chapter in book.xpath("db:chapter", namespaces=NS):
        identifier = chapter.get("{http://www.w3.org/XML/1998/namespace}id")
        assert per_chapter.get(identifier, 0) == len(chapter.xpath(".//db:footnote", namespaces=NS))


def test_printed_contents_never_become_body_text_for_pandoc(extracted):
    document = _pandoc_document(extracted.output)
    text = json.dumps(document["blocks"])
    assert "Table of Contents" not in text and "Chapter 586" not in text
