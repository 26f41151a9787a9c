"""Shared fixtures: the real manuscript's book, and the same book as DOCX and PDF made by real tools."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from contextlib import contextmanager
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
MANUSCRIPT = ROOT / "source" / "manuscript.txt"
NETGUARD = Path(__file__).resolve().parent / "netguard"
CHILD_PYTHONPATH = os.pathsep.join([str(ROOT), str(NETGUARD)])  # children import the repo and the network guard
sys.path.insert(0, str(ROOT))

from pipeline.config import load_config  # noqa: E402
from pipeline.docbook import DB_NS, NS, XML_NS  # noqa: E402
from pipeline.extract import extract_book  # noqa: E402
from pipeline.safety import parse_xml  # noqa: E402


def _load_guard():
    import importlib.util
    spec = importlib.util.spec_from_file_location("press_netguard", NETGUARD / "sitecustomize.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if "PYTEST_XDIST_WORKER" in os.environ:  # each xdist worker its own log: an attempt is blamed on its own test
    os.environ["PRESS_NETGUARD_LOG"] = str(Path(tempfile.mkdtemp(prefix="press-netguard-")) / "attempts.log")
NETGUARD_LOG = Path(os.environ.setdefault(
    "PRESS_NETGUARD_LOG", str(Path(tempfile.mkdtemp(prefix="press-netguard-")) / "attempts.log")))
NETGUARD_LOG.touch()
GUARD = _load_guard()
GUARD.install()  # this process; children load it through CHILD_PYTHONPATH and PRESS_NETGUARD_LOG


def _slow(item: pytest.Item) -> bool:
    return item.get_closest_marker("slow") is not None


BUILT_PROJECT_READERS = {"built_project", "english_edition", "reviewed_editions"}  # fixtures made from it


def _reads_built_project(item: pytest.Item) -> bool:
    """Whether the test needs the session's built project: among its fixtures, or named by a parameter
    the test looks up itself (request.getfixturevalue, as test_pdf_roundtrip does)."""
    named = [value for value in getattr(getattr(item, "callspec", None), "params", {}).values() if isinstance(value, str)]
    return "built_project" in item.fixturenames or any(name in BUILT_PROJECT_READERS for name in named)


def _worksteal_shares(count: int, workers: int) -> list[int]:
    """How many tests pytest-xdist's worksteal scheduler first hands each worker, in order: the first
    worker the first share of the collection, the next one the next share, and so on (then an idle worker
    steals the last half of the longest queue)."""
    shares, left = [], count
    for index in range(workers):
        shares.append(left // (workers - index))
        left -= shares[-1]
    return shares


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The order the tests run in: the slow ones first (a stable sort), so the long ones run while short
    ones can still fill the other worker's time, instead of one long test finishing alone at the end.

    On several pytest-xdist workers (scripts/test: worksteal, which hands each worker a contiguous share of
    this list), the first share holds the tests that read the session's built project, so the worker that
    builds it (conftest.built_project: 45 s of CPU) goes on to its readers; the other shares start with the
    slow tests that do not need it, so no worker waits for the build while there is other work. The short
    tests from the end of the others fill the first share, and are the first stolen at the end."""
    items.sort(key=lambda item: not _slow(item))
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers < 2:
        return
    shares = _worksteal_shares(len(items), workers)
    readers = [item for item in items if _reads_built_project(item)]
    others = [item for item in items if not _reads_built_project(item)]
    first = readers[:shares[0]]
    rest = others + readers[shares[0]:]  # (on a selection of mostly readers, the rest of them run later)
    fill = shares[0] - len(first)
    items[:] = first + rest[len(rest) - fill:] + rest[:len(rest) - fill]


@pytest.fixture(autouse=True)
def offline():
    """Every test runs offline: this process and every Python child it starts refuse network access
    (tests/netguard/sitecustomize.py); an attempt fails the test even if the code caught the error."""
    before = NETGUARD_LOG.stat().st_size if NETGUARD_LOG.exists() else 0
    yield
    if NETGUARD_LOG.exists() and NETGUARD_LOG.stat().st_size > before:
        with NETGUARD_LOG.open(encoding="utf-8") as log:
            log.seek(before)
            pytest.fail(f"network access was attempted:\n{log.read()[:4000]}")


