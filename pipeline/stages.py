"""The build's stages and editions as objects that declare what they read and what they write.

Each stage has a name, ``inputs(config)`` (the files and folders it reads, the part of book.toml
tagged with it, the environment and the code it runs) and ``run(...)``, which returns a typed
result. The build (pipeline/build.py) loops over this registry; a stage's cache key and the
manifest's list of inputs both come from these declarations, so there is one list, not two, and
``press build --explain`` prints them (the README's architecture section is that output).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .cache import code_fingerprint, inputs_key, module_closure
from .config import CONFIG_SCOPES, DEFAULT_CMYK_PROFILE, BookConfig, config_values
from .diagnostics import Diagnostic, Severity
from .manifest import fonts_used
from .progress import Reporter, plural
from .reportfiles import review_report_paths
from .safety import parse_xml, read_input_bytes

if TYPE_CHECKING:  # (the extract stage's modules: not imported by a no-op build)
    from .extract import ExtractResult

# In rendering order: the EPUB's page list follows the print edition's pages. "printer" is the PDF for the
# printer (PDF/X-4, bleed, crop marks), built for the languages [print] printer_pdf names.
FORMATS = ("pdf", "printer", "epub")
# The orchestration every stage runs through: its code is part of every key.
GLUE = ("pipeline.stages", "pipeline.build")


@dataclass(frozen=True)
class Inputs:
    """Everything a stage reads: its cache key is made of exactly this, and the manifest lists the paths."""

    paths: tuple[Path, ...] = ()  # files, and folders meaning every file under them, by content
    config: dict = field(default_factory=dict)  # the part of book.toml tagged with the stage (config_values)
    environment: dict[str, str | None] = field(default_factory=dict)  # variables read (None: not set)
    values: dict = field(default_factory=dict)  # anything else: languages, models, fonts, drafts
    modules: tuple[str, ...] = ()  # the entry modules the stage runs; their imports are followed

    def code(self) -> tuple[str, ...]:
        return tuple(sorted(set(module_closure(self.modules)) | set(GLUE)))

    def key(self, stage: str, root: Path | None = None) -> str:
        """The cache key: paths under ``root`` (the project) count by their place in it, so a copied or moved
        project keeps its cache."""
        return inputs_key(stage, *self.paths, self.config, self.environment, self.values,
                          code=code_fingerprint(self.code()), root=root)

    def files(self) -> list[Path]:
        """The files behind ``paths`` (folders expanded), as the manifest lists them."""
        found: list[Path] = []
        for path in self.paths:
            found += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        return [path for path in found if path.is_file()]


def stage_key(stage: Stage, config: BookConfig) -> str:
    """The key of everything ``stage`` declares it reads, in this project."""
    return stage.inputs(config).key(stage.name, config.project_dir)


class Stage(Protocol):
    """A step of the build: what it reads, what it writes, and how it runs."""

    name: str  # its cache entry: output/.cache/<name>.json
    scope: str  # the name book.toml's tables are tagged with (config.CONFIG_SCOPES): "extract", "pdf", …
    summary: str  # one line for --explain

    def inputs(self, config: BookConfig) -> Inputs: ...

    def outputs(self, config: BookConfig) -> list[Path]: ...


def _display(path: Path, config: BookConfig) -> str:
    try:
        return path.resolve().relative_to(config.project_dir.resolve()).as_posix()
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- extract


@dataclass
class ExtractOutcome:
    needs_editor: int  # repairs waiting for the editor
    diagnostics: list[Diagnostic]
    summary: str


class ExtractStage:
    name = scope = "extract"
    summary = "manuscript → repaired, validated DocBook book; the repair report for the editor"

    def inputs(self, config: BookConfig) -> Inputs:
        return Inputs((config.manuscript, config.editorial_file), config_values(config, self.scope),
                      modules=("pipeline.extract",))

    def outputs(self, config: BookConfig) -> list[Path]:
        reports = config.output_dir / "reports"
        return [config.book_xml, reports / "repair.json", reports / "repair.md"]

    @staticmethod
    def transforms() -> tuple:
        """The repairs, as the stage runs them (for --explain)."""
        from .repair.transforms import REPAIRS
        return REPAIRS

    def run(self, config: BookConfig, reporter: Reporter) -> ExtractOutcome:
        return self.start(config, reporter)()

    def start(self, config: BookConfig, reporter: Reporter) -> Callable[[], ExtractOutcome]:
        """Run the stage until the book is written; the call returned asks the questions that cannot change it
        (Hunspell's suggestions), writes the reports and gives the outcome. The build makes that call once the
        stages after this one have started the editions."""
        from .extract import extract_book
        from .repair.spelling import answers_kept_in, end_hunspell
        asking = ExitStack()
        asking.callback(end_hunspell)  # a build asks once (the processes hold ~22 MB each)
        # the answers kept across builds: an edit brings a word or two new
        asking.enter_context(answers_kept_in(config.output_dir / ".cache" / "hunspell.json"))
        try:
            extracted = extract_book(config, reporter=reporter, ask_later=True)
        except BaseException:
            asking.close()
            raise

        def finish() -> ExtractOutcome:
            with asking:
                if extracted.remaining is not None:
                    extracted.remaining()
            return self._outcome(config, extracted)

        return finish

    @staticmethod
    def _outcome(config: BookConfig, extracted: ExtractResult) -> ExtractOutcome:
        manuscript = _display(config.manuscript, config)
        diagnostics = [Diagnostic("extract", warning.kind, Severity.WARNING, warning.message,
                                  f"{manuscript}:{warning.where.describe()}" if warning.where else manuscript)
                       for warning in extracted.warnings]
        diagnostics += [Diagnostic("extract", "needs-editor", Severity.WARNING, f"{finding.type}: {finding.message}",
                                   finding.id) for finding in extracted.findings if finding.needs_editor]
        needs_editor = sum(1 for finding in extracted.findings if finding.needs_editor)
        counts = extracted.counts
        return ExtractOutcome(needs_editor, diagnostics, f"{counts['chapters']} chapters, {counts['notes']} notes; "
                                                         f"{needs_editor} repairs need the editor")

    @staticmethod
    def to_cache(outcome: ExtractOutcome) -> dict:
        return {"needs_editor": outcome.needs_editor, "summary": outcome.summary,
                "diagnostics": [diagnostic.to_json() for diagnostic in outcome.diagnostics]}

    @staticmethod
    def from_cache(data: dict) -> ExtractOutcome:
        return ExtractOutcome(data["needs_editor"], [Diagnostic.from_json(d) for d in data["diagnostics"]],
                              data["summary"])


# --------------------------------------------------------------------------- catalogs and drafting


@dataclass
class CatalogsOutcome:
    states: dict[str, dict[str, int]]  # per language: segments in each state
    diagnostics: list[Diagnostic] = field(default_factory=list)  # drafting's warnings

    def to_cache(self) -> dict:
        return {"states": self.states, "diagnostics": [diagnostic.to_json() for diagnostic in self.diagnostics]}

    @classmethod
    def from_cache(cls, data: dict, targets: tuple[str, ...]) -> CatalogsOutcome:
        return cls({lang: data["states"][lang] for lang in targets if lang in data["states"]},
                   [Diagnostic.from_json(d) for d in data["diagnostics"]])


class CatalogsStage:
    """Merge the book's sentences into the catalogs and machine-draft empty entries (one stage: drafting
    changes the catalogs the merge reads, so they are cached together)."""

    name = scope = "catalogs"
    summary = "merge the book's sentences into the catalogs; machine-draft empty entries where a model is installed"

    def __init__(self, targets: tuple[str, ...]):
        self.targets = targets

    def inputs(self, config: BookConfig) -> Inputs:
        from .i18n.models import find_model
        models = {lang: str(find_model(config, choice.engine, choice.model))
                  for lang, choice in config.translation.models.items() if lang in self.targets}
        memories = (config.locales_dir / "tm" / f"{lang}.tmx" for lang in self.targets)  # consulted before the model
        return Inputs((config.book_xml, *(config.locales_dir / lang for lang in self.targets), *memories),
                      config_values(config, self.scope), values={"languages": self.targets, "models": models},
                      modules=("pipeline.i18n", "pipeline.i18n.catalogs", "pipeline.i18n.draft"))

    def outputs(self, config: BookConfig) -> list[Path]:
        return []  # the catalogs are inputs too: a change to them changes the key

    def run(self, config: BookConfig, reporter: Reporter) -> CatalogsOutcome:
        from .i18n import draft_translations, prepare_catalogs
        from .i18n.catalogs import count_states, kept_verdicts_in
        # after an edit, gettext runs and the merge reads into Babel only the catalogs that change
        with kept_verdicts_in(catalog_verdicts_file(config), code=code_fingerprint(self.inputs(config).code())):
            catalogs = prepare_catalogs(config, reporter, self.targets)
            reports = draft_translations(config, self.targets, catalogs.keep_terms, reporter=reporter)
            states = {}
            for lang in self.targets:
                totals: dict[str, int] = {}
                for per_catalog in count_states(config, lang).values():
                    for state, count in per_catalog.items():
                        totals[state] = totals.get(state, 0) + count
                states[lang] = totals
        return CatalogsOutcome(states, _drafting_diagnostics(config, reports))


def catalog_verdicts_file(config: BookConfig) -> Path:
    """Where the build keeps msgfmt's and msgcat's verdicts and its own merges' and counts' across runs
    (pipeline.i18n.catalogs.KeptVerdicts)."""
    return config.output_dir / ".cache" / "catalog-verdicts.json"


def _drafting_diagnostics(config: BookConfig, reports: list) -> list[Diagnostic]:
    """What drafting printed as warnings, typed: a language whose model is not installed (its segments wait
    untranslated) and machine drafts dropped because they lost a note marker, tag or protected term."""
    from .i18n.models import language_status
    found = []
    for report in reports:
        place = f"locales/{report.language}"
        if report.model is None and report.wanted:
            status = language_status(config, report.language)
            found.append(Diagnostic("catalogs", "no-model", Severity.WARNING,
                                    f"{status.detail}; {plural(report.wanted, 'segment')} left undrafted — {status.fix}",
                                    place))
        if report.lost_placeholders:
            found.append(Diagnostic("catalogs", "draft-lost-placeholders", Severity.WARNING,
                                    f"{plural(len(report.lost_placeholders), 'machine draft')} lost a note marker, tag "
                                    f"or protected term and stayed untranslated (first: {report.lost_placeholders[0]})",
                                    place))
    return found


# --------------------------------------------------------------------------- review checks


@dataclass
class ReviewOutcome:
    findings: dict[str, int]  # per language
    reports: list[Path]
    diagnostics: list[Diagnostic] = field(default_factory=list)


class ReviewStage:
    name = scope = "review"
    summary = "check every target language's translations; the check reports and the status page"

    def inputs(self, config: BookConfig) -> Inputs:
        languages = config.target_languages
        return Inputs((*(config.locales_dir / lang for lang in languages), config.glossary_file),
                      config_values(config, self.scope), values={"languages": languages},
                      modules=("pipeline.review.reports",))

    def outputs(self, config: BookConfig) -> list[Path]:
        return review_report_paths(config, config.target_languages)

    def run(self, config: BookConfig, reporter: Reporter) -> ReviewOutcome:
        from .i18n.catalogs import kept_verdicts_in
        from .review.reports import write_review_reports
        with kept_verdicts_in(catalog_verdicts_file(config)):
            statuses = write_review_reports(config, config.target_languages)
        findings = {status.language: len(status.check.findings) for status in statuses}
        reporter.step("review", "checked the translations: " + (", ".join(
            f"{lang} {plural(count, 'finding')}" for lang, count in findings.items()) or "no catalogs yet")
            + "; wrote output/reports/translation-status.html")
        reports = [path for path in self.outputs(config) if path.is_file()]
        return ReviewOutcome(findings, reports, _review_diagnostics(findings))

    def to_cache(self, outcome: ReviewOutcome, config: BookConfig) -> dict:
        return {"findings": outcome.findings,
                "reports": [path.relative_to(config.project_dir).as_posix() for path in outcome.reports]}

    def from_cache(self, data: dict, config: BookConfig) -> ReviewOutcome:
        return ReviewOutcome(data["findings"], [config.project_dir / name for name in data["reports"]],
                             _review_diagnostics(data["findings"]))


def _review_diagnostics(findings: dict[str, int]) -> list[Diagnostic]:
    """The translation checks' findings wait for the reviewers, as untranslated segments wait for the
    translators: information in the build (``press review check --strict`` makes them fatal)."""
    return [Diagnostic("review", "translation-findings", Severity.INFO, plural(count, "translation finding"),
                       f"output/reports/translation-check-{lang}.txt") for lang, count in findings.items() if count]


# --------------------------------------------------------------------------- editions


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

    def to_cache(self) -> dict:
        return {"pages": self.pages, "size": self.size, "fallbacks": self.fallbacks, "notes": self.notes,
                "diagnostics": [diagnostic.to_json() for diagnostic in self.diagnostics]}

    @classmethod
    def from_cache(cls, lang: str, fmt: str, data: dict, path: Path) -> EditionRow:
        return cls(lang, fmt, "reused", data["pages"], data["size"], 0.0, data["fallbacks"], data["notes"], path,
                   [Diagnostic.from_json(d) for d in data["diagnostics"]])


@dataclass
class RenderState:
    """What one language's editions share in one process: the book parsed once, its images, the book
    localized per language, the print edition's page starts for the EPUB's page list."""

    root: object = None  # the book as parsed from output/xml/book.xml
    image_files: dict[str, Path] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)  # the same images as file: URIs
    localized: dict[str, object] = field(default_factory=dict)
    page_starts: dict[str, list] = field(default_factory=dict)
    diagnostics: dict[str, list[Diagnostic]] = field(default_factory=dict)  # localize's, per language


def edition_images(config: BookConfig, fmt: str) -> list[Path]:
    """Every image file an edition may read: source/images/ and the files ``[images]`` names, which may be
    anywhere under source/; for the EPUB also the cover ``[epub] cover`` names (the PDFs print no cover, so a
    new cover leaves them alone)."""
    named = [config.source_dir / relative for relative in config.images.values()]
    if fmt == "epub" and config.epub.cover:
        named.append(config.source_dir / config.epub.cover)
    folder = config.source_dir / "images"
    found = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    return list(dict.fromkeys(found + sorted(named)))


def edition_templates(config: BookConfig, fmt: str) -> tuple[Path, ...]:
    """The templates an edition reads: the EPUB every file of templates/ (its stylesheet, and print.css for the
    page list that follows the print layout); the PDFs every file but the EPUB's stylesheet (their fetcher
    may read any file under templates/, but never epub.css), so restyling the EPUB leaves the PDFs alone."""
    folder = config.project_dir / "templates"
    if fmt == "epub" or not folder.is_dir():
        return (folder,)
    return tuple(sorted(path for path in folder.rglob("*") if path.is_file() and path != folder / "epub.css"))


def printer_profile(config: BookConfig) -> tuple[tuple[Path, ...], dict[str, str]]:
    """The CMYK profile the printer's PDF embeds: the file ``[print] output_profile`` names under source/ (an
    input by content, listed in the manifest), else the system's default one (by path, size and time, as the
    fonts are: a package update changes it)."""
    if config.print.output_profile:
        return (config.source_dir / config.print.output_profile,), {}
    if not DEFAULT_CMYK_PROFILE.is_file():  # the render says how to install it
        return (), {"output_profile": f"{DEFAULT_CMYK_PROFILE} missing"}
    stat = DEFAULT_CMYK_PROFILE.stat()
    return (), {"output_profile": f"{DEFAULT_CMYK_PROFILE} {stat.st_size} {stat.st_mtime_ns}"}


LATIN_FONTS_FROM = "en"  # render/printbook.py and render/epub.py: fonts_for(config, "en") for Latin text


class Edition:
    """One edition: a language in a format (PDF or EPUB), final or with machine drafts."""

    summary_by_format = {"pdf": "the print edition (WeasyPrint), and its layout check",
                         "printer": "the printer's PDF: PDF/X-4, trim and bleed boxes, crop marks, CMYK output intent",
                         "epub": "the EPUB 3 edition, its page list following the print edition"}
    modules_by_format = {"pdf": ("pipeline.render.pdf", "pipeline.i18n.localize", "pipeline.render.images"),
                         "printer": ("pipeline.render.pdf", "pipeline.i18n.localize", "pipeline.render.images"),
                         "epub": ("pipeline.render.epub", "pipeline.render.pdf", "pipeline.i18n.localize",
                                  "pipeline.render.images")}

    def __init__(self, lang: str, fmt: str, drafts: bool = False):
        self.lang, self.format, self.drafts = lang, fmt, drafts
        self.name, self.scope = f"{fmt}-{lang}", fmt
        self.summary = self.summary_by_format[fmt]

    @staticmethod
    def transforms() -> tuple:
        """The edition's typography, applied to its localized book (for --explain)."""
        from .typography import EDITION_TRANSFORMS
        return EDITION_TRANSFORMS

    def path(self, config: BookConfig) -> Path:
        """Where the edition goes: a draft edition has its own name, so it never replaces the final one."""
        if self.format == "printer":
            return config.output_dir / self.lang / f"{config.slug}-print.pdf"
        return config.output_dir / self.lang / f"{config.slug}{'-draft' if self.drafts else ''}.{self.format}"

    def inputs(self, config: BookConfig) -> Inputs:
        environment = {"SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH")} \
            if self.format in ("epub", "printer") else {}  # both are dated (the printer's PDF in its XMP)
        catalogs = (config.locales_dir / self.lang,) if self.lang != config.source_language else ()
        profile, system_profile = printer_profile(config) if self.format == "printer" else ((), {})
        return Inputs((config.book_xml, *catalogs, config.locales_dir / "ui" / f"{self.lang}.po",
                       *edition_templates(config, self.format), *edition_images(config, self.format), *profile),
                      config_values(config, self.scope), environment,
                      {"lang": self.lang, "drafts": self.drafts, "fonts": self._fonts(config), **system_profile},
                      self.modules_by_format[self.format])

    def _fonts(self, config: BookConfig) -> dict[str, str]:
        """The font files the edition sets its text in: its language's, and the Latin ones the renderers take
        from [fonts] en for the English words, names and numbers a Khmer or Japanese edition holds."""
        used = fonts_used(config)
        fonts = dict(used.get(LATIN_FONTS_FROM, {}))
        fonts.update(used.get(self.lang, {}))
        return fonts

    def outputs(self, config: BookConfig) -> list[Path]:
        return [self.path(config)]

    def run(self, config: BookConfig, reporter: Reporter, state: RenderState) -> EditionRow:
        book, images = self._localized(config, reporter, state)
        if self.format == "epub":
            return self._render_epub(config, book, images, reporter, state)
        if self.format == "printer":
            return self._render_printer(config, book, images, reporter, state)
        return self._render_pdf(config, book, images, reporter, state)

    def _render_printer(self, config: BookConfig, book, images: dict[str, str], reporter: Reporter,
                        state: RenderState) -> EditionRow:
        from .render.pdf import render_printer_pdf
        lang, output = self.lang, self.path(config)
        reporter.step("render", f"{lang} printer's PDF …")
        result = render_printer_pdf(book, lang, config, output, notes=config.notes, images=images)
        notes = [f"PDF/X-4, {config.print.bleed_mm:g} mm bleed, crop marks"]
        reporter.step("render", f"{lang} printer's PDF: {result.pages} pages, {result.size / 1024:,.0f} KiB, "
                                f"{result.seconds:.1f} s")
        diagnostics = _without_isbn(config, lang, "pdf", book)  # the print edition's ISBN
        return EditionRow(lang, "printer", "built" if result.written else "unchanged", result.pages, result.size,
                          result.seconds, result.fallbacks, notes, output, diagnostics)

    def _localized(self, config: BookConfig, reporter: Reporter, state: RenderState):
        """The book in this language (parsed and localized once per process, only when something must render)."""
        from .render.images import find_images
        from .i18n.localize import localize
        if state.root is None:
            state.root = parse_xml(read_input_bytes(config.book_xml, config.limits, what="book"), config.book_xml)
            state.image_files = find_images(state.root, config)
            state.images = {key: path.as_uri() for key, path in state.image_files.items()}
        lang = self.lang
        if lang not in state.localized:
            localized = localize(state.root, lang, config, drafts=self.drafts)
            state.diagnostics[lang] = [Diagnostic("localize", "lost-placeholders", Severity.WARNING,
                                                  f"a translation lost placeholders and was not used: {broken}",
                                                  f"locales/{lang}") for broken in localized.broken]
            if localized.broken:
                reporter.step("localize", f"{lang}: {plural(len(localized.broken), 'translation')} lost placeholders "
                                          f"and were not used (first: {localized.broken[0]}); fix them in the catalog")
            state.localized[lang] = localized.book
        return state.localized[lang], state.images

    def _render_pdf(self, config: BookConfig, book, images: dict[str, str], reporter: Reporter,
                    state: RenderState) -> EditionRow:
        from .render.pdf import render_pdf
        lang, output = self.lang, self.path(config)
        reporter.step("render", f"{lang} PDF …")
        result = render_pdf(book, lang, config, output, drafts=self.drafts, notes=config.notes, images=images)
        state.page_starts[lang] = result.page_starts
        notes = []
        if not result.layout.clean:
            notes.append(result.layout.summary())
        elif result.layout.lines and lang == config.source_language:  # the typesetter's figure for hyphenation
            notes.append(f"{result.layout.hyphenated / result.layout.lines:.0%} of lines hyphenated")
        if result.missing_images:
            notes.append(f"{plural(len(result.missing_images), 'image')} not supplied")
        reporter.step("render", f"{lang} PDF: {result.pages} pages, {result.size / 1024:,.0f} KiB, "
                                f"{result.seconds:.1f} s" + (f"; {plural(result.fallbacks, 'block')} shown "
                                                             f"in {config.source_language}" if result.fallbacks
                                                             else "") + (f"; {'; '.join(notes)}" if notes else ""))
        diagnostics = state.diagnostics.pop(lang, []) + result.layout.diagnostics(f"{lang} PDF")
        diagnostics += _without_isbn(config, lang, "pdf", book)
        notes += ["no ISBN"] if any(d.kind == "no-isbn" for d in diagnostics) else []
        diagnostics += [Diagnostic("render", "refused-fetch", Severity.WARNING,
                                   f"the print edition asked for {url[:200]!r}; only the project's templates and "
                                   "images are fetched", f"{lang} PDF") for url in dict.fromkeys(result.refused)]
        return EditionRow(lang, "pdf", "built" if result.written else "unchanged", result.pages, result.size,
                          result.seconds, result.fallbacks, notes, output, diagnostics)

    def _render_epub(self, config: BookConfig, book, images: dict[str, str], reporter: Reporter,
                     state: RenderState) -> EditionRow:
        """The EPUB edition, its page list taken from the print layout (this build's, saved, or laid out now)."""
        from .render.epub import render_epub
        from .render.pdf import print_page_starts
        lang, output = self.lang, self.path(config)
        started = reporter.elapsed()
        reporter.step("render", f"{lang} EPUB …")
        page_starts = state.page_starts.get(lang) if not self.drafts else None
        if page_starts is None:
            page_starts = print_page_starts(book, lang, config, notes=config.notes, images=images)
        result = render_epub(book, lang, config, output, images=state.image_files, page_starts=page_starts,
                             drafts=self.drafts)
        seconds = reporter.elapsed() - started
        notes = [f"{result.page_markers} print pages marked"]
        if result.missing_images:
            notes.append(f"{plural(len(result.missing_images), 'image')} not supplied")
        reporter.step("render", f"{lang} EPUB: {result.documents} documents, {result.size / 1024:,.0f} KiB, "
                                f"{seconds:.1f} s; {'; '.join(notes)}")
        diagnostics = state.diagnostics.pop(lang, [])  # localize's, unless this language's PDF took them
        diagnostics += _without_isbn(config, lang, "epub", book)
        notes += ["no ISBN"] if any(d.kind == "no-isbn" for d in diagnostics) else []
        return EditionRow(lang, "epub", "built" if result.written else "unchanged", result.page_markers, result.size,
                          seconds, result.fallbacks, notes, output, diagnostics)


