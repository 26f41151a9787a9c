"""``press build``: every stage in order, from source/ into output/.

This is the only place that sequences stages; each stage talks to the next through files
(``output/xml/book.xml``, ``locales/<lang>/*.po``), not through each other's internals. A language
without an installed model is reported and left untranslated; the build still succeeds.
"""

from __future__ import annotations

import dataclasses
import io
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from . import errors
from .cache import BuildCache, inputs_key
from .config import BookConfig, load_config
from .diagnostics import Diagnostic, Severity, at_least, tally
from .errors import ConfigError, ExitCode
from .manifest import edition_environment, edition_images, fonts_used, project_lock, write_manifest
from .progress import Reporter, plural
from .safety import parse_xml, read_input_bytes, time_limit

FORMATS = ("pdf", "epub")  # in rendering order: the EPUB's page list follows the print edition's pages


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
    diagnostics: list[Diagnostic] = field(default_factory=list)


@dataclass
class RenderState:
    """What one language's render shares between its editions: the book parsed once, its images, the
    localized book per language, and the print edition's page starts for the EPUB's page list."""

    root: object = None  # the book as parsed from output/xml/book.xml
    image_files: dict[str, Path] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)  # the same images as file: URIs
    localized: dict[str, object] = field(default_factory=dict)
    page_starts: dict[str, list] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)  # localize's, for the first edition's row


@dataclass
class WorkerOutcome:
    """What a render worker sends back: its rows and printed lines, or the error it stopped with (the
    exception itself, pickled whole: class, category, exit code, place and hint)."""

    rows: list[EditionRow]
    lines: list[str]
    error: errors.PipelineError | None = None


def _languages(config: BookConfig, options: BuildOptions) -> tuple[str, ...]:
    chosen = options.languages or config.languages
    unknown = [lang for lang in chosen if lang not in config.languages]
    if unknown:
        raise ConfigError(f"language(s) {', '.join(unknown)} are not in the book's languages "
                          f"({', '.join(config.languages)})", config.source_dir / "book.toml")
    return tuple(chosen)


def edition_path(config: BookConfig, lang: str, fmt: str, drafts: bool = False) -> Path:
    """Where an edition goes: a draft edition has its own name, so it never replaces the final one."""
    return config.output_dir / lang / f"{config.slug}{'-draft' if drafts else ''}.{fmt}"


def _language_options(config: BookConfig, options: BuildOptions, lang: str) -> BuildOptions:
    """The options for one language: the source language has no machine drafts, so its edition is always final."""
    if options.drafts and lang == config.source_language:
        return dataclasses.replace(options, drafts=False)
    return options


def _edition_key(config: BookConfig, lang: str, fmt: str, options: BuildOptions, fonts: dict) -> str:
    return inputs_key(fmt, lang, options.drafts, config.book_xml, config.source_dir / "book.toml",
                      config.locales_dir / lang, config.locales_dir / "ui" / f"{lang}.po",
                      config.project_dir / "templates", *edition_images(config), fonts.get(lang, {}),
                      edition_environment(fmt))


def render_editions(config: BookConfig, options: BuildOptions, reporter: Reporter) -> list[EditionRow]:
    """Render each requested edition from output/xml/book.xml; an edition whose inputs are unchanged is
    reused, and the languages left to render run in parallel processes (one per core)."""
    cache = BuildCache(config)
    fonts = fonts_used(config)
    languages = _languages(config, options)
    formats = [fmt for fmt in FORMATS if fmt in options.formats]
    rows: dict[tuple[str, str], EditionRow] = {}
    pending: dict[str, list[str]] = {}
    keys: dict[tuple[str, str], str] = {}
    for lang in languages:
        chosen = _language_options(config, options, lang)
        for fmt in formats:
            output = edition_path(config, lang, fmt, chosen.drafts)
            keys[lang, fmt] = key = _edition_key(config, lang, fmt, chosen, fonts)
            cached = cache.lookup(f"{fmt}-{lang}", key)
            if cached is not None and output.is_file() and "diagnostics" in cached:
                rows[lang, fmt] = EditionRow(lang, fmt, "reused", cached["pages"], cached["size"], 0.0,
                                             cached["fallbacks"], cached["notes"], output,
                                             [Diagnostic.from_json(d) for d in cached["diagnostics"]])
                reporter.step("render", f"{lang} {fmt.upper()}: inputs unchanged, reused {output.name}")
            else:
                pending.setdefault(lang, []).append(fmt)
    for row in _render_pending(config, options, reporter, pending):
        rows[row.lang, row.format] = row
        cache.store(f"{row.format}-{row.lang}", keys[row.lang, row.format], [row.path],
                    {"pages": row.pages, "size": row.size, "fallbacks": row.fallbacks, "notes": row.notes,
                     "diagnostics": [diagnostic.to_json() for diagnostic in row.diagnostics]})
    return [rows[lang, fmt] for lang in languages for fmt in formats if (lang, fmt) in rows]


