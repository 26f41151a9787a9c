"""The print edition rendered part by part, in parallel, and stitched into one PDF (issue 15).

One WeasyPrint document for the whole book lays out every page again after a one-word edit. Here the
print HTML (the same tree the single-pass renderer lays out) is cut into parts: the front matter (title,
copyright, contents, preface, acknowledgements) and each chapter, with whatever follows a chapter staying
with it. Every chapter opens on a recto, so a part's layout does not depend on where it starts; only two
things do, and they are made apart from the parts:

* the chapters' folios: each part is laid out without them, and they are drawn by one small WeasyPrint
  document of folios only (the same ``@page`` rules, so the same font, size and place), laid over the
  pages as marked artifacts, as a printer's folio plate;
* the contents' page numbers: the front matter is laid out last, with the chapters' folios (known from the
  parts' page counts) written in where the single pass reads ``target-counter()``.

A part ends with an empty marker that breaks to the next recto; its page is dropped, so a part that ends
on a recto carries the blank verso the single pass has there (with a draft's footer, if any). Each part,
and the folio document, is cached under ``output/.cache/parts/<lang>/`` by the content it reads (its HTML,
the stylesheet, the images it shows, the fonts, the code); an edit re-renders its own part, the contents
when a page count changed, and the folios when a page moved. The stitcher (pikepdf) keeps what the single
pass has: one structure tree (one Document element, ParentTree and StructParents renumbered), the
outline, named destinations and links across parts, page labels, metadata and the PDF/UA claim.
``[print] render = "single"`` (``press build --single-pass``) is the reference renderer.
"""

from __future__ import annotations

import copy
import gc
import hashlib
import json
import logging
import multiprocessing
import os
import re
import sys
import threading
import time
import warnings
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from lxml import etree

from ..config import BookConfig
from ..errors import LimitError, RenderError
from ..lock import die_with_parent, kill_workers
from ..safety import atomic_write, url_fetcher
from .engine import load_weasyprint
from .layout import LayoutReport, Overflow, check_layout
from .pagemap import PageStart, document_order, folio, starting_elements

PARTS_VERSION = 1
MARKER_ID = "press-part-end"
ELSEWHERE = "press-part:"  # a link to an element in another part, resolved by the stitcher
FOLIO_PAGE = "body"  # the named page whose folios the chapters' parts leave to the folio layer
_ERRORS = (ValueError, TypeError, AttributeError, IndexError, KeyError, AssertionError, RecursionError)


# --------------------------------------------------------------------------- cutting the book


@dataclass
class Part:
    name: str  # "front", or the chapter's id
    elements: list[etree._Element]


def split_parts(document: etree._Element) -> list[Part]:
    """The print document's body cut before each chapter: the front matter, then one part per chapter."""
    body = document.find("body")
    parts = [Part("front", [])]
    for child in body:
        if "chapter" in (child.get("class") or "").split():
            parts.append(Part(child.get("id") or f"part{len(parts)}", []))
        parts[-1].elements.append(child)
    return parts


def _ids(elements: list[etree._Element]) -> set[str]:
    return {node.get("id") for element in elements for node in element.iter() if node.get("id")}


def part_document(document: etree._Element, part: Part, *, last: bool, css: str) -> etree._Element:
    """One part as its own HTML document: the edition's head, the part's elements, links to other parts
    marked for the stitcher, and (unless it is the last) the marker that breaks to the next recto."""
    head = copy.deepcopy(document.find("head"))
    style = etree.SubElement(head, "style")
    style.text = css
    html = etree.Element("html", dict(document.attrib))
    html.append(head)
    body = etree.SubElement(html, "body", dict(document.find("body").attrib))
    for element in part.elements:
        body.append(copy.deepcopy(element))
    here = _ids(part.elements)
    for link in body.iter("a"):
        href = link.get("href") or ""
        if href.startswith("#") and href[1:] not in here:
            link.set("href", ELSEWHERE + href[1:])
    if not last:
        etree.SubElement(body, "div", id=MARKER_ID)
    return html


MARKER_CSS = f"#{MARKER_ID} {{ break-before: right; page: opener; }}\n"
NO_BODY_FOLIOS = (f"@page {FOLIO_PAGE}:left {{ @bottom-left {{ content: none; }} }}\n"
                  f"@page {FOLIO_PAGE}:right {{ @bottom-right {{ content: none; }} }}\n")


def front_css(leader: str) -> str:
    """The contents' chapter numbers from the ``data-folio`` the front part is given (the single pass reads
    them with target-counter())."""
    return MARKER_CSS + (f"nav.contents li.toc-chapter a::after {{ content: leader({leader}) attr(data-folio); }}\n")


