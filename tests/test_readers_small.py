"""Each reader on small documents made by the real tools authors use, beyond this one book."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import NS
from pipeline.docbook import text_of, validate
from pipeline.ingest import Kind, read_manuscript
from pipeline.structure import structure_book


def build(path: Path):
    book = structure_book(read_manuscript(path))
    assert validate(book.root) == []
    return book.root


def test_word_document_written_with_python_docx(tmp_path):
    import docx
    document = docx.Document()
    document.add_paragraph("A Small Book", style="Title")
    document.add_heading("Chapter 1: Beginnings", level=1)
    document.add_heading("Introduction", level=2)
    paragraph = document.add_paragraph("Plain words, then ")
    paragraph.add_run("italic words").italic = True
    paragraph.add_run(" and ")
    paragraph.add_run("bold words").bold = True
    paragraph.add_run(".")
    document.add_paragraph("First point.", style="List Number")
    document.add_paragraph("Second point.", style="List Number")
    document.add_paragraph("A bullet.", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for row, values in zip(table.rows, (("Term", "Meaning"), ("ODA", "Official Development Assistance"))):
        for cell, value in zip(row.cells, values):
            cell.text = value
    document.add_heading("Method", level=2)
    document.add_paragraph("More text.")
    path = tmp_path / "small.docx"
    document.save(path)

    manuscript = read_manuscript(path)
    assert [b.kind for b in manuscript.blocks[:3]] == [Kind.HEADING, Kind.HEADING, Kind.HEADING]
    assert [b.bullet for b in manuscript.blocks if b.kind is Kind.ITEM] == ["1.", "1.", "•"]
    root = build(path)
    assert root.xpath("string(db:info/db:title)", namespaces=NS) == "A Small Book"
    chapter = root.xpath("db:chapter", namespaces=NS)[0]
    assert chapter.get("label") == "1"
    assert text_of(chapter.xpath("db:info/db:title", namespaces=NS)[0]) == "Beginnings"
    assert [text_of(t) for t in chapter.xpath(".//db:section/db:title", namespaces=NS)] == ["Introduction", "Method"]
    para = chapter.xpath(".//db:section[1]/db:para", namespaces=NS)[0]
    assert [(e.get("role"), e.text) for e in para.xpath("db:emphasis", namespaces=NS)] == \
        [(None, "italic words"), ("bold", "bold words")]
    assert len(chapter.xpath(".//db:orderedlist/db:listitem", namespaces=NS)) == 2
    assert len(chapter.xpath(".//db:itemizedlist/db:listitem", namespaces=NS)) == 1
    rows = chapter.xpath(".//db:informaltable//db:row", namespaces=NS)
    assert [[text_of(e) for e in r.xpath("db:entry", namespaces=NS)] for r in rows] == \
        [["Term", "Meaning"], ["ODA", "Official Development Assistance"]]


def test_pdf_with_bold_headings_and_a_numbered_list(tmp_path):
    weasyprint = pytest.importorskip("weasyprint")
    html = """<html lang="en"><body style="font-family: DejaVu Serif; font-size: 11pt">
      <h1 style="font-size: 22pt">Chapter 2</h1><h1 style="font-size: 22pt">Ways Forward</h1>
      <p style="margin-top: 2em"><b>Three Recommendations</b></p>
      <p>The chapter closes with proposals that the following list sets out in order of priority,
         each with the agencies that would carry it out and the time it would take to show results.</p>
      <ol><li>Strengthen negotiation capabilities of officials.</li><li>Avoid over-instrumentalisation of aid.</li></ol>
      <p style="margin-top: 2em"><b>Closing Remarks</b></p><p>Nothing more to add, in the end.</p>
    </body></html>"""
    path = tmp_path / "small.pdf"
    weasyprint.HTML(string=html).write_pdf(path)
    root = build(path)
    chapter = root.xpath("db:chapter", namespaces=NS)[0]
    assert chapter.get("label") == "2"
    assert [text_of(t) for t in chapter.xpath(".//db:section/db:title", namespaces=NS)] == \
        ["Three Recommendations", "Closing Remarks"]
    items = chapter.xpath(".//db:orderedlist/db:listitem", namespaces=NS)
    assert [text_of(i).strip() for i in items] == ["Strengthen negotiation capabilities of officials.",
                                                   "Avoid over-instrumentalisation of aid."]


def test_text_with_numbered_items_and_notes_in_another_shape(tmp_path):
    path = tmp_path / "book.txt"
    path.write_text("Chapter 1\n\nOn Method\n\nA. N. AUTHOR\n\nIntroduction\n\n"
                    "Our claim has a source.¹ And another.²\n\nWe propose:\n\n1. Measure first.\n2. Then act.\n\n"
                    "Notes\n\n1. Smith, J. A Book. 2020.\n2. Jones, K. Another Book. 2021. https://example.org/x.\n",
                    encoding="utf-8")
    root = build(path)
    chapter = root.xpath("db:chapter", namespaces=NS)[0]
    assert chapter.xpath("string(db:info/db:author/db:personname/db:surname)", namespaces=NS) == "AUTHOR"
    notes = chapter.xpath(".//db:footnote", namespaces=NS)
    assert [(n.get("label"), text_of(n).strip()) for n in notes] == [
        ("1", "Smith, J. A Book. 2020."), ("2", "Jones, K. Another Book. 2021. https://example.org/x.")]
    assert notes[1].xpath("string(.//db:link/@xlink:href)", namespaces=NS) == "https://example.org/x"
    assert len(chapter.xpath(".//db:orderedlist/db:listitem", namespaces=NS)) == 2