def _without_isbn(config: BookConfig, lang: str, format: str, book) -> list[Diagnostic]:
    """An edition without an ISBN of its own prints none; the build says so, for the publisher."""
    from .render.printbook import printed_isbn
    if config.edition_isbn(lang, format, printed_isbn(book)):
        return []
    return [Diagnostic("render", "no-isbn", Severity.INFO,
                       f"the {lang} {format.upper()} has no ISBN of its own and prints none "
                       f"(set [isbn] {lang} = {{ {format} = \"978-…\" }} in source/book.toml)", f"{lang} {format.upper()}")]


# --------------------------------------------------------------------------- the registry


def pipeline_stages(config: BookConfig, targets: tuple[str, ...]) -> list:
    """The stages before the editions, in order; the catalogs and their checks only when a target language
    is built (English alone reads no catalogs)."""
    stages: list = [ExtractStage()]
    if targets:
        stages += [CatalogsStage(targets), ReviewStage()]
    return stages


def editions(config: BookConfig, languages: tuple[str, ...], formats: tuple[str, ...],
             drafts: bool = False) -> list[Edition]:
    """The editions to build, language by language, PDF before EPUB (the source language has no drafts)."""
    return [Edition(lang, fmt, drafts and lang != config.source_language)
            for lang in languages for fmt in FORMATS if fmt in formats
            if fmt != "printer" or (config.printer_pdf_for(lang) and not (drafts and lang != config.source_language))]


