"""``press build``: every stage in order, from source/ into output/.

This is the only place that sequences stages; each stage talks to the next through files
(``output/xml/book.xml``) and the document, not through each other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .config import BookConfig, load_config
from .errors import ConfigError, ExitCode
from .extract import extract_book
from .progress import Reporter, plural
from .safety import parse_xml, read_input_bytes

FORMATS = ("pdf", "epub")


@dataclass
class BuildOptions:
    languages: tuple[str, ...] | None = None  # None: every language of the book
    formats: tuple[str, ...] = FORMATS
    drafts: bool = False
    strict: bool = False


@dataclass
class EditionRow:
    lang: str
    format: str
    status: str
    pages: int
    size: int
    seconds: float
    fallbacks: int
    notes: list[str] = field(default_factory=list)


def _languages(config: BookConfig, options: BuildOptions) -> tuple[str, ...]:
    chosen = options.languages or config.languages
    unknown = [lang for lang in chosen if lang not in config.languages]
    if unknown:
        raise ConfigError(f"language(s) {', '.join(unknown)} are not in the book's languages "
                          f"({', '.join(config.languages)})", config.source_dir / "book.toml")
    return tuple(chosen)


def render_editions(config: BookConfig, options: BuildOptions, reporter: Reporter) -> list[EditionRow]:
    """Render each requested edition from output/xml/book.xml."""
    from .render.images import find_images
    from .render.localize import localize
    from .render.pdf import render_pdf
    root = parse_xml(read_input_bytes(config.book_xml, config.limits, what="book"), config.book_xml)
    image_files = find_images(root, config)
    images = {key: path.as_uri() for key, path in image_files.items()}
    rows: list[EditionRow] = []
    for lang in _languages(config, options):
        book, translated, untranslated = localize(root, lang, source_language=config.source_language)
        page_starts = None
        if "pdf" in options.formats:
            output = config.output_dir / lang / f"{config.slug}.pdf"
            reporter.step("render", f"{lang} PDF …")
            result = render_pdf(book, lang, config, output, drafts=options.drafts, notes=config.notes,
                                images=images)
            page_starts = result.page_starts if not options.drafts else None
            notes = []
            if not result.layout.clean:
                notes.append(result.layout.summary())
            if result.missing_images:
                notes.append(f"{plural(len(result.missing_images), 'image')} not supplied")
            rows.append(EditionRow(lang, "pdf", "built" if result.written else "unchanged", result.pages,
                                   result.size, result.seconds, result.fallbacks, notes))
            reporter.step("render", f"{lang} PDF: {result.pages} pages, {result.size / 1024:,.0f} KiB, "
                                    f"{result.seconds:.1f} s" + (f"; {plural(result.fallbacks, 'block')} shown "
                                                                 f"in {config.source_language}" if result.fallbacks
                                                                 else "") + (f"; {'; '.join(notes)}" if notes else ""))
        if "epub" in options.formats:
            rows.append(_render_epub(book, lang, config, image_files, images, page_starts, reporter))
    return rows


def _render_epub(book, lang: str, config: BookConfig, image_files: dict[str, Path], images: dict[str, str],
                 page_starts, reporter: Reporter) -> EditionRow:
    """The EPUB edition, its page list taken from the print layout (this build's, saved, or laid out now)."""
    from .render.epub import render_epub
    from .render.pdf import print_page_starts
    started = reporter.elapsed()
    output = config.output_dir / lang / f"{config.slug}.epub"
    reporter.step("render", f"{lang} EPUB …")
    if page_starts is None:
        page_starts = print_page_starts(book, lang, config, notes=config.notes, images=images)
    result = render_epub(book, lang, config, output, images=image_files, page_starts=page_starts)
    seconds = reporter.elapsed() - started
    notes = [f"{result.page_markers} print pages marked"]
    if result.missing_images:
        notes.append(f"{plural(len(result.missing_images), 'image')} not supplied")
    reporter.step("render", f"{lang} EPUB: {result.documents} documents, {result.size / 1024:,.0f} KiB, "
                            f"{seconds:.1f} s; {'; '.join(notes)}")
    return EditionRow(lang, "epub", "built" if result.written else "unchanged", result.page_markers, result.size,
                      seconds, result.fallbacks, notes)


def summary_table(rows: list[EditionRow]) -> str:
    lines = ["edition  format  status     pages      size     time  untranslated  notes"]
    for row in rows:
        lines.append(f"{row.lang:<8} {row.format:<7} {row.status:<9} {row.pages:>6} {row.size / 1024:>8,.0f}K "
                     f"{row.seconds:>6.1f}s  {row.fallbacks:>12}  {'; '.join(row.notes)}")
    return "\n".join(lines)


def build(project: Path | None = None, *, reporter: Reporter | None = None,
          options: BuildOptions | None = None) -> int:
    reporter = reporter or Reporter()
    options = options or BuildOptions()
    config = load_config(project)
    reporter.step("build", f"project {config.project_dir}")
    extracted = extract_book(config, reporter=reporter)
    rows = render_editions(config, options, reporter)
    if rows and not reporter.quiet:
        print(summary_table(rows), file=reporter.stream)
    problems = [row for row in rows if row.notes and any("overflowing" in n and not n.startswith("0 ") for n in
                                                         row.notes)]
    reporter.step("build", f"done in {reporter.elapsed():.1f} s")
    if options.strict and (problems or extracted.findings and any(f.needs_editor for f in extracted.findings)):
        print("error: strict: the build has warnings (see above); --strict makes them fatal", file=reporter.stream)
        return ExitCode.STRICT
    return ExitCode.OK
