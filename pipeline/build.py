"""``press build``: every stage in order, from source/ into output/.

This is the only place that sequences stages. It loops over the registry (pipeline/stages.py):
each stage is reused from the cache when the key of its declared inputs is unchanged, else run;
the editions left to render run in parallel processes, one per language. Stages talk to each other
through files (``output/xml/book.xml``, ``locales/<lang>/*.po``) and report through one channel of
typed diagnostics, which the summary and ``--strict`` read. A language without an installed model
is reported and left untranslated; the build still succeeds.
"""

from __future__ import annotations

import gc
import io
import json
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from . import errors
from .cache import BuildCache
from .config import BookConfig, load_config, with_renderer
from .diagnostics import Diagnostic, Severity, at_least, tally
from .errors import ConfigError, ExitCode
from .lock import kill_workers, project_lock
from .manifest import fonts_used, write_manifest
from .progress import LinePipe, Reporter, plural
from .safety import atomic_write, check_writable, time_limit
from .stages import (FORMATS, CatalogsOutcome, CatalogsStage, Edition, EditionRow, ExtractOutcome, ExtractStage,
                     RenderState, ReviewOutcome, ReviewStage, editions, catalog_verdicts_file, pipeline_stages,
                     project_environment, project_inputs, stage_key)

if TYPE_CHECKING:  # (imported where the editions render: a no-op build renders none, and forks no worker)
    from concurrent.futures import ProcessPoolExecutor

    from .zygote import Zygote

T = TypeVar("T")

__all__ = ["FORMATS", "BuildOptions", "EditionRow", "build", "edition_path", "needs_people", "summary_table"]


@dataclass
class BuildOptions:
    languages: tuple[str, ...] | None = None  # None: every language of the book
    formats: tuple[str, ...] = FORMATS
    drafts: bool = False
    strict: bool = False
    wait_seconds: float = 0.0  # how long a second build waits for the first
    single_pass: bool = False  # the reader's PDF as one WeasyPrint document (the reference), not in parts


@dataclass
class WorkerOutcome:
    """What a render worker sends back: its rows and printed lines, or the error it stopped with (the
    exception itself, pickled whole: class, category, exit code, place and hint)."""

    rows: list[EditionRow]
    lines: list[str]
    error: errors.PipelineError | None = None


@dataclass
class BuildResult:
    """What the stages reported, for the summary and --strict."""

    extract: ExtractOutcome
    catalogs: CatalogsOutcome | None
    review: ReviewOutcome | None
    rows: list[EditionRow]

    @property
    def diagnostics(self) -> list[Diagnostic]:
        found = list(self.extract.diagnostics) + (self.catalogs.diagnostics if self.catalogs else [])
        found += self.review.diagnostics if self.review else []
        localized: set[Diagnostic] = set()  # a language's localize findings, carried by whichever edition rendered
        for row in self.rows:  # them: a PDF reused beside an EPUB made again both carry them, counted once
            for diagnostic in row.diagnostics:
                if diagnostic.stage == "localize":
                    if diagnostic in localized:
                        continue
                    localized.add(diagnostic)
                found.append(diagnostic)
        return found


def _languages(config: BookConfig, options: BuildOptions) -> tuple[str, ...]:
    chosen = options.languages or config.languages
    unknown = [lang for lang in chosen if lang not in config.languages]
    if unknown:
        raise ConfigError(f"language(s) {', '.join(unknown)} are not in the book's languages "
                          f"({', '.join(config.languages)})", config.source_dir / "book.toml")
    return tuple(chosen)


def edition_path(config: BookConfig, lang: str, fmt: str, drafts: bool = False) -> Path:
    """Where an edition goes: a draft edition has its own name, so it never replaces the final one."""
    return Edition(lang, fmt, drafts).path(config)


# --------------------------------------------------------------------------- the stages before the editions