def registry(config: BookConfig) -> list:
    """Every stage and edition the project can build: what the manifest lists and --explain prints."""
    return pipeline_stages(config, config.target_languages) + editions(config, config.languages, FORMATS)


def project_inputs(config: BookConfig) -> list[Path]:
    """Every file any stage of the project reads (the manifest's inputs), from the stages' declarations."""
    files: list[Path] = [config.source_dir / "book.toml"]
    for stage in registry(config):
        files += stage.inputs(config).files()
    return [path for path in dict.fromkeys(files) if path.is_file()]


def project_environment(config: BookConfig) -> dict[str, str]:
    """The environment variables the stages read that are set (the manifest's ``environment``)."""
    environment: dict[str, str] = {}
    for stage in registry(config):
        environment.update({name: value for name, value in stage.inputs(config).environment.items()
                            if value is not None})
    return environment


# --------------------------------------------------------------------------- --explain


def _code_summary(modules: tuple[str, ...]) -> str:
    """``config, render, safety``: the code a stage runs, by module or package of pipeline/."""
    return ", ".join(sorted({module.split(".")[1] for module in modules if module.count(".") >= 1}))


def _config_summary(scope: str) -> str:
    """``[book] [limits] [translation] notes``: the tables of book.toml, or keys of one, tagged with a stage."""
    return " ".join(f"[{name}]" if "." not in name else f"[{name.split('.')[0]}] {name.split('.')[1]}"
                    for name, stages in CONFIG_SCOPES.items()
                    if scope in stages and ("." not in name or scope not in CONFIG_SCOPES.get(name.split(".")[0], ())))