def _render_pending(config: BookConfig, options: BuildOptions, reporter: Reporter,
                    pending: dict[str, list[str]]) -> list[EditionRow]:
    workers = min(len(pending), os.cpu_count() or 1)
    if workers <= 1:
        rendered = []
        for lang, formats in pending.items():
            rendered += _render_language(config, options, lang, formats, reporter)
        return rendered
    reporter.step("render", f"{', '.join(pending)} in {workers} parallel processes …")
    rendered = []
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(_render_language_in_worker, config, options, lang, formats): lang
                   for lang, formats in pending.items()}
        for future in as_completed(futures):
            outcome: WorkerOutcome = future.result()
            if not reporter.quiet:
                for line in outcome.lines:
                    print(line, file=reporter.stream, flush=True)
            if outcome.error is not None:
                for other in futures:
                    other.cancel()
                raise outcome.error
            rendered += outcome.rows
    return rendered


def _render_language_in_worker(config: BookConfig, options: BuildOptions, lang: str,
                               formats: list[str]) -> WorkerOutcome:
    stream = io.StringIO()
    try:
        rows = _render_language(config, options, lang, formats, Reporter(stream))
    except errors.PipelineError as error:
        return WorkerOutcome([], stream.getvalue().splitlines(), error)
    return WorkerOutcome(rows, stream.getvalue().splitlines())


def _render_language(config: BookConfig, options: BuildOptions, lang: str, formats: list[str],
                     reporter: Reporter) -> list[EditionRow]:
    state = RenderState()
    options = _language_options(config, options, lang)
    rows = []
    for fmt in formats:
        output = edition_path(config, lang, fmt, options.drafts)
        with time_limit(config.limits.render_timeout_s, f"rendering the {lang} {fmt.upper()} edition", output):
            rows.append(_render(config, lang, fmt, output, options, reporter, state))
    return rows


def _localized(config: BookConfig, lang: str, options: BuildOptions, reporter: Reporter, state: RenderState):
    """The book in ``lang`` (parsed and localized once per build, only when something must render)."""
    from .render.images import find_images
    from .render.localize import localize
    if state.root is None:
        state.root = parse_xml(read_input_bytes(config.book_xml, config.limits, what="book"), config.book_xml)
        state.image_files = find_images(state.root, config)
        state.images = {key: path.as_uri() for key, path in state.image_files.items()}
    if lang not in state.localized:
        localized = localize(state.root, lang, config, drafts=options.drafts)
        if localized.broken:
            reporter.step("localize", f"{lang}: {plural(len(localized.broken), 'translation')} lost placeholders "
                                      f"and were not used (first: {localized.broken[0]}); fix them in the catalog")
        state.localized[lang] = localized.book
    return state.localized[lang], state.images


def _render(config: BookConfig, lang: str, fmt: str, output: Path, options: BuildOptions, reporter: Reporter,
            state: RenderState) -> EditionRow:
    from .render.pdf import render_pdf
    book, images = _localized(config, lang, options, reporter, state)
    if fmt == "epub":
        starts = state.page_starts.get(lang) if not options.drafts else None
        row = _render_epub(book, lang, config, state.image_files, images, starts, reporter, output,
                           drafts=options.drafts)
        row.path = output
        return row
    reporter.step("render", f"{lang} PDF …")
    result = render_pdf(book, lang, config, output, drafts=options.drafts, notes=config.notes, images=images)
    state.page_starts[lang] = result.page_starts
    notes = []
    if not result.layout.clean:
        notes.append(result.layout.summary())
    if result.missing_images:
        notes.append(f"{plural(len(result.missing_images), 'image')} not supplied")
    reporter.step("render", f"{lang} PDF: {result.pages} pages, {result.size / 1024:,.0f} KiB, "
                            f"{result.seconds:.1f} s" + (f"; {plural(result.fallbacks, 'block')} shown "
                                                         f"in {config.source_language}" if result.fallbacks
                                                         else "") + (f"; {'; '.join(notes)}" if notes else ""))
    return EditionRow(lang, "pdf", "built" if result.written else "unchanged", result.pages, result.size,
                      result.seconds, result.fallbacks, notes, output, result.layout.diagnostics(f"{lang} PDF"))


