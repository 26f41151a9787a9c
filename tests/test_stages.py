"""The stage registry: each stage declares what it reads, its cache key and the manifest come from that
declaration, book.toml's tables are tagged with the stages they affect, and code changes invalidate only
the stages that run the changed modules."""

from __future__ import annotations

import re
import shutil

from conftest import ROOT, copy_project, run_press
from pipeline.cache import code_fingerprint, module_closure
from pipeline.config import load_config
from pipeline.stages import Edition, registry, stage_key


def keys(project) -> dict[str, str]:
    config = load_config(project)
    return {stage.name: stage_key(stage, config) for stage in registry(config)}


def edit_toml(project, old: str, new: str) -> None:
    toml = project / "source" / "book.toml"
    text = toml.read_text(encoding="utf-8")
    assert old in text, old
    toml.write_text(text.replace(old, new, 1), encoding="utf-8")


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {name for name in before if before[name] != after[name]}


def test_each_table_of_book_toml_invalidates_only_the_stages_it_affects(tmp_path):
    project = copy_project(tmp_path)
    before = keys(project)
    assert set(before) == {"extract", "catalogs", "review", "pdf-en", "printer-en", "epub-en", "pdf-km", "epub-km",
                           "pdf-ja", "epub-ja"}  # the printer's PDF: the source language's, by default
    edit_toml(project, "min_length = 30", "min_length = 40")
    after_review = keys(project)
    assert changed(before, after_review) == {"review"}, "editing [review] re-checks; the editions stay"
    edit_toml(project, 'modified = "2026-11-01T00:00:00Z"', 'modified = "2026-12-01T00:00:00Z"')
    after_epub = keys(project)
    assert changed(after_review, after_epub) == {"epub-en", "epub-km", "epub-ja", "printer-en"}  # both dated
    edit_toml(project, "margin_outer_mm = 16", "margin_outer_mm = 17")
    after_print = keys(project)
    assert changed(after_epub, after_print) == {f"{fmt}-{lang}" for fmt in ("pdf", "epub")
                                                for lang in ("en", "km", "ja")} | {"printer-en"}
    edit_toml(project, "beam_size = 4", "beam_size = 2")
    assert changed(after_print, keys(project)) == {"catalogs"}, "decoding settings change the drafts only"
    edit_toml(project, "# What the publisher configures", "# What the publisher sets")
    assert changed(after_print, keys(project)) == {"catalogs"}, "a comment changes nothing"


