"""Print PDF editions with WeasyPrint: fonts checked first, resources fetched only from the
project, a tagged PDF (PDF/UA-1) with outline and metadata, and a layout check of the result."""

from __future__ import annotations

import base64
import logging
import re
import shutil
import subprocess
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from typing import TYPE_CHECKING

from lxml import etree

from ..config import DEFAULT_CMYK_PROFILE, BookConfig, fonts_for
from ..errors import EnvironmentProblem, RenderError
from ..safety import atomic_write, read_input_bytes, url_fetcher
from .html import Context
from .cjk import inter_character_justification
from .engine import load_weasyprint
from .hyphenation import book_hyphenation
from .pagemap import first_body_page

if TYPE_CHECKING:  # imported where the layout runs (WeasyPrint takes a second to import)
    from weasyprint import Document
from .pdftags import complete_structure_tree
from .khmer import ZWSP
from .layout import LayoutReport, check_layout
from .pagemap import PageStart, load_page_map, page_starts, print_digest, save_page_map
from .printbook import print_document, printed_isbn
from .strings import ui_strings

FONT_PACKAGES = {
    "Khmer OS": "fonts-khmeros", "Noto Serif CJK JP": "fonts-noto-cjk", "Noto Sans CJK JP": "fonts-noto-cjk",
    "Noto Serif": "fonts-noto-core", "Noto Sans": "fonts-noto-core", "Noto Serif Khmer": "fonts-noto-core",
    "Noto Sans Khmer": "fonts-noto-core", "DejaVu Serif": "fonts-dejavu-core",
}


# Scripts whose glyphs reorder and merge (Khmer's pre-base vowels, stacked subscripts): a font's
# glyph-to-text map cannot say which letters a glyph stands for, so copy and paste garbles them.
_REORDERING_SCRIPTS = re.compile(r"[\u1780-\u17FF\u19E0-\u19FF]")


@contextmanager
def actual_text_for_reordering_scripts():
    """Wrap each drawn line of such text in an /ActualText span carrying its real letters.

    WeasyPrint maps each glyph id to the text of the first cluster it drew; in Khmer the same
    glyph stands in different clusters, so extraction loses vowels. /ActualText (PDF 32000-1
    14.9.4) is what readers, pdftotext and screen readers use instead of the glyph map.
    """
    import pydyf
    import weasyprint.draw as draw

    original = draw.draw_text

    def draw_text(stream, textbox, *args, **kwargs):
        text = getattr(textbox, "text", "")
        if not _REORDERING_SCRIPTS.search(text):
            return original(stream, textbox, *args, **kwargs)
        stream.begin_marked_content("Span", pydyf.Dictionary({"ActualText": pydyf.String(text.replace(ZWSP, ""))}))
        try:
            return original(stream, textbox, *args, **kwargs)
        finally:
            stream.end_marked_content()

    draw.draw_text = draw_text
    try:
        yield
    finally:
        draw.draw_text = original


FLATE_LEVEL = 6  # zlib's default, and qpdf's


@contextmanager
def flate_level(level: int = FLATE_LEVEL):
    """Write the PDF's streams at zlib's ``level`` instead of pydyf's fixed 9: level 9 took a fifth of writing
    a chapter (0.20 s against 0.16 s) for streams 2.6 % smaller. (pydyf's ``zlib`` is swapped for one whose
    ``compressobj`` takes this level; a pydyf that compresses otherwise is left as it is.)"""
    import types
    import zlib

    import pydyf

    original = getattr(pydyf, "zlib", None)
    if original is not zlib:
        yield
        return
    shim = types.ModuleType("zlib")
    shim.__dict__.update({name: value for name, value in vars(zlib).items() if not name.startswith("__")})
    shim.compressobj = lambda *args, **kwargs: zlib.compressobj(level, *args[1:],  # type: ignore[attr-defined]
                                                                **{k: v for k, v in kwargs.items() if k != "level"})
    pydyf.zlib = shim
    try:
        yield
    finally:
        pydyf.zlib = original


