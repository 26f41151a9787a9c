"""The build's bookkeeping: one build at a time per project, and ``output/manifest.json`` saying
which inputs and tool versions made each output.

The lock is an ``flock`` on ``output/.press.lock``: the kernel drops it when the process dies,
so a killed build never leaves a stale lock behind. The manifest holds no timestamps, so an
unchanged build rewrites nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from . import __version__
from .config import BookConfig
from .errors import BusyError
from .safety import atomic_write, open_lock_file, remove_stale_temporaries

TOOLS = ("weasyprint", "lxml", "pypdf", "python-docx", "babel", "ctranslate2", "sentencepiece", "pillow",
         "pyicu-wheels", "fonttools")


@contextmanager
def project_lock(config: BookConfig, wait_seconds: float = 0.0, activity: str = "press build") -> Iterator[None]:
    """Hold the project's lock (builds, translation runs and review imports all write catalogs and
    outputs); a second run waits ``wait_seconds`` and then says who holds it. Once held, the debris of
    runs that were killed mid-write is removed."""
    config.output_dir.mkdir(parents=True, exist_ok=True)
    path = config.output_dir / ".press.lock"
    handle = open_lock_file(path)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise BusyError(f"another build is running in this project ({holder})", path,
                                    hint="wait for it to finish, or pass --wait SECONDS") from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, {activity}")
        handle.flush()
        remove_stale_temporaries(config.output_dir, config.locales_dir)
        yield
    finally:
        handle.close()


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tool_versions() -> dict[str, str]:
    versions = {"press": __version__, "python": platform.python_version()}
    for name in TOOLS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    pango = _pango_version()
    if pango:
        versions["pango"] = pango
    return versions


_FONTS_SEEN: dict[str, str] = {}


def fonts_used(config: BookConfig) -> dict[str, dict[str, str]]:
    """The font files each edition's families resolve to (looked up once per process)."""
    key = str(config.source_dir / "book.toml")
    if key not in _FONTS_SEEN:
        _FONTS_SEEN[key] = json.dumps(fonts_used_uncached(config))
    return json.loads(_FONTS_SEEN[key])


def fonts_used_uncached(config: BookConfig) -> dict[str, dict[str, str]]:
    """The font files each edition's families resolve to (a font update changes the editions)."""
    import shutil
    import subprocess

    from .render.printbook import fonts_for
    fc_match = shutil.which("fc-match")
    if not fc_match:
        return {}
    fonts: dict[str, dict[str, str]] = {}
    for lang in config.languages:
        for family in dict.fromkeys(fonts_for(config, lang)):
            found = subprocess.run([fc_match, "-f", "%{file}", family], capture_output=True, text=True,
                                   timeout=30).stdout.strip()
            if found and Path(found).is_file():
                stat = Path(found).stat()  # system files: a package update changes size or time; hashing
                fonts.setdefault(lang, {})[family] = f"{found} {stat.st_size} {stat.st_mtime_ns}"  # 80 MB costs more
    return fonts


def _pango_version() -> str | None:
    """Pango's version, read from the library itself (importing WeasyPrint for it costs half a second)."""
    import ctypes
    import ctypes.util
    name = ctypes.util.find_library("pango-1.0") or "libpango-1.0.so.0"
    try:
        library = ctypes.CDLL(name)
    except OSError:
        return None
    library.pango_version_string.restype = ctypes.c_char_p
    return library.pango_version_string().decode()


def edition_images(config: BookConfig) -> list[Path]:
    """Every image file an edition may read: source/images/, and the files ``[images]`` and ``[epub] cover``
    name, which may be anywhere under source/."""
    named = [config.source_dir / relative for relative in config.images.values()]
    if config.epub.cover:
        named.append(config.source_dir / config.epub.cover)
    folder = config.source_dir / "images"
    found = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    return list(dict.fromkeys(found + sorted(named)))


def edition_environment(fmt: str) -> dict[str, str]:
    """The environment an edition reads: SOURCE_DATE_EPOCH dates the EPUB."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return {"SOURCE_DATE_EPOCH": epoch} if fmt == "epub" and epoch is not None else {}


def _inputs(config: BookConfig) -> list[Path]:
    project = config.project_dir
    candidates = [config.manuscript, config.source_dir / "book.toml", config.source_dir / "editorial.toml"]
    candidates += edition_images(config)
    for folder in (project / "templates", project / "locales"):
        if folder.is_dir():
            candidates += sorted(p for p in folder.rglob("*") if p.is_file())
    return [path for path in dict.fromkeys(candidates) if path.is_file()]


def write_manifest(config: BookConfig, outputs: list[Path]) -> bool:
    """Record every output's hash with the inputs and tools that made it; True when the file changed."""
    project = config.project_dir

    def relative(path: Path) -> str:
        return path.resolve().relative_to(project.resolve()).as_posix() if path.resolve().is_relative_to(
            project.resolve()) else str(path)

    manifest = {
        "book": config.slug,
        "tools": tool_versions(),
        "fonts": fonts_used(config),
        "inputs": {relative(path): file_hash(path) for path in _inputs(config)},
        "environment": edition_environment("epub"),
        "outputs": {relative(path): {"sha256": file_hash(path), "bytes": path.stat().st_size}
                    for path in sorted(set(outputs)) if path.is_file()},
    }
    data = (json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    return atomic_write(config.output_dir / "manifest.json", data)
