"""Drafting through real models built here: an Argos package (en→ja) and an NLLB-style CTranslate2 model (km).

Random weights make garbage; what is checked is structure: only empty entries are filled, each
draft is fuzzy with its provenance, human work is never touched, placeholders come back or the
draft is refused, an interrupted run resumes, and bad models are refused with one clear line.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import FAST, configure_translation, copy_built, run_press, translation_project
from pipeline.config import load_config
from pipeline.errors import ExitCode
from pipeline.i18n import prepare_catalogs
from pipeline.i18n.catalogs import (MACHINE, REVIEWED, UNTRANSLATED, catalog_path, draft_fingerprint, entry_state,
                                    existing_parts, is_untouched_machine_draft, read_catalog,
                                    write_catalog)
from pipeline.i18n.draft import draft_language, open_engine
from pipeline.i18n.segments import PLACEHOLDER



@pytest.fixture
def project(tmp_path, extracted):
    return translation_project(tmp_path, extracted.output, **FAST)


def install(project: Path, source: Path | str) -> subprocess.CompletedProcess:
    result = run_press("models", "install", str(source), cwd=project)
    assert result.returncode == 0, result.stderr
    return result


def live(path: Path, language: str) -> dict:
    return {m.context: m for m in read_catalog(path, language) if m.id}


def all_entries(project: Path, language: str) -> dict:
    config = load_config(project)
    found = {}
    for part in existing_parts(config, language):
        found.update(live(catalog_path(config, language, part), language))
    return found


def snapshot(directory: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file()}


def test_the_test_package_is_a_real_argos_package(tiny_models, tmp_path, monkeypatch):
    """Argos's own installer and package reader accept it, and our engine drafts from what they installed."""
    from argostranslate import package, settings
    from pipeline.i18n.engines import load_argos
    monkeypatch.setattr(settings, "package_data_dir", tmp_path)
    package.install_from_path(tiny_models["ja"])
    installed = package.get_installed_packages(path=[tmp_path])
    assert [(p.from_code, p.to_code) for p in installed] == [("en", "ja")]
    engine = load_argos(installed[0].package_path, "en", "ja")
    drafts = engine.translate(["Japan and ASEAN are partners.", "Trade grew."], beam_size=2, max_decoding_length=6)
    assert len(drafts) == 2 and all(isinstance(d, str) and d for d in drafts)


