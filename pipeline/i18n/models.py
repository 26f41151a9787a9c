"""Installed translation models: ``press models install|list|remove``, and finding one to draft with.

Models live in the project's ``models/`` (not committed) or in the user's data directory
(``$XDG_DATA_HOME/press/models``), under ``argos/<package>`` or ``ctranslate2/<name>``. An install
is checked completely — safe zip, Argos metadata, language pair, tokenizer, a CTranslate2 load —
in a staging directory, and only then moved into place, so a bad package changes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..config import BookConfig
from ..errors import InputError
from ..safety import Limits, atomic_write, file_hash, open_zip, read_input_bytes
from . import engines

SIDECAR = "press-model.json"
URL_SCHEMES = ("file://", "http://", "https://")


@dataclass(frozen=True)
class InstalledModel:
    kind: str
    name: str
    path: Path
    source: str
    targets: tuple[str, ...]
    sha256: str
    scope: str  # "project" or "user"


def user_models_dir() -> Path:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "press" / "models"


def model_roots(config: BookConfig) -> list[tuple[str, Path]]:
    return [("project", config.models_dir), ("user", user_models_dir())]


def model_limits(config: BookConfig) -> Limits:
    """Models are big by nature (hundreds of MB to GB); every other zip check stays as configured."""
    gib = 1024 ** 3
    return dataclasses.replace(config.limits, max_input_bytes=max(config.limits.max_input_bytes, 4 * gib),
                               max_zip_total_bytes=max(config.limits.max_zip_total_bytes, 8 * gib),
                               max_zip_member_bytes=max(config.limits.max_zip_member_bytes, 8 * gib))


def find_model(config: BookConfig, kind: str, name: str) -> Path | None:
    for _, root in model_roots(config):
        candidate = root / kind / name
        if candidate.is_dir():
            return candidate
    return None


def model_sha256(model_dir: Path) -> str:
    """The SHA-256 of the model weights, recorded at install (computed now for a model placed by hand)."""
    try:
        return json.loads((model_dir / SIDECAR).read_text(encoding="utf-8"))["sha256"]
    except (OSError, ValueError, KeyError):
        return file_hash(_weights(model_dir))


def _weights(model_dir: Path) -> Path:
    return model_dir / "model" / "model.bin" if (model_dir / "model").is_dir() else model_dir / "model.bin"


# --------------------------------------------------------------------------- listing and removing


def list_models(config: BookConfig) -> list[InstalledModel]:
    models = []
    for scope, root in model_roots(config):
        if (root / "argos").is_dir():
            from argostranslate.package import get_installed_packages
            for package in get_installed_packages(path=[root / "argos"]):
                models.append(InstalledModel("argos", package.package_path.name, package.package_path,
                                             package.from_code, (package.to_code,),
                                             model_sha256(package.package_path), scope))
        for directory in _subdirectories(root / "ctranslate2"):
            targets = tuple(engines.multilingual_languages(directory, config.source_language,
                                                           list(config.target_languages)))
            models.append(InstalledModel("ctranslate2", directory.name, directory, config.source_language,
                                         targets, model_sha256(directory), scope))
    return models


def _subdirectories(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.iterdir() if path.is_dir() and not path.name.startswith("."))


def remove_model(config: BookConfig, name: str, *, user: bool = False) -> InstalledModel:
    scope = "user" if user else "project"
    for model in list_models(config):
        if model.name == name and model.scope == scope:
            if model.kind == "argos":
                from argostranslate.package import Package, uninstall
                uninstall(Package(model.path))
            else:
                shutil.rmtree(model.path)
            return model
    raise InputError(f"no {scope} model named {name!r} is installed", hint="'press models list' shows them")


# --------------------------------------------------------------------------- installing


def install_models(config: BookConfig, source: str, *, user: bool = False, accept_license: bool = False,
                   quiet: bool = False, warn=print) -> list[InstalledModel]:
    """Install a model press knows by name (its registry), an .argosmodel (path or URL), every fitting package
    of an Argos index, or a CTranslate2 directory."""
    root = user_models_dir() if user else config.models_dir
    scope = "user" if user else "project"
    if _is_registry_name(source):
        from .registry import install_by_name
        return [install_by_name(config, source, accept_license=accept_license, user=user, quiet=quiet, warn=warn)]
    if source.endswith(".json"):
        return [_install_argos(config, _fetch(config, link), link, root, scope)
                for link in _index_links(config, source)]
    if not source.startswith(URL_SCHEMES) and Path(source).is_dir():
        return [_install_ctranslate2(config, Path(source), root, scope)]
    return [_install_argos(config, _fetch(config, source), source, root, scope)]


def _is_registry_name(source: str) -> bool:
    """A bare name (no path separator, no file suffix, nothing of that name here) is looked up in the registry."""
    return (not source.startswith(URL_SCHEMES) and "/" not in source and not Path(source).exists()
            and not source.endswith((".argosmodel", ".json", ".zip")))


def _fetch(config: BookConfig, source: str) -> bytes:
    limits = model_limits(config)
    if not source.startswith(URL_SCHEMES):
        if not Path(source).exists():
            raise InputError("model package not found", source,
                             hint="check the path; 'press models install NAME' installs a model press knows by name "
                                  "(README: Translation)")
        return read_input_bytes(Path(source), limits, what="model package")
    try:
        import urllib.request
        with urllib.request.urlopen(source, timeout=120) as response:
            data = response.read(limits.max_input_bytes + 1)
    except (OSError, ValueError) as error:  # urllib's URLError is an OSError
        raise InputError(f"cannot fetch the model ({getattr(error, 'reason', error)})", source,
                         hint="check the URL; without a network, use a file:// mirror or a local path")
    if len(data) > limits.max_input_bytes:
        raise InputError("the download is larger than any model press accepts", source)
    return data


def _index_links(config: BookConfig, source: str) -> list[str]:
    """From an Argos package index (argospm's index.json), the first link of each package this book needs."""
    try:
        index = json.loads(_fetch(config, source))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"not an Argos package index ({error})", source, hint="give the index.json of an argospm mirror")
    if not isinstance(index, list):
        raise InputError("not an Argos package index (expected a JSON list of packages)", source)
    links = [entry["links"][0] for entry in index
             if isinstance(entry, dict) and entry.get("from_code") == config.source_language
             and entry.get("to_code") in config.target_languages and entry.get("links")]
    if not links:
        raise InputError(f"the index has no {config.source_language}→{'/'.join(config.target_languages)} package",
                         source, hint="Argos has no English→Khmer package: use a CTranslate2 model for Khmer")
    return links