@contextmanager
def made_once(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[tuple[Path, bool]]:
    """A directory for a costly session artefact, and whether this process must make it.

    Under pytest-xdist each worker has its own session, so a session fixture would be made once per
    worker: the workers share one directory beside their own temporary ones instead, and the first to
    take the lock makes the artefact while the others wait for it (the pytest-xdist documentation's
    recipe). Without xdist this is an ordinary temporary directory."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        yield tmp_path_factory.mktemp(name), True
        return
    from filelock import FileLock
    shared = tmp_path_factory.getbasetemp().parent / "shared"  # the run's directory, above each worker's
    shared.mkdir(exist_ok=True)
    directory, done = shared / name, shared / f"{name}.done"
    with FileLock(str(shared / f"{name}.lock")):
        if done.exists():
            yield directory, False
            return
        shutil.rmtree(directory, ignore_errors=True)  # a worker that failed making it left a part
        directory.mkdir()
        yield directory, True
        done.touch()


FAST = {"beam_size": 1, "max_decoding_length": 8, "batch_size": 64}  # tiny models: draft quickly


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Real translation models, tiny and random: Argos packages for ja (and de, a language the book
    lacks) and an NLLB-style CTranslate2 directory for km (tests/tinymodels.py builds them)."""
    from tinymodels import build_argos_package, build_multilingual_model
    with made_once(tmp_path_factory, "models") as (directory, make):
        if make:
            build_argos_package(directory / "translate-en_ja.argosmodel", directory / "work-ja", to_code="ja")
            build_argos_package(directory / "translate-en_de.argosmodel", directory / "work-de", to_code="de")
            build_multilingual_model(directory / "nllb-200-distilled-600M")
    return {"ja": directory / "translate-en_ja.argosmodel", "de": directory / "translate-en_de.argosmodel",
            "km": directory / "nllb-200-distilled-600M"}


def xid(element) -> str | None:
    return element.get(f"{{{XML_NS}}}id")


def chapter(root, number: int):
    return root.xpath(f"db:chapter[@label='{number}']", namespaces=NS)[0]


def run_press(*args: str, cwd: Path | None = None, timeout: float = 120, env: dict | None = None):
    """Run the real command line in a child process, as a user or a script would."""
    environment = dict(os.environ, PYTHONPATH=CHILD_PYTHONPATH, **(env or {}))
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd or ROOT, capture_output=True,
                          text=True, timeout=timeout, env=environment)


def copy_project(destination: Path) -> Path:
    """A throwaway copy of the project: configuration, manuscript, templates and catalogs."""
    for name in ("source", "templates", "locales"):
        shutil.copytree(ROOT / name, destination / name)
    return destination


SMALL_BOOK = """A Small Book

Edited by

John Smith

Published by:

Small Press

ISBN: 978-9924-9978-2-5

Chapter 1

The Beginning

John Smith

Introduction

This short paragraph says something plain about the world and ends here.

Another paragraph follows with more words in it{extra}.
"""


def small_project(destination, extra: str = ""):
    """A project whose book leaves nothing for the editor, so --strict judges only what the test adds."""
    project = copy_project(destination)
    (project / "source" / "editorial.toml").unlink()
    (project / "source" / "manuscript.txt").write_text(SMALL_BOOK.format(extra=extra), encoding="utf-8")
    return project


@pytest.fixture(scope="session")
def built_project(tmp_path_factory) -> Path:
    """The project built once for the whole session: every language, PDF and EPUB (the cold build several
    test files used to make for themselves). Tests copy it (copy_built) and never change it."""
    import io
    from pipeline.build import build
    from pipeline.progress import Reporter
    with made_once(tmp_path_factory, "built-project") as (project, make):
        if make:
            copy_project(project)
            assert build(project, reporter=Reporter(io.StringIO(), quiet=True)) == 0
    return project


def copy_built(built: Path, destination: Path) -> Path:
    """A throwaway copy of the built project, outputs and build cache included (the cache records outputs
    relative to the project, so the copy's cache describes the copy's own files)."""
    for name in ("source", "templates", "locales", "output"):
        shutil.copytree(built / name, destination / name)
    return destination


