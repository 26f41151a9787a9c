"""Benchmarks: each figure is a ratio measured in the same run (absolute times on shared machines are noise).

    .venv/bin/python bench/run.py            # all figures
    .venv/bin/python bench/run.py extract    # only the extract stage
    .venv/bin/python bench/run.py epub       # the three EPUB editions against the English PDF
    .venv/bin/python bench/run.py print      # the English PDF against pandoc, our share, memory
    .venv/bin/python bench/run.py build      # cold, English alone, no-op and one-edit builds
    .venv/bin/python bench/run.py pdf-read   # reading the English PDF edition back, against pdftotext
    .venv/bin/python bench/run.py parts      # issue 15: edits, no-op, scaling of the PDF rendered in parts
    .venv/bin/python bench/run.py fonts      # issue 15: the stitched PDFs' size and the cost of merging their fonts

extract: ``press extract`` (read, structure, repair, validate, write) on the real manuscript (a fresh
process each time, as a user runs it),
against pandoc converting the same text to DocBook (markdown reader), the nearest peer doing
a comparable job; plus where the time goes inside the stage.

translate: drafting the manuscript's sentences with a model big enough to matter (6 layers, width
512, random weights, decoding bounded), through press's whole drafting path (catalogs read,
terms masked, length-sorted batches, drafts checked and saved), against the same engine fed one
segment at a time (what Argos's own ``translate()`` does) and against one raw CTranslate2
``translate_batch`` call on the same tokenized segments.

print: the English PDF through ``press build --lang en`` (fresh process, from the manuscript)
against ``pandoc --pdf-engine=weasyprint`` on the same manuscript; inside the render, the share
of time that is ours (HTML construction, layout check, metadata) rather than WeasyPrint's layout
and PDF writing; and the peak memory of building all three PDFs in one process.

parts: issue 15's figures, from one run: the whole build (six editions) cold, no-op, after a one-sentence
edit that keeps every page count and after one that grows chapter 1 by pages; the English PDF cold against
``pandoc --pdf-engine=weasyprint``; the parts renderer with 1 and 2 workers and the time 8 cores would take
(the parts' critical path: our HTML, the longest chapter, then the contents or the folios, then the stitch);
the peak memory of building the three PDFs; the stitched PDF's size against the single pass's.

pdf-read: the PDF reader (``read_pdf``: text layer, furniture, block assembly) on the 107-page English
edition, in CPU seconds, against poppler's ``pdftotext`` on the same file (the fastest common text
extractor, C++) and pypdf's own ``extract_text`` (what the reader used before).
"""

from __future__ import annotations

import io
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


# the spelling pass timed inside a cold extract (no kept Hunspell answers), in a fresh process
SPELLING_PASS = """
import sys, time
from pathlib import Path
from pipeline.config import load_config
from pipeline.extract import extract_book
from pipeline.repair.transforms import REPAIRS
[check] = [repair for repair in REPAIRS if repair.name == "spelling"]
measured = check.function
def timed(root, findings):
    started = time.perf_counter()
    measured(root, findings)
    print(time.perf_counter() - started)
check.function = timed
extract_book(load_config(), output=Path(sys.argv[1]))
"""


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
        spelling = statistics.median(float(subprocess.run(
            [sys.executable, "-c", SPELLING_PASS, str(output)], cwd=ROOT, check=True, capture_output=True,
            text=True).stdout) for _ in range(5))
        print(f"extract: of which the spelling pass (Hunspell cold, started as extract begins): {spelling:.2f} s "
              "(median of 5; target under 0.15 s)")
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


