"""Models by name: ``press models install NAME`` and ``press models pin NAME`` from a small registry.

The registry (``model_registry.toml`` beside this module, or the file ``$PRESS_MODEL_REGISTRY``
names) is data: each model's engine, languages, licence, size and where its files live — Hugging
Face repositories at a revision, or a package of the Argos index — with a SHA-256 per file once a
maintainer has pinned it. Hugging Face files come through ``huggingface_hub`` (its cache, resumed
downloads, ``HF_ENDPOINT``, ``HF_HUB_OFFLINE``, its progress bars); an Argos package through plain
HTTP from the index ``$ARGOS_PACKAGE_INDEX`` names (Argos's own variable). Every file is verified
before anything is installed, and the install itself is the checked, atomic one of ``models.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..config import BookConfig
from ..errors import InputError, UsageError
from ..safety import atomic_write, file_hash

REGISTRY = Path(__file__).with_name("model_registry.toml")
ARGOS_INDEX = "https://raw.githubusercontent.com/argosopentech/argospm-index/main"
SHA256 = re.compile(r"^[0-9a-f]{64}$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class HubFile:
    repo: str
    revision: str
    path: str
    sha256: str | None = None


@dataclass(frozen=True)
class ArgosPackage:
    package: str
    from_code: str
    to_code: str
    version: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class RegistryModel:
    name: str
    engine: str
    family: str
    languages: tuple[str, ...]
    license: str
    accept_license: bool
    size: str
    license_note: str = ""
    files: tuple[HubFile, ...] = ()
    argos: ArgosPackage | None = None
    registry: Path = field(default=REGISTRY, compare=False)

    @property
    def pinned(self) -> bool:
        """Every file has its SHA-256 (and every hub revision is a commit) in the registry."""
        if self.argos is not None:
            return bool(self.argos.sha256 and self.argos.version)
        return all(f.sha256 and COMMIT.match(f.revision) for f in self.files)

    def install_command(self) -> str:
        return f"press models install {self.name}" + (" --accept-license" if self.accept_license else "")


def registry_path() -> Path:
    return Path(os.environ.get("PRESS_MODEL_REGISTRY") or REGISTRY)


def load_registry(path: Path | None = None) -> dict[str, RegistryModel]:
    path = path or registry_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"the model registry cannot be read ({error})", path,
                         hint="restore press's model_registry.toml, or unset PRESS_MODEL_REGISTRY")
    return {name: _entry(name, table, path) for name, table in data.items()}


def _entry(name: str, table: dict, path: Path) -> RegistryModel:
    try:
        argos = table.get("argos")
        return RegistryModel(
            name=name, engine=table["engine"], family=table.get("family", name),
            languages=tuple(table.get("languages", ())), license=table["license"],
            accept_license=bool(table.get("accept_license", False)), size=table.get("size", "unknown"),
            license_note=table.get("license_note", ""),
            files=tuple(HubFile(f["repo"], f.get("revision", "main"), f["path"], f.get("sha256") or None)
                        for f in table.get("files", ())),
            argos=ArgosPackage(argos["package"], argos["from_code"], argos["to_code"], argos.get("version"),
                               argos.get("sha256") or None) if argos else None,
            registry=path)
    except (KeyError, TypeError) as error:
        raise InputError(f"the model registry's entry [{name}] is incomplete (missing {error})", path,
                         hint="each entry needs engine, license and files (or argos)")


def registry_model(name: str) -> RegistryModel | None:
    return load_registry().get(name)


def models_for(language: str) -> list[RegistryModel]:
    """Registry models that draft ``language``, the ones needing no licence acceptance first."""
    return sorted((m for m in load_registry().values() if language in m.languages),
                  key=lambda m: (m.accept_license, m.engine != "argos", m.name))


# --------------------------------------------------------------------------- installing by name


def install_by_name(config: BookConfig, name: str, *, accept_license: bool, user: bool, quiet: bool,
                    warn=print):
    """Download ``name``'s files, verify each, then install them through the checked, atomic path."""
    from .models import install_argos_bytes, install_ctranslate2_dir, staging_area
    model = _known(name)
    if model.accept_license and not accept_license:
        raise UsageError(f"{name} is licensed {model.license}"
                         + (f" ({model.license_note})" if model.license_note else "")
                         + "; nothing was downloaded or installed",
                         hint=f"read the licence, then rerun with --accept-license: {model.install_command()}")
    if not model.pinned:
        warn(f"{name} is not pinned in press's model registry yet: its files are checked against the SHA-256 "
             "the hub declares, not against one recorded by press ('press models pin', README: Translation)")
    root, scope = _root(config, user), "user" if user else "project"
    if model.argos is not None:
        data, source, _ = _fetch_argos(model.argos, quiet=quiet)
        return install_argos_bytes(config, data, source, root, scope,
                                   registry=_sidecar_extra(model, {model.argos.package: _sha(data)}))
    with staging_area(root) as staging:
        directory = staging / name
        directory.mkdir()
        digests = {}
        for spec in model.files:
            cached, digests[spec.path], _ = _fetch_hub_file(spec, quiet=quiet)
            _place(cached, directory / Path(spec.path).name)
        return install_ctranslate2_dir(config, directory, name, root, scope, source=f"registry:{name}",
                                       registry=_sidecar_extra(model, digests))


