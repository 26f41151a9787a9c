"""The extract stage: manuscript → validated DocBook 5 book at ``output/xml/book.xml``.

Reads with the reader for the manuscript's format, structures, validates and writes
atomically. An invalid book is never written: the previous ``book.xml`` stays as it was.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from .config import BookConfig, load_editorial
from .conservation import WordBalance, balance
from .docbook import NS, serialize, validate
from .errors import ConfigError, ValidationError
from .findings import Decisions, Findings
from .ingest import read_manuscript
from .ingest.model import ReaderWarning
from .progress import Reporter, plural
from .repair import repair_book
from .repair.report import summary, write_reports
from .repair.spelling import prestart as prestart_spelling
from .safety import atomic_write
from .structure import StructuredBook, structure_book, warning_text


@dataclass
class ExtractResult:
    output: Path
    written: bool
    book: StructuredBook
    counts: dict[str, int]
    warnings: list[ReaderWarning] = field(default_factory=list)  # the reader's, for the build's summary and --strict
    words: WordBalance | None = None  # how the manuscript's words ended up (pipeline.conservation)
    # what ``extract_book(ask_later=True)`` left to run: the questions that cannot change the book, then the
    # findings' reports (None once run)
    remaining: Callable[[], None] | None = None

    @property
    def findings(self) -> Findings:
        return self.book.findings


def heading_decisions(editorial: dict, path: Path) -> dict[str, int]:
    """Heading levels the editor fixed in ``[headings]`` of source/editorial.toml."""
    table = editorial.get("headings", {})
    if not isinstance(table, dict):
        raise ConfigError("[headings] must be a table of 'heading text' = level", path)
    decisions = {}
    for key, value in table.items():
        if not isinstance(value, int) or not 1 <= value <= 3:
            raise ConfigError(f"heading level for {key!r} must be 1, 2 or 3", path)
        decisions[key] = value
    return decisions


def count_structure(root: etree._Element) -> dict[str, int]:
    def count(xpath: str) -> int:
        return int(root.xpath(f"count({xpath})", namespaces=NS))

    return {
        "parts": count("db:preface | db:acknowledgements | db:appendix"),
        "chapters": count("db:chapter"),
        "sections": count("//db:section"),
        "paragraphs": count("//db:para[not(ancestor::db:footnote) and not(ancestor::db:info)]"),
        "notes": count("//db:footnote"),
        "references": count("//db:bibliomixed"),
        "tables": count("//db:table"),
        "figures": count("//db:figure"),
    }


def extract_book(config: BookConfig, manuscript: Path | None = None, output: Path | None = None, *,
                 encoding: str | None = None, reporter: Reporter | None = None, repair: bool = True,
                 reports: Path | None = None, ask_later: bool = False) -> ExtractResult:
    """Run the stage; raises PipelineError subclasses for input the user must fix.

    ``ask_later``: return as soon as the book is written, leaving the questions that cannot change it
    (``repair.QUESTIONS_ONLY``) and the findings' reports to the result's ``remaining`` (the build asks them once
    the translated editions have started: after an edit they took a tenth of a second before the catalogs)."""
    reporter = reporter or Reporter(quiet=True)
    path = manuscript or config.manuscript
    output = output or config.book_xml
    if repair:  # Hunspell's dictionaries load while the manuscript is read, for the spelling pass at the end
        prestart_spelling(config.source_language)
    document = read_manuscript(path, config.limits, encoding=encoding or config.manuscript_encoding)
    reporter.step("extract", f"read {_display(path, config)} ({document.format}, "
                             f"{plural(len(document.blocks), 'block')})")
    for kind, (count, first) in reader_warnings(document).items():
        reporter.warn("extract", f"{kind} ×{count} (see the report), first: {first}")
    editorial = load_editorial(config)
    findings = Findings(Decisions.from_editorial(editorial, config.editorial_file))
    book = structure_book(document, language=config.source_language,
                          heading_levels=heading_decisions(editorial, config.editorial_file), findings=findings)
    questions = repair_book(book.root, findings, hold_back=True) if repair else None
    problems = validate(book.root)
    if problems:
        raise ValidationError(
            f"the book built from the manuscript is not valid DocBook 5.0: {problems[0]}", path,
            hint=f"{plural(len(problems), 'problem')} in all; nothing was written. This is a bug in the "
                 "pipeline's reading of this manuscript: please report it with the manuscript")
    words = balance(document, book.root, findings)
    if not words.holds:
        raise ValidationError(
            f"the words do not balance: {words.problem()}", path, where=words.where_missing,
            hint="nothing was written. A stage lost or duplicated text without recording it; this is a bug in "
                 "the pipeline's reading of this manuscript: please report it with the manuscript")
    counts = count_structure(book.root)
    reporter.step("extract", f"{plural(counts['parts'], 'front-matter part')}, {plural(counts['chapters'], 'chapter')}, "
                             f"{plural(counts['sections'], 'section')}, {plural(counts['paragraphs'], 'paragraph')}, "
                             f"{plural(counts['notes'], 'note')}, {plural(counts['tables'], 'table')}, "
                             f"{plural(counts['figures'], 'figure')}; DocBook 5.0 valid")
    written = atomic_write(output, serialize(book.root))
    save_media(document.media, output.parent / "media")
    for callback in list(_WHEN_BOOK_WRITTEN):
        callback()
    reporter.step("extract", words.summary())
    reporter.step("extract", f"{'wrote' if written else 'unchanged'} {_display(output, config)}")
    if document.media:
        reporter.step("extract", f"{plural(len(document.media), 'picture')} from the manuscript in "
                                 f"{_display(output.parent / 'media', config)}/")
    reports = reports or (output.parent.parent / "reports" if output == config.book_xml else output.parent)
    result = ExtractResult(output, written, book, counts, list(document.warnings), words=words)

    def remaining() -> None:
        result.remaining = None
        if questions is not None:  # the questions that cannot change the book, asked while its editions start
            questions()
        findings.report_unused_decisions()
        write_reports(findings, reports, _display(path, config), book.outlines, words=words.as_dict())
        totals = summary(findings)
        reporter.step("repair", f"repaired {totals['repaired']}, needs the editor {totals['needs_editor']}"
                                + (f", rejected by the editor {totals['rejected_by_editor']}"
                                   if totals["rejected_by_editor"] else "")
                                + f" (see {_display(reports / 'repair.md', config)})")

    result.remaining = remaining
    if not ask_later:
        remaining()
    return result


_WHEN_BOOK_WRITTEN: list[Callable[[], None]] = []


@contextmanager
def when_book_written(callback: Callable[[], None]) -> Iterator[None]:
    """Call ``callback`` as soon as ``extract_book`` has written the book, before it reports its findings (the
    build starts the editions that read nothing else there)."""
    _WHEN_BOOK_WRITTEN.append(callback)
    try:
        yield
    finally:
        _WHEN_BOOK_WRITTEN.remove(callback)


def save_media(media: dict[str, bytes], directory: Path) -> None:
    """Pictures the manuscript carries (DOCX) beside the book, where its ``imagedata fileref="media/…"`` points."""
    for name, data in media.items():
        atomic_write(directory / name, data)


def reader_warnings(document) -> dict[str, tuple[int, str]]:
    """Kind -> (how many, the first message), in the order the reader raised them."""
    counts = Counter(warning.kind for warning in document.warnings)
    first: dict[str, str] = {}
    for warning in document.warnings:
        where = f" ({warning.where.describe()})" if warning.where else ""
        first.setdefault(warning.kind, warning_text(warning.kind, warning.message) + where)
    return {kind: (counts[kind], first[kind]) for kind in first}


def _display(path: Path, config: BookConfig) -> str:
    try:
        return str(path.resolve().relative_to(config.project_dir))
    except ValueError:
        return str(path)