def bench_translate(segments_wanted: int = 320, batch_size: int = 32, beam_size: int = 2,
                    max_decoding_length: int = 32) -> None:
    import dataclasses

    sys.path.insert(0, str(ROOT / "tests"))
    from tinymodels import build_multilingual_model
    from pipeline.config import load_config
    from pipeline.extract import extract_book
    from pipeline.i18n.catalogs import update_catalogs
    from pipeline.i18n.draft import draft_language
    from pipeline.i18n.engines import load_multilingual
    from pipeline.i18n.segments import book_keep_terms, extract_segments, prepare_for_machine
    from pipeline.progress import Reporter
    from pipeline.safety import parse_xml

    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        shutil.copytree(ROOT / "source", work / "source")
        started = time.perf_counter()
        model = build_multilingual_model(work / "model", layers=6, width=512, heads=8, ffn=2048)
        print(f"translate: built a 6-layer, width-512 random-weight model in {time.perf_counter() - started:.1f} s")
        config = load_config(work)
        config = dataclasses.replace(config, translation=dataclasses.replace(
            config.translation, batch_size=batch_size, beam_size=beam_size, max_decoding_length=max_decoding_length))
        root = parse_xml(extract_book(config).output.read_bytes())
        segments = [s for s in extract_segments(root, config.translation) if s.part.startswith("ch")][:segments_wanted]
        terms = book_keep_terms(root, config.translation)
        engine = load_multilingual(model, "en", "km")
        texts = [prepare_for_machine(segment.text, terms).text for segment in segments]
        options = {"beam_size": beam_size, "max_decoding_length": max_decoding_length}
        engine.translate(texts[:4], **options)  # warm-up

        update_catalogs(config, segments, ["km"])
        started = time.perf_counter()
        report = draft_language(config, "km", terms, engine=(engine, ["mt: ctranslate2 bench", "mt: sha256:0"]),
                                reporter=Reporter(io.StringIO()))
        ours = time.perf_counter() - started
        assert report.wanted == len(segments)

        started = time.perf_counter()
        tokens = engine.tokenize(texts)
        engine.translator.translate_batch(tokens, target_prefix=[engine.target_prefix] * len(tokens),
                                          max_batch_size=batch_size, **options)
        raw = time.perf_counter() - started

        started = time.perf_counter()
        for text in texts:
            engine.translate([text], **options)
        single = time.perf_counter() - started

    n = len(segments)
    print(f"translate: {n} segments, beam {beam_size}, batch {batch_size}, at most {max_decoding_length} tokens each")
    print(f"translate: press drafting {n / ours:.1f} segments/s ({ours:.1f} s, catalogs read and saved included)")
    print(f"translate: one segment at a time {n / single:.1f} segments/s; press is {single / ours:.1f}x faster "
          "(target: at least 3x)")
    print(f"translate: raw CTranslate2 translate_batch {n / raw:.1f} segments/s; press reaches {raw / ours:.0%} "
          "of it (target: within 10%, i.e. at least 90%)")


def _project_copy(directory: Path) -> Path:
    for name in ("source", "templates", "locales"):
        shutil.copytree(ROOT / name, directory / name)
    return directory


def bench_print() -> None:
    import os
    import resource
    with tempfile.TemporaryDirectory() as directory:
        project = _project_copy(Path(directory) / "project")
        press = [sys.executable, "-m", "pipeline", "build", "--lang", "en", "--format", "pdf", "-q"]
        subprocess.run(press, cwd=project, check=True, capture_output=True)  # catalogs and book.xml in place
        runs = []
        for _ in range(3):  # cold each time: no build cache, so every stage runs
            shutil.rmtree(project / "output" / ".cache", ignore_errors=True)
            started = time.perf_counter()
            subprocess.run(press, cwd=project, check=True, capture_output=True)
            runs.append(time.perf_counter() - started)
        ours = statistics.median(runs)
        print(f"print: press build --lang en --format pdf (manuscript to PDF, fresh process, cold): {ours:.2f} s "
              "(median of 3)")
        pandoc = shutil.which("pandoc")
        weasyprint_bin = Path(sys.executable).parent / "weasyprint"
        if pandoc and weasyprint_bin.exists():
            env = dict(os.environ, PATH=f"{weasyprint_bin.parent}:{os.environ['PATH']}")
            peer = timed([pandoc, "-f", "markdown", str(ROOT / "source" / "manuscript.txt"), "--pdf-engine=weasyprint",
                          "-o", str(Path(directory) / "pandoc.pdf")], repeat=3, env=env)
            print(f"print: pandoc --pdf-engine=weasyprint on the same manuscript: {peer:.2f} s; "
                  f"ratio press/pandoc = {ours / peer:.2f} (target at most 1.5)")
        else:
            print("print: pandoc or weasyprint not installed; no peer ratio")
        _print_split(project)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        shutil.rmtree(project / "output" / ".cache", ignore_errors=True)
        subprocess.run([sys.executable, "-m", "pipeline", "build", "--format", "pdf", "-q"], cwd=project,
                       check=True, capture_output=True)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(f"print: peak memory building en, km and ja PDFs (largest process; 2 run at once): {max(peak, before) / 1024:,.0f} MiB "
              "(target under 1,536 MiB)")