def _known(name: str) -> RegistryModel:
    model = registry_model(name)
    if model is None:
        names = ", ".join(sorted(load_registry()))
        raise InputError(f"no model named {name!r} in press's model registry", registry_path(),
                         hint=f"known names: {names}; or give a path or URL")
    return model


def _root(config: BookConfig, user: bool) -> Path:
    from .models import user_models_dir
    return user_models_dir() if user else config.models_dir


def _sidecar_extra(model: RegistryModel, digests: dict[str, str]) -> dict:
    return {"registry_name": model.name, "license": model.license, "pinned": model.pinned, "files": digests}


def _place(cached: Path, target: Path) -> None:
    """A hard link to the hub cache's blob where the file systems allow it (no second copy), else a copy."""
    source = Path(os.path.realpath(cached))
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- Hugging Face files


def _fetch_hub_file(spec: HubFile, *, quiet: bool) -> tuple[Path, str, str]:
    """One file through huggingface_hub, verified: (cached path, its SHA-256, the commit it came from)."""
    if quiet:
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        import httpx2 as httpx_errors  # huggingface_hub's HTTP client
    except ImportError:  # pragma: no cover - an older huggingface_hub uses httpx
        import httpx as httpx_errors  # type: ignore[no-redef]
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError, RemoteEntryNotFoundError, RevisionNotFoundError
    from huggingface_hub.utils import logging as hub_logging
    hub_logging.set_verbosity_error()  # its retry chatter would bury press's one line; a failure still says it
    where = f"{spec.repo}@{spec.revision[:12]}/{spec.path}"
    try:
        cached = Path(hf_hub_download(spec.repo, spec.path, revision=spec.revision))
    except RemoteEntryNotFoundError:
        raise InputError(f"the hub has no file {spec.path} in {spec.repo} at {spec.revision}", where,
                         hint="the registry entry is out of date; nothing was installed")
    except RevisionNotFoundError:
        raise InputError(f"the hub has no revision {spec.revision} of {spec.repo}", where,
                         hint="the registry entry is out of date; nothing was installed")
    except LocalEntryNotFoundError as error:
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
        raise InputError("HF_HUB_OFFLINE is set and the file is not in the Hugging Face cache" if offline else
                         f"cannot download the file ({_first_line(error)})", where,
                         hint="unset HF_HUB_OFFLINE, or fill the cache on a machine with network; nothing was "
                              "installed" if offline else
                         "check the network or HF_ENDPOINT and try again; nothing was installed")
    except (OSError, httpx_errors.HTTPError, ValueError) as error:
        raise InputError(f"the download failed ({_first_line(error)})", where,
                         hint="try again (files already downloaded stay in the Hugging Face cache); nothing was "
                              "installed")
    digest = file_hash(cached)
    expected, what = _expected_sha(spec, cached)
    if expected and digest != expected:
        _forget(cached)
        raise InputError(f"checksum mismatch: {spec.path} has SHA-256 {digest[:16]}…, {what} says {expected[:16]}…",
                         where, hint="the download is damaged or the file changed on the hub; nothing was installed")
    return cached, digest, _commit_of(cached) or spec.revision


def _expected_sha(spec: HubFile, cached: Path) -> tuple[str | None, str]:
    """The pinned SHA-256, else the hub's own: the ETag of a Git LFS file is its SHA-256 (the blob's name)."""
    if spec.sha256:
        return spec.sha256, "press's registry"
    etag = Path(os.path.realpath(cached)).name
    return (etag, "the hub") if SHA256.match(etag) else (None, "")