def set_contents_folios(front: etree._Element, folios: dict[str, str]) -> None:
    for link in front.xpath("//nav[@id='contents']//li[contains(@class, 'toc-chapter')]/a"):
        target = (link.get("href") or "").removeprefix(ELSEWHERE).removeprefix("#")
        link.set("data-folio", folios.get(target, ""))


FOLIO_PAGES_STEP = 64  # the folio document is laid out for a whole number of such runs of pages
CHARACTERS_PER_PAGE = 2250  # the English edition's body text per page: a first guess at the book's length


def folio_pages(body_pages: int) -> int:
    """How many pages of folios the folio document has for a book with ``body_pages`` pages from its first
    chapter on: rounded up to a step, so a chapter growing or shrinking by a few pages reuses the document."""
    return max(1, -(-body_pages // FOLIO_PAGES_STEP)) * FOLIO_PAGES_STEP


def folio_document(document: etree._Element, pages: int) -> etree._Element:
    """Pages of folios only, page 1 to ``pages`` from the first chapter on, each the named page that prints its
    folio. A page's folio depends on its number alone (chapters open on a recto, so page 1 is a recto and the
    number says the side), not on the chapters' page counts: the document can be laid out beside the chapters,
    and the stitcher stamps only the pages the book numbers. Margin boxes other than the folios (running heads,
    a draft's footer) are left to the parts."""
    head = copy.deepcopy(document.find("head"))
    style = etree.SubElement(head, "style")
    style.text = ("@page { marks: none; @top-left { content: none; } @top-right { content: none; } "
                  "@bottom-center { content: none; } }\n"
                  "@page :blank { @bottom-center { content: none; } }\n"
                  "div.folio-page { break-before: page; height: 1px; }\n"
                  "div.folio-page:first-child { break-before: auto; }\n"
                  f"div.numbered {{ page: {FOLIO_PAGE}; }}\n")
    html = etree.Element("html", dict(document.attrib))
    html.append(head)
    body = etree.SubElement(html, "body", dict(document.find("body").attrib))
    for _ in range(pages):
        etree.SubElement(body, "div", {"class": "folio-page numbered"})
    return html


def to_html(document: etree._Element) -> str:
    return etree.tostring(document, method="html", encoding="unicode", doctype="<!DOCTYPE html>")


# --------------------------------------------------------------------------- laying out one part (a worker)


@dataclass(frozen=True)
class PrinterSetup:
    """What the printer's PDF adds to each part: BleedBox and CMYK plates (pdf.printer_plates), its date."""

    bleed_mm: float
    modified: str


@dataclass
class PartJob:
    name: str
    lang: str
    html: str
    key: str
    drop_last_page: bool  # the marker's page
    pdf: Path  # where the part's PDF is cached
    meta: Path  # and what the stitcher needs to know of it
    ids: list[str] = field(default_factory=list)  # the part's element ids in reading order, for its page starts
    variant: str = "pdf/ua-1"  # the reader's PDF (tagged); "pdf/x-4" the printer's; "" the screen folios
    printer: PrinterSetup | None = None  # the printer's PDF: its bleed and fixed date


@dataclass
class PartRecord:
    """What a laid-out part tells the stitcher and the build, saved beside its PDF."""

    name: str
    key: str
    pages: int
    numbered: list[bool]  # per page: does the book print a folio on it (a body page, not blank)
    starts: list[tuple[int, str]]  # (1-based page within the part, id of the first element starting there)
    layout: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # per page (0-based, as a string: JSON's keys), the marked-content ids whose structure element hangs from no
    # parent (WeasyPrint's margin boxes): found here, in the worker, so the stitch need not walk the whole tree
    unattached: dict[str, list[int]] = field(default_factory=dict)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def lay_out_part(config: BookConfig, job: PartJob) -> PartRecord:
    """Lay one part out and write its PDF (the variant the single pass writes the book in)."""
    weasyprint = load_weasyprint()

    from .cjk import inter_character_justification
    from .hyphenation import book_hyphenation
    from .pdf import actual_text_for_reordering_scripts, flate_level, printer_plates
    from .pdftags import complete_structure_tree

    started = time.perf_counter()
    templates = config.project_dir / "templates"
    refused: list[str] = []
    fetcher = url_fetcher([templates, config.source_dir / "images"], config.limits, refused)
    collector = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    variants: dict[str, dict] = {"pdf/ua-1": {"pdf_variant": "pdf/ua-1", "pdf_tags": True},
                                 "pdf/x-4": {"pdf_variant": "pdf/x-4"}}
    variant = variants.get(job.variant, {})
    finisher = printer_plates(job.printer.bleed_mm) if job.printer else None
    try:
        with book_hyphenation(), inter_character_justification():
            rendered = weasyprint.HTML(string=job.html, base_url=str(templates) + "/", url_fetcher=fetcher).render(
                **variant)
        if job.printer:  # same book, same bytes
            rendered.metadata.modified = rendered.metadata.created = job.printer.modified
        if job.drop_last_page:
            if not rendered.pages or MARKER_ID not in rendered.pages[-1].anchors:
                raise RenderError(f"the {job.lang} part {job.name} did not end on its marker page",
                                  templates / "print.css", hint="a rule in print.css moves #press-part-end")
            rendered = rendered.copy(rendered.pages[:-1])
        layout = check_layout(rendered)
        with actual_text_for_reordering_scripts(), complete_structure_tree(), flate_level():
            data = rendered.write_pdf(**variant, finisher=finisher)
    except _ERRORS as error:
        raise RenderError(f"the {job.lang} edition's part {job.name} could not be laid out "
                          f"({type(error).__name__}: {error})", templates / "print.css",
                          hint="a template or stylesheet error; rerun with --debug for the details")
    finally:
        logger.removeHandler(collector)
    starts = starting_elements(rendered.pages, job.ids)
    numbered = [page._page_box.page_type.name == FOLIO_PAGE and not page._page_box.page_type.blank
                for page in rendered.pages]
    unattached = unattached_marked_content(data) if variant.get("pdf_tags") else {}
    record = PartRecord(job.name, job.key, len(rendered.pages), numbered, starts, asdict(layout),
                        collector.messages, refused, time.perf_counter() - started, unattached)
    atomic_write(job.pdf, data)
    atomic_write(job.meta, json.dumps(asdict(record), ensure_ascii=False) + "\n")
    return record


def load_record(job: PartJob) -> PartRecord | None:
    """The cached part, if its PDF and its record are there and were made from the same inputs."""
    try:
        data = json.loads(job.meta.read_text(encoding="utf-8"))
        if data.get("key") != job.key or not job.pdf.is_file():
            return None
        data["starts"] = [tuple(start) for start in data["starts"]]
        return PartRecord(**data)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def render_worker_start(parent: int) -> None:
    """A render worker's start (a process forked to lay out editions or parts): it dies with ``parent``
    (``lock.die_with_parent``), and its garbage collector leaves alone what the worker inherited and runs less
    often. WeasyPrint allocates boxes by the hundred thousand: with the default thresholds the collector ran
    110 to 180 times a chapter, each of its full passes walking every object inherited from the build (and
    writing to their pages, which the fork had shared), 7 to 9 % of the chapter's layout; now a few times."""
    die_with_parent(parent)
    gc.freeze()
    gc.set_threshold(10_000, 50, 50)


_renderer_import: threading.Thread | None = None


def _import_renderer() -> None:
    load_weasyprint()


def start_loading_renderer() -> None:
    """Begin importing WeasyPrint (a third of a second of CPU, parsing its C declarations) in a thread, while the
    build's first stages run: they spend much of their time waiting for Hunspell, msgcat and msgfmt, so the
    import is mostly done by the time the editions need it. ``preload_renderer`` waits for it."""
    global _renderer_import
    if _renderer_import is None and "weasyprint" not in sys.modules:
        _renderer_import = threading.Thread(target=_import_renderer, name="press-import-weasyprint", daemon=True)
        _renderer_import.start()


def finish_loading_renderer() -> None:
    """Wait for the import ``start_loading_renderer`` began, if it did (no thread may run while the process
    forks, nor be cut off mid-import when the process ends)."""
    global _renderer_import
    if _renderer_import is not None:
        _renderer_import.join()
        _renderer_import = None


def preload_renderer() -> None:
    """Import WeasyPrint (a quarter of a second of CPU) once, in the process that forks the render workers, so each
    worker inherits it instead of importing it again."""
    finish_loading_renderer()
    load_weasyprint()


def _expected_seconds(jobs: list[PartJob]):
    """The order to start parts in, longest first, so the last to finish is a short one: by the time each took
    when last laid out (its record, whatever its key), or by its HTML's length when one has never been."""
    took: dict[str, float] = {}
    for job in jobs:
        try:
            took[job.name] = float(json.loads(job.meta.read_text(encoding="utf-8"))["seconds"])
        except (OSError, ValueError, TypeError, KeyError):
            break
    if len(took) == len(jobs):
        return lambda job: took[job.name]
    return lambda job: float(len(job.html))


class PartPool:
    """Lays parts out: each cached one reused, the others in parallel worker processes (longest first). The
    workers are kept for the edition's second round (the contents, once the chapters' page counts are known),
    which then goes to a worker whose fonts and WeasyPrint's caches are warm instead of a process laying out
    its first document. One part alone, with no workers started, is laid out in this process."""

    def __init__(self, config: BookConfig, workers: int) -> None:
        self.config, self.workers = config, workers
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> PartPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def submit(self, jobs: list[PartJob]) -> dict[str, Future]:
        """Start laying the parts out (the cached ones are done already); ``collect`` waits for them. Parts
        submitted later start as soon as a worker is free, before the earlier ones are all collected."""
        pending: dict[str, Future] = {}
        todo = []
        for job in jobs:
            cached = load_record(job)
            if cached is not None:
                pending[job.name] = _done(cached)
            else:
                todo.append(job)
        todo.sort(key=_expected_seconds(todo), reverse=True)
        if self.pool is None and (len(todo) <= 1 or self.workers <= 1):
            for job in todo:
                pending[job.name] = _done(lay_out_part(self.config, job))
            return pending
        if self.pool is None:
            load_weasyprint()  # (imported once here: the forked workers inherit it)
            self.pool = ProcessPoolExecutor(max_workers=min(self.workers, len(todo)),
                                            mp_context=multiprocessing.get_context("fork"),
                                            initializer=render_worker_start, initargs=(os.getpid(),))
        for job in todo:
            pending[job.name] = self.pool.submit(lay_out_part, self.config, job)
        return pending

    def collect(self, pending: dict[str, Future]) -> dict[str, PartRecord]:
        """The records of parts ``submit`` started, once each is laid out."""
        records: dict[str, PartRecord] = {}
        try:
            for name, future in pending.items():
                records[name] = future.result()
        except (LimitError, KeyboardInterrupt):  # the render's time limit, SIGINT or SIGTERM: stop laying out now
            if self.pool is not None:
                kill_workers(self.pool)
                self.pool.shutdown(wait=True, cancel_futures=True)
                self.pool = None
            raise
        # (after a part's own error, the parts under way finish and are cached for the next build: __exit__)
        return records


def _done(record: PartRecord) -> Future:
    future: Future = Future()
    future.set_result(record)
    return future


# --------------------------------------------------------------------------- stitching


def _dictionaries(array):
    import pikepdf
    return [item for item in array if isinstance(item, pikepdf.Dictionary)]


def _document_element(tree):
    """The structure tree's one root element (WeasyPrint's /Document), whether /K holds it or an array of it."""
    import pikepdf
    kids = tree.K
    if isinstance(kids, pikepdf.Array):
        if len(kids) != 1:
            raise ValueError(f"a part's structure tree has {len(kids)} root elements, not one")
        kids = kids[0]
    return kids


class _Tree:
    """The stitched book's one structure tree: each part's Document children hung from the first part's
    Document, its ParentTree keys moved past the keys already used (pages and links alike)."""

    def __init__(self, book) -> None:
        self.root = book.Root.StructTreeRoot
        self.document = _document_element(self.root)
        self.nums = self.root.ParentTree.Nums
        self.next_key = max((int(self.nums[i]) for i in range(0, len(self.nums), 2)), default=-1) + 1

    def add(self, book, part, pages) -> None:
        copied = book.copy_foreign(part.Root.StructTreeRoot)
        offset = self.next_key
        for page in pages:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + offset
            for annotation in page.obj.get("/Annots", []):
                if "/StructParent" in annotation:
                    annotation.StructParent = int(annotation.StructParent) + offset
        part_nums = copied.ParentTree.Nums
        for i in range(0, len(part_nums), 2):
            key = int(part_nums[i]) + offset
            self.nums.append(key)
            self.nums.append(part_nums[i + 1])
            self.next_key = max(self.next_key, key + 1)
        for kid in _dictionaries(_document_element(copied).K):
            kid.P = self.document
            self.document.K.append(kid)

    def finish(self, book, unattached: dict[int, list[int]]) -> None:
        if "/ParentTreeNextKey" in self.root:
            self.root.ParentTreeNextKey = self.next_key
        _artifact_unattached(book, self.nums, unattached)


def stitch(parts: list[Path], folios: Path | None, numbered: list[bool], first_body: int | None,
           unattached: list[dict[str, list[int]]] | None = None, font_cache: Path | None = None) -> bytes:
    """One PDF of the parts in order: pages, structure tree (a tagged PDF's), outline, named destinations,
    links across parts, the chapters' folios laid over their pages, page labels and an even page count,
    one embedded program per font face (``font_cache``: where the faces' cuts are kept between builds).
    The catalog (metadata, language, output intent, viewer preferences) is the first part's. ``unattached``
    is each part's record of its marked content hung from no structure parent (found in the part if not given)."""
    import pikepdf

    from .fontmerge import merge_fonts

    if unattached is None:
        unattached = [unattached_marked_content(path.read_bytes()) for path in parts]

    book = pikepdf.open(parts[0])
    tree = _Tree(book) if "/StructTreeRoot" in book.Root else None
    dests = book.Root.Names.Dests.Names if "/Names" in book.Root and "/Dests" in book.Root.Names else None
    loose = {int(page): ids for page, ids in unattached[0].items()}  # by page of the book
    for index, path in enumerate(parts[1:], start=1):
        part = pikepdf.open(path)
        first_new = len(book.pages)
        loose.update({first_new + int(page): ids for page, ids in unattached[index].items()})
        with warnings.catch_warnings():  # named destinations are merged below, by name
            warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
            book.pages.extend(part.pages)
        if tree is not None:
            tree.add(book, part, book.pages[first_new:])
        if "/Outlines" in part.Root:
            _append_outline(book, book.copy_foreign(part.Root.Outlines))
        if "/Names" in part.Root and "/Dests" in part.Root.Names:
            names = book.copy_foreign(part.make_indirect(part.Root.Names.Dests.Names))
            if dests is None:
                book.Root.Names = pikepdf.Dictionary(Dests=pikepdf.Dictionary(Names=pikepdf.Array()))
                dests = book.Root.Names.Dests.Names
            dests.extend(names)
    if dests is not None:  # a name tree's leaf keeps its names sorted
        pairs = sorted(((bytes(dests[i]), dests[i], dests[i + 1]) for i in range(0, len(dests), 2)),
                       key=lambda pair: pair[0])
        book.Root.Names.Dests.Names = pikepdf.Array([item for _, name, target in pairs for item in (name, target)])
    _resolve_links(book)
    if tree is not None:
        tree.finish(book, loose)
    if folios is not None and first_body:
        _lay_folios(book, pikepdf.open(folios), first_body, numbered)
    _share_colour_profiles(book)  # after the folios: their forms bring the folio document's copy of the profile
    merge_fonts(book, font_cache)  # each part embeds its own subset of every face: one program per face instead
    _finish(book, first_body)
    out = BytesIO()
    # object streams: the parts' many small objects (structure elements, annotations) compressed together,
    # which halves the file (1.5 to 0.73 MiB for the English edition) and the time to write it
    book.save(out, deterministic_id=True, fix_metadata_version=False,
              object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def _append_outline(book, outline) -> None:
    import pikepdf
    if "/First" not in outline:
        return
    if "/Outlines" not in book.Root or "/First" not in book.Root.Outlines:
        book.Root.Outlines = book.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines, Count=0))
    root = book.Root.Outlines
    item = outline.First
    while True:
        item.Parent = root
        if "/First" not in root:
            root.First = item
        else:
            root.Last.Next = item
            item.Prev = root.Last
        root.Last = item
        if "/Next" not in item:
            break
        item = item.Next
    root.Count = int(root.get("/Count", 0)) + int(outline.get("/Count", 0))


def _share_colour_profiles(book) -> None:
    """Each part of the printer's PDF carries the CMYK profile (140 KiB) in its colour spaces: one copy
    serves them all."""
    import pikepdf
    kept: dict[bytes, object] = {}
    seen: set = set()
    for page in book.pages:
        resources = [page.obj.get("/Resources")]
        resources += [form.get("/Resources") for form in page.obj.Resources.get("/XObject", {}).values()]
        for resource in resources:
            spaces = resource.get("/ColorSpace") if isinstance(resource, pikepdf.Dictionary) else None
            if spaces is None or spaces.objgen in seen and spaces.objgen != (0, 0):
                continue
            seen.add(spaces.objgen)
            for name, space in list(spaces.items()):
                if isinstance(space, pikepdf.Array) and len(space) == 2 and space[0] == pikepdf.Name.ICCBased:
                    digest = hashlib.sha256(space[1].read_raw_bytes()).digest()
                    spaces[name] = pikepdf.Array([pikepdf.Name.ICCBased, kept.setdefault(digest, space[1])])
        for form in page.obj.Resources.get("/XObject", {}).values():  # transparency groups name it too
            group = form.get("/Group")
            group_space = group.get("/CS") if isinstance(group, pikepdf.Dictionary) else None
            if (isinstance(group_space, pikepdf.Array) and len(group_space) == 2
                    and group_space[0] == pikepdf.Name.ICCBased):
                digest = hashlib.sha256(group_space[1].read_raw_bytes()).digest()
                group.CS = pikepdf.Array([pikepdf.Name.ICCBased, kept.setdefault(digest, group_space[1])])


def _resolve_links(book) -> None:
    """A link a part could not resolve (to another part) becomes the internal link the single pass makes."""
    import pikepdf
    for page in book.pages:
        for annotation in page.obj.get("/Annots", []):
            action = annotation.get("/A")
            if action is None or action.get("/S") != pikepdf.Name.URI:
                continue
            uri = str(action.URI)
            if uri.startswith(ELSEWHERE):
                target = uri[len(ELSEWHERE):]
                del annotation.A
                annotation.Dest = pikepdf.String(target)
                if "/Contents" in annotation:
                    annotation.Contents = pikepdf.String(target)


def _streams(contents) -> list:
    import pikepdf
    return [contents] if isinstance(contents, pikepdf.Stream) else list(contents)


def _marked_content_of(ids: set[int]) -> re.Pattern[bytes]:
    """The opening of the marked content of exactly these ids (a page's few loose ones among its hundreds)."""
    numbers = b"|".join(str(number).encode() for number in sorted(ids))
    return re.compile(rb"/[A-Za-z]+\s*<<\s*/MCID\s+(?:" + numbers + rb")\s*>>\s*BDC")


def _reachable(document_element) -> set:
    import pikepdf
    seen: set = set()
    stack = [document_element]
    while stack:
        element = stack.pop()
        if element.objgen in seen:
            continue
        seen.add(element.objgen)
        kids = element.get("/K")
        kids = kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []
        stack += [kid for kid in kids if isinstance(kid, pikepdf.Dictionary) and kid.is_indirect]
    return seen


def unattached_marked_content(data: bytes) -> dict[str, list[int]]:
    """Per page of a tagged PDF (0-based, as a string), the marked-content ids whose structure element hangs
    from no parent in the tree: WeasyPrint tags margin boxes (running heads) so, and never adds their NonStruct
    to the Document."""
    import pikepdf
    with pikepdf.open(BytesIO(data)) as pdf:
        if "/StructTreeRoot" not in pdf.Root:
            return {}
        root = pdf.Root.StructTreeRoot
        reachable = _reachable(_document_element(root))
        nums = root.ParentTree.Nums
        parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        found: dict[str, list[int]] = {}
        for number, page in enumerate(pdf.pages):
            key = page.obj.get("/StructParents")
            array = parents.get(int(key)) if key is not None else None
            if not isinstance(array, pikepdf.Array):
                continue
            loose = [index for index, element in enumerate(array)
                     if isinstance(element, pikepdf.Dictionary) and element.objgen not in reachable]
            if loose:
                found[str(number)] = loose
        return found


def _artifact_unattached(book, nums, unattached: dict[int, list[int]]) -> None:
    """Marked content whose structure element hangs from no parent in the tree (``unattached``: its ids by page
    of the book) becomes what pagination is in PDF/UA, an artifact, so every marked-content id left is
    reachable from the root."""
    import pikepdf
    parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
    for number, ids in unattached.items():
        page = book.pages[number]
        array = parents.get(int(page.obj.StructParents))
        if not isinstance(array, pikepdf.Array):
            continue
        loose = set(ids)
        content = b"".join(stream.read_bytes() for stream in _streams(page.obj.Contents))
        page.obj.Contents = book.make_stream(_marked_content_of(loose).sub(b"/Artifact BMC", content))
        for index in loose:
            array[index] = None


def _lay_folios(book, folios, first_body: int, numbered: list[bool]) -> None:
    """Each numbered page gets its folio: the folio document's page drawn as a form, marked an artifact
    (as WeasyPrint marks margin boxes), so the page's structure is untouched."""
    import pikepdf
    for index, stamp in enumerate(numbered):
        if not stamp:
            continue
        page = book.pages[first_body - 1 + index]
        form = book.copy_foreign(folios.pages[index].as_form_xobject())
        # a name of our own per page (a part's pages may share one resource dictionary), never a random one:
        # the same parts stitch into the same bytes
        name = pikepdf.Name(f"/PressFolio{first_body + index}")
        resources = page.obj.Resources
        if "/XObject" not in resources:
            resources.XObject = pikepdf.Dictionary()
        resources.XObject[name] = form
        # the part's content leaves its coordinate system flipped: enclose it so the folio starts afresh
        # (one content stream, as WeasyPrint writes a page)
        content = b"".join(stream.read_bytes() for stream in _streams(page.obj.Contents))
        page.obj.Contents = book.make_stream(b"q\n" + content + b"\nQ\n/Artifact BMC q " + bytes(name)
                                             + b" Do Q EMC\n")


def _finish(book, first_body: int | None) -> None:
    """Page labels (roman, then arabic from the first chapter) and an even page count, as the single pass's
    finisher does."""
    import pikepdf
    ranges: list = [0, pikepdf.Dictionary(S=pikepdf.Name("/r"))]
    if first_body and first_body > 1:
        ranges += [first_body - 1, pikepdf.Dictionary(S=pikepdf.Name("/D"))]
    book.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array(ranges))
    if len(book.pages) % 2:
        last = book.pages[-1].obj
        blank = pikepdf.Dictionary(Type=pikepdf.Name.Page, Resources=pikepdf.Dictionary(),
                                   Contents=book.make_stream(b""))
        for box in ("/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox"):
            if box in last:
                blank[box] = last[box]
        book.pages.append(pikepdf.Page(blank))