def _install_argos(config: BookConfig, data: bytes, source: str, root: Path, scope: str) -> InstalledModel:
    return install_argos_bytes(config, data, source, root, scope)


def install_argos_bytes(config: BookConfig, data: bytes, source: str, root: Path, scope: str, *,
                        registry: dict | None = None) -> InstalledModel:
    """Check an .argosmodel completely in a staging directory, then move it into place."""
    archive = open_zip(data, model_limits(config), path=source)
    names = archive.names()
    tops = {name.split("/", 1)[0] for name in names}
    if "metadata.json" in names:
        top = ""
    elif len(tops) == 1 and f"{next(iter(tops))}/metadata.json" in names:
        top = next(iter(tops))
    else:
        raise InputError("not an Argos package: no metadata.json at its top", source,
                         hint="the file is damaged or not an .argosmodel")
    with staging_area(root) as staging:
        archive.extract_to(staging)
        package_dir = staging / top if top else staging
        try:
            package = engines.read_argos_package(package_dir)
            _smoke_test(engines.load_argos(package_dir, package.from_code, package.to_code), source)
        except InputError as error:  # name the file the user gave, not the staging directory
            raise InputError(error.message, source, hint=error.hint) from error
        if package.from_code != config.source_language or package.to_code not in config.target_languages:
            raise InputError(f"the package translates {package.from_code}→{package.to_code}; this book needs "
                             f"{config.source_language}→{' or '.join(config.target_languages)}", source,
                             hint="install a package for one of the book's languages")
        from argostranslate.package import argospm_package_name
        return _commit(package_dir, root / "argos" / argospm_package_name(package),
                       InstalledModel("argos", argospm_package_name(package), root / "argos" / argospm_package_name(package),
                                      package.from_code, (package.to_code,), "", scope), source, registry)


