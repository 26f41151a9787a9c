"""Catalogs that live peacefully with translators' tools: gettext's layout, and no churn.

The committed catalogs are the subject: a build must leave a catalog whose entries did not change
alone, byte for byte, whoever wrote it last (an older press with another Babel, msgcat, msgmerge,
translate-toolkit's pomerge), and what press writes is what gettext's own tools would write.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import write_po

from conftest import ROOT, run_press, translation_project
from pipeline.config import load_config
from pipeline.i18n import prepare_catalogs
from pipeline.i18n.catalogs import catalog_path, header_fields, read_catalog, write_catalog

COMMITTED = sorted((ROOT / "locales").glob("*/*.po"))
BOOK_CATALOGS = [path for path in COMMITTED if path.parent.name != "ui"]


def need(tool: str) -> str:
    found = shutil.which(tool) or shutil.which(tool, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"{tool} is not installed")
    return found


@pytest.fixture
def project(tmp_path, extracted):
    return translation_project(tmp_path, extracted.output)


def snapshot(project: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in sorted((project / "locales").glob("*/*.po"))}


def rebuild_changes_nothing(project: Path, before: dict[Path, bytes]) -> None:
    """The catalogs' merge a build runs writes nothing and leaves every byte as the tool saved it."""
    update = prepare_catalogs(load_config(project))
    assert update.segments, "the merge ran on the real book"
    after = snapshot(project)
    changed = [path.relative_to(project).as_posix() for path in before if after[path] != before[path]]
    assert changed == []


# --------------------------------------------------------------------------- gettext's layout


def test_the_committed_catalogs_are_laid_out_as_msgcat_writes_them():
    msgcat = need("msgcat")
    assert len(BOOK_CATALOGS) == 22 and len(COMMITTED) == 24
    for path in COMMITTED:
        result = subprocess.run([msgcat, str(path)], capture_output=True, check=True)
        assert result.stdout == path.read_bytes(), f"msgcat re-lays {path.relative_to(ROOT)}"
        assert b"Generated-By" not in result.stdout, "no tool version in a committed file"


def test_the_editions_labels_have_the_same_headers_as_the_book_catalogs():
    book = [name for name, _ in header_fields((ROOT / "locales" / "km" / "ch1.po").read_bytes())]
    for language in ("km", "ja"):
        ui = dict(header_fields((ROOT / "locales" / "ui" / f"{language}.po").read_bytes()))
        assert list(ui) == book
        assert ui["Language"] == language and ui["Plural-Forms"] == "nplurals=1; plural=0;"


def test_a_catalog_press_writes_with_translations_is_what_msgcat_and_msgmerge_write(project):
    """Long Khmer and Japanese translations (gettext breaks CJK between ideographs, counts Khmer's
    combining marks as zero width): press's file is gettext's file."""
    msgcat, msgmerge = need("msgcat"), need("msgmerge")
    config = load_config(project)
    for language, text in (("ja", "日本とASEANは、アジア太平洋地域の安定と成長の礎となってきた。" * 3),
                           ("km", "ជប៉ុន និងអាស៊ាន គឺជាមូលដ្ឋានគ្រឹះនៃស្ថិរភាព និងកំណើននៅក្នុងតំបន់អាស៊ីប៉ាស៊ីហ្វិក។ " * 3)):
        path = catalog_path(config, language, "ch1")
        catalog = read_catalog(path, language)
        for message in list(catalog)[1:40]:
            message.string = text.strip()
        message.user_comments = ["A translator's note that is much longer than a line of a PO file, "
                                 "because reviewers write whole paragraphs in Poedit"]
        assert write_catalog(path, catalog) is True
        written = path.read_bytes()
        assert subprocess.run([msgcat, str(path)], capture_output=True, check=True).stdout == written
        template = path.with_suffix(".pot")
        shutil.copy(path, template)
        subprocess.run([msgmerge, "--quiet", "--update", "--backup=off", str(path), str(template)], check=True)
        assert path.read_bytes() == written, "msgmerge --update changes nothing press wrote"


