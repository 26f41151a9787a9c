"""Build cache: a stage is skipped when the content of everything it reads is unchanged.

Each entry (``output/.cache/<stage>.json``) holds the key of the inputs that made it, the
SHA-256 of each output it wrote, and what the summary needs to say about it. An entry is used
only when its key matches and every output still has the recorded hash; a damaged, foreign or
older entry (other code, other tools) is ignored and the stage runs again. The key always
includes the pipeline's own code and templates, so a new version of press never trusts an old
cache.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from .config import BookConfig
from .manifest import file_hash, tool_versions
from .safety import atomic_write

FORMAT = 1
PACKAGE = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """The pipeline's source files and the versions of the tools it runs."""
    digest = hashlib.sha256(json.dumps(tool_versions(), sort_keys=True).encode())
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def inputs_key(*parts: object) -> str:
    """A key over files (by content), folders (every file under them) and plain values."""
    digest = hashlib.sha256(f"press-cache-{FORMAT}".encode())
    digest.update(code_fingerprint().encode())
    for part in parts:
        if isinstance(part, Path):
            files = sorted(p for p in part.rglob("*") if p.is_file()) if part.is_dir() else [part]
            for path in files:
                digest.update(str(path).encode())
                digest.update(file_hash(path).encode() if path.is_file() else b"<missing>")
            if not files:
                digest.update(f"<empty {part}>".encode())
        else:
            digest.update(json.dumps(part, sort_keys=True, default=str).encode())
        digest.update(b"\0")
    return digest.hexdigest()


class BuildCache:
    def __init__(self, config: BookConfig) -> None:
        self.directory = config.output_dir / ".cache"

    def _entry_path(self, stage: str) -> Path:
        return self.directory / f"{stage}.json"

    def lookup(self, stage: str, key: str) -> dict | None:
        """What the stage recorded, if its inputs and its outputs are exactly as it left them."""
        try:
            entry = json.loads(self._entry_path(stage).read_text(encoding="utf-8"))
            if entry.get("format") != FORMAT or entry.get("key") != key:
                return None
            for name, digest in entry["outputs"].items():
                path = Path(name)
                if not path.is_file() or file_hash(path) != digest:
                    return None
            return entry.get("data", {})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # missing or damaged: the stage runs again

    def store(self, stage: str, key: str, outputs: list[Path], data: dict | None = None) -> None:
        entry = {"format": FORMAT, "key": key, "data": data or {},
                 "outputs": {str(path.resolve()): file_hash(path) for path in outputs if path.is_file()}}
        atomic_write(self._entry_path(stage), (json.dumps(entry, indent=1, sort_keys=True) + "\n").encode())