def _print_split(project: Path) -> None:
    """Time WeasyPrint's own work (layout, PDF writing) inside one in-process English render."""
    import weasyprint
    from pipeline.config import load_config
    from pipeline.i18n.localize import localize
    from pipeline.render.pdf import render_pdf
    from pipeline.safety import parse_xml
    config = load_config(project)
    root = parse_xml(config.book_xml.read_bytes(), config.book_xml)
    spent = {"weasyprint": 0.0}
    original_render, original_write = weasyprint.HTML.render, weasyprint.Document.write_pdf

    def timed_call(function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent["weasyprint"] += time.perf_counter() - started
        return wrapper

    weasyprint.HTML.render = timed_call(original_render)
    weasyprint.Document.write_pdf = timed_call(original_write)
    try:
        render_pdf(localize(root, "en", config).book, "en", config, project / "split.pdf")  # warm caches
        spent["weasyprint"] = 0.0
        started = time.perf_counter()
        render_pdf(localize(root, "en", config).book, "en", config, project / "split.pdf")
        total = time.perf_counter() - started
    finally:
        weasyprint.HTML.render, weasyprint.Document.write_pdf = original_render, original_write
    ours = total - spent["weasyprint"]
    print(f"print: in-process English render {total:.2f} s: WeasyPrint layout and PDF {spent['weasyprint']:.2f} s, "
          f"ours {ours:.2f} s = {ours / total:.0%} of the render (target under 20%)")




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
    from pipeline.i18n.localize import localize
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
        books = {lang: localize(root, lang, config).book for lang in config.languages}
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


def bench_build() -> None:
    """The whole build as the publisher and CI run it: cold, English alone, no-op, one-paragraph edit."""
    import os
    import resource
    with tempfile.TemporaryDirectory() as directory:
        project = _project_copy(Path(directory) / "project")
        press = [sys.executable, "-m", "pipeline", "build", "-q"]

        def cold(*args: str) -> float:
            shutil.rmtree(project / "output", ignore_errors=True)
            started = time.perf_counter()
            subprocess.run([*press, *args], cwd=project, check=True, capture_output=True)
            return time.perf_counter() - started

        subprocess.run(press, cwd=project, check=True, capture_output=True)  # catalogs in place
        english = statistics.median(cold("--lang", "en") for _ in range(2))
        everything = cold()
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        noop = timed(press, repeat=3, cwd=project)
        manuscript = project / "source" / "manuscript.txt"
        original = manuscript.read_text(encoding="utf-8")
        edits = []
        for number in range(2):
            manuscript.write_text(original.replace("cornerstones of stability", f"cornerstones ({number}) of stability",
                                                   1), encoding="utf-8")
            started = time.perf_counter()
            subprocess.run(press, cwd=project, check=True, capture_output=True)
            edits.append(time.perf_counter() - started)
        edit = statistics.median(edits)
        print(f"build: cold, English PDF and EPUB {english:.2f} s; all six editions {everything:.2f} s "
              f"({everything / english:.2f}x English alone, {os.cpu_count()} cores)")
        print(f"build: no-op rebuild {noop:.2f} s = {noop / everything:.1%} of a cold build (target under 2%)")
        print(f"build: one-paragraph edit {edit:.2f} s = {edit / everything:.0%} of a cold build "
              "(re-extracts, re-merges, re-renders every edition, since every edition shows that paragraph)")
        print(f"build: peak memory of one process in the full build {peak / 1024:,.0f} MiB")
        pandoc = shutil.which("pandoc")
        if pandoc:
            epub = timed([pandoc, "-f", "markdown", str(manuscript), "-o", str(Path(directory) / "pandoc.epub")],
                         repeat=3)
            print(f"build: pandoc manuscript -> EPUB {epub:.2f} s; press cold English PDF+EPUB is "
                  f"{english / epub:.1f}x that (pandoc's EPUB has no notes, page list, fonts or repair)")


def _cpu_of_child(command: list[str]) -> float:
    """CPU seconds (user + system) one child process spent."""
    import resource
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bench_pdf_read() -> None:
    """press's PDF reader on its own English edition, against pdftotext and pypdf's extract_text."""
    from io import BytesIO

    from pypdf import PdfReader

    from pipeline.ingest.pdf import read_pdf
    with tempfile.TemporaryDirectory() as directory:
        project = _project_copy(Path(directory) / "project")
        subprocess.run([sys.executable, "-m", "pipeline", "build", "--lang", "en", "--format", "pdf", "-q"],
                       cwd=project, check=True, capture_output=True)
        edition = next((project / "output" / "en").glob("*.pdf"))
        data = edition.read_bytes()

        def ours() -> float:
            started = time.process_time()
            manuscript = read_pdf(data, edition)
            assert manuscript.blocks
            return time.process_time() - started

        def pypdf_extract_text() -> float:
            started = time.process_time()
            for page in PdfReader(BytesIO(data)).pages:
                page.extract_text()
            return time.process_time() - started

        ours()  # imports and first-use caches out of the figure
        press = statistics.median(ours() for _ in range(5))
        pages = len(PdfReader(BytesIO(data)).pages)
        print(f"pdf-read: press read_pdf on the {pages}-page English edition: {press:.2f} s CPU (median of 5; "
              "target at most 2 s)")
        pdftotext = shutil.which("pdftotext")
        if pdftotext:
            peer = statistics.median(_cpu_of_child([pdftotext, str(edition), str(Path(directory) / "e.txt")])
                                     for _ in range(5))
            print(f"pdf-read: pdftotext on the same file: {peer:.2f} s CPU; ratio press/pdftotext = {press / peer:.1f}")
        else:
            print("pdf-read: pdftotext not installed; no peer ratio")
        extract = pypdf_extract_text()
        print(f"pdf-read: pypdf extract_text alone (the reader's text layer before): {extract:.2f} s CPU; "
              f"press reads {extract / press:.1f}x faster")


def _peak_child_mib(command: list[str], cwd: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MiB of the largest process) of a command run in a fresh wrapper process, so the
    figure is this command's alone (a process's RUSAGE_CHILDREN peak never goes down)."""
    wrapper = ("import resource, subprocess, sys, time; started = time.perf_counter(); "
               "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
               "print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", wrapper, *command], cwd=cwd, check=True, capture_output=True,
                         text=True).stdout.split()
    return float(out[0]), int(out[1]) / 1024


def bench_parts() -> None:
    """Issue 15's figures. This machine's speed drifts by half within minutes (a shared host), so each ratio
    is of medians of runs made side by side: the cold builds between the edits, press's English PDF and
    pandoc's in turns."""
    import json
    import os
    with tempfile.TemporaryDirectory() as directory:
        project = _project_copy(Path(directory) / "project")
        # the six editions the issue counts (PDF and EPUB per language; the printer's PDF is a seventh)
        press = [sys.executable, "-m", "pipeline", "build", "-q", "--format", "pdf", "--format", "epub"]
        subprocess.run(press, cwd=project, check=True, capture_output=True)  # catalogs in place
        manuscript = project / "source" / "manuscript.txt"
        original = manuscript.read_text(encoding="utf-8")
        pagemap = project / "output" / "en" / "pagemap.json"

        def cold() -> float:
            shutil.rmtree(project / "output")
            return _peak_child_mib(press, project)[0]

        def edited(text: str) -> tuple[float, bool]:
            before = json.loads(pagemap.read_text())["starts"]
            manuscript.write_text(text, encoding="utf-8")
            started = time.perf_counter()
            subprocess.run(press, cwd=project, check=True, capture_output=True)
            seconds = time.perf_counter() - started
            labels = [(label, element) for _, label, element in json.loads(pagemap.read_text())["starts"]
                      if element.startswith("ch") and "-" not in element]
            moved = labels != [(label, element) for _, label, element in before
                               if element.startswith("ch") and "-" not in element]
            return seconds, moved

        colds, noops, edits = [], [], []
        for number in range(3):
            manuscript.write_text(original, encoding="utf-8")
            colds.append(cold())
            noops.append(timed(press, repeat=3, cwd=project))
            seconds, moved = edited(original.replace("cornerstones of stability",
                                                     f"cornerstones ({number}) of stability", 1))
            assert not moved, "the one-sentence edit moved a chapter: pick another sentence"
            edits.append(seconds)
        cold_s, noop, edit = statistics.median(colds), statistics.median(noops), statistics.median(edits)
        paragraph = next(line for line in original.split("\n") if "cornerstones of stability" in line)
        grown, moved = edited(original.replace(paragraph, "\n\n".join([paragraph] * 6), 1))
        assert moved, "the grown chapter kept its page count: grow it more"
        manuscript.write_text(original, encoding="utf-8")
        print(f"parts: cold build, all six editions {cold_s:.2f} s, median of {', '.join(f'{c:.2f}' for c in colds)} "
              f"({os.cpu_count()} cores)")
        print(f"parts: no-op rebuild {noop:.2f} s = {noop / cold_s:.1%} of cold (target under 2%)")
        print(f"parts: one-sentence edit in chapter 1, page counts unchanged: {edit:.2f} s "
              f"(median of {', '.join(f'{e:.2f}' for e in edits)}) = {edit / cold_s:.2f}x cold (target at most 0.25x)")
        print(f"parts: chapter 1 grown by pages (later chapters' folios and the contents move): {grown:.2f} s = "
              f"{grown / cold_s:.2f}x cold (target at most 0.5x)")

        english = [sys.executable, "-m", "pipeline", "build", "-q", "--lang", "en", "--format", "pdf"]
        subprocess.run(english, cwd=project, check=True, capture_output=True)
        weasyprint_bin = Path(sys.executable).parent / "weasyprint"
        pandoc = shutil.which("pandoc")
        peer_command = [pandoc or "pandoc", "-f", "markdown", str(manuscript), "--pdf-engine=weasyprint",
                        "-o", str(Path(directory) / "pandoc.pdf")]
        env = dict(os.environ, PATH=f"{weasyprint_bin.parent}:{os.environ['PATH']}")
        runs, peers = [], []
        for _ in range(5):
            shutil.rmtree(project / "output" / ".cache", ignore_errors=True)
            started = time.perf_counter()
            subprocess.run(english, cwd=project, check=True, capture_output=True)
            runs.append(time.perf_counter() - started)
            if pandoc and weasyprint_bin.exists():
                peers.append(timed(peer_command, repeat=1, env=env))
        ours = statistics.median(runs)
        if peers:
            peer = statistics.median(peers)
            print(f"parts: English PDF cold (press build --lang en --format pdf, manuscript to PDF, fresh process) "
                  f"{ours:.2f} s; pandoc --pdf-engine=weasyprint {peer:.2f} s (medians of 5, run in turns); "
                  f"ratio {ours / peer:.2f} (target at most 1.2)")
        else:
            print(f"parts: English PDF cold {ours:.2f} s; pandoc or weasyprint not installed, no peer ratio")
        _parts_scaling(project)
        shutil.rmtree(project / "output" / ".cache", ignore_errors=True)
        _, peak = _peak_child_mib([sys.executable, "-m", "pipeline", "build", "-q", "--format", "pdf"], project)
        print(f"parts: peak memory building the en, km and ja PDFs (largest process): {peak:,.0f} MiB "
              "(target under 1,536 MiB)")