@pytest.mark.slow
def test_press_drafts_khmer_and_japanese_and_touches_nothing_else(project, tiny_models):
    config = load_config(project)
    prepare_catalogs(config)
    ja_ch1 = catalog_path(config, "ja", "ch1")
    catalog = read_catalog(ja_ch1, "ja")
    entries = [m for m in catalog if m.id]
    entries[3].string = "日本とASEANは地域の安定の礎である。"  # a reviewer's translation
    entries[4].string, entries[4].flags = "人が直した下書き", {"fuzzy"}  # a translator's unfinished work
    write_catalog(ja_ch1, catalog)
    before = {"ja": all_entries(project, "ja"), "km": all_entries(project, "km")}

    listed = run_press("models", "list", cwd=project)
    assert "no models installed" in listed.stdout
    install(project, tiny_models["ja"])
    install(project, tiny_models["km"])
    listed = run_press("models", "list", cwd=project).stdout
    assert re.search(r"argos\s+translate-en_ja\s+en→ja\s+project\s+sha256:\w{16}\s+drafts ja", listed)
    assert re.search(r"ctranslate2\s+nllb-200-distilled-600M\s+en→km,ja\s+project.*drafts km", listed)

    result = run_press("translate", "km", "ja", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "translate: km: drafting 1,223 segments with ctranslate2 nllb-200-distilled-600M" in result.stderr
    assert "translate: ja: drafting 1,221 segments with argos translate-en_ja" in result.stderr

    for language, model_dir in (("km", "ctranslate2/nllb-200-distilled-600M"), ("ja", "argos/translate-en_ja")):
        sha = json.loads((project / "models" / model_dir / "press-model.json").read_text())["sha256"]
        after = all_entries(project, language)
        assert after.keys() == before[language].keys()
        drafted = lost = 0
        for context, old in before[language].items():
            new = after[context]
            if old.string:
                assert (new.string, new.fuzzy) == (old.string, old.fuzzy), context  # human work untouched
                continue
            if not new.string:
                lost += 1
                continue
            drafted += 1
            assert new.fuzzy and entry_state(new) == MACHINE
            assert new.auto_comments[-3:] == [f"mt: {model_dir.replace('/', ' ')}", f"mt: sha256:{sha}", f"mt: draft:{draft_fingerprint(new.string)}"]
            expected = sorted(PLACEHOLDER.findall(new.id))
            assert sorted(PLACEHOLDER.findall(new.string)) == expected, context  # every placeholder came back
            if re.search(r"<n\d+/>$", new.id):
                assert new.string.endswith(re.search(r"(<n\d+/>)+$", new.id).group(0))  # note markers re-attached
        assert drafted > 300 and lost > 0
        assert f"{language}: {lost:,} drafts lost a note marker, tag or protected term" in result.stderr
    assert entry_state(all_entries(project, "ja")[entries[3].context]) == REVIEWED
    for path in (project / "locales").rglob("*.po"):
        check = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr

    status = run_press("status", cwd=project).stdout
    total = [line.split() for line in status.splitlines() if line.strip().startswith("total")]
    assert len(total) == 2 and all(int(row[2].replace(",", "")) > 300 for row in total)

    unchanged = snapshot(project / "locales")
    again = run_press("translate", "km", "ja", cwd=project)  # only the refused drafts are retried
    assert again.returncode == 0
    assert snapshot(project / "locales") == unchanged  # deterministic engine: nothing new to save


class Interrupting:
    """Wraps a real engine and stops the run (as Ctrl-C would) after a number of batches."""

    def __init__(self, engine, stop_after: int | None):
        self.engine, self.stop_after, self.batches, self.sentences = engine, stop_after, 0, 0
        self.kind, self.model_dir = engine.kind, engine.model_dir

    def translate(self, sentences, **options):
        if self.stop_after is not None and self.batches == self.stop_after:
            raise KeyboardInterrupt
        self.batches += 1
        self.sentences += len(sentences)
        return self.engine.translate(sentences, **options)


def test_an_interrupted_run_keeps_its_drafts_and_resumes_where_it_stopped(project, tiny_models):
    install(project, tiny_models["km"])
    config = load_config(project)
    prepared = prepare_catalogs(config)
    engine, provenance = open_engine(config, "km")
    first = Interrupting(engine, stop_after=4)
    with pytest.raises(KeyboardInterrupt):
        draft_language(config, "km", prepared.keep_terms, engine=(first, provenance))
    saved = {c: m.string for c, m in all_entries(project, "km").items() if m.string}
    assert first.sentences == 4 * FAST["batch_size"] and 0 < len(saved) <= first.sentences

    second = Interrupting(engine, stop_after=None)
    report = draft_language(config, "km", prepared.keep_terms, engine=(second, provenance))
    assert second.sentences == report.wanted == len(prepared.segments) - len(saved)  # nothing done twice
    after = all_entries(project, "km")
    assert all(after[c].string == text for c, text in saved.items())


@pytest.mark.slow
def test_redraft_replaces_untouched_machine_drafts_only(project, tiny_models):
    install(project, tiny_models["km"])
    assert run_press("translate", "km", cwd=project).returncode == 0
    config = load_config(project)
    path = catalog_path(config, "km", "ch2")
    catalog = read_catalog(path, "km")
    drafts = [m for m in catalog if m.id and m.string]
    drafts[0].string += " (កែដោយមនុស្ស)"  # a translator edited the draft but has not cleared fuzzy yet
    drafts[1].flags.discard("fuzzy")  # a reviewer accepted this one
    write_catalog(path, catalog)
    edited, accepted = drafts[0].string, drafts[1].string
    result = run_press("translate", "km", "--redraft", "--beam-size", "2", cwd=project)
    assert result.returncode == 0, result.stderr
    assert re.search(r"km: drafting [\d,]+ segments", result.stderr)
    after = live(path, "km")
    assert after[drafts[0].context].string == edited and after[drafts[1].context].string == accepted
    assert not after[drafts[1].context].fuzzy
    others = [m for m in after.values() if m.fuzzy and m.context != drafts[0].context]
    assert others and all(is_untouched_machine_draft(m) for m in others)


def test_an_argos_index_on_a_file_url_installs_the_packages_the_book_needs(project, tiny_models, tmp_path):
    index = tmp_path / "index.json"
    index.write_text(json.dumps([
        {"from_code": "en", "to_code": "ja", "package_version": "1.1", "links": [tiny_models["ja"].as_uri()]},
        {"from_code": "en", "to_code": "de", "package_version": "1.1", "links": [tiny_models["de"].as_uri()]},
    ]))
    result = install(project, index.as_uri())
    assert "installed argos translate-en_ja (en→ja)" in result.stderr and "en_de" not in result.stderr
    assert [p.name for p in (project / "models" / "argos").iterdir()] == ["translate-en_ja"]
    removed = run_press("models", "remove", "translate-en_ja", cwd=project)
    assert removed.returncode == 0 and not (project / "models" / "argos" / "translate-en_ja").exists()


def test_build_without_a_model_says_how_to_install_one_and_succeeds(tmp_path, built_project):
    # the session's project, built without models: a later build, with nothing to redo, says it again
    project = copy_built(built_project, tmp_path)
    result = run_press("build", cwd=project)
    assert result.returncode == 0, result.stderr
    for model in ("nllb-200-distilled-600M", "translate-en_ja"):  # the typed warning, kept with the stage's cache
        line = next(text for text in result.stderr.splitlines() if "warning:" in text and f"'{model}'" in text)
        assert "is not installed" in line and "1,223 segments left" in line
        assert "press models install " in line  # the status 'press models list' and 'press doctor' give
    summary = next(text for text in result.stderr.splitlines() if text.startswith("warnings:"))
    assert "2 no-model" in summary, summary  # counted as warnings: --strict fails on them
    assert "run 'press models install nllb-200-distilled-600M --accept-license'" in result.stderr
    assert "run 'press models install translate-en_ja'" in result.stderr
    assert all(entry_state(m) == UNTRANSLATED for m in all_entries(project, "km").values())
    refused = run_press("translate", "ja", cwd=project)
    assert refused.returncode == ExitCode.ENVIRONMENT
    assert refused.stderr.strip().splitlines()[-1].startswith("error: environment: no model installed for ja")


# --------------------------------------------------------------------------- bad models


def corrupt_weights(tiny_models, tmp_path) -> Path:
    import zipfile
    target = tmp_path / "damaged.argosmodel"
    with zipfile.ZipFile(tiny_models["ja"]) as source, zipfile.ZipFile(target, "w") as copy:
        for info in source.infolist():
            data = source.read(info)
            copy.writestr(info, data[:200] if info.filename.endswith("model.bin") else data)
    return target


def no_tokenizer(tiny_models, tmp_path) -> Path:
    copy = tmp_path / "nllb-without-tokenizer"
    shutil.copytree(tiny_models["km"], copy)
    (copy / "sentencepiece.bpe.model").unlink()
    return copy


def truncated(tiny_models, tmp_path) -> Path:
    target = tmp_path / "truncated.argosmodel"
    target.write_bytes(tiny_models["ja"].read_bytes()[:5000])
    return target


@pytest.mark.parametrize("make, expected", [
    (truncated, "not a readable zip container"),
    (corrupt_weights, "CTranslate2 cannot load the model"),
    (lambda models, tmp: models["de"], "the package translates en→de; this book needs en→km or ja"),
    (no_tokenizer, "the model directory has no SentencePiece tokenizer"),
], ids=["truncated", "corrupt-weights", "wrong-pair", "no-tokenizer"])
def test_a_bad_model_is_refused_with_one_line_and_changes_nothing(project, tiny_models, tmp_path, make, expected):
    install(project, tiny_models["km"])
    prepare_catalogs(load_config(project))
    before_models, before_locales = snapshot(project / "models"), snapshot(project / "locales")
    bad = make(tiny_models, tmp_path)
    result = run_press("models", "install", str(bad), cwd=project)
    assert result.returncode == ExitCode.INPUT
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: input: ") and expected in lines[0]
    assert f"({bad}" in lines[0] and " — " in lines[0]
    assert snapshot(project / "models") == before_models and snapshot(project / "locales") == before_locales
    assert not any((project / "models" / ".staging").iterdir())


@pytest.mark.slow
def test_a_build_after_an_edit_drafts_exactly_the_new_sentence(tmp_path, built_project, tiny_models):
    """Through press build: a sentence added to the manuscript is the only one drafted; every existing
    translation (a reviewer's, and every draft) stays as it was, even where ids shifted."""
    project = configure_translation(copy_built(built_project, tmp_path), **FAST)  # the edition's layout cached
    install(project, tiny_models["km"])
    first = run_press("build", "--lang", "km", "--format", "epub", cwd=project, timeout=600)
    assert first.returncode == 0, first.stderr
    config = load_config(project)
    path = catalog_path(config, "km", "ch1")
    catalog = read_catalog(path, "km")
    texts = [m.id for m in all_entries(project, "km").values()]
    reviewed = next(m for m in catalog if m.id and m.string and texts.count(m.id) == 1 and len(m.id) > 40)
    reviewed.string, reviewed.flags = reviewed.string + " ។", set()  # a reviewer accepted it (with a touch)
    write_catalog(path, catalog)
    before = {m.id: (m.string, m.fuzzy) for m in all_entries(project, "km").values()}

    added = "Both partners agreed to meet again within a year"
    manuscript = project / "source" / "manuscript.txt"
    marker = "Japan and ASEAN have been the cornerstones of stability"
    manuscript.write_text(manuscript.read_text(encoding="utf-8").replace(marker, f"{added}. {marker}", 1),
                          encoding="utf-8")
    second = run_press("build", "--lang", "km", "--format", "epub", cwd=project, timeout=600)
    assert second.returncode == 0, second.stderr
    after = {m.id: (m.string, m.fuzzy) for m in all_entries(project, "km").values()}
    assert set(after) - set(before) == {f"{added}."}
    assert all(after[text] == before[text] for text in before if text in after), "nothing else changed"
    new = next(m for m in all_entries(project, "km").values() if m.id == f"{added}.")
    assert new.string == "" or is_untouched_machine_draft(new), "drafted (or refused and reported), never faked"
    assert re.search(r"km: drafting [\d,]+ segments", second.stderr)
    assert after[reviewed.id] == (reviewed.string, False)
