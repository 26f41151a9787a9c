"""Draft editions (press build --drafts) say so on every page and in their metadata, under their own file
name, so a final edition is never replaced by a draft; final editions' metadata never says draft (checked
in test_print and test_epub on the session's final builds)."""

from __future__ import annotations

import re
import subprocess

import pypdf
import pytest
from lxml import etree

from conftest import copy_built, need, run_press
from pipeline.safety import open_zip
from test_review_checks import KHMER, save

SLUG = "rise-of-global-south"
LABEL = "សេចក្តីព្រាងដោយម៉ាស៊ីន — មិនទាន់ត្រួតពិនិត្យ"  # locales/ui/km.po: "Machine draft — not reviewed"
OPF = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}


@pytest.mark.slow
def test_a_drafts_build_is_marked_everywhere_and_leaves_the_final_edition_alone(tmp_path, built_project):
    project = copy_built(built_project, tmp_path / "project")
    km = project / "output" / "km"
    finals = {name: (km / name).read_bytes() for name in (f"{SLUG}.pdf", f"{SLUG}.epub")}  # the session's build
    save(project / "locales" / "km" / "ch1.po", "km", KHMER, fuzzy=True, machine=True)
    result = run_press("build", "--lang", "en", "--lang", "km", "--drafts", cwd=project, timeout=600)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in km.iterdir() if p.suffix in (".pdf", ".epub")) == sorted([
        f"{SLUG}-draft.epub", f"{SLUG}-draft.pdf", *finals]), "a draft never takes the final edition's name"
    assert {name: (km / name).read_bytes() for name in finals} == finals, "the final editions are left alone"
    english = project / "output" / "en" / f"{SLUG}.pdf"
    assert english.is_file() and not (project / "output" / "en" / f"{SLUG}-draft.pdf").exists(), \
        "the source language has no drafts: its edition is the final one"
    assert "Machine draft" not in (pypdf.PdfReader(english).metadata.title or "")

    reader = pypdf.PdfReader(km / f"{SLUG}-draft.pdf")
    metadata = reader.metadata
    assert LABEL in metadata.title and metadata.subject.startswith(LABEL) and LABEL in metadata["/Keywords"]
    need("pdftotext")
    pages = subprocess.run(["pdftotext", str(km / f"{SLUG}-draft.pdf"), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")[:len(reader.pages)]
    unmarked = [number for number, text in enumerate(pages, 1) if "សេចក្តីព្រាង" not in text]
    assert unmarked == [], unmarked  # blank versos included

    epub = open_zip((km / f"{SLUG}-draft.epub").read_bytes())
    opf = etree.fromstring(epub.read("OEBPS/content.opf"))
    titles = opf.xpath("//dc:title/text()", namespaces=OPF)
    assert LABEL in titles and opf.xpath("string(//opf:meta[@refines='#edition'])", namespaces=OPF) == "edition"
    assert opf.xpath("string(//dc:description)", namespaces=OPF).startswith(LABEL)
    chapters = [name for name in epub.names() if re.search(r"OEBPS/(ch\d|foreword|acknowledgements).*\.xhtml$", name)]
    assert chapters
    for name in chapters:
        document = etree.fromstring(epub.read(name))
        first = document.xpath("//*[local-name()='body']/*[1]")[0]
        assert first.get("class") == "draft-notice" and first.text == LABEL, name