def _transform_lines(stage) -> list[str]:
    """The transforms a stage applies to the book, in the order they run: priority, name, unit, what it does."""
    if not hasattr(stage, "transforms"):
        return []
    from .transforms import sequence_lines
    return ["  transforms:"] + [f"    {line}" for line in sequence_lines(stage.transforms())]


def explain(config: BookConfig) -> str:
    """The stages in build order with what they read and write, for one language of each kind: the same
    declarations the cache keys and the manifest are made from."""
    languages = [config.source_language] + list(config.target_languages[:1])
    shown = pipeline_stages(config, config.target_languages) + editions(config, tuple(languages), FORMATS)
    lines = []
    for stage in shown:
        declared = stage.inputs(config)
        reads = [_display(path, config) + ("/" if path.is_dir() or not path.suffix else "") for path in declared.paths]
        values = ", ".join(sorted(declared.values) + sorted(f"${name}" for name in declared.environment))
        lines += [f"{stage.name}: {stage.summary}",
                  f"  reads:   {', '.join(reads)}",
                  f"  config:  {_config_summary(stage.scope)}"]
        if values:
            lines.append(f"  also:    {values}")
        lines.append(f"  code:    {_code_summary(declared.code())}")
        lines += _transform_lines(stage)
        lines.append(f"  writes:  {', '.join(_display(path, config) for path in stage.outputs(config)) or '-'}")
    lines.append("then: output/manifest.json (every output's SHA-256, every input above, tools and fonts)")
    return "\n".join(lines)
