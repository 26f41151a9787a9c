"""Catalogs: written by Babel, valid for msgfmt, merged so that no translation is ever lost."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run_press, translation_project
from pipeline.config import load_config
from pipeline.errors import CatalogError, ExitCode
from pipeline.i18n import prepare_catalogs
from pipeline.i18n.catalogs import (MACHINE, MEMORY, OUTDATED, REVIEWED, UNTRANSLATED, catalog_path, check_po_bytes,
                                    count_states, entry_state, read_catalog, update_catalogs,
                                    write_catalog)
from pipeline.i18n.draft import draft_language
from pipeline.i18n.segments import Segment


def msgfmt_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(path)], capture_output=True, text=True)


@pytest.fixture
def project(tmp_path, extracted):
    return translation_project(tmp_path, extracted.output)


def entries(path: Path, language: str = "km") -> dict[str, object]:
    return {message.context: message for message in read_catalog(path, language) if message.id}


def test_one_catalog_per_part_each_entry_pointing_back_to_the_manuscript(project):
    config = load_config(project)
    prepared = prepare_catalogs(config)
    for language in ("km", "ja"):
        files = sorted(p.stem for p in (project / "locales" / language).glob("*.po"))
        assert files == sorted({"book", "foreword", "acknowledgements", "book-outline", "executive-summary",
                                *(f"ch{n}" for n in range(1, 7))})
        for path in (project / "locales" / language).glob("*.po"):
            assert msgfmt_check(path).returncode == 0, msgfmt_check(path).stderr
    text = (project / "locales" / "km" / "ch1.po").read_text()
    assert 'msgctxt "ch1-s1-p1.1"\nmsgid ""\n"Japan and ASEAN have been' in text
    assert "#. chapter 1, section ch1-s1, source line 167" in text and "#: manuscript.txt:167" in text
    assert "#. <n1/> = note 1 (ch1-fn1)" in text
    assert "Language: km" in text and "charset=UTF-8" in text
    ch1 = entries(project / "locales" / "km" / "ch1.po")
    assert len(ch1) == sum(1 for s in prepared.segments if s.part == "ch1")
    assert all(entry_state(m) == UNTRANSLATED for m in ch1.values())


def test_a_percent_sign_is_not_a_format_string(project):
    """Babel would flag '0.39% of the GNI' python-format and msgfmt would then reject its translation."""
    config = load_config(project)
    prepare_catalogs(config)
    path = catalog_path(config, "ja", "ch3")
    catalog = read_catalog(path, "ja")
    message = next(m for m in catalog if "0.39%" in m.id)
    assert "python-format" not in message.flags
    message.string = "GNIの約0.39％"
    assert write_catalog(path, catalog) is True
    assert msgfmt_check(path).returncode == 0


def test_merge_keeps_every_translation_and_merging_twice_changes_nothing(project):
    config = load_config(project)
    prepared = prepare_catalogs(config)
    path = catalog_path(config, "km", "ch1")
    catalog = read_catalog(path, "km")
    live = [m for m in catalog if m.id]
    reviewed, drafted, edited, removed, moved = live[5], live[6], live[7], live[8], live[9]
    for message, text in ((reviewed, "បកប្រែ ១"), (drafted, "សេចក្តីព្រាង"), (edited, "កែ ៣"),
                          (removed, "លុប ៤"), (moved, "ផ្លាស់ ៥")):
        message.string = text
    drafted.flags.add("fuzzy")
    write_catalog(path, catalog)

    segments = []
    for segment in prepared.segments:
        if segment.id == removed.context:
            continue
        if segment.id == edited.context:
            segment = dataclasses.replace(segment, text=segment.text.replace(".", ", as the editor wished.", 1))
        if segment.id == moved.context:
            segment = dataclasses.replace(segment, id="ch1-s99-p1.1")
        segments.append(segment)
    update_catalogs(config, segments, ["km"])
    after = read_catalog(path, "km")
    by_context = {m.context: m for m in after if m.id}
    assert by_context[reviewed.context].string == "បកប្រែ ១" and entry_state(by_context[reviewed.context]) == REVIEWED
    assert by_context[drafted.context].fuzzy and by_context[drafted.context].string == "សេចក្តីព្រាង"
    changed = by_context[edited.context]
    assert changed.fuzzy and changed.string == "កែ ៣" and changed.previous_id == [edited.id]
    assert entry_state(changed) == OUTDATED
    assert by_context["ch1-s99-p1.1"].string == "ផ្លាស់ ៥" and not by_context["ch1-s99-p1.1"].fuzzy
    obsolete = list(after.obsolete.values())
    assert [(m.context, m.string) for m in obsolete] == [(removed.context, "លុប ៤")]
    text = path.read_text()
    assert "#| msgid" in text
    assert '#~ msgctxt "' + removed.context + '"' in text
    assert msgfmt_check(path).returncode == 0

    before = {p: p.read_bytes() for p in (project / "locales" / "km").glob("*.po")}
    stamps = {p: p.stat().st_mtime_ns for p in before}
    again = update_catalogs(config, segments, ["km"])
    assert again.written == []
    assert {p: p.read_bytes() for p in before} == before and {p: p.stat().st_mtime_ns for p in before} == stamps

    update_catalogs(config, prepared.segments, ["km"])  # the sentence comes back: so does its translation
    restored = entries(path)
    assert restored[removed.context].string == "លុប ៤" and not restored[removed.context].fuzzy
    assert restored[edited.context].string == "កែ ៣" and restored[edited.context].fuzzy


def test_an_obsolete_draft_stays_a_draft_when_its_sentence_returns(project):
    config = load_config(project)
    prepared = prepare_catalogs(config)
    path = catalog_path(config, "ja", "foreword")
    catalog = read_catalog(path, "ja")
    first = next(m for m in catalog if m.id)
    first.string, first.flags = "下書き", {"fuzzy"}
    first.auto_comments.append("mt: argos translate-en_ja")
    write_catalog(path, catalog)
    without = [s for s in prepared.segments if s.id != first.context]
    update_catalogs(config, without, ["ja"])
    obsolete = read_catalog(path, "ja").obsolete
    assert [m.fuzzy for m in obsolete.values()] == [True]
    update_catalogs(config, prepared.segments, ["ja"])
    revived = entries(path, "ja")[first.context]
    assert revived.fuzzy and entry_state(revived) == MACHINE


def test_an_unterminated_string_is_refused_with_its_line_and_nothing_is_written(project):
    config = load_config(project)
    prepare_catalogs(config)
    path = catalog_path(config, "km", "ch2")
    lines = path.read_text().splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if line.startswith('msgid "Introduction"'))
    lines[number] = 'msgid "Introduction\n'
    path.write_text("".join(lines))
    with pytest.raises(CatalogError) as error:
        read_catalog(path, "km")
    assert error.value.where == f"line {number + 1}"
    snapshot = {p: p.read_bytes() for p in (project / "locales").rglob("*.po")}
    result = run_press("translate", "km", cwd=project)
    assert result.returncode == ExitCode.CATALOG
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("error: catalog: unterminated string (") and f"ch2.po:line {number + 1})" in message
    assert "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in (project / "locales").rglob("*.po")} == snapshot


def test_msgfmt_catches_what_the_line_guard_does_not(tmp_path):
    broken = b'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "a"\nmsgid "b"\nmsgstr ""\n'
    if shutil.which("msgfmt") is None:
        pytest.skip("gettext is not installed")
    with pytest.raises(CatalogError, match="msgfmt --check"):
        check_po_bytes(broken, tmp_path / "x.po")


def test_status_counts_each_state(project):
    config = load_config(project)
    prepare_catalogs(config)
    path = catalog_path(config, "ja", "book")
    catalog = read_catalog(path, "ja")
    live = [m for m in catalog if m.id]
    live[0].string = "人の訳"
    live[1].string, live[1].flags = "機械の下書き", {"fuzzy"}
    live[1].auto_comments.append("mt: argos translate-en_ja")
    write_catalog(path, catalog)
    counts = count_states(config, "ja")["book"]
    assert counts == {UNTRANSLATED: len(live) - 2, MACHINE: 1, MEMORY: 0, OUTDATED: 0, REVIEWED: 1}
    result = run_press("status", "ja", cwd=project)
    assert result.returncode == 0
    row = next(line for line in result.stdout.splitlines() if line.strip().startswith("book "))
    assert row.split()[1:] == [str(len(live) - 2), "1", "0", "0", "1"]


# --------------------------------------------------------------------------- the property


class FakeEngine:
    """Drafting's collaborator for the property below; real engines are exercised in test_i18n_drafting."""

    kind = "fake"

    def translate(self, sentences, *, beam_size, max_decoding_length):
        return [f"MT {sentence}" for sentence in sentences]