def _reused(convert: Callable[[dict], T], cached: dict | None) -> T | None:
    """A stage's result rebuilt from its cache entry, or None when there is no entry or its data is not what the
    stage records (then the stage runs again, as for any damaged entry)."""
    if cached is None:
        return None
    try:
        return convert(cached)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _run_extract(stage: ExtractStage, config: BookConfig, cache: BuildCache, reporter: Reporter, key: str,
                 cached: dict | None) -> Callable[[], ExtractOutcome]:
    """The extract stage, reused when ``cached`` (its cache entry under ``key``, looked up by the caller) is whole.
    Run, it returns once the book is written: the call returned finishes it (the questions that cannot change the
    book, the reports) and stores its cache entry."""
    reused = _reused(stage.from_cache, cached)
    if reused is None:
        finish = stage.start(config, reporter)  # (which prints the reader's warnings as it reads)

        def finished() -> ExtractOutcome:
            outcome = finish()
            cache.store(stage.name, key, stage.outputs(config), stage.to_cache(outcome))
            return outcome

        return finished
    reporter.step("extract", f"inputs unchanged, reused output/xml/book.xml ({reused.summary})")
    for diagnostic in reused.diagnostics:  # reused: the reader's warnings still hold, so say them again
        if diagnostic.kind != "needs-editor":
            reporter.warn("extract", f"{diagnostic.message} ({diagnostic.location})")
    return lambda: reused


def _run_catalogs(stage: CatalogsStage, config: BookConfig, cache: BuildCache, reporter: Reporter) -> CatalogsOutcome:
    reused = _reused(partial(CatalogsOutcome.from_cache, targets=stage.targets),
                     cache.lookup(stage.name, stage_key(stage, config)))
    if reused is not None:
        reporter.step("catalogs", f"book and catalogs unchanged ({', '.join(stage.targets)}); "
                                  "nothing to merge or draft")
        for diagnostic in reused.diagnostics:  # still so: say it again, as a reused extract does
            reporter.warn("catalogs", f"{diagnostic.message} ({diagnostic.location})")
        return reused
    outcome = stage.run(config, reporter)
    # drafting wrote the catalogs it reads: the key is taken again, so the next build finds it unchanged
    cache.store(stage.name, stage_key(stage, config), stage.outputs(config), outcome.to_cache())
    return outcome


def _run_review(stage: ReviewStage, config: BookConfig, cache: BuildCache, reporter: Reporter) -> ReviewOutcome:
    reused = _reused(lambda data: stage.from_cache(data, config), cache.lookup(stage.name, stage_key(stage, config)))
    if reused is not None:
        return reused
    outcome = stage.run(config, reporter)
    cache.store(stage.name, stage_key(stage, config), outcome.reports, stage.to_cache(outcome, config))
    return outcome


# --------------------------------------------------------------------------- the editions