@dataclass
class PdfResult:
    lang: str
    path: Path
    pages: int
    size: int
    seconds: float
    written: bool
    fallbacks: int
    layout: LayoutReport
    refused: list[str] = field(default_factory=list)
    missing_images: list[str] = field(default_factory=list)
    page_starts: list[PageStart] = field(default_factory=list)


def page_map_path(config: BookConfig, lang: str) -> Path:
    return config.output_dir / lang / "pagemap.json"


@lru_cache(maxsize=1)
def installed_fonts() -> frozenset[str]:
    fc_list = shutil.which("fc-list")
    if not fc_list:
        raise EnvironmentProblem("fontconfig (fc-list) is not installed", hint="apt-get install fontconfig")
    listing = subprocess.run([fc_list, ":", "family"], capture_output=True, text=True, timeout=60).stdout
    return frozenset(name.strip() for line in listing.splitlines() for name in line.split(","))


def check_fonts(config: BookConfig, lang: str) -> None:
    """Every font the edition asks for is installed; otherwise say which package provides it."""
    for family in fonts_for(config, lang):
        if family not in installed_fonts():
            package = next((pkg for prefix, pkg in FONT_PACKAGES.items() if family.startswith(prefix)), None)
            raise EnvironmentProblem(
                f"the font '{family}' for the {lang} edition is not installed", config.source_dir / "book.toml",
                hint=f"install it with 'apt-get install {package}'" if package else
                "install the font, or name another in [fonts] of source/book.toml")


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass
class PrintLayout:
    html: str
    digest: str
    rendered: Document
    ctx: Context
    refused: list[str]
    warnings: list[str]
    starts: list[PageStart] = field(default_factory=list)
    first_body_page: int | None = None  # where arabic folios begin


def _print_html(root: etree._Element, lang: str, config: BookConfig, *, drafts: bool, notes: str,
                images: dict[str, str] | None, extra_css: str = "") -> tuple[str, Context, etree._Element, Path]:
    templates = config.project_dir / "templates"
    stylesheet = templates / "print.css"
    if not stylesheet.is_file():
        raise RenderError("the print stylesheet is missing", stylesheet, hint="restore templates/print.css from git")
    ctx = Context(lang=lang, strings=ui_strings(lang, config.project_dir / "locales"), notes=notes, drafts=drafts,
                  images=images or {}, isbn=config.edition_isbn(lang, "pdf", printed_isbn(root)))
    document = print_document(root, ctx, config)
    if extra_css:  # the printer's edition: bleed, crop marks, the output profile (our CSS, never the book's)
        document.find("head").append(etree.Element("style"))
        document.find("head")[-1].text = extra_css
    html = etree.tostring(document, method="html", encoding="unicode", doctype="<!DOCTYPE html>")
    return html, ctx, document, stylesheet


def lay_out_print(root: etree._Element, lang: str, config: BookConfig, *, drafts: bool = False,
                  notes: str = "endnotes", images: dict[str, str] | None = None,
                  printer_css: str = "") -> PrintLayout:
    """The print edition laid out in pages (not yet written), and its page starts saved for the EPUB
    (not for the printer's edition, whose extra CSS adds bleed and marks but moves nothing)."""
    weasyprint = load_weasyprint()

    check_fonts(config, lang)
    html, ctx, document, stylesheet = _print_html(root, lang, config, drafts=drafts, notes=notes, images=images,
                                                  extra_css=printer_css)
    templates = stylesheet.parent
    refused: list[str] = []
    fetcher = url_fetcher([templates, config.source_dir / "images"], config.limits, refused)
    collector = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    try:
        with book_hyphenation(), inter_character_justification():
            rendered = weasyprint.HTML(string=html, base_url=str(templates) + "/", url_fetcher=fetcher).render(
                **({"pdf_variant": "pdf/x-4"} if printer_css else {"pdf_variant": "pdf/ua-1", "pdf_tags": True}))
    except (ValueError, TypeError, AttributeError, IndexError, KeyError, AssertionError, RecursionError) as error:
        raise RenderError(f"the {lang} edition could not be laid out ({type(error).__name__}: {error})",
                          stylesheet, hint="a template or stylesheet error; rerun with --debug for the details")
    finally:
        logger.removeHandler(collector)
    digest = print_digest(html, stylesheet)
    layout = PrintLayout(html, digest, rendered, ctx, refused, collector.messages)
    layout.starts = page_starts(rendered.pages, document, ctx.strings)
    layout.first_body_page = first_body_page(rendered.pages, document)
    if not printer_css:
        save_page_map(page_map_path(config, lang), digest, len(rendered.pages), layout.starts)
    return layout


