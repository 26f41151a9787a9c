"""WeasyPrint, imported without its search for C libraries by compiler.

WeasyPrint opens each C library it draws with (GObject, Pango, HarfBuzz, fontconfig, PangoFT2) by trying up to
six names in turn, the Windows and macOS names first. cffi hands every name the dynamic loader does not open to
``ctypes.util.find_library``, which on Linux runs ``ldconfig -p``, then gcc, then ld, as subprocesses: 22 lookups,
a third of a second of the import and a tenth of a second of CPU in every process that renders (the build, its
first worker, a test). On Linux the result is only a soname for the loader to open, so the lookups can be
answered from one reading of the loader's cache, as ``find_library`` answers them first; its compiler fallbacks
name only sonames the loader itself would have to find, and WeasyPrint tries each library's soname by itself.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType

_loading = threading.Lock()

# glibc's ldconfig names each library's ABI; ctypes.util looks up the same (see _findSoname_ldconfig there)
_ABI = {"x86_64-64": "libc6,x86-64", "ppc64-64": "libc6,64bit", "sparc64-64": "libc6,64bit",
        "s390x-64": "libc6,64bit", "ia64-64": "libc6,IA-64"}


def load_weasyprint() -> ModuleType:
    """The ``weasyprint`` module, imported now if it is not yet (any thread; one import at a time)."""
    module = sys.modules.get("weasyprint")
    if module is not None:
        return module
    with _loading:
        with _libraries_from_loader_cache():
            import weasyprint
    return weasyprint


def loader_cache_lookup() -> Callable[[str], str | None] | None:
    """``find_library`` answered from one reading of glibc's loader cache (``ldconfig -p``), or None where there
    is none to read (not Linux, no ldconfig)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        listing = subprocess.run(["/sbin/ldconfig", "-p"], stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, env={"LC_ALL": "C", "LANG": "C"}, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    machine = os.uname().machine + ("-32" if struct.calcsize("l") == 4 else "-64")
    abi = _ABI.get(machine, "libc6")

    def find_library(name: str) -> str | None:
        found = re.search(os.fsencode(rf"\s+(lib{re.escape(name)}\.[^\s]+)\s+\({abi}"), listing)
        return os.fsdecode(found.group(1)) if found else None

    return find_library


@contextmanager
def _libraries_from_loader_cache() -> Iterator[None]:
    """While WeasyPrint is imported, this thread's library lookups read the loader's cache; other threads' go to
    ``find_library`` as ever."""
    import ctypes.util
    lookup = loader_cache_lookup()
    if lookup is None:
        yield
        return
    original = ctypes.util.find_library
    importing = threading.get_ident()

    def find_library(name: str) -> str | None:
        return lookup(name) if threading.get_ident() == importing else original(name)

    ctypes.util.find_library = find_library
    try:
        yield
    finally:
        ctypes.util.find_library = original
