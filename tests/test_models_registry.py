"""``press models install NAME`` from press's registry, against a loopback stand-in for the Hugging Face hub
and an Argos index (tests/fakehub.py) serving the tiny real models the suite builds (tests/tinymodels.py).

What is checked: a model installs by name, verified, and configures a language nobody had configured; a
licence not accepted, a wrong checksum, a cut-off download and a 404 each leave nothing installed and say
so in one line; the hub cache means a second install downloads nothing; HF_HUB_OFFLINE is honoured; a
maintainer's 'press models pin' fills the registry; and 'models list', 'doctor' and 'translate' agree on
each language's status.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from conftest import FAST, run_press, translation_project
from fakehub import Hub, serve
from pipeline.errors import ExitCode

CT2_REPO, TOKENIZER_REPO = "press-tests/tiny-nllb-ct2", "press-tests/tiny-nllb"
CT2_FILES = ("model.bin", "config.json", "shared_vocabulary.json")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def hub(tiny_models) -> Hub:
    """The tiny NLLB-style model split as the real entry is (weights in a conversion repository, the tokenizer
    in the original's), and the tiny en→ja Argos package in an index."""
    hub = Hub()
    model = tiny_models["km"]
    hub.add_repo(CT2_REPO, {name: (model / name).read_bytes() for name in CT2_FILES})
    hub.add_repo(TOKENIZER_REPO, {"sentencepiece.bpe.model": (model / "sentencepiece.bpe.model").read_bytes()})
    hub.argos["packages/translate-en_ja-1_1.argosmodel"] = tiny_models["ja"].read_bytes()
    return hub


def registry(hub: Hub, path: Path, *, pinned: bool = True, wrong: str | None = None) -> Path:
    """A registry in press's format naming the hub's files (with their real SHA-256s when ``pinned``)."""
    lines = ["# the test registry: comments must survive 'press models pin'", "",
             "[tiny-nllb]", 'engine = "ctranslate2"', 'family = "tiny NLLB-style"', 'languages = ["en", "km", "ja"]',
             'license = "CC-BY-NC-4.0"', "accept_license = true", 'size = "about 1 MB"', ""]
    for repo, names in ((CT2_REPO, CT2_FILES), (TOKENIZER_REPO, ("sentencepiece.bpe.model",))):
        for name in names:
            data = hub.repos[repo].files[name]
            lines += ["[[tiny-nllb.files]]", f'repo = "{repo}"',
                      f'revision = "{hub.repos[repo].commit if pinned else "main"}"', f'path = "{name}"']
            if pinned:
                lines.append(f'sha256 = "{sha(b"tampered") if name == wrong else sha(data)}"')
            lines.append("")
    package = hub.argos["packages/translate-en_ja-1_1.argosmodel"]
    lines += ["[translate-en_ja]", 'engine = "argos"', 'languages = ["en", "ja"]', 'license = "see its README"',
              'size = "about 1 MB"', "", "[translate-en_ja.argos]", 'package = "translate-en_ja"', 'from_code = "en"',
              'to_code = "ja"']
    if pinned:
        lines += ['version = "1.1"', f'sha256 = "{sha(b"tampered") if wrong == "argosmodel" else sha(package)}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def environment(url: str, tmp_path: Path, registry_file: Path, **extra: str) -> dict:
    return {"HF_ENDPOINT": url, "HF_HOME": str(tmp_path / "hf-home"), "ARGOS_PACKAGE_INDEX": f"{url}/argos",
            "PRESS_MODEL_REGISTRY": str(registry_file), "XDG_DATA_HOME": str(tmp_path / "xdg"),
            "NO_PROXY": "127.0.0.1", "HF_HUB_DISABLE_PROGRESS_BARS": "1", **extra}


@pytest.fixture
def project(tmp_path, extracted, hub):
    """A project whose book.toml names no model for km (so an install configures it)."""
    project = translation_project(tmp_path / "project", extracted.output, **FAST)
    toml = project / "source" / "book.toml"
    toml.write_text(re.sub(r"\[translation\.km\]\n(#.*\n|engine.*\n|model.*\n)*\n", "", toml.read_text()))
    assert "[translation.km]" not in toml.read_text()
    hub.argos["index.json"] = (
        '[{"package_version": "1.1", "from_code": "en", "to_code": "ja", "links": ["URL/argos/packages/'
        'translate-en_ja-1_1.argosmodel"]}]').encode()
    return project


def nothing_installed(project: Path) -> bool:
    models = project / "models"
    installed = [p for kind in ("ctranslate2", "argos") for p in (models / kind).glob("*")] if models.exists() else []
    staging = list((models / ".staging").iterdir()) if (models / ".staging").exists() else []
    return not installed and not staging


def install(project, hub, tmp_path, name, *args, registry_file=None, **env):
    registry_file = registry_file or registry(hub, tmp_path / "registry.toml")
    return run_press("models", "install", name, *args, cwd=project,
                     env=environment(hub.url, tmp_path, registry_file, **env), timeout=300)


@pytest.mark.slow
def test_install_by_name_downloads_verifies_installs_and_configures_the_language(project, hub, tmp_path):
    before = (project / "source" / "book.toml").read_text()
    with serve(hub):
        hub.argos["index.json"] = hub.argos["index.json"].replace(b"URL", hub.url.encode())
        result = install(project, hub, tmp_path, "tiny-nllb", "--accept-license")
        assert result.returncode == 0, result.stderr
        installed = project / "models" / "ctranslate2" / "tiny-nllb"
        assert sorted(p.name for p in installed.iterdir()) == sorted([*CT2_FILES, "sentencepiece.bpe.model",
                                                                      "press-model.json"])
        for name in CT2_FILES:
            assert (installed / name).read_bytes() == hub.repos[CT2_REPO].files[name]
        assert "installed ctranslate2 tiny-nllb (en→km, ja)" in result.stderr
        assert "km: now drafted by tiny-nllb ([translation.km] written in source/book.toml)" in result.stderr
        assert "ja: still drafted by translate-en_ja" in result.stderr  # a configured language is left alone
        after = (project / "source" / "book.toml").read_text()
        assert after.startswith(before.split("[review]")[0].rstrip("\n"))  # every earlier line, comments too
        assert after.replace('[translation.km]\nengine = "ctranslate2"\nmodel = "tiny-nllb"\n\n', "") == before
        assert len(hub.gets("/model.bin")) == 1

        # the hub cache: removed and installed again, nothing is downloaded a second time
        assert run_press("models", "remove", "tiny-nllb", cwd=project).returncode == 0
        again = install(project, hub, tmp_path, "tiny-nllb", "--accept-license")
        assert again.returncode == 0, again.stderr
        assert len(hub.gets("/model.bin")) == 1

        # and the Argos package by name, from the index over plain HTTP
        argos = install(project, hub, tmp_path, "translate-en_ja")
        assert argos.returncode == 0, argos.stderr
        assert (project / "models" / "argos" / "translate-en_ja" / "metadata.json").is_file()

    listed = run_press("models", "list", cwd=project).stdout
    assert "km: ready: ctranslate2 tiny-nllb drafts it" in listed and "ja: ready: argos translate-en_ja" in listed
    drafted = run_press("translate", "km", cwd=project)
    assert drafted.returncode == 0, drafted.stderr
    assert re.search(r"translate: km: drafting [\d,]+ segments with ctranslate2 tiny-nllb on cpu\n", drafted.stderr)
    assert re.search(r"km: drafted [\d,]+ segments in .* segments/s on cpu\)", drafted.stderr)


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_licence_not_accepted_downloads_nothing(project, hub, tmp_path):
    with serve(hub):
        result = install(project, hub, tmp_path, "tiny-nllb")
    assert result.returncode == ExitCode.USAGE
    line = one_line(result)
    assert line.startswith("error: usage: tiny-nllb is licensed CC-BY-NC-4.0") and "--accept-license" in line
    assert not hub.gets() and nothing_installed(project)


@pytest.mark.parametrize("fault, expected", [
    ("checksum", "checksum mismatch: model.bin has SHA-256"),
    ("cut", "the download failed"),
    ("404", "the hub has no file model.bin in press-tests/tiny-nllb-ct2"),
    ("argos-checksum", "checksum mismatch: the package has SHA-256"),
    ("argos-cut", "the download was cut off"),
    ("argos-404", "cannot download (HTTP Error 404"),
])
def test_a_bad_download_leaves_nothing_installed_and_says_so_in_one_line(project, hub, tmp_path, fault, expected):
    name = "translate-en_ja" if fault.startswith("argos") else "tiny-nllb"
    registry_file = registry(hub, tmp_path / "registry.toml",
                             wrong={"checksum": "model.bin", "argos-checksum": "argosmodel"}.get(fault))
    if fault == "cut":
        hub.cut_always.add("model.bin")
    elif fault == "argos-cut":
        hub.cut_always.add("translate-en_ja-1_1.argosmodel")
    elif fault == "404":
        del hub.repos[CT2_REPO].files["model.bin"]
    elif fault == "argos-404":
        del hub.argos["packages/translate-en_ja-1_1.argosmodel"]
    before = (project / "source" / "book.toml").read_bytes()
    with serve(hub):
        hub.argos["index.json"] = hub.argos["index.json"].replace(b"URL", hub.url.encode())
        result = install(project, hub, tmp_path, name, "--accept-license", registry_file=registry_file)
    assert result.returncode == ExitCode.INPUT, result.stderr
    line = one_line(result)
    assert line.startswith("error: input: ") and expected in line and "nothing was installed" in line
    assert nothing_installed(project) and (project / "source" / "book.toml").read_bytes() == before
    if fault == "checksum":  # the bad file is dropped from the cache too: the next try downloads it again
        assert not list((tmp_path / "hf-home").rglob("*/blobs/" + sha(hub.repos[CT2_REPO].files["model.bin"])))


def test_a_connection_cut_once_is_retried_and_the_install_completes(project, hub, tmp_path):
    hub.cut_once.add("model.bin")
    with serve(hub):
        result = install(project, hub, tmp_path, "tiny-nllb", "--accept-license")
    assert result.returncode == 0, result.stderr
    assert len(hub.gets("/model.bin")) == 2
    installed = project / "models" / "ctranslate2" / "tiny-nllb" / "model.bin"
    assert installed.read_bytes() == hub.repos[CT2_REPO].files["model.bin"]


def test_hf_hub_offline_uses_the_cache_only(project, hub, tmp_path):
    with serve(hub):
        offline = install(project, hub, tmp_path, "tiny-nllb", "--accept-license", HF_HUB_OFFLINE="1")
        assert offline.returncode == ExitCode.INPUT and not hub.gets()
        line = one_line(offline)
        assert "HF_HUB_OFFLINE is set and the file is not in the Hugging Face cache" in line
        assert nothing_installed(project)
        assert install(project, hub, tmp_path, "tiny-nllb", "--accept-license").returncode == 0  # fills the cache
        shutil.rmtree(project / "models")
        count = len(hub.requests)
        cached = install(project, hub, tmp_path, "tiny-nllb", "--accept-license", HF_HUB_OFFLINE="1")
        assert cached.returncode == 0, cached.stderr
        assert len(hub.requests) == count  # not one request: everything came from the cache


def test_an_unpinned_entry_is_checked_against_the_hubs_own_sha256_and_says_it_is_unpinned(project, hub, tmp_path):
    unpinned = registry(hub, tmp_path / "unpinned.toml", pinned=False)
    with serve(hub):
        result = install(project, hub, tmp_path, "tiny-nllb", "--accept-license", registry_file=unpinned)
        assert result.returncode == 0, result.stderr
        assert "models: warning: tiny-nllb is not pinned in press's model registry yet" in result.stderr
        shutil.rmtree(project / "models")
        hub.lying_etag.add("config.json")  # the hub says one SHA-256, the bytes have another
        lying = install(project, hub, tmp_path / "other-cache", "tiny-nllb", "--accept-license",
                        registry_file=unpinned)
    assert lying.returncode == ExitCode.INPUT
    assert "checksum mismatch: config.json has SHA-256" in lying.stderr and "the hub says" in lying.stderr
    assert nothing_installed(project)


def test_pin_records_the_commit_and_every_sha256_and_keeps_the_comments(project, hub, tmp_path):
    unpinned = registry(hub, tmp_path / "registry.toml", pinned=False)
    with serve(hub):
        hub.argos["index.json"] = hub.argos["index.json"].replace(b"URL", hub.url.encode())
        for name in ("tiny-nllb", "translate-en_ja"):
            result = run_press("models", "pin", name, cwd=project, env=environment(hub.url, tmp_path, unpinned))
            assert result.returncode == 0, result.stderr
    text = unpinned.read_text()
    assert text.startswith("# the test registry: comments must survive 'press models pin'\n")
    expected = registry(hub, tmp_path / "expected.toml", pinned=True).read_text()
    assert text == expected  # exactly the registry written by hand with the real commits and hashes


def test_models_use_writes_the_table_keeping_the_file_and_refuses_what_it_cannot_use(project, hub, tmp_path):
    toml = project / "source" / "book.toml"
    before = toml.read_text()
    env = environment("http://127.0.0.1:9", tmp_path, registry(hub, tmp_path / "registry.toml"))
    used = run_press("models", "use", "km", "tiny-nllb", cwd=project, env=env)
    assert used.returncode == 0, used.stderr
    assert "km: [translation.km] now names ctranslate2 tiny-nllb (not installed yet — run 'press models install " \
           "tiny-nllb --accept-license'" in used.stderr
    assert toml.read_text().replace('[translation.km]\nengine = "ctranslate2"\nmodel = "tiny-nllb"\n\n', "") == before
    switched = run_press("models", "use", "ja", "tiny-nllb", cwd=project, env=env)
    assert switched.returncode == 0
    assert '[translation.ja]\nengine = "ctranslate2"\nmodel = "tiny-nllb"\n# team = ' in toml.read_text()
    wrong_language = run_press("models", "use", "fr", "tiny-nllb", cwd=project, env=env)
    assert wrong_language.returncode == ExitCode.USAGE and one_line(wrong_language).startswith("error: usage: 'fr'")
    unknown = run_press("models", "use", "km", "no-such-model", cwd=project, env=env)
    assert unknown.returncode == ExitCode.INPUT and "no model named 'no-such-model'" in one_line(unknown)


@pytest.mark.slow
def test_list_doctor_and_translate_agree_on_each_languages_status(project, hub, tmp_path, tiny_models):
    """km: configured (by the test) but missing; ja: configured and installed; then km installed but not
    configured. Each command prints the same status line with the same fix."""
    env = environment("http://127.0.0.1:9", tmp_path, registry(hub, tmp_path / "registry.toml"))
    assert run_press("models", "install", str(tiny_models["ja"]), cwd=project, env=env).returncode == 0
    assert run_press("models", "use", "km", "tiny-nllb", cwd=project, env=env).returncode == 0

    missing = "km: configured, not installed: ctranslate2 model 'tiny-nllb' named in [translation.km] is not " \
              "installed — run 'press models install tiny-nllb --accept-license' (CC-BY-NC-4.0, about 1 MB)"
    assert missing in run_press("models", "list", cwd=project, env=env).stdout
    doctor = run_press("doctor", cwd=project, env=env).stdout
    assert re.search(r"warn  model \(km\) +ctranslate2 model 'tiny-nllb' named in \[translation.km\] is not installed",
                     doctor)
    assert "fix: run 'press models install tiny-nllb --accept-license' (CC-BY-NC-4.0, about 1 MB); until then " \
           "'press translate' and 'press build' leave km's segments untranslated (drafts reach an edition only " \
           "with --drafts)" in doctor
    assert "shows English" not in doctor
    assert re.search(r"ok    model \(ja\) +argos translate-en_ja drafts it", doctor)
    translate = run_press("translate", "km", cwd=project, env=env)
    assert translate.returncode == ExitCode.ENVIRONMENT
    assert ("translate: warning: km: ctranslate2 model 'tiny-nllb' named in [translation.km] is not installed; "
            "1,223 segments left untranslated — run 'press models install tiny-nllb --accept-license'") in translate.stderr

    # installed under another name, but book.toml names tiny-nllb: left alone, and the fix offers both ways
    copy = tmp_path / "nllb-copy"
    shutil.copytree(tiny_models["km"], copy)
    installed = run_press("models", "install", str(copy), cwd=project, env=env)
    assert installed.returncode == 0, installed.stderr
    assert "km: still drafted by tiny-nllb ([translation.km]); 'press models use km nllb-copy' switches to this one" \
        in installed.stderr
    assert f"{missing}, or 'press models use km nllb-copy' (installed)" in run_press("models", "list", cwd=project,
                                                                                      env=env).stdout
    toml = project / "source" / "book.toml"
    toml.write_text(toml.read_text().replace('[translation.km]\nengine = "ctranslate2"\nmodel = "tiny-nllb"\n\n', ""))
    not_configured = ("km: installed, not configured: ctranslate2 nllb-copy is installed but [translation.km] does "
                      "not name a model — run 'press models use km nllb-copy'")
    assert not_configured in run_press("models", "list", cwd=project, env=env).stdout
    assert "fix: run 'press models use km nllb-copy'" in run_press("doctor", cwd=project, env=env).stdout
    translate = run_press("translate", "km", cwd=project, env=env)
    assert "warning: km: ctranslate2 nllb-copy is installed but [translation.km] does not name a model" in translate.stderr


def test_the_shipped_registry_has_the_four_models_and_invents_no_hash(monkeypatch, tmp_path, config):
    """NLLB-200 needs --accept-license (CC-BY-NC), M2M-100 is MIT, MADLAD-400 Apache-2.0, Argos en→ja by index;
    a hash is either a real 64-digit SHA-256 written by 'press models pin' or absent (entry unpinned)."""
    import dataclasses
    from pipeline.i18n.models import NO_MODEL, language_status
    from pipeline.i18n.registry import COMMIT, REGISTRY, SHA256, load_registry
    monkeypatch.delenv("PRESS_MODEL_REGISTRY", raising=False)
    shipped = load_registry(REGISTRY)
    assert {name: (m.engine, m.license, m.accept_license) for name, m in shipped.items()} == {
        "nllb-200-distilled-600M": ("ctranslate2", "CC-BY-NC-4.0", True),
        "m2m100_418M": ("ctranslate2", "MIT", False),
        "madlad400-3b-mt": ("ctranslate2", "Apache-2.0", False),
        "translate-en_ja": ("argos", "see its README", False)}
    for model in shipped.values():
        assert {"km", "ja"} & set(model.languages)
        for spec in model.files:
            assert spec.revision == "main" or COMMIT.match(spec.revision)
            assert spec.sha256 is None or SHA256.match(spec.sha256)
        tokenizers = [f.path for f in model.files if f.path.endswith(".model")]
        assert model.engine == "argos" or len(tokenizers) == 1 and "model.bin" in [f.path for f in model.files]
    # nothing configured, nothing installed: the fix names a registry model that needs no licence acceptance
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    bare = dataclasses.replace(config, project_dir=tmp_path,
                               translation=dataclasses.replace(config.translation, models={}))
    km, ja = language_status(bare, "km"), language_status(bare, "ja")
    assert (km.state, km.fix) == (NO_MODEL, "run 'press models install m2m100_418M' (MIT, about 1 GB)")
    assert (ja.state, ja.fix) == (NO_MODEL, "run 'press models install translate-en_ja' (see its README, about 100 MB)")


def test_models_use_keeps_a_windows_book_toml_in_its_line_endings(tmp_path, extracted):
    """A book.toml saved on Windows (CRLF) with an inline comment on the model line: 'models use' changes the
    two values and nothing else; it was rewritten with LF endings, a diff of every line."""
    project = translation_project(tmp_path / "project", extracted.output, **FAST)
    toml = project / "source" / "book.toml"
    text = toml.read_text(encoding="utf-8").replace('model = "translate-en_ja"', 'model = "translate-en_ja"  # small')
    toml.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    used = run_press("models", "use", "ja", "m2m100_418M", cwd=project)
    assert used.returncode == 0, used.stderr
    expected = text.replace('[translation.ja]\nengine = "argos"\nmodel = "translate-en_ja"  # small',
                            '[translation.ja]\nengine = "ctranslate2"\nmodel = "m2m100_418M"  # small')
    assert expected != text
    assert toml.read_bytes() == expected.replace("\n", "\r\n").encode("utf-8")

    # a table press adds to a CRLF file is written in CRLF too
    without_km = re.sub(r"\[translation\.km\]\n(#.*\n|engine.*\n|model.*\n)*\n", "", expected)
    toml.write_bytes(without_km.replace("\n", "\r\n").encode("utf-8"))
    assert run_press("models", "use", "km", "m2m100_418M", cwd=project).returncode == 0
    written = toml.read_bytes()
    assert b'[translation.km]\r\nengine = "ctranslate2"\r\nmodel = "m2m100_418M"\r\n' in written
    assert written.count(b"\n") == written.count(b"\r\n")