def test_a_ui_catalog_or_an_image_changes_only_the_editions_that_read_it(tmp_path):
    project = copy_project(tmp_path)
    before = keys(project)
    ui = project / "locales" / "ui" / "ja.po"
    ui.write_text(ui.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert changed(before, keys(project)) == {"pdf-ja", "epub-ja"}
    (project / "source" / "images").mkdir()
    (project / "source" / "images" / "ch1-opener.png").write_bytes(b"\x89PNG not yet checked")
    middle = keys(project)
    assert changed(before, middle) == {f"{fmt}-{lang}" for fmt in ("pdf", "epub")
                                       for lang in ("en", "km", "ja")} | {"printer-en"}


def test_what_only_the_editions_or_only_the_epub_read_leaves_the_rest_alone(tmp_path):
    """The book's subject and keywords are edition metadata; the cover and epub.css belong to the EPUB alone
    (the PDFs print no cover and never fetch epub.css); a file touched without a change changes nothing."""
    import os
    project = copy_project(tmp_path)
    before = keys(project)
    epubs = {"epub-en", "epub-km", "epub-ja"}
    edit_toml(project, 'subject = "Japan', 'subject = "Southeast Asia and Japan')
    after_subject = keys(project)
    assert changed(before, after_subject) == epubs | {"pdf-en", "pdf-km", "pdf-ja", "printer-en"}
    (project / "source" / "art").mkdir()
    (project / "source" / "art" / "front.png").write_bytes(b"\x89PNG a cover")
    edit_toml(project, '# cover = "images/cover.jpg"', 'cover = "art/front.png"')
    after_cover = keys(project)
    assert changed(after_subject, after_cover) == epubs, "a new cover re-makes the EPUBs only"
    (project / "source" / "art" / "front.png").write_bytes(b"\x89PNG another cover")
    after_new_cover = keys(project)
    assert changed(after_cover, after_new_cover) == epubs, "the cover's content is an input of the EPUBs"
    css = project / "templates" / "epub.css"
    css.write_text(css.read_text(encoding="utf-8") + "\nbody { margin: 0 }\n", encoding="utf-8")
    after_css = keys(project)
    assert changed(after_new_cover, after_css) == epubs, "restyling the EPUB leaves the PDFs alone"
    for touched in (project / "source" / "manuscript.txt", css, project / "locales" / "ja" / "ch3.po"):
        stat = touched.stat()
        os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 86_400 * 10**9))
    assert changed(after_css, keys(project)) == set(), "a file touched but unchanged re-runs nothing"
    toml = project / "source" / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + '\n[images]\nfig-1 = "art/map.png"\n', encoding="utf-8")
    (project / "source" / "art" / "map.png").write_bytes(b"\x89PNG a map")
    after_images = keys(project)
    (project / "source" / "art" / "map.png").write_bytes(b"\x89PNG another map")
    editions = {name for name in after_images if name.startswith(("pdf-", "printer-", "epub-"))}
    assert changed(after_images, keys(project)) == editions, "an [images] file outside source/images/ is read"
    from pipeline.stages import project_inputs
    listed = {path.relative_to(project).as_posix() for path in project_inputs(load_config(project))}
    assert {"source/art/map.png", "source/art/front.png"} <= listed, "the manifest lists both"
    edit_toml(project, "margin_outer_mm = 16", 'margin_outer_mm = 16\noutput_profile = "press/printer.icc"')
    (project / "source" / "press").mkdir()
    (project / "source" / "press" / "printer.icc").write_bytes(b"an ICC profile, as the printer sent it")
    after_profile = keys(project)
    (project / "source" / "press" / "printer.icc").write_bytes(b"the printer's corrected ICC profile")
    assert changed(after_profile, keys(project)) == {"printer-en"}, "the profile the printer's PDF embeds"
    listed = {path.relative_to(project).as_posix() for path in project_inputs(load_config(project))}
    assert "source/press/printer.icc" in listed


def test_code_changes_invalidate_the_stages_whose_modules_changed(tmp_path):
    """A copy of the package, edited: the EPUB writer's change reaches the EPUB editions' code fingerprint
    only; a reader's change reaches the extract stage only."""
    original = tmp_path / "before" / "pipeline"
    shutil.copytree(ROOT / "pipeline", original, ignore=shutil.ignore_patterns("__pycache__"))
    entries = {"extract": ("pipeline.extract",), "pdf": Edition.modules_by_format["pdf"],
               "epub": Edition.modules_by_format["epub"], "catalogs": ("pipeline.i18n", "pipeline.i18n.draft")}

    def fingerprints(package):
        return {name: code_fingerprint(module_closure(modules, package), package) for name, modules in entries.items()}

    before = fingerprints(original)
    for edited_module, expected in (("render/epub.py", {"epub"}), ("ingest/text.py", {"extract"}),
                                    ("render/layout.py", {"pdf", "epub"}), ("render/pdf.py", {"pdf", "epub"}),
                                    ("repair/prose.py", {"extract"}), ("review/checks.py", set())):
        edited = tmp_path / edited_module.replace("/", "-") / "pipeline"
        shutil.copytree(original, edited)
        path = edited / edited_module
        path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
        after = fingerprints(edited)
        assert {name for name in before if before[name] != after[name]} == expected, edited_module
    assert "pipeline.render.epub" not in module_closure(entries["pdf"], original)
    assert not [m for m in module_closure(entries["extract"], original) if m.startswith("pipeline.render")]


def test_the_manifest_lists_exactly_the_declared_inputs(tmp_path):
    from pipeline.stages import project_inputs
    project = copy_project(tmp_path)
    config = load_config(project)
    listed = {path.relative_to(project).as_posix() for path in project_inputs(config)}
    assert {"source/manuscript.txt", "source/book.toml", "source/editorial.toml", "locales/glossary.csv",
            "templates/print.css", "templates/epub.css", "locales/ui/km.po", "locales/ja/ch3.po"} <= listed
    assert not [name for name in listed if name.startswith("output/")], "outputs of one stage are not project inputs"