class EditionRenderer:
    """Renders the editions from output/xml/book.xml: an edition whose declared inputs are unchanged is reused,
    and the languages left to render run in parallel processes (one per language).

    A language starts as soon as what it reads is final: the source language reads no catalog, so when the build
    has target languages it starts right after extract (``start_early``), in a worker of its own while this
    process merges, drafts and checks the catalogs, a second or so with a core otherwise idle; the target
    languages start as soon as the catalogs are merged, each in a worker of its own beside the review stage.
    When the book changed, the workers fork from a zygote forked before extract (``prefork``)."""

    def __init__(self, config: BookConfig, chosen: list[Edition], reporter: Reporter) -> None:
        self.config, self.chosen, self.reporter = config, chosen, reporter
        self.cache = BuildCache(config)
        self.rows: dict[str, EditionRow] = {}
        self.by_name = {edition.name: edition for edition in chosen}
        self.pools: list[ProcessPoolExecutor] = []
        self.futures: list = []
        self.languages: list[str] = []  # those rendering in workers
        self.deferred: list[Edition] = []  # started early on a machine of one core: rendered with the others
        self.started: set[str] = set()  # the editions start_early took (rendering, deferred or reused)
        self.zygote: Zygote | None = None  # forked before extract: the workers fork from it (pipeline/zygote.py)
        self.lines: LinePipe | None = None  # the workers' progress lines, printed as they come

    def _pending(self, editions: list[Edition]) -> dict[str, list[Edition]]:
        """The editions that must be rendered, by language; the others' rows taken from the cache."""
        pending: dict[str, list[Edition]] = {}
        for edition in editions:
            output = edition.path(self.config)
            row = _reused(partial(EditionRow.from_cache, edition.lang, edition.format, path=output),
                          self.cache.lookup(edition.name, stage_key(edition, self.config)))
            if row is not None and output.is_file():
                self.rows[edition.name] = row
                self.reporter.step("render", f"{edition.lang} {edition.format.upper()}: inputs unchanged, "
                                             f"reused {output.name}")
            else:
                pending.setdefault(edition.lang, []).append(edition)
        return pending

    def finished(self, row: EditionRow) -> None:
        """Recorded as soon as it is rendered, so a build stopped or killed later reuses it next time."""
        edition = self.by_name[f"{row.format}-{row.lang}"]
        self.rows[edition.name] = row
        self.cache.store(edition.name, stage_key(edition, self.config), edition.outputs(self.config), row.to_cache())

    def start_early(self, editions: list[Edition]) -> None:
        """Start these editions (ones that read nothing the stages still to run write) in a worker now."""
        editions = [edition for edition in editions if edition.name not in self.started]
        self.started.update(edition.name for edition in editions)
        if (os.cpu_count() or 1) > 1:
            pending = self._pending(editions)
            if pending:
                self._submit(pending)
        else:
            self.deferred += editions

    def run(self, editions: list[Edition]) -> list[EditionRow]:
        """Render these editions too, wait for every one, and return the chosen editions' rows in order.

        One worker per language, even beyond the cores: after a small edit each language lays out a part or
        two, and with three languages on two cores, two workers left the third language to run alone at the
        end while a core stood idle; three share both cores to the end (a language's parts pool sizes itself
        to the cores). A single language alone renders in this process."""
        try:
            return self._run(editions)
        except BaseException:  # stopped or failed anywhere here, not only while collecting: no worker writes on
            self.stop()  # (left running, a pool's exit handler would wait for them to finish their editions)
            raise

    def _run(self, editions: list[Edition]) -> list[EditionRow]:
        pending = self._pending(self.deferred + [edition for edition in editions if edition.name not in self.started])
        if not self.futures and self.zygote is None and (len(pending) <= 1 or (os.cpu_count() or 1) <= 1):
            if pending:
                from .render.parts import preload_renderer
                preload_renderer()
            else:
                _finish_loading_renderer()
            for language_editions in pending.values():
                _render_language(self.config, language_editions, self.reporter, self.finished)
        elif pending or self.futures:
            if pending:
                self._submit(pending)
            if len(self.languages) > 1:
                self.reporter.step("render", f"{', '.join(self.languages)} in {len(self.languages)} parallel "
                                             "processes …")
            elif self.languages:
                self.reporter.step("render", f"{self.languages[0]} …")
            self._collect()
        else:  # workers started before extract, and nothing to render after all
            self.stop()
        return [self.rows[edition.name] for edition in self.chosen if edition.name in self.rows]

    def prefork(self) -> None:
        """Fork the zygote now, before extract: it imports WeasyPrint (a quarter of a second of CPU) on the core
        extract leaves idle, then forks each language's worker as the language starts, none of them importing
        anything. (Imported here instead, the import shared this process's interpreter lock with extract, or,
        after it, held the translated editions back behind the catalogs; three workers each importing it cost
        two thirds of a second of CPU more an edit.)"""
        from .render.parts import render_code_fingerprint
        from .zygote import Zygote
        fonts_used(self.config)  # what the workers would look up again is inherited
        render_code_fingerprint()
        self._open_lines()
        self.zygote = Zygote(partial(_zygote_start, languages=self.config.languages))
        self._start_lines()

    def _submit(self, pending: dict[str, list[Edition]]) -> None:
        """Each language to a worker of its own: forked from the zygote if there is one, else from this process
        (once it has imported WeasyPrint)."""
        if self.zygote is not None:
            self.futures += [self.zygote.submit(_render_language_in_worker, self.config, language_editions)
                             for language_editions in pending.values()]
            self.languages += list(pending)
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from .render.parts import preload_renderer, render_worker_start
        preload_renderer()  # the workers fork with WeasyPrint already imported
        self._open_lines()
        pool = ProcessPoolExecutor(max_workers=len(pending), mp_context=multiprocessing.get_context("fork"),
                                   initializer=render_worker_start, initargs=(os.getpid(),))
        self.pools.append(pool)
        with self.lines.paused() if self.lines is not None else nullcontext():  # (no line half printed as it forks)
            self.futures += [pool.submit(_render_language_in_worker, self.config, language_editions)
                             for language_editions in pending.values()]  # a forking pool starts its workers here
        self._start_lines()
        self.languages += list(pending)

    def _open_lines(self) -> None:
        """The pipe the workers about to fork write their lines to (none when the run is quiet: the workers'
        lines are not shown then)."""
        global _WORKER_LINES
        if self.lines is None and not self.reporter.quiet:
            self.lines = _WORKER_LINES = LinePipe(self.reporter.stream)

    def _start_lines(self) -> None:
        if self.lines is not None:
            self.lines.start()

    def _close_lines(self) -> None:
        global _WORKER_LINES
        if self.lines is not None:
            self.lines.close()
            self.lines = _WORKER_LINES = None

    def _collect(self) -> None:
        from concurrent.futures import as_completed
        try:
            for future in as_completed(self.futures):
                outcome: WorkerOutcome = future.result()
                if not self.reporter.quiet:
                    for line in outcome.lines:
                        self.reporter.line(line)
                for row in outcome.rows:  # a language whose worker failed may have finished some editions
                    self.finished(row)
                if outcome.error is not None:
                    raise outcome.error
        except KeyboardInterrupt:  # SIGINT or SIGTERM (errors.Stopped): the workers stop now, mid-edition
            self.stop()
            raise
        finally:
            for pool in self.pools:  # after an edition's error, the others finish theirs
                pool.shutdown(wait=True, cancel_futures=True)
            if self.zygote is not None:
                self.zygote.close()
            self._close_lines()

    def stop(self) -> None:
        """The workers killed now (a stage failed or the build was stopped): nothing more is written."""
        for pool in self.pools:
            kill_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)
        if self.zygote is not None:
            self.zygote.stop()
        self._close_lines()