def print_page_starts(root: etree._Element, lang: str, config: BookConfig, *, notes: str = "endnotes",
                      images: dict[str, str] | None = None) -> list[PageStart]:
    """The print edition's page starts: saved by the last PDF build if it still matches, else laid out anew."""
    html, _, _, stylesheet = _print_html(root, lang, config, drafts=False, notes=notes, images=images)
    saved = load_page_map(page_map_path(config, lang), print_digest(html, stylesheet))
    if saved is not None:
        return saved
    return lay_out_print(root, lang, config, notes=notes, images=images).starts


def finish_print_pdf(first_body: int | None):
    """The last touches WeasyPrint leaves out: page labels and an even page count.

    ``/PageLabels`` make a viewer show the printed folios ("iii", then "1" from the first chapter)
    instead of the file's page numbers. A book is printed on sheets of two pages, so an odd page
    count gets a blank last page (the back of the last leaf), as a printer would add it.
    """
    def finish(document, pdf) -> None:
        import pydyf
        nums = pydyf.Array([0, pydyf.Dictionary({"S": "/r"})])
        if first_body and first_body > 1:
            nums.extend([first_body - 1, pydyf.Dictionary({"S": "/D"})])
        pdf.catalog["PageLabels"] = pydyf.Dictionary({"Nums": nums})
        pages = pdf.pages["Kids"][::3]  # pydyf keeps [number, 0, "R"] triples
        if len(pages) % 2:
            last = pdf.objects[pages[-1]]
            contents = pydyf.Stream()
            pdf.add_object(contents)
            blank = pydyf.Dictionary({"Type": "/Page", "Parent": pdf.pages.reference, "Resources": pydyf.Dictionary(),
                                      "Contents": contents.reference})
            for box in ("MediaBox", "CropBox", "BleedBox", "TrimBox", "ArtBox"):
                if box in last:
                    blank[box] = last[box]
            pdf.add_page(blank)
    return finish


MARKS_MM = 10.0  # the sheet beyond the trim: the bleed, then room for the crop marks


def output_profile(config: BookConfig) -> Path:
    """The CMYK ICC profile the printer's PDF declares as its output intent."""
    if config.print.output_profile:
        path = (config.source_dir / config.print.output_profile).resolve()
        if not path.is_relative_to(config.source_dir.resolve()) or not path.is_file():
            raise RenderError("the output profile named in [print] output_profile is not a file under source/",
                              path, hint="put the printer's ICC profile (e.g. their FOGRA or GRACoL one) under source/")
        return path
    if not DEFAULT_CMYK_PROFILE.is_file():
        raise EnvironmentProblem(f"no CMYK output profile for the printer's PDF ({DEFAULT_CMYK_PROFILE} is missing)",
                                 hint="apt-get install libgs-common (scripts/setup does this), or set [print] "
                                      "output_profile to your printer's ICC profile under source/")
    return DEFAULT_CMYK_PROFILE


def printer_css(config: BookConfig) -> str:
    """Bleed and crop marks around the trimmed page, and the output intent's CMYK profile."""
    profile = output_profile(config)
    data = base64.b64encode(read_input_bytes(profile, config.limits, what="colour profile")).decode("ascii")
    return (f"@page {{ bleed: {MARKS_MM}mm; marks: crop; }}\n"
            f"@color-profile device-cmyk {{ src: url(data:application/vnd.iccprofile;base64,{data}); "
            "components: cyan, magenta, yellow, black; rendering-intent: relative-colorimetric; }")


_RGB_OPERATOR = re.compile(rb"^(-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (rg|RG)$")
_XMP_DOCUMENT_ID = re.compile(rb"xmp\.did:[0-9a-fA-F-]{36}")  # WeasyPrint's PDF/X ID: a random uuid4 each time


