"""The print edition rendered in parts and stitched (issue 15) against the single-pass reference.

The same project is built twice, ``press build --format pdf`` (parts, the default: the session's
reviewed editions, which test_print reads too) and with ``--single-pass``, with chapter 1 reviewed in
Khmer and Japanese so real Khmer and Japanese text is laid out. The two PDFs of each language are
read back with poppler and pikepdf (tests/pdfcompare.py) and must agree page for page: text, outline,
link targets, page labels, metadata; the stitched one must have one structure tree with every
marked-content id reachable, and every font embedded, once per face (each part embeds its own subsets;
the stitch shares one program per installed face). The EPUB's page list comes from the page map each
renderer saves: the two must cite the same pages. Then the cache: an edit inside one chapter lays out
that chapter's part again and nothing else.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import copy_built, made_once, run_press
from pdfcompare import (cid_widths, font_names, font_program, fonts_by_name, fonts_embedded, glyph_drawings, links,
                        outline, page_labels, page_texts, structure_problems)

pikepdf = pytest.importorskip("pikepdf")
SLUG = "rise-of-global-south"
LANGS = ("en", "km", "ja")


def _keep(project: Path, folder: Path) -> None:
    """Each language's PDF and page map, and the printer's PDF, copied out of a built project."""
    (folder / "printer").mkdir(parents=True)
    shutil.copy(project / "output" / "en" / f"{SLUG}-print.pdf", folder / "printer")
    for lang in LANGS:
        (folder / lang).mkdir(parents=True)
        shutil.copy(project / "output" / lang / f"{SLUG}.pdf", folder / lang)
        shutil.copy(project / "output" / lang / "pagemap.json", folder / lang)


@pytest.fixture(scope="session")
def both_ways(reviewed_editions, tmp_path_factory) -> tuple[Path, Path]:
    """(parts, single): each language's PDF and page map from both renderers of the same project: the
    session's reviewed editions (rendered in parts, the default) and the same project built again with
    ``--single-pass``. Made once for every worker (conftest.made_once)."""
    with made_once(tmp_path_factory, "both-ways") as (directory, make):
        parts, single = directory / "parts", directory / "single"
        if make:
            _keep(reviewed_editions, parts)
            project = copy_built(reviewed_editions, directory / "project")
            result = run_press("build", "--format", "pdf", "--format", "printer", "--single-pass", cwd=project,
                               timeout=900)
            assert result.returncode == 0, result.stderr
            _keep(project, single)
    return parts, single


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGS)
def test_stitched_pdf_reads_as_the_single_pass_one(both_ways, lang):
    parts, single = (folder / lang / f"{SLUG}.pdf" for folder in both_ways)
    assert parts.read_bytes() != single.read_bytes()  # two renderers really ran
    stitched_text, reference_text = page_texts(parts), page_texts(single)
    assert len(stitched_text) == len(reference_text) > 50
    differing = [number for number, (a, b) in enumerate(zip(stitched_text, reference_text), 1) if a != b]
    assert not differing, f"pages {differing[:10]} read differently"
    with pikepdf.open(parts) as stitched, pikepdf.open(single) as reference:
        assert len(stitched.pages) == len(reference.pages)
        assert outline(stitched) == outline(reference) and len(outline(stitched)) > 20
        found = links(stitched)
        assert found == links(reference)
        assert sum(1 for _, _, target in found if target[0] == "page") > 100  # contents and note links
        assert page_labels(stitched) == page_labels(reference)
        assert dict(stitched.docinfo) == dict(reference.docinfo)
        assert stitched.Root.Metadata.read_bytes() == reference.Root.Metadata.read_bytes()  # with the PDF/UA claim
        assert b"pdfuaid:part" in stitched.Root.Metadata.read_bytes()
        assert str(stitched.Root.Lang) == lang and bool(stitched.Root.MarkInfo.Marked)


@pytest.mark.parametrize("lang", LANGS)
def test_stitched_pdf_has_one_structure_tree_and_every_font_embedded(both_ways, lang):
    with pikepdf.open(both_ways[0] / lang / f"{SLUG}.pdf") as stitched:
        assert structure_problems(stitched) == []
        assert fonts_embedded(stitched) == []
        document = stitched.Root.StructTreeRoot.K
        document = document[0] if isinstance(document, pikepdf.Array) else document
        kinds = {str(kid.get("/S")) for kid in document.K if isinstance(kid, pikepdf.Dictionary)}
        assert "/Sect" in kinds  # the chapters' sections, hung from the one Document element
        pages_with_structure = {int(page.obj.StructParents) for page in stitched.pages if "/StructParents" in page.obj}
        assert len(pages_with_structure) == sum(1 for page in stitched.pages if "/StructParents" in page.obj)


def _edition(folder: Path, edition: str) -> Path:
    return folder / "printer" / f"{SLUG}-print.pdf" if edition == "printer" else folder / edition / f"{SLUG}.pdf"


@pytest.mark.parametrize("edition", LANGS + ("printer",))
def test_the_stitched_pdf_embeds_one_font_program_per_face(both_ways, edition):
    """Each part embeds its own subset of every face; the stitched PDF keeps one font per face (as
    pdffonts lists them, the single pass's very names) and one program per installed face, and every
    glyph the single pass draws is there with the same glyph id, outline and width."""
    parts, single = (_edition(folder, edition) for folder in both_ways)
    listed = font_names(parts)
    assert len(listed) == len(set(listed)) and sorted(listed) == sorted(font_names(single))
    with pikepdf.open(parts) as stitched, pikepdf.open(single) as reference:
        stitched_fonts, reference_fonts = fonts_by_name(stitched), fonts_by_name(reference)
        assert all(len(fonts) == 1 for fonts in stitched_fonts.values()) and len(stitched_fonts) >= 7
        programs = {font_program(fonts[0]).objgen for fonts in stitched_fonts.values()}
        assert len(programs) <= len(stitched_fonts)  # faces of one file (small caps, a synthetic bold) share one
        for name, [font] in reference_fonts.items():
            [merged] = stitched_fonts[name]
            widths, merged_widths = cid_widths(font), cid_widths(merged)
            assert {glyph: merged_widths.get(glyph) for glyph in widths} == widths, name
            program, merged_program = font_program(font).read_bytes(), font_program(merged).read_bytes()
            if merged_program != program:  # a program shared with another face of the same file: a superset
                assert glyph_drawings(merged_program, widths) == glyph_drawings(program, widths), name


@pytest.mark.parametrize("edition", LANGS + ("printer",))
def test_the_stitched_pdf_is_about_the_single_pass_size(both_ways, edition):
    """Before the fonts were merged the stitched Japanese PDF was 1.92 times the single pass's (eight
    subsets of each CJK face); its fonts now weigh no more than the single pass's, and the whole file
    is within 12 % (the folio layer and the parts' own objects are the rest)."""
    parts, single = (_edition(folder, edition) for folder in both_ways)
    with pikepdf.open(parts) as stitched, pikepdf.open(single) as reference:
        def font_bytes(document) -> int:
            programs = {font_program(fonts[0]).objgen: len(font_program(fonts[0]).read_raw_bytes())
                        for fonts in fonts_by_name(document).values()}
            return sum(programs.values())
        assert font_bytes(stitched) <= font_bytes(reference) * 1.01
    assert parts.stat().st_size <= single.stat().st_size * 1.12


@pytest.mark.parametrize("lang", LANGS)
def test_the_epub_page_list_cites_the_same_pages_either_way(both_ways, lang):
    parts, single = (json.loads((folder / lang / "pagemap.json").read_text(encoding="utf-8")) for folder in both_ways)
    assert parts["starts"] == single["starts"] and len(parts["starts"]) > 50
    assert parts["print_digest"] == single["print_digest"]


def test_the_printers_pdf_in_parts_matches_the_single_pass_one(both_ways):
    parts, single = (folder / "printer" / f"{SLUG}-print.pdf" for folder in both_ways)
    assert page_texts(parts) == page_texts(single)

    def boxes(document) -> list:
        return [[[round(float(value), 2) for value in page.obj[box]] for box in ("/MediaBox", "/TrimBox", "/BleedBox")]
                for page in document.pages]
    with pikepdf.open(parts) as stitched, pikepdf.open(single) as reference:
        assert boxes(stitched) == boxes(reference)
        assert page_labels(stitched) == page_labels(reference) and outline(stitched) == outline(reference)
        assert [str(intent.S) for intent in stitched.Root.OutputIntents] == ["/GTS_PDFX"]
        assert dict(stitched.docinfo) == dict(reference.docinfo)
        assert b"<pdfxid:GTS_PDFXVersion>PDF/X-4" in stitched.Root.Metadata.read_bytes()
        drawn = b"".join(stream.read_bytes() for page in stitched.pages
                         for stream in ([page.obj.Contents] if isinstance(page.obj.Contents, pikepdf.Stream)
                                        else list(page.obj.Contents)))
        drawn += b"".join(form.read_bytes() for page in stitched.pages
                          for form in page.obj.Resources.get("/XObject", {}).values() if form.get("/Subtype") == "/Form")
        assert b" k" in drawn and b" rg\n" not in drawn and b" RG\n" not in drawn  # CMYK plates, folios included


def _part_files(project: Path, lang: str = "en") -> dict[str, int]:
    return {path.name: path.stat().st_mtime_ns for path in (project / "output" / ".cache" / "parts" / lang).glob("*.pdf")}


@pytest.mark.slow
def test_an_edit_in_one_chapter_lays_out_only_that_part(built_project, tmp_path):
    project = copy_built(built_project, tmp_path / "project")
    before = _part_files(project)
    assert {"front.pdf", "ch1.pdf", "ch6.pdf", "folios.pdf"} <= set(before)
    manuscript = project / "source" / "manuscript.txt"
    text = manuscript.read_text(encoding="utf-8")
    assert text.count("cornerstones of stability") == 1  # chapter 1's first paragraph
    manuscript.write_text(text.replace("cornerstones of stability", "cornerstones (edited) of stability"),
                          encoding="utf-8")
    result = run_press("build", "--lang", "en", "--format", "pdf", cwd=project, timeout=600)
    assert result.returncode == 0, result.stderr
    after = _part_files(project)
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {"ch1.pdf"}
    pdf = project / "output" / "en" / f"{SLUG}.pdf"
    texts = page_texts(pdf)
    assert any("cornerstones (edited) of stability" in page for page in texts)
    # the same parts stitch into the same bytes (a build killed after writing the PDF leaves the new file)
    made = pdf.read_bytes()
    pdf.unlink()
    again = run_press("build", "--lang", "en", "--format", "pdf", cwd=project, timeout=600)
    assert again.returncode == 0, again.stderr
    assert _part_files(project) == after and pdf.read_bytes() == made


@pytest.mark.slow
def test_an_edited_build_writes_the_bytes_a_cold_build_of_the_edited_book_writes(built_project, tmp_path):
    """What the incremental build reuses (parts laid out before, the folio layer, the EPUB's cover, the checked
    catalogs) changes nothing: after a one-sentence edit in chapter 1 every edition, PDF and EPUB in each
    language, and its page map are byte for byte what a build from nothing makes of the edited project."""
    project = copy_built(built_project, tmp_path / "edited")
    manuscript = project / "source" / "manuscript.txt"
    text = manuscript.read_text(encoding="utf-8")
    manuscript.write_text(text.replace("cornerstones of stability", "cornerstones (edited) of stability"),
                          encoding="utf-8")
    formats = ("--format", "pdf", "--format", "epub")
    result = run_press("build", *formats, "-v", cwd=project, timeout=900)
    assert result.returncode == 0, result.stderr
    assert "reused" not in " ".join(line for line in result.stdout.splitlines() if line.startswith("render:"))
    cold = tmp_path / "cold"
    for name in ("source", "templates", "locales"):  # the catalogs as the edited build merged them
        shutil.copytree(project / name, cold / name)
    result = run_press("build", *formats, cwd=cold, timeout=900)
    assert result.returncode == 0, result.stderr
    compared = 0
    for lang in LANGS:
        for name in (f"{SLUG}.pdf", f"{SLUG}.epub", "pagemap.json"):
            edited, fresh = (folder / "output" / lang / name for folder in (project, cold))
            assert edited.read_bytes() == fresh.read_bytes(), f"{lang}/{name} differs from a cold build's"
            compared += 1
    assert compared == 9
    assert any("cornerstones (edited) of stability" in page for page in page_texts(project / "output" / "en" /
                                                                                    f"{SLUG}.pdf"))


def _body_pages(project: Path) -> int:
    """The English edition's pages from chapter 1 on, as its last stitch recorded them."""
    return json.loads((project / "output" / ".cache" / "parts" / "en" / "book.json").read_text())["body_pages"]


def _start_label(project: Path, element: str) -> str:
    starts = json.loads((project / "output" / "en" / "pagemap.json").read_text(encoding="utf-8"))["starts"]
    return next(label for _, label, first in starts if first == element)


@pytest.mark.slow
def test_a_chapter_growing_by_pages_moves_the_contents_and_folios_not_the_other_chapters(built_project, tmp_path):
    """The contents are laid out again with the new folios; the folio layer is not (it holds a folio for every
    page up to the next multiple of 64, whatever the chapters' lengths), nor are chapters 2 to 6."""
    project = copy_built(built_project, tmp_path / "project")
    before = _part_files(project)
    chapter_two_before = _start_label(project, "ch2")
    body_pages_before = _body_pages(project)
    assert 64 < body_pages_before <= 128
    manuscript = project / "source" / "manuscript.txt"
    text = manuscript.read_text(encoding="utf-8")
    paragraph = text.split("\n")[166]  # chapter 1's first paragraph, six times over: chapter 1 grows
    assert "cornerstones of stability" in paragraph
    manuscript.write_text(text.replace(paragraph, "\n\n".join([paragraph] * 6), 1), encoding="utf-8")
    result = run_press("build", "--lang", "en", "--format", "pdf", cwd=project, timeout=600)
    assert result.returncode == 0, result.stderr
    after = _part_files(project)
    changed = {name for name in after if after[name] != before.get(name)}
    chapter_two = _start_label(project, "ch2")
    assert int(chapter_two) > int(chapter_two_before)
    assert 64 < _body_pages(project) <= 128 and _body_pages(project) > body_pages_before  # one run of 64 pages
    assert changed == {"ch1.pdf", "front.pdf"}  # chapters 2 to 6 reused, and the folio layer
    pdf = project / "output" / "en" / f"{SLUG}.pdf"
    with pikepdf.open(pdf) as stitched:
        assert structure_problems(stitched) == []
    contents = page_texts(pdf)[2]
    assert chapter_two in contents.split() and chapter_two_before not in contents.split()


def test_an_unknown_renderer_is_one_clear_line(tmp_path):
    from conftest import copy_project
    project = copy_project(tmp_path / "project")
    toml = project / "source" / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("[print]\n", "[print]\nrender = \"fast\"\n"),
                    encoding="utf-8")
    result = run_press("build", "--lang", "en", "--format", "pdf", cwd=project)
    assert result.returncode != 0
    assert "render" in result.stderr and "single" in result.stderr and "Traceback" not in result.stderr