PROVENANCE = ["mt: fake engine", "mt: sha256:0"]
edits = st.lists(st.tuples(st.sampled_from(["edit", "delete", "insert", "review", "draft", "merge", "import"]),
                           st.integers(0, 10_000)), min_size=1, max_size=12)
PROPERTY_EXAMPLES = int(os.environ.get("PRESS_PROPERTY_EXAMPLES", "60"))  # CI: 60 new ones a run; a campaign: thousands


@pytest.fixture(scope="module")
def sentences(book, config):
    from pipeline.i18n.segments import extract_segments
    return [s.text for s in extract_segments(book, config.translation) if s.part == "ch2"][:60]


@pytest.mark.slow
@settings(max_examples=PROPERTY_EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=edits)
def test_no_translation_is_ever_lost_whatever_the_editors_machines_and_reviewers_do(sentences, extracted, steps):
    with tempfile.TemporaryDirectory() as directory:
        project = translation_project(Path(directory), extracted.output)
        for language in ("km", "ja"):  # only the catalog under test: the committed ones would all go obsolete
            shutil.rmtree(project / "locales" / language)
        config = load_config(project)
        texts = list(sentences[:12])
        spare = iter(sentences[12:])

        def segments() -> list[Segment]:
            return [Segment(f"ch2-p{index + 1}.1", text, "ch2", index + 1, "chapter 2") for index, text in enumerate(texts)]

        update_catalogs(config, segments(), ["km"])
        path = catalog_path(config, "km", "ch2")
        for action, number in steps:
            before = read_catalog(path, "km")
            if action == "edit" and texts:
                texts[number % len(texts)] += " (revised)"
            elif action == "delete" and texts:
                texts.pop(number % len(texts))
            elif action == "insert":
                texts.insert(number % (len(texts) + 1), next(spare, f"A new sentence {number}."))
            elif action == "review":
                live = [m for m in before if m.id]
                if live:
                    chosen = live[number % len(live)]
                    chosen.string, chosen.flags = f"reviewed {number}", set()
                    write_catalog(path, before)
                continue
            elif action == "draft":
                draft_language(config, "km", [], engine=(FakeEngine(), PROVENANCE))
                after = read_catalog(path, "km")
                for old in before:
                    if old.id and old.string:  # drafting never touches a non-empty entry
                        assert after.get(old.id, old.context).string == old.string
                        assert after.get(old.id, old.context).fuzzy == old.fuzzy
                continue
            elif action == "import":
                _review_round_trip(config, Path(directory), path, before, number)
                continue
            update_catalogs(config, segments(), ["km"])
            after = read_catalog(path, "km")
            _assert_nothing_lost(before, after, set(texts))
            assert update_catalogs(config, segments(), ["km"]).written == []  # merging twice changes nothing
        assert msgfmt_check(path).returncode == 0