@pytest.fixture(scope="session")
def reviewed_editions(tmp_path_factory, built_project) -> Path:
    """A copy of the built project with reviewed Khmer and Japanese for chapter 1's opening
    (test_print.review_catalog: real Khmer and Japanese text to lay out), its print editions and the
    printer's PDF built again, rendered in parts; build.log holds the build's messages. test_print reads
    the editions, test_pdf_parts compares them with a single pass. Tests copy it and never change it."""
    from test_print import review_catalog
    with made_once(tmp_path_factory, "reviewed-editions") as (directory, make):
        project = directory / "project"
        if make:
            copy_built(built_project, project)
            for lang in ("km", "ja"):
                review_catalog(project / "locales" / lang / "ch1.po", lang)
            second = run_press("build", "--format", "pdf", "--format", "printer", cwd=project, timeout=600)
            assert second.returncode == 0, second.stderr
            (project / "build.log").write_text(second.stderr, encoding="utf-8")
    return project


@pytest.fixture(scope="session")
def config():
    return load_config(ROOT)


@pytest.fixture(scope="session")
def extracted(tmp_path_factory, config):
    """The real manuscript extracted (and repaired) once for the whole session."""
    output = tmp_path_factory.mktemp("extract") / "book.xml"
    return extract_book(config, output=output)


@pytest.fixture(scope="session")
def book(extracted):
    """The written book.xml, read back through the pipeline's own safe parser."""
    return parse_xml(extracted.output.read_bytes(), extracted.output)


@pytest.fixture(scope="session")
def structured(tmp_path_factory, config):
    """The real manuscript as the readers and the structuring stage see it, before repair."""
    output = tmp_path_factory.mktemp("structured") / "book.xml"
    return extract_book(config, output=output, repair=False)


@pytest.fixture(scope="session")
def structured_book(structured):
    return parse_xml(structured.output.read_bytes(), structured.output)


def need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        pytest.skip(f"{tool} is not installed (scripts/setup installs it)")
    return path


# --------------------------------------------------------------------------- real DOCX and PDF


def _with_placeholder_images(root: etree._Element, directory: Path) -> etree._Element:
    """A copy of the book whose figures point at a real PNG, so outside tools keep them as figures."""
    from PIL import Image
    image = directory / "figure.png"
    Image.new("RGB", (120, 80), (200, 210, 230)).save(image)
    root = copy.deepcopy(root)
    for media in root.xpath("//db:figure/db:mediaobject", namespaces=NS):
        for child in list(media):
            media.remove(child)
        image_object = etree.SubElement(media, f"{{{DB_NS}}}imageobject")
        etree.SubElement(image_object, f"{{{DB_NS}}}imagedata", fileref=str(image))
    return root


@pytest.fixture(scope="session")
def book_docx(tmp_path_factory, book) -> Path:
    """The book as Word makes it: pandoc's DOCX writer, with real footnotes and heading styles."""
    pandoc = need("pandoc")
    with made_once(tmp_path_factory, "docx") as (directory, make):
        if make:
            source = directory / "book.xml"
            source.write_bytes(etree.tostring(_with_placeholder_images(book, directory)))
            subprocess.run([pandoc, "-f", "docbook", "-t", "docx", str(source), "-o", str(directory / "book.docx")],
                           check=True, capture_output=True, timeout=120)
    return directory / "book.docx"


PRINT_CSS = """
@page { size: 176mm 250mm; margin: 20mm 18mm 22mm 18mm;
  @top-center { content: string(running); font-size: 8pt; font-style: italic }
  @bottom-center { content: counter(page); font-size: 9pt } }
body { font-family: "DejaVu Serif"; font-size: 10.5pt; line-height: 1.4; hyphens: auto; counter-reset: table figure }
h1 { font-size: 20pt; string-set: running content() } h2 { font-size: 14pt } h3 { font-size: 12pt }
.part { break-before: page }
.label { font-size: 20pt; font-weight: bold; margin: 0 }
.byline { font-style: italic }
table { counter-increment: table }
caption::before { content: "Table " counter(table) ": " }
figure { counter-increment: figure }
figcaption::before { content: "Figure " counter(figure) ": " }
td, th { padding: 3pt 4pt; vertical-align: top; text-align: left }
section.footnotes { font-size: 9pt }
section.footnotes::before { content: "References"; display: block; font-size: 14pt; font-weight: bold; margin: 1em 0 }
section.footnotes hr { display: none }
.title-page h1 { font-size: 24pt; string-set: running "" }
p { margin: 0 0 0.6em 0; text-align: justify }
img { width: 40mm }
"""