# --------------------------------------------------------------------------- the edition


@dataclass
class PartsResult:
    data: bytes
    pages: int  # with the blank page an odd count gets
    laid_out: int  # without it, as the page map counts them
    starts: list[PageStart]
    layout: LayoutReport
    warnings: list[str]
    refused: list[str]
    rendered: list[str]  # the parts laid out in this build (the others came from the cache)
    first_body_page: int | None
    records: dict[str, PartRecord] = field(default_factory=dict)  # each part's pages and layout time
    stitch_seconds: float = 0.0


def render_code_fingerprint() -> str:
    """The fingerprint of the code that lays parts out (part of every part's key; computed once per process)."""
    return _render_code()


@lru_cache(maxsize=1)
def _render_code() -> str:
    from ..cache import code_fingerprint, module_closure
    return code_fingerprint(module_closure(("pipeline.render.parts", "pipeline.render.pdf")))


def part_key(html: str, config: BookConfig, lang: str, images: list[Path], variant: str,
             printer: PrinterSetup | None) -> str:
    from ..manifest import fonts_used
    digest = hashlib.sha256(f"press-part-{PARTS_VERSION}".encode())
    digest.update(html.encode("utf-8"))
    digest.update(json.dumps([variant, asdict(printer) if printer else None]).encode())
    digest.update((config.project_dir / "templates" / "print.css").read_bytes())
    digest.update(json.dumps(fonts_used(config).get(lang, {}), sort_keys=True).encode())
    digest.update(_render_code().encode())
    for image in images:
        digest.update(image.read_bytes() if image.is_file() else b"<missing>")
    return digest.hexdigest()