# --------------------------------------------------------------------------- no churn


def test_a_build_leaves_catalogs_written_by_an_older_babel_alone(project):
    """What press wrote before (Babel's own writer, its 76-column wrapping, ``Generated-By: Babel 2.18.0``,
    Babel's header order), and the same with another Babel version named: the merge writes nothing."""
    config = load_config(project)
    for language in ("km", "ja"):
        for part in ("ch1", "ch4", "foreword"):
            path = catalog_path(config, language, part)
            catalog = read_catalog(path, language)
            buffer = io.BytesIO()
            write_po(buffer, catalog, width=76)
            old = buffer.getvalue().decode("utf-8")
            old = old.replace('"Plural-Forms: nplurals=1; plural=0;\\n"\n',
                              '"Plural-Forms: nplurals=1; plural=0;\\n"\n"Generated-By: Babel 2.18.0\\n"\n')
            if part == "ch4":
                old = old.replace("Babel 2.18.0", "Babel 2.99.0")
            assert "Generated-By: Babel 2." in old and old.encode() != path.read_bytes()
            path.write_text(old, encoding="utf-8")
    rebuild_changes_nothing(project, snapshot(project))


def msgcat_narrow(path: Path, tmp: Path) -> None:
    """msgcat at another width (a translator's editor set to wrap at 70 columns)."""
    subprocess.run(["msgcat", "-w", "70", "-o", str(path), str(path)], check=True, capture_output=True)


def msgmerge_unwrapped(path: Path, tmp: Path) -> None:
    """A translator's work file (made before the book's last sentence was added, its first entry
    translated) brought up to date with ``msgmerge --update`` against the project's catalog as template,
    unwrapped (Poedit's "don't wrap" setting), then copied back into the project."""
    text = path.read_text(encoding="utf-8")
    work, template = tmp / "work.po", tmp / "template.pot"
    first = text.index('msgstr ""\n\n', text.index("msgctxt"))
    older = text[:first] + 'msgstr "ការបកប្រែ"' + text[first + len('msgstr ""'):]
    work.write_text(older.rstrip("\n").rsplit("\n\n", 1)[0] + "\n", encoding="utf-8")
    template.write_text(re.sub(r'"POT-Creation-Date: .*\\n"', r'"POT-Creation-Date: 2026-12-24 09:00+0900\\n"', text),
                        encoding="utf-8")
    subprocess.run(["msgmerge", "--quiet", "--no-wrap", "--update", "--backup=off", str(work), str(template)],
                   check=True, capture_output=True)
    assert "2026-12-24 09:00+0900" in work.read_text(encoding="utf-8")
    shutil.copy(work, path)


TOOLS = {"msgcat -w 70": msgcat_narrow, "msgmerge --update --no-wrap": msgmerge_unwrapped}


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_a_catalog_saved_by_gettext_tools_is_left_as_they_saved_it(project, tmp_path, tool):
    need(tool.split()[0])
    for path in sorted((project / "locales").glob("*/*.po")):
        if path.parent.name == "ui":
            continue
        TOOLS[tool](path, tmp_path)
    before = snapshot(project)
    relaid = before[project / "locales" / "km" / "ch1.po"]
    assert relaid != (ROOT / "locales" / "km" / "ch1.po").read_bytes(), "the tool re-laid the file"
    rebuild_changes_nothing(project, before)


