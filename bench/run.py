"""Benchmarks: each figure is a ratio measured in the same run (absolute times on shared machines are noise).

    .venv/bin/python bench/run.py            # all figures
    .venv/bin/python bench/run.py extract    # only the extract stage
    .venv/bin/python bench/run.py epub       # the three EPUB editions against the English PDF

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


def bench_epub() -> None:
    """All three EPUB editions against the English PDF, rendering only (book.xml already extracted).

    The EPUBs take their page lists from the print layouts saved by the PDF builds, as in
    ``press build``. "cold" empties the font-subset cache first (a first build); "warm" is every
    later build of an unchanged book.
    """
    from pipeline.config import load_config
    from pipeline.extract import extract_book
    from pipeline.render.epub import render_epub
    from pipeline.render.images import find_images
    from pipeline.render.localize import localize
    from pipeline.render.pdf import print_page_starts, render_pdf
    from pipeline.safety import parse_xml
    with tempfile.TemporaryDirectory() as directory:
        project = Path(directory)
        for name in ("source", "templates", "locales"):
            shutil.copytree(ROOT / name, project / name)
        config = load_config(project)
        extract_book(config)
        root = parse_xml(config.book_xml.read_bytes(), config.book_xml)
        image_files = find_images(root, config)
        urls = {key: path.as_uri() for key, path in image_files.items()}
        books = {lang: localize(root, lang, source_language=config.source_language)[0] for lang in config.languages}
        for lang, book in books.items():  # the print layouts whose page breaks the EPUBs cite
            render_pdf(book, lang, config, config.output_dir / lang / f"{config.slug}.pdf", images=urls)

        def pdf_en() -> float:
            started = time.perf_counter()
            render_pdf(books["en"], "en", config, config.output_dir / "en" / "bench.pdf", images=urls)
            return time.perf_counter() - started

        def epubs() -> float:
            started = time.perf_counter()
            for lang, book in books.items():
                starts = print_page_starts(book, lang, config, images=urls)
                render_epub(book, lang, config, config.output_dir / lang / f"bench-{time.perf_counter_ns()}.epub",
                            images=image_files, page_starts=starts)
            return time.perf_counter() - started

        pdf = statistics.median(pdf_en() for _ in range(3))
        shutil.rmtree(config.output_dir / ".cache", ignore_errors=True)
        cold = epubs()
        warm = statistics.median(epubs() for _ in range(3))
        print(f"epub: English PDF {pdf:.2f} s (median of 3); all three EPUBs {warm:.2f} s warm (median of 3), "
              f"{cold:.2f} s cold (font subsets made afresh)")
        print(f"epub: ratio EPUBs/English PDF = {warm / pdf:.2f} warm, {cold / pdf:.2f} cold (target < 0.33)")


BENCHMARKS = {"extract": bench_extract, "epub": bench_epub}


def main(argv: list[str]) -> None:
    for name in argv or list(BENCHMARKS):
        BENCHMARKS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