def _install_ctranslate2(config: BookConfig, directory: Path, root: Path, scope: str) -> InstalledModel:
    name = directory.resolve().name
    with staging_area(root) as staging:
        copy = staging / name
        shutil.copytree(directory, copy)
        return install_ctranslate2_dir(config, copy, name, root, scope, source=str(directory))


def install_ctranslate2_dir(config: BookConfig, staged: Path, name: str, root: Path, scope: str, *, source: str,
                            registry: dict | None = None) -> InstalledModel:
    """Check a CTranslate2 model directory already in the staging area, then move it into place."""
    targets = _check_ctranslate2(config, staged, source)
    return _commit(staged, root / "ctranslate2" / name,
                   InstalledModel("ctranslate2", name, root / "ctranslate2" / name, config.source_language,
                                  tuple(targets), "", scope), source, registry)


def _check_ctranslate2(config: BookConfig, directory: Path, source: str | Path) -> list[str]:
    """Tokenizer, language tokens for the book's languages, a load and one translation; the targets it serves."""
    try:
        engines.tokenizer_path(directory)
        targets = engines.multilingual_languages(directory, config.source_language, list(config.target_languages))
        if not targets:
            raise InputError(f"the model has no language tokens for {', '.join(config.target_languages)}", directory,
                             hint="use a multilingual model (NLLB-200, M2M-100, MADLAD-400) that covers the book's "
                                  "languages")
        _smoke_test(engines.load_multilingual(directory, config.source_language, targets[0]), source)
    except InputError as error:
        if str(source) == str(directory):
            raise
        raise InputError(error.message, source, hint=error.hint) from error  # name what the user asked for
    return targets


def _smoke_test(engine: engines.Engine, source: str | Path) -> None:
    """One real translation, so a model that loads but cannot run is refused at install, not mid-build."""
    try:
        engine.translate(["Test."], beam_size=1, max_decoding_length=4)
    except (RuntimeError, ValueError, OSError, IndexError) as error:
        raise InputError(f"the model loads but cannot translate ({error})", source,
                         hint="the model or its tokenizer is damaged; install it again")


class staging_area:
    """A scratch directory beside the installed models (so a move into place is a rename), removed whatever happens."""

    def __init__(self, root: Path):
        self.root = root

    def __enter__(self) -> Path:
        (self.root / ".staging").mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(dir=self.root / ".staging"))
        return self.path

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _commit(staged: Path, final: Path, model: InstalledModel, source: str,
            registry: dict | None = None) -> InstalledModel:
    """Record the weights' hash (and, for a model installed by name, its registry entry and every file's
    hash), then swap the staged model into place (replacing an older install)."""
    sha256 = file_hash(_weights(staged))
    record: dict[str, object] = {"kind": model.kind, "name": model.name, "sha256": sha256,
                                 "installed_from": str(source)}
    if registry:
        record["registry"] = registry
    atomic_write(staged / SIDECAR, json.dumps(record, indent=2) + "\n")
    final.parent.mkdir(parents=True, exist_ok=True)
    retired = None
    if final.exists():
        retired = final.with_name(f".{final.name}.old")
        shutil.rmtree(retired, ignore_errors=True)
        final.rename(retired)
    staged.rename(final)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
    return dataclasses.replace(model, sha256=sha256)


# --------------------------------------------------------------------------- one status per language


READY, NOT_CONFIGURED, MISSING, NO_MODEL = "ready", "installed, not configured", "configured, not installed", "no model"


@dataclass(frozen=True)
class LanguageStatus:
    """What ``models list``, ``doctor`` and ``translate`` all say about one language's model."""

    language: str
    state: str  # READY, NOT_CONFIGURED, MISSING or NO_MODEL
    detail: str
    fix: str = ""  # the command that makes the language ready ("" when it is)

    @property
    def ready(self) -> bool:
        return self.state == READY

    def line(self) -> str:
        return f"{self.language}: {self.detail}" + (f" — {self.fix}" if self.fix else "")