def _cmyk(match: re.Match) -> bytes:
    """A DeviceRGB colour operator as DeviceCMYK: greys on the black plate alone, other colours by the
    naive complement (the profile's printer converts them properly; the book has only a red draft label)."""
    red, green, blue = (min(1.0, max(0.0, float(value))) for value in match.group(1, 2, 3))
    operator = b"k" if match.group(4) == b"rg" else b"K"
    if max(red, green, blue) - min(red, green, blue) < 0.004:
        cyan = magenta = yellow = 0.0
        black = 1 - red
    else:
        black = 1 - max(red, green, blue)
        cyan, magenta, yellow = ((1 - channel - black) / (1 - black) for channel in (red, green, blue))
    return b" ".join(f"{value:.4f}".encode() for value in (cyan, magenta, yellow, black)) + b" " + operator


def finish_printer_pdf(first_body: int | None, bleed_mm: float):
    """The printer's PDF: the screen edition's touches, a BleedBox exactly ``bleed_mm`` beyond the TrimBox
    (WeasyPrint puts it up to 10 pt out), and every colour on the CMYK plates the output intent describes."""
    screen, plates = finish_print_pdf(first_body), printer_plates(bleed_mm)

    def finish(document, pdf) -> None:
        screen(document, pdf)
        plates(document, pdf)
    return finish


def printer_plates(bleed_mm: float):
    """The BleedBox and the CMYK plates alone (a part of the printer's PDF gets its page labels when stitched)."""
    def finish(document, pdf) -> None:
        import pydyf
        bleed = bleed_mm * 72 / 25.4
        for number in pdf.pages["Kids"][::3]:
            page = pdf.objects[number]
            if "TrimBox" in page:
                left, top, right, bottom = page["TrimBox"]
                page["BleedBox"] = pydyf.Array([left - bleed, top - bleed, right + bleed, bottom + bleed])
        # the same book gives the same bytes: a document ID from the edition, not WeasyPrint's random one
        identity = f"xmp.did:{uuid.uuid5(uuid.NAMESPACE_URL, f'press:{document.metadata.title}/{document.metadata.lang}/printer-pdf')}"
        for obj in pdf.objects:
            if isinstance(obj, pydyf.Stream) and isinstance(getattr(obj, "stream", None), list):
                obj.stream = [_XMP_DOCUMENT_ID.sub(identity.encode(), _RGB_OPERATOR.sub(_cmyk, item))
                              if isinstance(item, bytes) else item for item in obj.stream]
    return finish


def render_printer_pdf(root: etree._Element, lang: str, config: BookConfig, output: Path, *,
                       notes: str = "endnotes", images: dict[str, str] | None = None) -> PdfResult:
    """The PDF for the printer: PDF/X-4 with TrimBox at the trim size, a BleedBox, crop marks and a CMYK
    output intent; written atomically. The reader's PDF (PDF/UA) stays the screen edition."""
    from .dates import modification_time  # the editions' one fixed date
    if config.print.render == "parts":
        return render_printer_pdf_in_parts(root, lang, config, output, notes=notes, images=images)
    started = time.perf_counter()
    printed = lay_out_print(root, lang, config, notes=notes, images=images, printer_css=printer_css(config))
    rendered = printed.rendered
    modified = modification_time(config).strftime("%Y-%m-%dT%H:%M:%SZ")
    rendered.metadata.modified = rendered.metadata.created = modified  # same book, same bytes
    stylesheet = config.project_dir / "templates" / "print.css"
    try:
        with actual_text_for_reordering_scripts(), flate_level():
            data = rendered.write_pdf(pdf_variant="pdf/x-4",
                                      finisher=finish_printer_pdf(printed.first_body_page, config.print.bleed_mm))
    except (ValueError, TypeError, AttributeError, IndexError, KeyError, AssertionError, RecursionError) as error:
        raise RenderError(f"the {lang} printer's PDF could not be written ({type(error).__name__}: {error})",
                          stylesheet, hint="a template or stylesheet error; rerun with --debug for the details")
    layout = check_layout(rendered)
    written = atomic_write(output, data)
    pages = len(rendered.pages) + len(rendered.pages) % 2
    return PdfResult(lang, output, pages, len(data), time.perf_counter() - started, written,
                     printed.ctx.fallbacks, layout, printed.refused, printed.ctx.missing_images, printed.starts)


