"""``output/manifest.json``: which inputs, environment, fonts and tool versions made each output.

The inputs are the ones the stages declare (pipeline/stages.py), so the manifest and the cache
keys cannot disagree. The manifest holds no timestamps, so an unchanged build rewrites nothing.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from . import __version__
from .config import BookConfig, fonts_for
from .safety import atomic_write, settled_file_hash

TOOLS = ("weasyprint", "lxml", "pypdf", "python-docx", "babel", "ctranslate2", "sentencepiece", "pillow",
         "pyicu-wheels", "fonttools")


def tool_versions() -> dict[str, str]:
    """The versions of press, Python, the libraries and Pango that make the outputs (part of every cache key)."""
    return dict(_tool_versions())


@lru_cache(maxsize=1)
def _tool_versions() -> tuple[tuple[str, str], ...]:
    """Looked up once per process: reading ten packages' metadata and finding Pango's library took 30 ms
    (a loaded machine: 150), and every stage's and edition's code fingerprint asked again."""
    versions = {"press": __version__, "python": platform.python_version()}
    for name in TOOLS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    pango = _pango_version()
    if pango:
        versions["pango"] = pango
    return tuple(versions.items())


_FONTS_SEEN: dict[str, str] = {}


def fonts_used(config: BookConfig) -> dict[str, dict[str, str]]:
    """The font files each edition's families resolve to (looked up once per process)."""
    key = str(config.source_dir / "book.toml")
    if key not in _FONTS_SEEN:
        _FONTS_SEEN[key] = json.dumps(fonts_used_uncached(config))
    return json.loads(_FONTS_SEEN[key])


def fonts_used_uncached(config: BookConfig) -> dict[str, dict[str, str]]:
    """The font files each edition's families resolve to (a font update changes the editions)."""
    match = fontconfig_matcher()
    if match is None:
        return {}
    wanted = [(lang, family) for lang in config.languages for family in dict.fromkeys(fonts_for(config, lang))]
    files = {family: match(family) for family in dict.fromkeys(family for _, family in wanted)}
    fonts: dict[str, dict[str, str]] = {}
    for lang, family in wanted:
        found = files[family]
        if found and Path(found).is_file():
            stat = Path(found).stat()  # system files: a package update changes size or time; hashing
            fonts.setdefault(lang, {})[family] = f"{found} {stat.st_size} {stat.st_mtime_ns}"  # 80 MB costs more
    return fonts


def fontconfig_matcher() -> Callable[[str], str] | None:
    """``fc-match -f %{file} FAMILY``, asked of the fontconfig library in this process: the same calls fc-match
    makes (parse the name, the configuration's and the default substitutions, the best match, its file), without
    a process per family (six fc-match processes were a fifth of a no-op build, 40 to 80 ms; here 10 to 15, most
    of it reading fontconfig's configuration once). None where the library cannot be loaded (nor could fc-match
    run: it is that library's program); an empty answer where fc-match prints nothing."""
    import ctypes
    import ctypes.util
    try:
        library = ctypes.CDLL("libfontconfig.so.1")
    except OSError:
        name = ctypes.util.find_library("fontconfig")
        if name is None:
            return None
        try:
            library = ctypes.CDLL(name)
        except OSError:
            return None
    pointer = ctypes.c_void_p
    library.FcNameParse.restype, library.FcNameParse.argtypes = pointer, [ctypes.c_char_p]
    library.FcConfigSubstitute.argtypes = [pointer, pointer, ctypes.c_int]
    library.FcDefaultSubstitute.argtypes = [pointer]
    library.FcFontMatch.restype = pointer
    library.FcFontMatch.argtypes = [pointer, pointer, ctypes.POINTER(ctypes.c_int)]
    library.FcPatternFormat.restype, library.FcPatternFormat.argtypes = pointer, [pointer, ctypes.c_char_p]
    library.FcPatternDestroy.argtypes = [pointer]
    library.FcStrFree.argtypes = [pointer]
    initialized = bool(library.FcInit())  # fc-match prints nothing when the configuration cannot be loaded
    match_pattern = 0  # FcMatchPattern

    def match(family: str) -> str:
        if not initialized:
            return ""
        pattern = library.FcNameParse(family.encode())
        if not pattern:
            return ""
        try:
            library.FcConfigSubstitute(None, pattern, match_pattern)
            library.FcDefaultSubstitute(pattern)
            result = ctypes.c_int()
            font = library.FcFontMatch(None, pattern, ctypes.byref(result))
        finally:
            library.FcPatternDestroy(pattern)
        if not font:
            return ""
        try:
            text = library.FcPatternFormat(font, b"%{file}")
            if not text:
                return ""
            try:
                return os.fsdecode(ctypes.string_at(text)).strip()
            finally:
                library.FcStrFree(text)
        finally:
            library.FcPatternDestroy(font)

    return match


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


def write_manifest(config: BookConfig, outputs: list[Path], inputs: list[Path], environment: dict[str, str]) -> bool:
    """Record every output's hash with the inputs (the stages' declared inputs), the environment and the tools
    that made it; True when the file changed."""
    project = config.project_dir.resolve()

    def relative(path: Path) -> str:
        resolved = path.resolve()  # (once: resolving asks the file system about every folder above the file)
        return resolved.relative_to(project).as_posix() if resolved.is_relative_to(project) else str(path)

    manifest = {
        "book": config.slug,
        "tools": tool_versions(),
        "fonts": fonts_used(config),
        "inputs": {relative(path): settled_file_hash(path) for path in inputs},
        "environment": environment,
        "outputs": {relative(path): {"sha256": settled_file_hash(path), "bytes": path.stat().st_size}
                    for path in sorted(set(outputs)) if path.is_file()},
    }
    data = (json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    return atomic_write(config.output_dir / "manifest.json", data)