def test_a_translation_merged_in_by_pomerge_survives_a_build_untouched(project, tmp_path):
    """translate-toolkit's pomerge fills entries from another file (a translator's work); the build keeps
    the translations and every byte."""
    pomerge = need("pomerge")
    config = load_config(project)
    for language, translation in (("ja", "日ASEAN関係：過去、現在、そして未来"), ("km", "ទំនាក់ទំនងជប៉ុន-អាស៊ាន៖ អតីតកាល បច្ចុប្បន្ន និងអនាគត")):
        path = catalog_path(config, language, "ch1")
        text = path.read_text(encoding="utf-8")
        header = text[:text.index("\n\n") + 2]
        entry = re.search(r'#[^\n]*\n(?:#[^\n]*\n)*msgctxt "ch1-title\.1"\nmsgid "[^"]*"\nmsgstr ""\n', text).group(0)
        work = tmp_path / f"{language}-work.po"
        work.write_text(header + entry.replace('msgstr ""', f'msgstr "{translation}"'), encoding="utf-8")
        merged = tmp_path / f"{language}-merged.po"
        subprocess.run([pomerge, "--progress=none", "-t", str(path), "-i", str(work), "-o", str(merged)],
                       check=True, capture_output=True)
        shutil.copy(merged, path)
        assert f'msgstr "{translation}"' in path.read_text(encoding="utf-8")
    before = snapshot(project)
    rebuild_changes_nothing(project, before)
    title = next(m for m in read_catalog(catalog_path(config, "ja", "ch1"), "ja") if m.context == "ch1-title.1")
    assert title.string == "日ASEAN関係：過去、現在、そして未来" and not title.fuzzy


# --------------------------------------------------------------------------- headers at their template values


def test_a_catalog_filled_by_a_script_with_template_headers_is_read(project):
    """PO-Revision-Date, Last-Translator and Language-Team left at the template's values (older msgfmt
    calls that fatal): a warning for gettext, not a broken catalog for press."""
    config = load_config(project)
    path = catalog_path(config, "km", "foreword")
    text = path.read_text(encoding="utf-8")
    text = re.sub(r'"Language-Team: .*\\n"', r'"Language-Team: LANGUAGE <LL@li.org>\\n"', text)
    text = text.replace('msgstr ""\n\n#.', 'msgstr "សេចក្តីផ្តើម"\n\n#.')
    assert "YEAR-MO-DA HO:MI+ZONE" in text and "FULL NAME <EMAIL@ADDRESS>" in text
    path.write_text(text, encoding="utf-8")
    catalog = read_catalog(path, "km")
    assert sum(1 for message in catalog if message.id and message.string) >= 3
    result = run_press("status", "km", cwd=project)
    assert result.returncode == 0, result.stderr


def test_review_import_records_the_revision_date_and_the_translator(project, tmp_path):
    config = load_config(project)
    prepare_catalogs(config)
    result = run_press("review", "export", "ja", "--format", "xliff", "--part", "foreword", "-o", str(tmp_path),
                       cwd=project)
    assert result.returncode == 0, result.stderr
    package = tmp_path / "foreword.xlf"
    xml = package.read_text(encoding="utf-8")
    xml = xml.replace("<target/>", "", 1)
    xml = re.sub(r'(<segment[^>]*>\s*<source>[^<]*</source>)', r'\1<target>序文の訳</target>', xml, count=1)
    package.write_text(xml, encoding="utf-8")
    bad = run_press("review", "import", "--translator", "Yuki", str(package), cwd=project)
    assert bad.returncode == 2 and "Name <mail>" in bad.stderr and bad.stderr.count("\n") == 1
    good = run_press("review", "import", "--translator", "Yuki Tanaka <yuki@example.org>", str(package), cwd=project)
    assert good.returncode == 0, good.stderr
    fields = dict(header_fields(catalog_path(config, "ja", "foreword").read_bytes()))
    assert fields["Last-Translator"] == "Yuki Tanaka <yuki@example.org>"
    assert re.fullmatch(r"20\d\d-\d\d-\d\d \d\d:\d\d\+0000", fields["PO-Revision-Date"])
    untouched = dict(header_fields(catalog_path(config, "ja", "ch1").read_bytes()))
    assert untouched["PO-Revision-Date"] == "YEAR-MO-DA HO:MI+ZONE", "only the catalog the package changed"