def _parts_scaling(project: Path) -> None:
    """The English PDF's render in-process with 1 and 2 workers, the 8-core estimate, and the file sizes."""
    from pipeline.config import load_config, with_renderer
    from pipeline.i18n.localize import localize
    from pipeline.render import parts as parts_module
    from pipeline.render.pdf import _print_html, render_pdf
    from pipeline.render.strings import ui_strings
    from pipeline.safety import parse_xml
    config = load_config(project)
    root = parse_xml(config.book_xml.read_bytes(), config.book_xml)
    book = localize(root, "en", config).book
    strings = ui_strings("en", config.project_dir / "locales")
    folder = parts_module.parts_dir(config, "en", False)
    timings = {}
    result = None
    for workers in (1, 2):
        shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        html, ctx, document, _ = _print_html(book, "en", config, drafts=False, notes=config.notes, images=None)
        ours_html = time.perf_counter() - started
        result = parts_module.render_in_parts(document, "en", config, strings, drafts=False, images=None,
                                              workers=workers)
        timings[workers] = time.perf_counter() - started
    assert result is not None
    records = result.records
    chapters = [record.seconds for name, record in records.items() if name not in ("front", "folios")]
    critical = ours_html + max(chapters) + max(records["front"].seconds, records["folios"].seconds) \
        + result.stitch_seconds
    print(f"parts: English PDF render in-process, {len(chapters)} chapters + contents + folios: 1 worker "
          f"{timings[1]:.2f} s, 2 workers {timings[2]:.2f} s ({timings[1] / timings[2]:.2f}x); on 8 cores about "
          f"{critical:.2f} s (critical path: HTML {ours_html:.2f} s + longest chapter {max(chapters):.2f} s + "
          f"contents/folios {max(records['front'].seconds, records['folios'].seconds):.2f} s + stitch "
          f"{result.stitch_seconds:.2f} s)")
    single = with_renderer(config, "single")
    started = time.perf_counter()
    reference = render_pdf(book, "en", single, project / "single.pdf", notes=config.notes)
    single_seconds = time.perf_counter() - started
    print(f"parts: the single pass in-process {single_seconds:.2f} s; stitched PDF {len(result.data) / 1024:,.0f} KiB "
          f"against the single pass's {reference.size / 1024:,.0f} KiB (one font program per face: bench/run.py fonts)")