def _images_in(html: str, images: dict[str, str]) -> list[Path]:
    from urllib.parse import unquote, urlparse
    return [Path(unquote(urlparse(uri).path)) for uri in sorted(set(images.values())) if uri in html]


def parts_dir(config: BookConfig, lang: str, drafts: bool, printer: bool = False) -> Path:
    return config.output_dir / ".cache" / "parts" / (f"{lang}-draft" if drafts else f"{lang}-printer" if printer
                                                     else lang)


def render_in_parts(document: etree._Element, lang: str, config: BookConfig, strings, *,
                    drafts: bool, images: dict[str, str] | None, workers: int | None = None,
                    printer: PrinterSetup | None = None) -> PartsResult:
    """The edition's PDF made of parts: chapters first (in parallel), then the contents and the folios that
    depend on their page counts, then stitched."""
    from .printbook import css_string
    workers = workers or os.cpu_count() or 1
    folder = parts_dir(config, lang, drafts, printer is not None)
    images = images or {}
    parts = split_parts(document)
    rendered_now: list[str] = []

    pdf_variant = "pdf/x-4" if printer else "pdf/ua-1"

    def job(name: str, html: etree._Element, last: bool, variant: str = pdf_variant) -> PartJob:
        part_html = to_html(html)
        key = part_key(part_html, config, lang, _images_in(part_html, images), variant, printer)
        return PartJob(name, lang, part_html, key, not last, folder / f"{name}.pdf", folder / f"{name}.json",
                       document_order(html), variant, printer)

    chapters = parts[1:]
    chapter_jobs = [job(part.name, part_document(document, part, last=index == len(chapters) - 1,
                                                 css=MARKER_CSS + NO_BODY_FOLIOS),
                        index == len(chapters) - 1) for index, part in enumerate(chapters)]
    folio_variant = "pdf/x-4" if printer else ""

    def folio_job(body_pages: int) -> PartJob:
        return job("folios", folio_document(document, folio_pages(body_pages)), True, folio_variant)

    # the folios for as many pages as the book had last time (or its text suggests) are laid out beside the
    # chapters; again after them only if the chapters' pages need another number of folio pages
    guessed = folio_job(_expected_body_pages(folder, chapters)) if chapters else None
    with PartPool(config, workers) as pool:
        first_round = _submit(pool, chapter_jobs + ([guessed] if guessed else []), rendered_now)
        # the contents need the chapters' page counts, not the folio layer: they start as the last chapter ends
        records = pool.collect({job.name: first_round[job.name] for job in chapter_jobs})
        # where each chapter opens (its folio), now that the page counts are known
        folios: dict[str, str] = {}
        numbered: list[bool] = []
        page = 1
        for part, chapter_job in zip(chapters, chapter_jobs):
            record = records[chapter_job.name]
            folios[part.name] = strings.number(page)
            padded = record.pages + (record.pages % 2 if chapter_job.drop_last_page else 0)
            numbered += record.numbered + [False] * (padded - record.pages)
            page += padded
        leader = css_string("…" if lang == "ja" else ". ")
        front = part_document(document, parts[0], last=not chapters, css=front_css(leader))
        set_contents_folios(front, folios)
        final_jobs = [job("front", front, not chapters)]
        final_round = _submit(pool, final_jobs, rendered_now)
        folios_needed = folio_job(len(numbered)) if chapters else None
        if guessed is not None:  # (written to the file the needed folios are written to: finished first)
            records["folios"] = pool.collect({"folios": first_round["folios"]})["folios"]
        if folios_needed is not None and guessed is not None and folios_needed.key != guessed.key:
            final_jobs.append(folios_needed)
            final_round.update(_submit(pool, [folios_needed], rendered_now))
        records.update(pool.collect(final_round))
    front_record = records["front"]
    front_pages = front_record.pages + (front_record.pages % 2 if chapters else 0)
    first_body = front_pages + 1 if chapters else None
    _forget_other_parts(folder, {job.name for job in chapter_jobs + final_jobs} | {"folios", "book"})
    if chapters:
        atomic_write(folder / "book.json", json.dumps({"body_pages": len(numbered)}) + "\n")
    stitch_started = time.perf_counter()
    try:
        data = stitch([final_jobs[0].pdf] + [j.pdf for j in chapter_jobs],
                      folios_needed.pdf if folios_needed else None, numbered, first_body,
                      [records[j.name].unattached for j in [final_jobs[0]] + chapter_jobs],
                      font_cache=config.output_dir / ".cache" / "fonts" / "stitched")
    except Exception as error:  # pikepdf's errors: a part's PDF is not what WeasyPrint writes
        raise RenderError(f"the {lang} edition's parts could not be stitched ({type(error).__name__}: {error})",
                          folder, hint="delete output/.cache/parts and build again; report it if it recurs")
    order = [(0, front_record)]
    offset = front_pages
    for chapter_job in chapter_jobs:
        record = records[chapter_job.name]
        order.append((offset, record))
        offset += record.pages + (record.pages % 2 if chapter_job.drop_last_page else 0)
    starts = [PageStart(index + shift, folio(index + shift, first_body, strings), element)
              for shift, record in order for index, element in record.starts]
    layout = LayoutReport()
    warnings: list[str] = []
    refused: list[str] = []
    for shift, record in order:
        _merge_layout(layout, record.layout, shift)
        warnings += record.warnings
        refused += record.refused
    pages = offset + offset % 2
    return PartsResult(data, pages, offset, starts, layout, warnings, refused, rendered_now, first_body, records,
                       time.perf_counter() - stitch_started)