def _zygote_start(parent: int, languages: tuple[str, ...] = ()) -> None:
    """The zygote's start, before extract: it dies with the build, and imports WeasyPrint and the editions' code,
    reads the tools' versions (the render code's fingerprint) and the book's hyphenation patterns while the
    build's first stages run, for the workers it forks."""
    from .manifest import tool_versions
    from .render.hyphenation import preload_dictionaries
    from .render.parts import preload_renderer, render_worker_start
    render_worker_start(parent)
    tool_versions()
    preload_renderer()
    _import_edition_code()
    preload_dictionaries(languages)
    gc.freeze()  # (what the imports made, too, is never collected)


def _import_edition_code() -> None:
    """The editions' code, imported once in the zygote rather than in each worker: the modules the editions'
    cache keys name (``Edition.modules_by_format``) and every one they import, lazily too, with the libraries
    those import (pikepdf, Babel): 96 modules, a tenth of a second of CPU a worker."""
    import importlib

    from .cache import module_closure
    declared = tuple(dict.fromkeys(module for modules in Edition.modules_by_format.values() for module in modules))
    for module in module_closure(declared):
        importlib.import_module(module)


_WORKER_LINES: LinePipe | None = None  # set before the render workers fork (EditionRenderer._open_lines)


def _render_language_in_worker(config: BookConfig, language_editions: list[Edition]) -> WorkerOutcome:
    """One language's editions, in a worker: its lines go to the build's pipe as they are printed (kept for
    the outcome when there is none)."""
    kept = io.StringIO()
    stream = _WORKER_LINES.writer() if _WORKER_LINES is not None else kept
    done: list[EditionRow] = []
    try:
        _render_language(config, language_editions, Reporter(stream), done.append)
    except errors.PipelineError as error:
        return WorkerOutcome(done, kept.getvalue().splitlines(), error)
    return WorkerOutcome(done, kept.getvalue().splitlines())


def _render_language(config: BookConfig, language_editions: list[Edition], reporter: Reporter,
                     finished: Callable[[EditionRow], None] | None = None) -> list[EditionRow]:
    state = RenderState()
    rows = []
    with _catalog_verdicts(config, language_editions):
        for edition in language_editions:
            output = edition.path(config)
            with time_limit(config.limits.render_timeout_s,
                            f"rendering the {edition.lang} {edition.format.upper()} edition", output):
                rows.append(edition.run(config, reporter, state))
            if finished is not None:
                finished(rows[-1])
    return rows