def _review_round_trip(config, directory: Path, path: Path, before, number: int) -> None:
    """A reviewer's package out and back: the edited entry becomes reviewed, nothing else changes."""
    from pipeline.review import export_review, import_review
    from lxml import etree
    live = [m for m in before if m.id]
    if not live:
        return
    [package] = export_review(config, "km", "xliff", ["ch2"], out_dir=directory / "review")
    root = etree.fromstring(package.read_bytes())
    ns = {"x": "urn:oasis:names:tc:xliff:document:2.0"}
    chosen = live[number % len(live)]
    [unit] = root.xpath(f"//x:unit[@id='{chosen.context}']", namespaces=ns)
    segment = unit.find("x:segment", ns)
    target = segment.find("x:target", ns)
    if target is None:
        target = etree.SubElement(segment, f"{{{ns['x']}}}target")
    text = f"imported {number}"
    target[:] = [etree.fromstring(etree.tostring(code, with_tail=False)) for code in segment.find("x:source", ns)
                 if isinstance(code.tag, str)]  # keep the source's inline codes, as a CAT tool does
    target.text, segment.attrib["state"] = text, "final"
    for code in target:
        code.tail = None
    package.write_bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))
    import_review(config, package)
    after = read_catalog(path, "km")
    for old in before:
        now = after.get(old.id, old.context)
        if old.context == chosen.context:
            assert now.string.startswith(text) and not now.fuzzy
        elif old.id:
            assert (now.string, now.fuzzy) == (old.string, old.fuzzy), f"the import changed {old.context}"


def _assert_nothing_lost(before, after, current_texts: set[str]) -> None:
    live = [m for m in after if m.id]
    old_entries = [(m, True) for m in before if m.id] + [(m, False) for m in before.obsolete.values()]
    for old, was_live in old_entries:
        if not old.string:
            continue
        if was_live and old.id in current_texts and not old.fuzzy:
            # a reviewed translation of a sentence that still exists is unchanged and still reviewed
            assert any(m.id == old.id and m.string == old.string and not m.fuzzy for m in live), old.id
        else:
            survivors = [m for m in live if m.string == old.string and (m.fuzzy or m.id == old.id)]
            survivors += [m for m in after.obsolete.values() if m.string == old.string]
            assert survivors, f"lost the translation of {old.id!r}"