def _expected_body_pages(folder: Path, chapters: list[Part]) -> int:
    """How many pages the chapters will take: as many as the last time they were stitched, or for a first
    build, their text's length over an English page's."""
    try:
        return int(json.loads((folder / "book.json").read_text(encoding="utf-8"))["body_pages"])
    except (OSError, ValueError, TypeError, KeyError):
        characters = sum(len("".join(element.itertext())) for part in chapters for element in part.elements)
        return max(1, characters // CHARACTERS_PER_PAGE)


def _forget_other_parts(folder: Path, names: set[str]) -> None:
    """Parts of a chapter the book no longer has (removed, or its id changed) leave the cache."""
    for path in folder.glob("*"):
        if path.suffix in (".pdf", ".json") and path.stem not in names:
            path.unlink(missing_ok=True)


def _submit(pool: PartPool, jobs: list[PartJob], rendered_now: list[str]) -> dict[str, Future]:
    cached = {job.name for job in jobs if load_record(job) is not None}
    pending = pool.submit(jobs)
    rendered_now += [job.name for job in jobs if job.name not in cached]
    return pending


def _merge_layout(report: LayoutReport, data: dict, shift: int) -> None:
    """Add a part's layout check to the edition's, its page numbers moved to the part's place in the book."""
    report.overflows += [Overflow(item["page"] + shift, item["excess_pt"], item["text"]) for item in data["overflows"]]
    for glyph, count in data["missing_glyphs"].items():
        report.missing_glyphs[glyph] = report.missing_glyphs.get(glyph, 0) + count
    for name in ("orphan_headings", "split_clusters", "isolated_calls", "ladders", "short_cjk_lines"):
        getattr(report, name).extend((page + shift, text) for page, text in data[name])
    for name in ("lines", "hyphenated", "cjk_lines"):
        setattr(report, name, getattr(report, name) + data[name])
    report.warnings += data["warnings"]