def _catalog_verdicts(config: BookConfig, language_editions: list[Edition]) -> AbstractContextManager:
    """A translated edition reads its catalogs, each checked by msgfmt: the verdicts the catalogs stage kept
    (a worker that did not fork from the process that ran the stage, or rendered alone after it was cached, ran
    msgfmt on all twelve of its language's catalogs again, after an edit).
    The source language's editions read no catalog and do not import the catalogs' code."""
    if all(edition.lang == config.source_language for edition in language_editions):
        return nullcontext()
    from .i18n.catalogs import kept_verdicts_in
    return kept_verdicts_in(catalog_verdicts_file(config))


# --------------------------------------------------------------------------- the summary


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
    for lang, counts in states.items():
        # the catalogs' entry states; memory matches (needs review, from locales/tm) apart when there are any
        order = ("untranslated", "machine draft", *(("memory match",) if counts.get("memory match") else ()),
                 "needs review", "reviewed")
        lines.append(f"translators ({lang}): " + ", ".join(f"{counts.get(state, 0):,} {state}" for state in order)
                     + " segments (press status)")
        if findings is not None and lang in findings:
            lines.append(f"reviewers ({lang}): {plural(findings[lang], 'translation finding')} "
                         f"(output/reports/translation-check-{lang}.txt)")
    return lines


def _print_summary(result: BuildResult, reporter: Reporter) -> None:
    if reporter.quiet:
        return
    if result.rows:
        print(summary_table(result.rows), file=reporter.stream)
    states = result.catalogs.states if result.catalogs else {}
    for line in needs_people(result.extract.needs_editor, states, result.review.findings if result.review else {}):
        print(line, file=reporter.stream)
    warnings = at_least(result.diagnostics, Severity.WARNING)
    if warnings:
        print(f"warnings: {tally(warnings)}", file=reporter.stream)


def write_diagnostics_report(config: BookConfig, diagnostics: list[Diagnostic]) -> Path:
    """``output/reports/diagnostics.json``: this build's diagnostics (stage, kind, severity, location,
    message), warnings first, for CI and for whoever reads the build after it; unchanged, not rewritten."""
    path = config.output_dir / "reports" / "diagnostics.json"
    ordered = sorted(diagnostics, key=lambda d: (-d.severity, d.stage, d.kind, d.location or "", d.message))
    counts: dict[str, int] = {}
    for diagnostic in ordered:
        counts[diagnostic.severity.label] = counts.get(diagnostic.severity.label, 0) + 1
    data = {"counts": counts, "diagnostics": [diagnostic.to_json() for diagnostic in ordered]}
    atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    return path


# --------------------------------------------------------------------------- the build


def check_outputs_writable(config: BookConfig, stages: list, chosen: list[Edition]) -> None:
    """Before any work: every file the build may write under output/ can be written (no folder in its place;
    the manifest, the diagnostics and the cache entries not read-only; each folder takes a new file and has room
    for the largest edition again), so a full disk or a read-only output/ fails now, not after the render."""
    cache = BuildCache(config)
    own = [config.output_dir / "manifest.json", config.output_dir / "reports" / "diagnostics.json",
           *(cache.entry_path(stage.name) for stage in [*stages, *chosen])]
    outputs = [path for stage in [*stages, *chosen] for path in stage.outputs(config)]
    largest = max((path.stat().st_size for path in outputs if path.is_file()), default=0)
    check_writable(own, read_only_files=True, free_bytes=max(largest, 1 << 20))
    check_writable(outputs, [cache.directory / "fonts"], read_only_files=False, free_bytes=max(largest, 1 << 20))


def _finish_loading_renderer() -> None:
    """Wait for the import of WeasyPrint ``start_loading_renderer`` began, if one did: only a process that imported
    the parts renderer can have begun one. A no-op build renders nothing and imports neither it nor multiprocessing
    and the process pools (imports it never used were a tenth of its time)."""
    parts = sys.modules.get(f"{__package__}.render.parts")
    if parts is not None:
        parts.finish_loading_renderer()


def _zygote_available() -> bool:
    from .zygote import zygote_available  # (imported when the book changed: not by a no-op build)
    return zygote_available()