def language_status(config: BookConfig, language: str, installed: list[InstalledModel] | None = None) -> LanguageStatus:
    """Configured and installed / installed but not configured / configured but missing / nothing at all,
    with the command that fixes each."""
    installed = list_models(config) if installed is None else installed
    serving = [model for model in installed if language in model.targets]
    choice = config.translation.models.get(language)
    if choice is not None:
        found = find_model(config, choice.engine, choice.model)
        if found is not None:
            return LanguageStatus(language, READY, f"{choice.engine} {choice.model} drafts it ({found})")
        fix = _install_fix(choice.model)
        others = [model for model in serving if model.name != choice.model]
        if others:
            fix += f", or 'press models use {language} {others[0].name}' (installed)"
        return LanguageStatus(language, MISSING, f"{choice.engine} model {choice.model!r} named in [translation.{language}] "
                                                 "is not installed", fix)
    if serving:
        return LanguageStatus(language, NOT_CONFIGURED,
                              f"{serving[0].kind} {serving[0].name} is installed but [translation.{language}] does not "
                              "name a model", f"run 'press models use {language} {serving[0].name}'")
    from .registry import models_for
    candidates = models_for(language)
    fix = _install_fix(candidates[0].name) if candidates else "install one with 'press models install PATH|URL'"
    return LanguageStatus(language, NO_MODEL, "no model is configured or installed", fix)


def _install_fix(name: str) -> str:
    from .registry import registry_model
    known = registry_model(name)
    if known is not None:
        return f"run '{known.install_command()}' ({known.license}, {known.size})"
    return (f"install it with 'press models install PATH|URL' (an .argosmodel or a CTranslate2 directory named {name}; "
            "README: Translation)")


def language_statuses(config: BookConfig) -> list[LanguageStatus]:
    installed = list_models(config)
    return [language_status(config, language, installed) for language in config.target_languages]


# --------------------------------------------------------------------------- press models use


def use_model(config: BookConfig, language: str, name: str) -> tuple[str, bool]:
    """Name ``name`` in ``[translation.LANG]`` of book.toml, keeping its comments and layout (tomlkit); the
    engine comes from the installed model, else from press's registry. Returns (engine, installed)."""
    from ..errors import UsageError
    from .registry import registry_model
    if language not in config.target_languages:
        raise UsageError(f"{language!r} is not a target language of this book",
                         hint=f"the book's target languages are {', '.join(config.target_languages)}")
    installed = [m for m in list_models(config) if m.name == name]
    known = registry_model(name)
    if installed:
        engine = installed[0].kind
        if language not in installed[0].targets:
            raise InputError(f"{engine} model {name} does not translate {config.source_language}→{language}",
                             installed[0].path, hint="'press models list' shows which languages each model serves")
    elif known is not None:
        engine = known.engine
        if language not in known.languages:
            raise InputError(f"{name} does not translate into {language}", hint="choose another model")
    else:
        raise InputError(f"no model named {name!r} is installed or known to press", config.models_dir,
                         hint="'press models list' shows the installed ones")
    write_language_model(config, language, engine, name)
    return engine, bool(installed)


def write_language_model(config: BookConfig, language: str, engine: str, name: str) -> None:
    """Set engine and model of [translation.LANG], adding the table (after the other translation tables)
    if it is missing; every other line of book.toml stays as it was. Checked by reading it back."""
    import tomlkit
    from ..config import load_config
    path = config.source_dir / "book.toml"
    original = path.read_bytes().decode("utf-8")  # its own line endings: a Windows-saved file stays CRLF
    document = tomlkit.parse(original)
    translation = document.get("translation")
    if translation is None:
        translation = tomlkit.table(is_super_table=True)
        document["translation"] = translation
    table = translation.get(language)
    if table is None:
        table = tomlkit.table()
        table["engine"], table["model"] = engine, name
        table.add(tomlkit.nl())  # a blank line before the table that follows, as the file's own tables have
        translation[language] = table
    else:
        table["engine"], table["model"] = engine, name
    written = tomlkit.dumps(document)
    if "\r\n" in original:  # tomlkit keeps the file's CRLFs but writes a table it adds with LFs
        written = written.replace("\r\n", "\n").replace("\n", "\r\n")
    atomic_write(path, written)
    try:
        load_config(config.project_dir)
    except Exception:
        atomic_write(path, original)  # never leave a book.toml press itself cannot read
        raise