@pytest.fixture(scope="session")
def book_pdf(tmp_path_factory, book) -> Path:
    """The book as a typeset PDF: each part through pandoc's HTML writer, the whole through WeasyPrint.

    Chapters carry their labels and bylines, notes become each chapter's "References" list,
    pages have running heads and folios, text is justified and hyphenated: what a reader of
    real book PDFs must cope with.
    """
    need("pandoc")
    pytest.importorskip("weasyprint")
    with made_once(tmp_path_factory, "pdf") as (directory, make):
        if make:
            _typeset_with_pandoc_and_weasyprint(book, directory, directory / "book.pdf")
    return directory / "book.pdf"


def _typeset_with_pandoc_and_weasyprint(book: etree._Element, directory: Path, target: Path) -> None:
    import weasyprint
    pandoc = need("pandoc")
    root = _with_placeholder_images(book, directory)
    html = [f"<html lang='en'><head><meta charset='utf-8'><style>{PRINT_CSS}</style></head><body>"]
    title = root.xpath("string(db:info/db:title)", namespaces=NS)
    editors = [e.xpath("string(.)") for e in root.xpath("db:info/db:editor/db:personname", namespaces=NS)]
    html.append(f"<div class='title-page'><h1>{title}</h1><p>Edited by</p>"
                + "".join(f"<p>{name}</p>" for name in editors) + "</div>")
    for index, part in enumerate(root.xpath("db:preface | db:acknowledgements | db:chapter", namespaces=NS)):
        article = etree.Element(f"{{{DB_NS}}}article", nsmap={None: DB_NS, "xlink": "http://www.w3.org/1999/xlink"})
        for child in part:
            article.append(copy.deepcopy(child))
        body = subprocess.run([pandoc, "-f", "docbook", "-t", "html5", "--shift-heading-level-by=1",
                               f"--id-prefix=p{index}-"],
                              input=etree.tostring(article), capture_output=True, check=True, timeout=60).stdout
        label = f"<p class='label'>Chapter {part.get('label')}</p>" if part.get("label") else ""
        part_title = part.xpath("string(db:info/db:title)", namespaces=NS)
        byline = "".join(f"<p class='byline'>{name.xpath('string(.)')}</p>"
                         for name in part.xpath("db:info/db:author/db:personname", namespaces=NS))
        html.append(f"<div class='part'>{label}<h1>{part_title}</h1>{byline}{body.decode()}</div>")
    html.append("</body></html>")
    weasyprint.HTML(string="".join(html), base_url=str(directory)).write_pdf(target)


# --------------------------------------------------------------------------- translation projects


def translation_project(destination: Path, extracted_book: Path, **settings) -> Path:
    """A throwaway project whose book is already extracted; ``settings`` rewrite [translation] keys."""
    project = copy_project(destination)
    (project / "output" / "xml").mkdir(parents=True)
    shutil.copy(extracted_book, project / "output" / "xml" / "book.xml")
    return configure_translation(project, **settings)


def configure_translation(project: Path, **settings) -> Path:
    """``settings`` written over the project's [translation] keys."""
    import re
    toml = project / "source" / "book.toml"
    text = toml.read_text()
    for key, value in settings.items():
        text, count = re.subn(rf"^{key} = .*$", f"{key} = {value}", text, flags=re.MULTILINE)
        assert count == 1, key
    toml.write_text(text)
    return project


# --------------------------------------------------------------------------- press's own edition, LibreOffice's PDF


@pytest.fixture(scope="session")
def english_edition(built_project) -> Path:
    """The English print edition press itself made (WeasyPrint), from the session's built project."""
    [edition] = [pdf for pdf in (built_project / "output" / "en").glob("*.pdf") if not pdf.stem.endswith("-print")]
    return edition  # (the other PDF there is the printer's)


@pytest.fixture(scope="session")
def book_office_pdf(tmp_path_factory, book_docx) -> Path:
    """The book as LibreOffice prints the DOCX pandoc made of it: notes at the page foot, each
    number on a line of its own above its text, tables, the abbreviations as a definition list."""
    office = need("libreoffice")
    with made_once(tmp_path_factory, "office") as (directory, make):
        if make:
            subprocess.run([office, f"-env:UserInstallation=file://{directory}/profile", "--headless",
                            "--convert-to", "pdf", "--outdir", str(directory), str(book_docx)],
                           check=True, capture_output=True, timeout=300)
    return directory / "book.pdf"