# --------------------------------------------------------------------------- headers for PO editors


def header(path: Path) -> dict[str, str]:
    from pipeline.i18n.catalogs import header_fields
    return dict(header_fields(path.read_bytes()))


def test_headers_are_right_for_poedit_and_weblate_and_what_their_tools_write_is_kept(project):
    need_tools = [shutil.which(tool) for tool in ("msgattrib", "msgfmt")]
    if not all(need_tools):
        pytest.skip("gettext is not installed")
    config = load_config(project)
    prepare_catalogs(config)
    km = header(catalog_path(config, "km", "ch1"))
    assert km["Language"] == "km" and km["Plural-Forms"] == "nplurals=1; plural=0;"
    assert km["Content-Type"] == "text/plain; charset=UTF-8" and km["Language-Team"] == "Khmer"
    assert not any("EMAIL@ADDRESS" in value or "LL@li.org" in value
                   for name, value in km.items() if name != "Last-Translator")
    assert header(catalog_path(config, "ja", "ch1"))["Plural-Forms"] == "nplurals=1; plural=0;"

    # A reviewer in Poedit: translates an entry, clears its fuzzy flag (gettext's own msgattrib does the
    # clearing), comments it; Poedit and Weblate write their header fields.
    path = catalog_path(config, "ja", "ch1")
    catalog = read_catalog(path, "ja")
    message = next(m for m in catalog if m.context == "ch1-s1-p1.1")
    message.string, message.flags = "日本とASEANは、アジア太平洋地域の安定と成長の礎となってきた。", {"fuzzy"}
    write_catalog(path, catalog)
    subprocess.run(["msgattrib", "--clear-fuzzy", "-o", str(path), str(path)], check=True, capture_output=True)
    text = path.read_text(encoding="utf-8")
    text = text.replace('msgctxt "ch1-s1-p1.1"', '# Checked against the Japanese press release.\nmsgctxt "ch1-s1-p1.1"', 1)
    text = re.sub(r'"Last-Translator: .*\\n"', r'"Last-Translator: Yuki Tanaka <yuki@example.org>\\n"', text)
    text = re.sub(r'"PO-Revision-Date: .*\\n"', r'"PO-Revision-Date: 2026-12-01 10:00+0900\\n"', text)
    text = re.sub(r'"Language-Team: .*\\n"', r'"Language-Team: Japanese <https://hosted.weblate.org/projects/avi/ch1/ja/>\\n"',
                  text)
    text = text.replace('"Content-Transfer-Encoding: 8bit\\n"',
                        '"Content-Transfer-Encoding: 8bit\\n"\n"X-Generator: Poedit 3.4.2\\n"\n"X-Poedit-Basepath: .\\n"')
    path.write_text(text, encoding="utf-8")
    assert msgfmt_check(path).returncode == 0

    toml = project / "source" / "book.toml"
    toml.write_text(toml.read_text().replace("[translation]\n", '[translation]\ncontact = "AVI Publications '
                                             '<publications@example.org>"\n', 1))
    config = load_config(project)
    prepare_catalogs(config)  # the merge a build runs
    fields = header(path)
    assert fields["Last-Translator"] == "Yuki Tanaka <yuki@example.org>"
    assert fields["PO-Revision-Date"] == "2026-12-01 10:00+0900"
    assert fields["Language-Team"] == "Japanese <https://hosted.weblate.org/projects/avi/ch1/ja/>"
    assert fields["X-Generator"] == "Poedit 3.4.2" and fields["X-Poedit-Basepath"] == "."
    assert fields["Report-Msgid-Bugs-To"] == "AVI Publications <publications@example.org>"
    assert fields["Content-Type"] == "text/plain; charset=UTF-8"
    merged = entries(path, "ja")["ch1-s1-p1.1"]
    assert entry_state(merged) == REVIEWED and merged.user_comments == ["Checked against the Japanese press release."]
    assert "# Checked against the Japanese press release.\n" in path.read_text(encoding="utf-8")
    assert msgfmt_check(path).returncode == 0
    assert header(catalog_path(config, "km", "ch2"))["Report-Msgid-Bugs-To"].startswith("AVI Publications")
    written = path.read_bytes()
    prepare_catalogs(config)
    assert path.read_bytes() == written, "merging again changes nothing"
    assert write_catalog(path, read_catalog(path, "ja")) is False, "read and written back (as drafting does): same bytes"