def _commit_of(cached: Path) -> str | None:
    """The commit huggingface_hub stored the file under (…/snapshots/<commit>/<path>)."""
    parts = cached.parts
    if "snapshots" in parts:
        candidate = parts[parts.index("snapshots") + 1]
        return candidate if COMMIT.match(candidate) else None
    return None


def _forget(cached: Path) -> None:
    """Drop a bad file from the hub cache, so the next attempt downloads it again."""
    blob = Path(os.path.realpath(cached))
    for path in (cached, blob):
        try:
            path.unlink()
        except OSError:
            pass


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:200]


# --------------------------------------------------------------------------- Argos packages over HTTP


def argos_index_url() -> str:
    return os.environ.get("ARGOS_PACKAGE_INDEX", ARGOS_INDEX).rstrip("/") + "/index.json"


def _fetch_argos(spec: ArgosPackage, *, quiet: bool) -> tuple[bytes, str, str]:
    """The package's .argosmodel from the index, verified: (bytes, its URL, its version)."""
    index_url = argos_index_url()
    try:
        index = json.loads(_http_get(index_url, quiet=True))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"not an Argos package index ({error})", index_url, hint="check ARGOS_PACKAGE_INDEX")
    entries = [e for e in index if isinstance(e, dict) and e.get("from_code") == spec.from_code
               and e.get("to_code") == spec.to_code and e.get("links")] if isinstance(index, list) else []
    if spec.version:
        entries = [e for e in entries if str(e.get("package_version")) == spec.version]
    if not entries:
        raise InputError(f"the Argos index has no {spec.package}" + (f" {spec.version}" if spec.version else ""),
                         index_url, hint="check ARGOS_PACKAGE_INDEX; nothing was installed")
    url = entries[0]["links"][0]
    data = _http_get(url, quiet=quiet)
    digest = _sha(data)
    if spec.sha256 and digest != spec.sha256:
        raise InputError(f"checksum mismatch: the package has SHA-256 {digest[:16]}…, press's registry says "
                         f"{spec.sha256[:16]}…", url,
                         hint="the download is damaged or the package changed; nothing was installed")
    return data, url, str(entries[0].get("package_version") or "")


def _http_get(url: str, *, quiet: bool) -> bytes:
    """A whole HTTP(S) or file:// resource, with a progress bar, refusing a response cut short."""
    import http.client
    import urllib.error
    import urllib.request
    from tqdm import tqdm
    chunks: list[bytes] = []
    total = None
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1][:40],
                      disable=quiet or total is None or total < (1 << 20), file=sys.stderr) as bar:
                for chunk in iter(lambda: response.read(1 << 16), b""):
                    chunks.append(chunk)
                    bar.update(len(chunk))
    except http.client.IncompleteRead as error:
        chunks, total = [error.partial], len(error.partial) + (error.expected or 0)
    except urllib.error.HTTPError as error:
        raise InputError(f"cannot download ({error})", url, hint="check ARGOS_PACKAGE_INDEX; nothing was installed")
    except (OSError, ValueError, http.client.HTTPException) as error:  # urllib's URLError is an OSError
        raise InputError(f"cannot download ({_first_line(Exception(getattr(error, 'reason', error)))})", url,
                         hint="check the network or ARGOS_PACKAGE_INDEX and try again; nothing was installed")
    data = b"".join(chunks)
    if total is not None and len(data) != total:
        raise InputError(f"the download was cut off ({len(data):,} of {total:,} bytes)", url,
                         hint="try again; nothing was installed")
    return data


# --------------------------------------------------------------------------- pinning (a maintainer's step)


def pin(name: str, *, quiet: bool = False) -> RegistryModel:
    """Download ``name``'s files, then write the commit and every SHA-256 into the registry (tomlkit: the
    file's comments and layout stay). Needs network; run by a maintainer, and the result committed."""
    import tomlkit
    model = _known(name)
    path = model.registry
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    table = document[name]
    if model.argos is not None:
        unpinned = ArgosPackage(model.argos.package, model.argos.from_code, model.argos.to_code)
        data, _, version = _fetch_argos(unpinned, quiet=quiet)
        table["argos"]["version"] = version
        table["argos"]["sha256"] = _sha(data)
    else:
        for spec, entry in zip(model.files, table["files"]):
            cached, digest, commit = _fetch_hub_file(HubFile(spec.repo, spec.revision, spec.path), quiet=quiet)
            entry["revision"] = commit
            entry["sha256"] = digest
    atomic_write(path, tomlkit.dumps(document))
    return load_registry(path)[name]