def _extract(config: BookConfig, reporter: Reporter) -> tuple[int, list[Diagnostic]]:
    """Extract and repair unless the manuscript, decisions and configuration are unchanged; returns the
    number of repairs waiting for the editor and the stage's diagnostics (the reader's warnings, the
    repairs waiting for the editor)."""
    cache = BuildCache(config)
    reports = config.output_dir / "reports"
    outputs = [config.book_xml, reports / "repair.json", reports / "repair.md"]
    key = inputs_key("extract", config.manuscript, config.source_dir / "book.toml", config.editorial_file)
    cached = cache.lookup("extract", key)
    if cached is not None and "diagnostics" in cached:
        reporter.step("extract", f"inputs unchanged, reused output/xml/book.xml ({cached['summary']})")
        diagnostics = [Diagnostic.from_json(data) for data in cached["diagnostics"]]
        _report_reader_warnings(diagnostics, reporter)
        return cached["needs_editor"], diagnostics
    from .extract import extract_book
    extracted = extract_book(config, reporter=reporter)
    manuscript = extracted_display(config)
    diagnostics = [Diagnostic("extract", warning.kind, Severity.WARNING, warning.message,
                              f"{manuscript}:{warning.where.describe()}" if warning.where else manuscript)
                   for warning in extracted.warnings]
    _report_reader_warnings(diagnostics, reporter)
    diagnostics += [Diagnostic("extract", "needs-editor", Severity.WARNING, f"{finding.type}: {finding.message}",
                               finding.id) for finding in extracted.findings if finding.needs_editor]
    needs_editor = sum(1 for finding in extracted.findings if finding.needs_editor)
    counts = extracted.counts
    cache.store("extract", key, outputs, {"needs_editor": needs_editor,
                                          "diagnostics": [diagnostic.to_json() for diagnostic in diagnostics],
                                          "summary": f"{counts['chapters']} chapters, {counts['notes']} notes; "
                                                     f"{needs_editor} repairs need the editor"})
    return needs_editor, diagnostics


def extracted_display(config: BookConfig) -> str:
    try:
        return config.manuscript.relative_to(config.project_dir).as_posix()
    except ValueError:
        return str(config.manuscript)


def _report_reader_warnings(diagnostics: list[Diagnostic], reporter: Reporter) -> None:
    """The reader's warnings, one line each (also when the stage is reused: they still hold)."""
    for diagnostic in diagnostics:
        if diagnostic.kind != "needs-editor":
            reporter.warn("extract", f"{diagnostic.message} ({diagnostic.location})")


def _catalogs(config: BookConfig, targets: tuple[str, ...], reporter: Reporter) -> dict[str, dict[str, int]]:
    """Merge and draft unless the book, the catalogs and the installed models are as the last build left them;
    returns, per language, how many segments are in each state (for the summary)."""
    from .i18n.models import find_model
    cache = BuildCache(config)

    def key() -> str:
        models = {lang: str(find_model(config, choice.engine, choice.model))
                  for lang, choice in config.translation.models.items() if lang in targets}
        return inputs_key("catalogs", targets, models, config.book_xml, config.source_dir / "book.toml",
                          *(config.locales_dir / lang for lang in targets))

    cached = cache.lookup("catalogs", key())
    if cached is not None and "states" in cached:
        reporter.step("catalogs", f"book and catalogs unchanged ({', '.join(targets)}); nothing to merge or draft")
        return {lang: cached["states"][lang] for lang in targets if lang in cached["states"]}
    from .i18n import draft_translations, prepare_catalogs
    from .i18n.catalogs import count_states
    catalogs = prepare_catalogs(config, reporter, targets)
    draft_translations(config, targets, catalogs.keep_terms, reporter=reporter)
    states = {}
    for lang in targets:
        totals: dict[str, int] = {}
        for per_catalog in count_states(config, lang).values():
            for state, count in per_catalog.items():
                totals[state] = totals.get(state, 0) + count
        states[lang] = totals
    cache.store("catalogs", key(), [], {"states": states})
    return states


