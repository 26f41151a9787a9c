"""Installed translation models: ``press models install|list|remove``, and finding one to draft with.

Models live in the project's ``models/`` (not committed) or in the user's data directory
(``$XDG_DATA_HOME/press/models``), under ``argos/<package>`` or ``ctranslate2/<name>``. An install
is checked completely — safe zip, Argos metadata, language pair, tokenizer, a CTranslate2 load —
in a staging directory, and only then moved into place, so a bad package changes nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..config import BookConfig
from ..errors import InputError
from ..safety import Limits, atomic_write, open_zip, read_input_bytes
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
        return _file_sha256(_weights(model_dir))


def _weights(model_dir: Path) -> Path:
    return model_dir / "model" / "model.bin" if (model_dir / "model").is_dir() else model_dir / "model.bin"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def install_models(config: BookConfig, source: str, *, user: bool = False) -> list[InstalledModel]:
    """Install an .argosmodel (path or URL), every fitting package of an Argos index, or a CTranslate2 directory."""
    root = user_models_dir() if user else config.models_dir
    scope = "user" if user else "project"
    if source.endswith(".json"):
        return [_install_argos(config, _fetch(config, link), link, root, scope)
                for link in _index_links(config, source)]
    if not source.startswith(URL_SCHEMES) and Path(source).is_dir():
        return [_install_ctranslate2(config, Path(source), root, scope)]
    return [_install_argos(config, _fetch(config, source), source, root, scope)]


def _fetch(config: BookConfig, source: str) -> bytes:
    limits = model_limits(config)
    if not source.startswith(URL_SCHEMES):
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
    with _staging(root) as staging:
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
                                      package.from_code, (package.to_code,), "", scope), source)


def _install_ctranslate2(config: BookConfig, directory: Path, root: Path, scope: str) -> InstalledModel:
    engines.tokenizer_path(directory)
    targets = engines.multilingual_languages(directory, config.source_language, list(config.target_languages))
    if not targets:
        raise InputError(f"the model has no language tokens for {', '.join(config.target_languages)}", directory,
                         hint="use a multilingual model (NLLB-200, M2M-100, MADLAD-400) that covers the book's languages")
    _smoke_test(engines.load_multilingual(directory, config.source_language, targets[0]), directory)
    name = directory.resolve().name
    with _staging(root) as staging:
        copy = staging / name
        shutil.copytree(directory, copy)
        return _commit(copy, root / "ctranslate2" / name,
                       InstalledModel("ctranslate2", name, root / "ctranslate2" / name, config.source_language,
                                      tuple(targets), "", scope), str(directory))


def _smoke_test(engine: engines.Engine, source: str | Path) -> None:
    """One real translation, so a model that loads but cannot run is refused at install, not mid-build."""
    try:
        engine.translate(["Test."], beam_size=1, max_decoding_length=4)
    except (RuntimeError, ValueError, OSError, IndexError) as error:
        raise InputError(f"the model loads but cannot translate ({error})", source,
                         hint="the model or its tokenizer is damaged; install it again")


class _staging:
    """A scratch directory beside the installed models, removed whatever happens."""

    def __init__(self, root: Path):
        self.root = root

    def __enter__(self) -> Path:
        (self.root / ".staging").mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(dir=self.root / ".staging"))
        return self.path

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _commit(staged: Path, final: Path, model: InstalledModel, source: str) -> InstalledModel:
    """Record the weights' hash, then swap the staged model into place (replacing an older install)."""
    sha256 = _file_sha256(_weights(staged))
    atomic_write(staged / SIDECAR, json.dumps({"kind": model.kind, "name": model.name, "sha256": sha256,
                                               "installed_from": str(source)}, indent=2) + "\n")
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
