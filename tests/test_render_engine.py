"""WeasyPrint imported by ``pipeline.render.engine``: the C libraries it opens are the ones its own import
opens, found without running gcc or ld (which cost a third of a second of every render process's start)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import CHILD_PYTHONPATH

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the loader cache is glibc's")

# in a fresh interpreter: import WeasyPrint one way, then report the subprocesses find_library ran and the
# C libraries the process has mapped
PROBE = """
import json, sys, subprocess
runs = []
real_popen = subprocess.Popen
class Counting(real_popen):
    def __init__(self, args, *rest, **kwargs):
        runs.append(args[0] if isinstance(args, (list, tuple)) else args)
        super().__init__(args, *rest, **kwargs)
subprocess.Popen = Counting
if sys.argv[1] == "engine":
    from pipeline.render.engine import load_weasyprint
    load_weasyprint()
else:
    import weasyprint
from weasyprint.text.ffi import pango, harfbuzz_subset
pango.pango_version()
maps = sorted({line.split()[-1].rsplit("/", 1)[-1] for line in open("/proc/self/maps")
               if any(name in line for name in ("libpango", "libharfbuzz", "libgobject", "libfontconfig"))})
print(json.dumps({"runs": [str(run) for run in runs], "libraries": maps, "subset": harfbuzz_subset is not None}))
"""


def _probe(how: str) -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE, how], capture_output=True, text=True, check=True,
                            env=dict(os.environ, PYTHONPATH=CHILD_PYTHONPATH))
    return json.loads(result.stdout.splitlines()[-1])


def test_the_engine_opens_weasyprints_libraries_reading_the_loader_cache_once():
    plain, engine = _probe("plain"), _probe("engine")
    assert any("gcc" in run or "ld" == run.rsplit("/", 1)[-1] for run in plain["runs"]), \
        "WeasyPrint's own import no longer asks gcc: this module may no longer be needed"
    assert engine["runs"] == ["/sbin/ldconfig"], engine["runs"]
    assert engine["libraries"] == plain["libraries"] and engine["subset"] == plain["subset"]
    assert any(name.startswith("libpangoft2") for name in engine["libraries"])


def test_other_threads_lookups_are_left_to_ctypes_while_weasyprint_loads():
    """Only the importing thread's lookups are answered from the cache: another thread asking ``find_library``
    meanwhile gets ctypes' own answer (here: the patched function is gone once the import is done, too)."""
    import ctypes.util

    from pipeline.render import engine
    original = ctypes.util.find_library
    seen: list[str | None] = []

    def asked_elsewhere(name: str) -> str | None:
        seen.append(name)
        return None

    ctypes.util.find_library = asked_elsewhere
    try:
        with engine._libraries_from_loader_cache():
            patched = ctypes.util.find_library
            assert patched is not asked_elsewhere
            assert patched("c") == "libc.so.6"  # this thread: from the loader's cache
            import threading
            other = threading.Thread(target=lambda: patched("c"))
            other.start()
            other.join()
        assert seen == ["c"], "another thread's lookup did not reach ctypes"
        assert ctypes.util.find_library is asked_elsewhere
    finally:
        ctypes.util.find_library = original