def _stitch_cpu(document, lang: str, config, strings, *, merging: bool, cold: bool = False) -> tuple[float, int]:
    """CPU seconds of one stitch of the edition (every part cached: the stitch is all that runs) and its size,
    with the fonts merged or each part's subsets kept; ``cold``: the font cache emptied first."""
    import resource
    from pipeline.render import fontmerge
    from pipeline.render import parts as parts_module
    if cold:
        for path in (config.output_dir / ".cache" / "fonts" / "stitched").glob("*"):
            path.unlink()
    merge = fontmerge.merge_fonts
    if not merging:
        fontmerge.merge_fonts = lambda book, cache=None: fontmerge.FontMergeReport()
    try:
        started = resource.getrusage(resource.RUSAGE_SELF)
        result = parts_module.render_in_parts(document, lang, config, strings, drafts=False, images=None)
        ended = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        fontmerge.merge_fonts = merge
    assert not result.rendered, "a part was laid out again: the stitch alone is measured"
    return ended.ru_utime + ended.ru_stime - started.ru_utime - started.ru_stime, len(result.data)


def bench_fonts() -> None:
    """The stitched PDFs' fonts: each edition's size single-pass and in parts, and what merging the parts'
    font subsets (pipeline/render/fontmerge.py) costs in the stitch, in CPU seconds, font cache cold and warm."""
    from pipeline.config import load_config
    from pipeline.i18n.localize import localize
    from pipeline.render.pdf import _print_html
    from pipeline.render.strings import ui_strings
    from pipeline.safety import parse_xml
    with tempfile.TemporaryDirectory() as directory:
        project = _project_copy(Path(directory) / "project")
        press = [sys.executable, "-m", "pipeline", "build", "-q", "--format", "pdf"]
        single: dict[str, int] = {}
        subprocess.run(press + ["--single-pass"], cwd=project, check=True, capture_output=True)
        for lang in ("en", "km", "ja"):
            single[lang] = (project / "output" / lang / "rise-of-global-south.pdf").stat().st_size
        subprocess.run(press, cwd=project, check=True, capture_output=True)
        config = load_config(project)
        root = parse_xml(config.book_xml.read_bytes(), config.book_xml)
        for lang in ("en", "km", "ja"):
            book = localize(root, lang, config).book
            strings = ui_strings(lang, config.project_dir / "locales")
            _, _, document, _ = _print_html(book, lang, config, drafts=False, notes=config.notes, images=None)
            without = statistics.median(_stitch_cpu(document, lang, config, strings, merging=False)[0]
                                        for _ in range(5))
            cold = statistics.median(_stitch_cpu(document, lang, config, strings, merging=True, cold=True)[0]
                                     for _ in range(3))
            warm = statistics.median(_stitch_cpu(document, lang, config, strings, merging=True)[0] for _ in range(5))
            merged = _stitch_cpu(document, lang, config, strings, merging=True)[1]
            kept = _stitch_cpu(document, lang, config, strings, merging=False)[1]
            reference = single[lang]
            print(f"fonts: {lang} PDF single pass {reference / 1024:,.0f} KiB; in parts {kept / 1024:,.0f} KiB "
                  f"({kept / reference - 1:+.0%}) with each part's subsets, {merged / 1024:,.0f} KiB "
                  f"({merged / reference - 1:+.0%}) with one program per face; stitch CPU {without:.3f} s without "
                  f"the merge, {warm:.3f} s with it ({cold:.3f} s with the font cache cold)")


BENCHMARKS = {"extract": bench_extract, "translate": bench_translate, "print": bench_print, "epub": bench_epub,
              "build": bench_build, "pdf-read": bench_pdf_read, "parts": bench_parts, "fonts": bench_fonts}


def main(argv: list[str]) -> None:
    import os
    # every press the benchmarks start runs this checkout's code, not whatever `pipeline` the venv installs
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    for name in argv or list(BENCHMARKS):
        BENCHMARKS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
