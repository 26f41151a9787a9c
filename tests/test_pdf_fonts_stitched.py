"""The stitched PDF's fonts (issue 15): one embedded program per installed face, whatever the font cache holds.

Each part WeasyPrint writes embeds its own subset of every face it draws; the stitch
(pipeline/render/fontmerge.py) cuts each installed face once to the glyphs every part drew and shares
it. Its cuts are kept in ``output/.cache/fonts/stitched`` between builds: a cold, warm or damaged cache must
give the same bytes. A face that is not installed (a font the stylesheet loads from a file) cannot be
cut again: its parts' subsets are kept, identical ones shared, and the text still reads as it did.
(The comparisons with the single pass, per language, are in tests/test_pdf_parts.py.)
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import copy_built, run_press
from pdfcompare import font_names, font_program, fonts_by_name, page_texts

pikepdf = pytest.importorskip("pikepdf")
SLUG = "rise-of-global-south"


def _rebuild_english_pdf(project: Path) -> bytes:
    """The English PDF made again from the cached parts (the PDF removed, so the build stitches anew)."""
    pdf = project / "output" / "en" / f"{SLUG}.pdf"
    pdf.unlink()
    result = run_press("build", "--lang", "en", "--format", "pdf", cwd=project, timeout=600)
    assert result.returncode == 0, result.stderr
    return pdf.read_bytes()


def test_a_cold_warm_or_damaged_font_cache_stitches_the_same_bytes(built_project, tmp_path):
    project = copy_built(built_project, tmp_path / "project")
    made = (project / "output" / "en" / f"{SLUG}.pdf").read_bytes()
    cache = project / "output" / ".cache" / "fonts" / "stitched"
    cuts = sorted(cache.glob("*.font"))
    assert cuts and all(path.with_suffix(".sha256").is_file() for path in cuts)  # the session's build kept them

    for path in cache.iterdir():  # cold: every face checked and cut again
        path.unlink()
    assert _rebuild_english_pdf(project) == made
    cuts = sorted(cache.glob("*.font"))
    assert cuts and sorted(cache.glob("*.check"))

    for number, path in enumerate(cuts):  # damaged: cut short, or another face's cut in its place
        path.write_bytes(path.read_bytes()[:200] if number % 2 else cuts[(number + 1) % len(cuts)].read_bytes())
    for path in cache.glob("*.check"):
        path.write_text("0" * 64 + "\n")
    assert _rebuild_english_pdf(project) == made
    with pikepdf.open(project / "output" / "en" / f"{SLUG}.pdf") as stitched:
        assert all(len(fonts) == 1 for fonts in fonts_by_name(stitched).values())


def _renamed_face(target: Path) -> Path:
    """An installed face under a PostScript and family name no installed font has (fontconfig does not
    list it: the stitch cannot find it to cut it again)."""
    from fontTools.ttLib import TTFont
    source = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans:style=Book"], capture_output=True,
                            text=True, check=True).stdout
    font = TTFont(source)
    for record in font["name"].names:
        if record.nameID in (1, 4, 16):
            record.string = "Press Uninstalled Sans"
        elif record.nameID in (3, 6):
            record.string = "PressUninstalledSans"
    font.save(target)
    return target


def test_a_face_that_is_not_installed_keeps_its_subsets(tmp_path):
    weasyprint = pytest.importorskip("weasyprint")
    if not shutil.which("fc-match") or not shutil.which("pdffonts"):
        pytest.skip("fontconfig and poppler are needed (scripts/setup installs them)")
    from pipeline.render.fontmerge import merge_fonts
    from pipeline.render.parts import stitch

    face = _renamed_face(tmp_path / "uninstalled.ttf")
    style = (f"@font-face {{ font-family: Loaded; src: url({face.as_uri()}); }} "
             "p { font-family: Loaded; } h1 { font-family: 'DejaVu Serif'; }")
    texts = ["Quartz glyphs vex a jumping fox.", "Wheat and rye by the river.", "Quartz glyphs vex a jumping fox."]
    parts = []
    for number, text in enumerate(texts):
        path = tmp_path / f"part{number}.pdf"
        weasyprint.HTML(string=f"<html><head><style>{style}</style></head><body><h1>Part {number}</h1><p>{text}"
                               "</p></body></html>", base_url=str(tmp_path)).write_pdf(path)
        parts.append(path)
    stitched_path = tmp_path / "stitched.pdf"
    stitched_path.write_bytes(stitch(parts, None, [], None))

    pages = page_texts(stitched_path)  # (and the blank page the stitch adds to an odd page count)
    assert [page.split() for page in pages[:3]] == [f"Part {number} {text}".split()
                                                    for number, text in enumerate(texts)]
    listed = font_names(stitched_path)
    loaded = [name for name in listed if "Loaded" in name or "Uninstalled" in name]
    assert len(loaded) == 2  # the first and third parts drew the same glyphs: their subsets are one
    assert len([name for name in listed if "DejaVu-Serif" in name]) == 1  # installed: merged
    with pikepdf.open(stitched_path) as stitched:
        fonts = {name.lstrip("/"): found for name, found in fonts_by_name(stitched).items()}
        programs = {font_program(font).objgen for name in loaded for font in fonts[name]}
        assert len(programs) == 2
        with pikepdf.open(parts[0]) as first:
            [original] = [font for name, found in fonts_by_name(first).items() if name.lstrip("/") in loaded
                          for font in found]
            assert any(font_program(font).read_bytes() == font_program(original).read_bytes()
                       for name in loaded for font in fonts[name])

    with pikepdf.open(parts[0]) as book:  # what the merge reports for it
        for path in parts[1:]:
            book.pages.extend(pikepdf.open(path).pages)
        report = merge_fonts(book)
    assert report.unmerged and all("DejaVu" not in name for name in report.unmerged)
    assert report.programs_after == 3 and report.programs_before == 6