def test_explain_prints_the_registry_and_the_readme_shows_it():
    result = run_press("build", "--explain")
    assert result.returncode == 0, result.stderr
    text = result.stdout.strip()
    for stage in ("extract", "catalogs", "review", "pdf-en", "epub-en"):
        assert re.search(rf"^{stage}: ", text, re.M), stage
    assert "[review]" in text.split("\nreview:")[1].split("\npdf-en:")[0]
    assert "[review]" not in text.split("\npdf-en:")[1], "no edition reads [review]"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"<!-- press build --explain -->\n```\n(.*?)\n```", readme, re.S)
    assert section, "README: the architecture section holds the output of press build --explain"
    assert section.group(1) == text, "README's architecture section is stale: run scripts/readme-architecture"


def test_an_edition_keys_on_the_latin_fonts_it_sets_english_words_in(tmp_path, monkeypatch):
    """A Japanese edition sets its English words in [fonts] en's families (render/printbook.py, epub.py):
    an update of those font files re-makes it, as an update of its own fonts does."""
    from pipeline import stages
    project = copy_project(tmp_path)
    real = stages.fonts_used(load_config(project))
    before = keys(project)
    updated = {lang: dict(families) for lang, families in real.items()}
    updated["en"] = {family: f"{found} updated" for family, found in real.get("en", {}).items()}
    assert updated["en"], "fc-match finds the English fonts (scripts/setup installs them)"
    monkeypatch.setattr(stages, "fonts_used", lambda config: updated)
    assert changed(before, keys(project)) == {name for name in before if name.startswith(("pdf-", "printer-", "epub-"))}



def test_the_font_files_an_edition_keys_on_are_the_ones_fc_match_names(tmp_path):
    """The build asks the fontconfig library in its own process what ``fc-match -f %{file} FAMILY`` answers (a
    process per family was a fifth of a no-op build): the same file for each of the book's families, for a
    family no font has (fontconfig's fallback) and for a pattern with a style."""
    import subprocess
    from pipeline.config import fonts_for
    from pipeline.manifest import fontconfig_matcher, fonts_used_uncached
    assert shutil.which("fc-match"), "fontconfig's fc-match (scripts/setup installs it)"
    config = load_config(copy_project(tmp_path))
    match = fontconfig_matcher()
    assert match is not None, "the fontconfig library loads where fc-match runs"
    families = {family for lang in config.languages for family in fonts_for(config, lang)}
    for family in sorted(families) + ["No Such Family Anywhere", "Noto Serif:bold"]:
        expected = subprocess.run(["fc-match", "-f", "%{file}", family], capture_output=True, text=True,
                                  check=True).stdout.strip()
        assert expected and match(family) == expected, family
    used = fonts_used_uncached(config)
    assert set(used) == set(config.languages) and all(len(found) == 2 for found in used.values()), used


def test_a_file_changed_after_its_hash_was_kept_changes_the_keys_again(tmp_path):
    """The keys read each file's hash from settled_file_hash, which keeps it for the process while the file's
    status stays (a build hashed its book ten times): a change made afterwards that keeps the size and puts the
    modification time back (as a tool restoring times does, or two writes in one tick of a coarse clock) still
    changes the key, and a file changed just before it is read is not kept at all."""
    import os
    import time
    from pipeline import safety
    from pipeline.safety import SETTLED_NS, file_hash, settled_file_hash
    project = copy_project(tmp_path)
    manuscript = project / "source" / "manuscript.txt"
    settled_file_hash(manuscript)  # copied just now: its change time is the copy's
    assert str(manuscript) not in safety._SETTLED_HASHES, "a file changed moments before it was read is not kept"
    time.sleep(SETTLED_NS / 1e9 + 0.2)
    before = keys(project)
    assert safety._SETTLED_HASHES[str(manuscript)][1] == file_hash(manuscript), "kept once it had settled"
    status = manuscript.stat()
    text = manuscript.read_text(encoding="utf-8")
    assert "my great honour" in text
    manuscript.write_text(text.replace("my great honour", "my great HONOUR", 1), encoding="utf-8")
    os.utime(manuscript, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert (manuscript.stat().st_size, manuscript.stat().st_mtime_ns) == (status.st_size, status.st_mtime_ns)
    after = keys(project)
    assert changed(before, after) == {"extract"}, "the manuscript's new words re-run the extract stage"
    assert settled_file_hash(manuscript) == file_hash(manuscript)
