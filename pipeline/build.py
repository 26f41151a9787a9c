"""``press build``: every stage in order, from source/ into output/.

This is the only place that sequences stages; each stage talks to the next through files
(``output/xml/book.xml``, ``locales/<lang>/*.po``), not through each other's internals. A language
without an installed model is reported and left untranslated; the build still succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .config import BookConfig, load_config
from .errors import ConfigError, ExitCode
from .extract import extract_book
from .manifest import project_lock, write_manifest
from .i18n import draft_translations, prepare_catalogs
from .progress import Reporter, plural
from .safety import parse_xml, read_input_bytes

FORMATS = ("pdf",)


@dataclass
class BuildOptions:
    languages: tuple[str, ...] | None = None  # None: every language of the book
    formats: tuple[str, ...] = FORMATS
    drafts: bool = False
    strict: bool = False
    wait_seconds: float = 0.0  # how long a second build waits for the first


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
    path: Path | None = None


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
    images = {key: path.as_uri() for key, path in find_images(root, config).items()}
    rows: list[EditionRow] = []
    for lang in _languages(config, options):
        localized = localize(root, lang, config, drafts=options.drafts)
        book = localized.book
        if localized.broken:
            reporter.step("localize", f"{lang}: {plural(len(localized.broken), 'translation')} lost placeholders "
                                      f"and were not used (first: {localized.broken[0]}); fix them in the catalog")
        if "pdf" in options.formats:
            output = config.output_dir / lang / f"{config.slug}.pdf"
            reporter.step("render", f"{lang} PDF …")
            result = render_pdf(book, lang, config, output, drafts=options.drafts, notes=config.notes,
                                images=images)
            notes = []
            if not result.layout.clean:
                notes.append(result.layout.summary())
            if result.missing_images:
                notes.append(f"{plural(len(result.missing_images), 'image')} not supplied")
            rows.append(EditionRow(lang, "pdf", "built" if result.written else "unchanged", result.pages,
                                   result.size, result.seconds, result.fallbacks, notes, output))
            reporter.step("render", f"{lang} PDF: {result.pages} pages, {result.size / 1024:,.0f} KiB, "
                                    f"{result.seconds:.1f} s" + (f"; {plural(result.fallbacks, 'block')} shown "
                                                                 f"in {config.source_language}" if result.fallbacks
                                                                 else "") + (f"; {'; '.join(notes)}" if notes else ""))
    return rows


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
    with project_lock(config, options.wait_seconds):
        extracted = extract_book(config, reporter=reporter)
        targets = tuple(lang for lang in _languages(config, options) if lang in config.target_languages)
        if targets:  # an English-only build leaves the catalogs alone
            catalogs = prepare_catalogs(config, reporter, targets)
            draft_translations(config, targets, catalogs.keep_terms, reporter=reporter)
        rows = render_editions(config, options, reporter)
        reports = config.output_dir / "reports"
        outputs = [config.book_xml, reports / "repair.json", reports / "repair.md"] + [
            row.path for row in rows if row.path is not None]
        if write_manifest(config, outputs):
            reporter.step("build", "wrote output/manifest.json")
    if rows and not reporter.quiet:
        print(summary_table(rows), file=reporter.stream)
    problems = [row for row in rows if row.notes and any("overflowing" in n and not n.startswith("0 ") for n in
                                                         row.notes)]
    reporter.step("build", f"done in {reporter.elapsed():.1f} s")
    if options.strict and (problems or extracted.findings and any(f.needs_editor for f in extracted.findings)):
        print("error: strict: the build has warnings (see above); --strict makes them fatal", file=reporter.stream)
        return ExitCode.STRICT
    return ExitCode.OK