def _when_book_written(callback: Callable[[], None]) -> AbstractContextManager[None]:
    from .extract import when_book_written  # (the extract stage's modules: not imported by a no-op build)
    return when_book_written(callback)


def _run_stages(config: BookConfig, options: BuildOptions, reporter: Reporter) -> BuildResult:
    cache = BuildCache(config)
    languages = _languages(config, options)
    targets = tuple(lang for lang in languages if lang in config.target_languages)
    chosen = editions(config, languages, tuple(fmt for fmt in FORMATS if fmt in options.formats), options.drafts)
    check_outputs_writable(config, list(pipeline_stages(config, targets)), chosen)
    finish_extract: Callable[[], ExtractOutcome] | None = None
    catalogs: CatalogsOutcome | None = None
    review: ReviewOutcome | None = None
    renderer = EditionRenderer(config, chosen, reporter)
    # the source language's editions read the book and no catalog: they start as soon as it is written (while
    # extract asks the questions that cannot change it, Hunspell's suggestions), or right after a cached extract
    source = [edition for edition in chosen if edition.lang == config.source_language]

    def book_written() -> None:
        renderer.start_early(source)

    try:
        for stage in pipeline_stages(config, targets):
            if isinstance(stage, ExtractStage):
                key = stage_key(stage, config)
                cached = cache.lookup(stage.name, key)
                if cached is None and chosen and (os.cpu_count() or 1) > 1 and _zygote_available():
                    # the book changed, so the editions will render: the process their workers fork from gets
                    # ready, importing WeasyPrint on the core extract leaves idle (here, it would share extract's GIL)
                    renderer.prefork()
                elif cached is None and chosen:  # WeasyPrint loads in this process meanwhile
                    from .render.parts import start_loading_renderer
                    start_loading_renderer()
                with _when_book_written(book_written) if cached is None else nullcontext():
                    finish_extract = _run_extract(stage, config, cache, reporter, key, cached)
                if cached is not None and targets:
                    renderer.start_early(source)
            elif isinstance(stage, CatalogsStage):
                catalogs = _run_catalogs(stage, config, cache, reporter)
                # the translated editions read the catalogs, not the review's reports: they start now, the review
                # beside them. (Even while WeasyPrint is still loading for their workers: the review, run in the
                # meantime, held the import's thread back as long, both needing this process's interpreter lock.)
                renderer.start_early(chosen)  # (those started already are not started again)
            elif isinstance(stage, ReviewStage):
                review = _run_review(stage, config, cache, reporter)
                renderer.start_early(chosen)  # (if not yet)
        # the extract stage's questions that cannot change the book, and its reports: once every edition that
        # reads the book and the catalogs has started (beside them, not before the catalogs)
        assert finish_extract is not None
        extract = finish_extract()
    except BaseException:  # a stage failed or the build was stopped: no worker goes on, no import is cut off
        renderer.stop()
        _finish_loading_renderer()
        raise
    rows = renderer.run(chosen)  # (those started early are not started again)
    return BuildResult(extract, catalogs, review, rows)


def build(project: Path | None = None, *, reporter: Reporter | None = None,
          options: BuildOptions | None = None) -> int:
    reporter = reporter or Reporter()
    options = options or BuildOptions()
    config = load_config(project)
    if options.single_pass:
        config = with_renderer(config, "single")
    reporter.step("build", f"project {config.project_dir}")
    with project_lock(config, options.wait_seconds):
        result = _run_stages(config, options, reporter)
        report = write_diagnostics_report(config, result.diagnostics)
        outputs = [*ExtractStage().outputs(config), *(result.review.reports if result.review else []), report] + [
            row.path for row in result.rows if row.path is not None]
        if write_manifest(config, outputs, project_inputs(config), project_environment(config)):
            reporter.step("build", "wrote output/manifest.json")
    _print_summary(result, reporter)
    warnings = at_least(result.diagnostics, Severity.WARNING)
    reporter.step("build", f"done in {reporter.elapsed():.1f} s")
    if options.strict and warnings:
        print(f"error: strict: the build has warnings ({tally(warnings)}; see above); --strict makes them fatal",
              file=reporter.stream)
        return ExitCode.STRICT
    return ExitCode.OK

