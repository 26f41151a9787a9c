"""Benchmarks: each figure is a ratio measured in the same run (absolute times on shared machines are noise).

    .venv/bin/python bench/run.py            # all figures
    .venv/bin/python bench/run.py extract    # only the extract stage

extract: ``press extract`` (read, structure, repair, validate, write) on the real manuscript (a fresh
process each time, as a user runs it),
against pandoc converting the same text to DocBook (markdown reader), the nearest peer doing
a comparable job; plus where the time goes inside the stage.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(command: list[str], repeat: int = 5, **kwargs) -> float:
    """Median wall time of a command over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, **kwargs)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_extract() -> None:
    manuscript = ROOT / "source" / "manuscript.txt"
    with tempfile.TemporaryDirectory() as directory:
        output = Path(directory) / "book.xml"
        ours = timed([sys.executable, "-m", "pipeline", "extract", str(manuscript), "-o", str(output), "-q"],
                     cwd=ROOT)
        print(f"extract: press extract on the manuscript: {ours:.2f} s (median of 5; target well under 2 s)")
        pandoc = shutil.which("pandoc")
        if pandoc:
            peer = timed([pandoc, "-f", "markdown", "-t", "docbook5", "-s", str(manuscript), "-o",
                          str(Path(directory) / "pandoc.xml")])
            print(f"extract: pandoc markdown -> docbook5 on the same text: {peer:.2f} s; "
                  f"ratio press/pandoc = {ours / peer:.2f}")
        else:
            print("extract: pandoc not installed; no peer ratio")
        startup = timed([sys.executable, "-c", "import pipeline.extract, pipeline.ingest.text"])
        print(f"extract: of which Python start-up and imports: {startup:.2f} s ({startup / ours:.0%})")
    from pipeline import docbook
    from pipeline.findings import Findings
    from pipeline.ingest import read_manuscript
    from pipeline.repair import repair_book
    from pipeline.structure import structure_book
    stages = {}
    started = time.perf_counter()
    document = read_manuscript(manuscript)
    stages["read"] = time.perf_counter() - started
    started = time.perf_counter()
    findings = Findings()
    book = structure_book(document, findings=findings)
    stages["structure"] = time.perf_counter() - started
    started = time.perf_counter()
    repair_book(book.root, findings)
    stages["repair"] = time.perf_counter() - started
    started = time.perf_counter()
    docbook.validate(book.root)
    stages["validate"] = time.perf_counter() - started
    started = time.perf_counter()
    docbook.serialize(book.root)
    stages["serialize"] = time.perf_counter() - started
    total = sum(stages.values())
    print("extract: in-process split: " + ", ".join(f"{name} {seconds * 1000:.0f} ms ({seconds / total:.0%})"
                                                     for name, seconds in stages.items()))


BENCHMARKS = {"extract": bench_extract}


def main(argv: list[str]) -> None:
    for name in argv or list(BENCHMARKS):
        BENCHMARKS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