def render_pdf(root: etree._Element, lang: str, config: BookConfig, output: Path, *, drafts: bool = False,
               notes: str = "endnotes", images: dict[str, str] | None = None) -> PdfResult:
    """Render the edition of ``root`` (already in ``lang``) to ``output``; written atomically: in parts
    (pipeline/render/parts.py) unless ``[print] render = "single"`` asks for the one-document reference."""
    if config.print.render == "parts":
        return render_pdf_in_parts(root, lang, config, output, drafts=drafts, notes=notes, images=images)
    started = time.perf_counter()
    printed = lay_out_print(root, lang, config, drafts=drafts, notes=notes, images=images)
    rendered, ctx = printed.rendered, printed.ctx
    stylesheet = config.project_dir / "templates" / "print.css"
    collector = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    try:
        layout = check_layout(rendered)
        with actual_text_for_reordering_scripts(), complete_structure_tree(), flate_level():
            data = rendered.write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True,
                                      finisher=finish_print_pdf(printed.first_body_page))
    except (ValueError, TypeError, AttributeError, IndexError, KeyError, AssertionError, RecursionError) as error:
        raise RenderError(f"the {lang} edition could not be written ({type(error).__name__}: {error})",
                          stylesheet, hint="a template or stylesheet error; rerun with --debug for the details")
    finally:
        logger.removeHandler(collector)
    messages = printed.warnings + collector.messages
    layout.add_missing_glyphs(messages)
    layout.warnings = [m for m in messages if ".notdef" not in m]
    written = atomic_write(output, data)
    return PdfResult(lang, output, len(rendered.pages) + len(rendered.pages) % 2, len(data), time.perf_counter() - started, written,
                     ctx.fallbacks, layout, printed.refused, ctx.missing_images, printed.starts)


def render_pdf_in_parts(root: etree._Element, lang: str, config: BookConfig, output: Path, *, drafts: bool = False,
                        notes: str = "endnotes", images: dict[str, str] | None = None) -> PdfResult:
    """The same edition as the single pass, laid out part by part (cached, in parallel) and stitched."""
    from .parts import render_in_parts
    started = time.perf_counter()
    check_fonts(config, lang)
    html, ctx, document, stylesheet = _print_html(root, lang, config, drafts=drafts, notes=notes, images=images)
    result = render_in_parts(document, lang, config, ctx.strings, drafts=drafts, images=images)
    layout = result.layout
    layout.add_missing_glyphs(result.warnings)
    layout.warnings = [m for m in result.warnings if ".notdef" not in m]
    save_page_map(page_map_path(config, lang), print_digest(html, stylesheet), result.laid_out, result.starts)
    written = atomic_write(output, result.data)
    return PdfResult(lang, output, result.pages, len(result.data), time.perf_counter() - started, written,
                     ctx.fallbacks, layout, result.refused, ctx.missing_images, result.starts)


def render_printer_pdf_in_parts(root: etree._Element, lang: str, config: BookConfig, output: Path, *,
                                notes: str = "endnotes", images: dict[str, str] | None = None) -> PdfResult:
    """The printer's PDF laid out in parts (PDF/X-4 each, bleed and CMYK plates per part) and stitched."""
    from .dates import modification_time
    from .parts import PrinterSetup, render_in_parts
    started = time.perf_counter()
    check_fonts(config, lang)
    html, ctx, document, stylesheet = _print_html(root, lang, config, drafts=False, notes=notes, images=images,
                                                  extra_css=printer_css(config))
    setup = PrinterSetup(config.print.bleed_mm, modification_time(config).strftime("%Y-%m-%dT%H:%M:%SZ"))
    result = render_in_parts(document, lang, config, ctx.strings, drafts=False, images=images, printer=setup)
    written = atomic_write(output, result.data)
    return PdfResult(lang, output, result.pages, len(result.data), time.perf_counter() - started, written,
                     ctx.fallbacks, result.layout, result.refused, ctx.missing_images, result.starts)
