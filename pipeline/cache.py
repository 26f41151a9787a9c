"""Build cache: a stage is skipped when the content of everything it reads is unchanged.

Each entry (``output/.cache/<stage>.json``) holds the key of the inputs that made it, the
SHA-256 of each output it wrote, what the summary needs to say about it, and the SHA-256 of all
that. An entry is used only when it is a regular file (never a link), its own hash and its key
match and every output still has the recorded hash; a damaged, edited, foreign or older entry
(other code, other tools) is ignored and the stage runs again. A stage's key holds the
inputs it declares (pipeline/stages.py) and the code it runs: the modules its entry points import,
followed through the package, so a change to the EPUB writer leaves the catalogs' entry valid.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import lru_cache
from pathlib import Path

from .config import BookConfig
from .manifest import tool_versions
from .safety import file_hash, settled_file_hash
from .safety import atomic_write, read_regular_file

FORMAT = 4  # 4: each entry records its own hash
PACKAGE = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def module_file(module: str, package: Path = PACKAGE) -> Path | None:
    """The source file of a ``pipeline.…`` module (a package's ``__init__.py``), if it exists (asked about a
    thousand times by a build's code fingerprints: each answer is kept for the process). Most names asked are
    not modules (``pipeline.config.BookConfig``, from ``from .config import BookConfig``): they are looked up in
    one listing of the package, not asked of the file system as two paths each (6 ms of a no-op build)."""
    parts = module.split(".")[1:]
    if not parts:
        return package / "__init__.py"
    listed = _package_files(package)
    for relative in (parts[:-1] + [f"{parts[-1]}.py"], parts + ["__init__.py"]):
        if "/".join(relative) in listed:
            candidate = package.joinpath(*relative)
            if candidate.is_file():
                return candidate
    return None


@lru_cache(maxsize=None)
def _package_files(package: Path) -> frozenset[str]:
    """The names of the package's files, relative to it (``render/pdf.py``), once per process."""
    found: set[str] = set()
    for folder, folders, files in os.walk(package, followlinks=True):  # (as is_file follows them)
        folders[:] = [name for name in folders if name != "__pycache__"]
        prefix = Path(folder).relative_to(package).as_posix()
        found.update(name if prefix == "." else f"{prefix}/{name}" for name in files)
    return frozenset(found)


# Import statements, read without compiling (a no-op build must stay fast): "import a.b", "from .x import y, z",
# "from . import (a,\n b)", at any indentation (lazy imports inside functions count too). Each starts a line: the
# patterns begin with the newline before it (the source is read with one in front), which the regular expression
# engine looks for directly, where "^" in multiline mode had it try a match at every character of the package's
# megabyte of source (20 ms of a no-op build; 5 now).
_IMPORT = re.compile(r"\n[ \t]*import[ \t]+(?P<modules>[\w., \t]+)")
_FROM = re.compile(r"\n[ \t]*from[ \t]+(?P<origin>\.*[\w.]*)[ \t]+import[ \t]+(?:\((?P<group>[^)]*)\)|(?P<names>[^\n#]+))")


@lru_cache(maxsize=None)
def _imported(module: str, package: Path) -> frozenset[str]:
    """The ``pipeline`` modules one module imports anywhere in its code (lazy imports included)."""
    path = module_file(module, package)
    if path is None:
        return frozenset()
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    source = "\n" + path.read_text(encoding="utf-8")
    found: set[str] = set()
    for match in _IMPORT.finditer(source):
        found |= {name.split(" as ")[0].strip() for name in match.group("modules").split(",")}
    for match in _FROM.finditer(source):
        origin = match.group("origin")
        level = len(origin) - len(origin.lstrip("."))
        parts = (base[:len(base) - level + 1] if level else []) + [p for p in origin.lstrip(".").split(".") if p]
        origin_name = ".".join(parts)
        found.add(origin_name)
        names = (match.group("group") or match.group("names") or "").replace("\n", " ")
        found |= {f"{origin_name}.{name.split(' as ')[0].strip()}" for name in names.split(",") if name.strip()}
    return frozenset(name for name in found if name.split(".")[0] == "pipeline" and module_file(name, package))


def _parents(module: str) -> set[str]:
    return {".".join(module.split(".")[:end]) for end in range(1, module.count(".") + 1)}


@lru_cache(maxsize=64)
def module_closure(entries: tuple[str, ...], package: Path = PACKAGE) -> tuple[str, ...]:
    """Every ``pipeline`` module the entry modules run, following their imports through the package. A
    package's ``__init__`` is counted whenever one of its modules is, but only what a module names is
    followed: importing ``pipeline.ingest.model`` does not make the readers part of an edition's code."""
    seen: set[str] = set()
    pending = [entry for entry in entries if module_file(entry, package)]
    while pending:
        module = pending.pop()
        if module not in seen:
            seen.add(module)
            pending += sorted(_imported(module, package) - seen)
    return tuple(sorted(seen | {parent for module in seen for parent in _parents(module)}))


@lru_cache(maxsize=64)
def code_fingerprint(modules: tuple[str, ...] | None = None, package: Path = PACKAGE) -> str:
    """The source of the given modules (default: the whole package) and the versions of the tools it runs."""
    digest = hashlib.sha256(json.dumps(tool_versions(), sort_keys=True).encode())
    files = sorted(PACKAGE.rglob("*.py")) if modules is None else sorted(
        {path for path in (module_file(module, package) for module in modules) if path is not None})
    for path in files:
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def inputs_key(*parts: object, code: str | None = None, root: Path | None = None) -> str:
    """A key over files (by content), folders (every file under them) and plain values, with the code that
    reads them (``code``: a fingerprint of the stage's modules; default: the whole package). A file under
    ``root`` is named by its path relative to it."""
    base = root.resolve() if root is not None else None

    def name(path: Path) -> str:
        if base is not None:
            resolved = path.resolve()  # (once: resolving asks the file system about every folder above the file)
            if resolved.is_relative_to(base):
                return resolved.relative_to(base).as_posix()
        return str(path)

    digest = hashlib.sha256(f"press-cache-{FORMAT}".encode())
    digest.update((code or code_fingerprint()).encode())
    for part in parts:
        if isinstance(part, Path):
            files = sorted(p for p in part.rglob("*") if p.is_file()) if part.is_dir() else [part]
            for path in files:
                digest.update(name(path).encode())
                digest.update(settled_file_hash(path).encode() if path.is_file() else b"<missing>")
            if not files:
                digest.update(f"<empty {name(part)}>".encode())
        else:
            digest.update(json.dumps(part, sort_keys=True, default=str).encode())
        digest.update(b"\0")
    return digest.hexdigest()


class BuildCache:
    """The entries of one project. Outputs are recorded relative to the project, so a copied or moved project
    keeps a cache that describes its own files (and never another copy's)."""

    def __init__(self, config: BookConfig) -> None:
        self.directory = config.output_dir / ".cache"
        self.project = config.project_dir.resolve()

    def _recorded(self, path: Path) -> str:
        resolved = path.resolve()
        return resolved.relative_to(self.project).as_posix() if resolved.is_relative_to(self.project) else str(resolved)

    def entry_path(self, stage: str) -> Path:
        return self.directory / f"{stage}.json"

    def lookup(self, stage: str, key: str) -> dict | None:
        """What the stage recorded, if the entry is whole (its own recorded hash matches: an edited, truncated or
        swapped entry is not), its inputs are unchanged and every output is exactly as it left them."""
        try:
            entry = json.loads(read_regular_file(self.entry_path(stage)).decode("utf-8"))
            if entry.get("format") != FORMAT or entry.get("key") != key or entry.get("sha256") != _entry_digest(entry):
                return None
            for name, digest in entry["outputs"].items():
                path = self.project / name  # an absolute name stays absolute
                if path.is_symlink() or not path.is_file() or settled_file_hash(path) != digest:
                    return None
            data = entry["data"]
            return data if isinstance(data, dict) else None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # missing or damaged: the stage runs again

    def store(self, stage: str, key: str, outputs: list[Path], data: dict | None = None) -> None:
        entry = {"format": FORMAT, "key": key, "data": data or {},
                 "outputs": {self._recorded(path): file_hash(path) for path in outputs if path.is_file()}}
        entry["sha256"] = _entry_digest(entry)
        atomic_write(self.entry_path(stage), (json.dumps(entry, indent=1, sort_keys=True) + "\n").encode())


def _entry_digest(entry: dict) -> str:
    """The hash of an entry's content (everything but this hash), as the entry records it."""
    content = {name: value for name, value in entry.items() if name != "sha256"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