def _review(config: BookConfig, reporter: Reporter) -> tuple[dict[str, int], list[Path]]:
    """Check every target language's translations and write the check reports and the status page, unless the
    catalogs, glossary and configuration are unchanged; returns the number of findings per language and the
    reports written."""
    cache = BuildCache(config)
    languages = config.target_languages
    key = inputs_key("review", languages, config.source_dir / "book.toml", config.locales_dir)
    cached = cache.lookup("review", key)
    if cached is not None and "findings" in cached and "reports" in cached:
        return cached["findings"], [config.project_dir / name for name in cached["reports"]]
    from .review.reports import review_report_paths, write_review_reports
    statuses = write_review_reports(config, languages)
    findings = {status.language: len(status.check.findings) for status in statuses}
    reporter.step("review", "checked the translations: " + (", ".join(
        f"{lang} {plural(count, 'finding')}" for lang, count in findings.items()) or "no catalogs yet")
        + "; wrote output/reports/translation-status.html")
    reports = [path for path in review_report_paths(config, languages) if path.is_file()]
    cache.store("review", key, reports, {"findings": findings,
                                         "reports": [path.relative_to(config.project_dir).as_posix()
                                                     for path in reports]})
    return findings, reports


def _render_epub(book, lang: str, config: BookConfig, image_files: dict[str, Path], images: dict[str, str],
                 page_starts, reporter: Reporter, output: Path, *, drafts: bool = False) -> EditionRow:
    """The EPUB edition, its page list taken from the print layout (this build's, saved, or laid out now)."""
    from .render.epub import render_epub
    from .render.pdf import print_page_starts
    started = reporter.elapsed()
    reporter.step("render", f"{lang} EPUB …")
    if page_starts is None:
        page_starts = print_page_starts(book, lang, config, notes=config.notes, images=images)
    result = render_epub(book, lang, config, output, images=image_files, page_starts=page_starts, drafts=drafts)
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


def needs_people(needs_editor: int, states: dict[str, dict[str, int]],
                 findings: dict[str, int] | None = None) -> list[str]:
    """The summary's last lines: what is waiting for the editor and for the translators."""
    lines = [f"editor: {plural(needs_editor, 'repair')} waiting (output/reports/repair.md)"]
    order = ("untranslated", "machine draft", "needs review", "reviewed")  # the catalogs' entry states
    for lang, counts in states.items():
        lines.append(f"translators ({lang}): " + ", ".join(f"{counts.get(state, 0):,} {state}" for state in order)
                     + " segments (press status)")
        if findings is not None and lang in findings:
            lines.append(f"reviewers ({lang}): {plural(findings[lang], 'translation finding')} "
                         f"(output/reports/translation-check-{lang}.txt)")
    return lines


def build(project: Path | None = None, *, reporter: Reporter | None = None,
          options: BuildOptions | None = None) -> int:
    reporter = reporter or Reporter()
    options = options or BuildOptions()
    config = load_config(project)
    reporter.step("build", f"project {config.project_dir}")
    with project_lock(config, options.wait_seconds):
        needs_editor, diagnostics = _extract(config, reporter)
        targets = tuple(lang for lang in _languages(config, options) if lang in config.target_languages)
        states = _catalogs(config, targets, reporter) if targets else {}  # English alone: catalogs untouched
        findings, review_reports = _review(config, reporter) if targets else ({}, [])  # English alone: no catalogs
        rows = render_editions(config, options, reporter)
        reports = config.output_dir / "reports"
        outputs = [config.book_xml, reports / "repair.json", reports / "repair.md", *review_reports] + [
            row.path for row in rows if row.path is not None]
        if write_manifest(config, outputs):
            reporter.step("build", "wrote output/manifest.json")
    if rows and not reporter.quiet:
        print(summary_table(rows), file=reporter.stream)
    if not reporter.quiet:
        for line in needs_people(needs_editor, states, findings):
            print(line, file=reporter.stream)
    for row in rows:
        diagnostics += row.diagnostics
    warnings = at_least(diagnostics, Severity.WARNING)
    reporter.step("build", f"done in {reporter.elapsed():.1f} s")
    if options.strict and warnings:
        print(f"error: strict: the build has warnings ({tally(warnings)}; see above); --strict makes them fatal",
              file=reporter.stream)
        return ExitCode.STRICT
    return ExitCode.OK
