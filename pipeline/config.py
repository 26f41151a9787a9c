"""The project's configuration: ``source/book.toml`` read into typed settings.

A publisher edits one small TOML file; everything else is derived. Unknown keys are reported,
not ignored, so that a typo never silently falls back to a default.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import ConfigError
from .safety import DEFAULT_LIMITS, Limits

BOOK_TOML = "book.toml"
EDITORIAL_TOML = "editorial.toml"

TRIM_SIZES_MM = {
    "B5": (176.0, 250.0),
    "A5": (148.0, 210.0),
    "A4": (210.0, 297.0),
    "Royal": (156.0, 234.0),
    "Demy": (138.0, 216.0),
    "US-Trade": (152.4, 228.6),
}

# The printer's PDF's output intent when [print] output_profile names none: a system file (Debian's libgs-common).
# Named here, not beside the printer's PDF's code, so a build's cache keys can read it without importing that code.
DEFAULT_CMYK_PROFILE = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")


@dataclass(frozen=True)
class PrintSettings:
    trim: str = "B5"
    width_mm: float = 176.0
    height_mm: float = 250.0
    margin_top_mm: float = 20.0
    margin_bottom_mm: float = 22.0
    margin_inner_mm: float = 22.0
    margin_outer_mm: float = 16.0
    # The printer's PDF (PDF/X-4, trim and bleed boxes, crop marks, a CMYK output intent): for which
    # languages. None: the source language only; true: every language; false: none.
    printer_pdf: bool | None = None
    bleed_mm: float = 3.0
    output_profile: str | None = None  # a CMYK ICC profile under source/, else Ghostscript's default_cmyk.icc
    # How the reader's PDF is laid out: "parts" (front matter and each chapter apart, in parallel, cached,
    # stitched: pipeline/render/parts.py) or "single" (one WeasyPrint document: the reference renderer).
    render: str = "parts"


ENGINES = ("argos", "ctranslate2")
DEVICES = ("auto", "cpu", "cuda")
RENDERERS = ("parts", "single")
NOTE_POLICIES = ("keep", "explanatory", "all")


@dataclass(frozen=True)
class LanguageModel:
    """Which engine and which installed model draft one target language."""

    engine: str
    model: str


@dataclass(frozen=True)
class TranslationSettings:
    """The ``[translation]`` table: engines per language, decoding settings, what is translatable."""

    models: dict[str, LanguageModel] = field(default_factory=dict)
    beam_size: int = 4
    batch_size: int = 32
    max_decoding_length: int = 256
    # "keep": notes stay as published (they are citations); "explanatory": only notes that read as
    # prose are translated; "all": every note.
    notes: str = "keep"
    # Terms machine translation must pass through unchanged (acronyms, names); the book's own
    # personal names and all-capital acronyms are added automatically.
    keep_terms: tuple[str, ...] = ()
    # How often a drafting run saves its work: at most this much drafting is lost if it is killed.
    checkpoint_seconds: float = 5.0
    # The catalogs' Report-Msgid-Bugs-To header: where translators report a problem with a source sentence.
    contact: str | None = None
    # The catalogs' Language-Team header per language, when no translator's tool has written one.
    teams: dict[str, str] = field(default_factory=dict)
    # Where CTranslate2 drafts: "auto" (a GPU when CTranslate2 sees one, else the CPU), "cpu" or "cuda";
    # compute_type "auto" picks int8_float16 on a GPU and the model's own type on the CPU.
    device: str = "auto"
    compute_type: str = "auto"


# Target/source character-count bounds (placeholders left out) outside which a translation is flagged.
# Japanese is far denser than English; Khmer about as long, and longer with its stacked consonants spelled out.
DEFAULT_LENGTH_RATIOS = {"ja": (0.15, 1.3), "km": (0.5, 3.0), "zh": (0.15, 1.0), "ko": (0.2, 1.3)}
DEFAULT_LENGTH_RATIO = (0.3, 3.0)


@dataclass(frozen=True)
class ReviewSettings:
    """The ``[review]`` table: what ``press review check`` treats as suspicious."""

    length_ratio: dict[str, tuple[float, float]] = field(default_factory=dict)
    # Sources shorter than this (in characters) are not ratio-checked: a title's length says nothing.
    min_length: int = 30

    def ratio_bounds(self, language: str) -> tuple[float, float]:
        return self.length_ratio.get(language) or DEFAULT_LENGTH_RATIOS.get(language.split("_")[0],
                                                                            DEFAULT_LENGTH_RATIO)


@dataclass(frozen=True)
class EpubSettings:
    cover: str | None = None  # a PNG or JPEG under source/; default source/images/cover.*, else drawn
    modified: str | None = None  # dcterms:modified and ZIP times, e.g. "2026-03-01T00:00:00Z"


@dataclass(frozen=True)
class BookConfig:
    project_dir: Path
    manuscript: Path
    manuscript_encoding: str | None = None
    slug: str = "book"
    subject: str | None = None
    keywords: tuple[str, ...] = ()
    source_language: str = "en"
    languages: tuple[str, ...] = ("en",)
    print: PrintSettings = field(default_factory=PrintSettings)
    fonts: dict[str, dict[str, str]] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)  # element id -> file under source/
    notes: str = "endnotes"  # or "footnotes" at the page foot (print)
    epub: EpubSettings = field(default_factory=EpubSettings)
    limits: Limits = DEFAULT_LIMITS
    translation: TranslationSettings = field(default_factory=TranslationSettings)
    review: ReviewSettings = field(default_factory=ReviewSettings)
    # The editions' subject and keywords in another language ([metadata] km = { subject, keywords }).
    metadata: dict[str, dict] = field(default_factory=dict)
    # Each edition's own ISBN, (language, "pdf"|"epub") -> ISBN-13; None when book.toml has no [isbn] table.
    isbns: dict[tuple[str, str], str] | None = None
    # book.toml as read, for the stages' cache keys (config_values): each stage keys on the tables it reads.
    tables: dict = field(default_factory=dict, compare=False, repr=False)

    def subject_for(self, lang: str) -> str | None:
        """The edition's subject in its language where ``[metadata]`` gives one, else ``[book] subject``."""
        return self.metadata.get(lang, {}).get("subject") or self.subject

    def keywords_for(self, lang: str) -> tuple[str, ...]:
        """The edition's keywords in its language where ``[metadata]`` gives them, else ``[book] keywords``."""
        return tuple(self.metadata.get(lang, {}).get("keywords") or self.keywords)

    def printer_pdf_for(self, lang: str) -> bool:
        """Whether ``lang`` gets a printer's PDF: ``[print] printer_pdf``, by default the source language only."""
        wanted = self.print.printer_pdf
        return lang == self.source_language if wanted is None else wanted

    def edition_isbn(self, lang: str, format: str, printed: str | None = None) -> str | None:
        """The ISBN of one edition. An ISBN names one language in one format: without an [isbn] table, the
        manuscript's own (``printed``) is taken as the source language's print edition's, and every other
        edition has none (and prints none)."""
        if self.isbns is not None:
            return self.isbns.get((lang, format))
        return printed if (lang, format) == (self.source_language, "pdf") else None

    @property
    def target_languages(self) -> tuple[str, ...]:
        return tuple(code for code in self.languages if code != self.source_language)

    @property
    def locales_dir(self) -> Path:
        return self.project_dir / "locales"

    @property
    def models_dir(self) -> Path:
        return self.project_dir / "models"

    @property
    def source_dir(self) -> Path:
        return self.project_dir / "source"

    @property
    def output_dir(self) -> Path:
        return self.project_dir / "output"

    @property
    def glossary_file(self) -> Path:
        return self.locales_dir / "glossary.csv"

    @property
    def book_xml(self) -> Path:
        return self.output_dir / "xml" / "book.xml"

    @property
    def editorial_file(self) -> Path:
        return self.source_dir / EDITORIAL_TOML


# Which stages each table of book.toml (or one key of it, "table.key") affects, as Sphinx's configuration
# values carry their rebuild scope: editing [review] re-checks the translations and leaves the editions and
# the catalogs alone. A stage's cache key holds exactly the values tagged with it (config_values).
EDITIONS = ("pdf", "printer", "epub")
CONFIG_SCOPES: dict[str, tuple[str, ...]] = {
    "book": ("extract", "catalogs", "review", *EDITIONS),
    "book.subject": EDITIONS,  # the editions' metadata: the extract, the catalogs and the checks never read them
    "book.keywords": EDITIONS,
    "limits": ("extract", "catalogs", "review", *EDITIONS),
    "print": EDITIONS,  # the EPUB's page list follows the print edition's pages
    "fonts": EDITIONS,
    "images": EDITIONS,
    "epub": ("epub",),
    "epub.modified": ("epub", "printer"),  # the editions' one fixed date: the printer's PDF carries it too
    "isbn": EDITIONS,
    "metadata": EDITIONS,
    "translation": ("catalogs",),
    "translation.notes": ("catalogs", *EDITIONS),  # which notes are translatable, so which are localized
    "translation.keep_terms": ("catalogs", "review"),  # the checks accept them untranslated
    "review": ("review",),
}


def stages_reading(table: str, key: str | None = None) -> tuple[str, ...]:
    """The stages a table of book.toml, or one key of it, affects."""
    return CONFIG_SCOPES.get(f"{table}.{key}", CONFIG_SCOPES.get(table, ())) if key else CONFIG_SCOPES.get(table, ())


def with_renderer(config: BookConfig, render: str) -> BookConfig:
    """The config with ``[print] render`` set (``press build --single-pass``), in the tables the editions'
    cache keys read too, so switching renderers renders again."""
    import dataclasses
    tables = {**config.tables, "print": {**config.tables.get("print", {}), "render": render}}
    return dataclasses.replace(config, print=dataclasses.replace(config.print, render=render), tables=tables)


def config_values(config: BookConfig, stage: str) -> dict:
    """The part of book.toml ``stage`` reads: every table, or key of a table, tagged with it."""
    values: dict = {}
    for table, content in sorted(config.tables.items()):
        if not isinstance(content, dict):
            continue
        chosen = {key: value for key, value in content.items() if stage in stages_reading(table, key)}
        if chosen:
            values[table] = chosen
    return values


_SAFE_FONT = re.compile(r"^[A-Za-z0-9 ._-]{1,64}$")
FALLBACK_FONTS = {
    "en": ("Noto Serif", "Noto Sans"),
    "km": ("Khmer OS", "Khmer OS Muol Light"),
    "ja": ("Noto Serif CJK JP", "Noto Sans CJK JP"),
}


def fonts_for(config: BookConfig, lang: str) -> tuple[str, str]:
    """The body and heading font families of ``lang``'s editions: ``[fonts]``, else the defaults; a name that
    is not a plain family name is refused (it goes into CSS)."""
    chosen = config.fonts.get(lang, {})
    body, heading = chosen.get("body"), chosen.get("heading")
    default_body, default_heading = FALLBACK_FONTS.get(lang, FALLBACK_FONTS["en"])
    body, heading = body or default_body, heading or default_heading
    for name in (body, heading):
        if not isinstance(name, str) or not _SAFE_FONT.match(name):
            raise ConfigError(f"font name {name!r} in [fonts] is not a plain family name", config.source_dir /
                              "book.toml", hint="use the family name as fc-list prints it, e.g. \"Noto Serif\"")
    return body, heading


def find_project_dir(start: Path | None = None) -> Path:
    """The nearest directory at or above ``start`` that has ``source/book.toml``."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "source" / BOOK_TOML).is_file():
            return candidate
    raise ConfigError("no source/book.toml found in this directory or above", here,
                      hint="run press from the project directory, or pass --project DIR")


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError("configuration file not found", path)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path, hint="fix the syntax (see https://toml.io)")
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", path, hint="save the file as UTF-8")


# How a TOML value's type reads in a message: "'beam_size' in [translation] must be an integer, not a string".
TOML_TYPE_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string", list: "a list",
                   dict: "a table"}


def _type_words(kind: type | tuple[type, ...]) -> str:
    kinds = (kind,) if isinstance(kind, type) else kind
    if set(kinds) == {int, float}:
        return "a number"
    return " or ".join(TOML_TYPE_WORDS.get(k, k.__name__) for k in kinds)


def _expect(table: dict, key: str, kind: type | tuple[type, ...], path: Path, default=None, *, section: str = ""):
    value = table.get(key, default)
    if value is not None and (not isinstance(value, kind) or (isinstance(value, bool) and bool not in
                                                                (kind if isinstance(kind, tuple) else (kind,)))):
        where = f" in [{section}]" if section else " at the top level"
        actual = "a boolean" if isinstance(value, bool) else _type_words(type(value))
        raise ConfigError(f"'{key}'{where} must be {_type_words(kind)}, not {actual}", path)
    return value


def _reject_unknown(table: dict, allowed: set[str], section: str, path: Path) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(f"unknown key{'s' if len(unknown) > 1 else ''} in [{section}]: {', '.join(unknown)}", path,
                          hint=f"allowed keys: {', '.join(sorted(allowed))}")


def _print_settings(table: dict, path: Path) -> PrintSettings:
    allowed = {f.name for f in fields(PrintSettings)}
    _reject_unknown(table, allowed, "print", path)
    printer = {"printer_pdf": _expect(table, "printer_pdf", bool, path, section="print"),
               "output_profile": _expect(table, "output_profile", str, path, section="print"),
               "render": _expect(table, "render", str, path, "parts", section="print")}
    if printer["render"] not in RENDERERS:
        raise ConfigError(f"unknown [print] render {printer['render']!r}", path,
                          hint=f"use one of {', '.join(RENDERERS)}")
    table = {key: value for key, value in table.items() if key not in printer}
    trim = _expect(table, "trim", str, path, "B5", section="print")
    width: float | None
    height: float | None
    if trim in TRIM_SIZES_MM:
        width, height = TRIM_SIZES_MM[trim]
    elif trim == "custom":
        width = height = None
    else:
        raise ConfigError(f"unknown trim size {trim!r}", path,
                          hint=f"use one of {', '.join(TRIM_SIZES_MM)} or 'custom' with width_mm and height_mm")
    values: dict = {"trim": trim, "width_mm": width, "height_mm": height, **printer}
    for name in allowed - {"trim", *printer}:
        value = _expect(table, name, (int, float), path, section="print")
        if value is not None:
            if value <= 0:
                raise ConfigError(f"'{name}' must be positive", path)
            values[name] = float(value)
    if values["width_mm"] is None or values["height_mm"] is None:
        raise ConfigError("trim = 'custom' needs width_mm and height_mm", path)
    return PrintSettings(**values)


def _epub_settings(table: dict, path: Path) -> EpubSettings:
    _reject_unknown(table, {f.name for f in fields(EpubSettings)}, "epub", path)
    modified = _expect(table, "modified", str, path, section="epub")
    if modified is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", modified):
        raise ConfigError(f"[epub] modified must be a UTC time like 2026-03-01T00:00:00Z, not {modified!r}", path)
    return EpubSettings(cover=_expect(table, "cover", str, path, section="epub"), modified=modified)


def _limits(table: dict, path: Path) -> Limits:
    allowed = {f.name for f in fields(Limits)}
    _reject_unknown(table, allowed, "limits", path)
    values = {}
    for name in table:
        value = _expect(table, name, (int, float), path, section="limits")
        if value <= 0:
            raise ConfigError(f"limit '{name}' must be positive", path)
        values[name] = value
    return Limits(**values)


def _translation(table: dict, languages: tuple[str, ...], path: Path) -> TranslationSettings:
    scalars = {"beam_size", "batch_size", "max_decoding_length", "notes", "keep_terms", "checkpoint_seconds",
               "contact", "device", "compute_type"}
    _reject_unknown(table, scalars | set(languages), "translation", path)
    values: dict = {}
    for name in ("beam_size", "batch_size", "max_decoding_length"):
        value = _expect(table, name, int, path, section="translation")
        if value is not None:
            if isinstance(value, bool) or value <= 0:
                raise ConfigError(f"[translation] {name} must be a positive whole number", path)
            values[name] = value
    checkpoint = table.get("checkpoint_seconds")
    if checkpoint is not None:
        if isinstance(checkpoint, bool) or not isinstance(checkpoint, (int, float)) or checkpoint <= 0:
            raise ConfigError("[translation] checkpoint_seconds must be a positive number of seconds", path)
        values["checkpoint_seconds"] = float(checkpoint)
    notes = _expect(table, "notes", str, path, "keep", section="translation")
    if notes not in NOTE_POLICIES:
        raise ConfigError(f"[translation] notes = {notes!r} is not one of {', '.join(NOTE_POLICIES)}", path)
    terms = _expect(table, "keep_terms", list, path, [], section="translation")
    if not all(isinstance(term, str) and term.strip() for term in terms):
        raise ConfigError("[translation] keep_terms must be a list of non-empty strings", path)
    contact = _expect(table, "contact", str, path, section="translation")
    if contact is not None and (not contact.strip() or "\n" in contact):
        raise ConfigError("[translation] contact must be one line, e.g. \"Translations <translate@example.org>\"",
                          path)
    device = _expect(table, "device", str, path, "auto", section="translation")
    if device not in DEVICES:
        raise ConfigError(f"[translation] device = {device!r} is not one of {', '.join(DEVICES)}", path)
    compute_type = _expect(table, "compute_type", str, path, "auto", section="translation")
    models, teams = {}, {}
    for language in sorted(set(table) - scalars):
        entry = _expect(table, language, dict, path, section="translation")
        _reject_unknown(entry, {"engine", "model", "team"}, f"translation.{language}", path)
        team = _expect(entry, "team", str, path, section=f"translation.{language}")
        if team is not None:
            if not team.strip() or "\n" in team:
                raise ConfigError(f"[translation.{language}] team must be one line", path)
            teams[language] = team.strip()
        if set(entry) == {"team"}:
            continue  # a team without a model: the language is translated by people only
        engine = _expect(entry, "engine", str, path, section=f"translation.{language}")
        model = _expect(entry, "model", str, path, section=f"translation.{language}")
        if engine not in ENGINES:
            raise ConfigError(f"[translation.{language}] engine must be one of {', '.join(ENGINES)}", path)
        if not model or len(model) > 60 or "/" in model or model.startswith("."):
            raise ConfigError(f"[translation.{language}] needs 'model', the name of an installed model "
                              "(at most 60 characters, no '/')", path, hint="'press models list' shows the installed ones")
        models[language] = LanguageModel(engine, model)
    return TranslationSettings(models=models, notes=notes, keep_terms=tuple(terms),
                               contact=contact.strip() if contact else None, teams=teams, device=device,
                               compute_type=compute_type, **values)


def _review(table: dict, languages: tuple[str, ...], path: Path) -> ReviewSettings:
    _reject_unknown(table, {"length_ratio", "min_length"}, "review", path)
    min_length = _expect(table, "min_length", int, path, ReviewSettings.min_length, section="review")
    if isinstance(min_length, bool) or min_length < 0:
        raise ConfigError("[review] min_length must be a whole number of characters (0 or more)", path)
    ratios = _expect(table, "length_ratio", dict, path, {}, section="review")
    _reject_unknown(ratios, set(languages), "review.length_ratio", path)
    bounds = {}
    for language, pair in ratios.items():
        if (not isinstance(pair, list) or len(pair) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in pair)
                or pair[0] >= pair[1]):
            raise ConfigError(f"[review.length_ratio] {language} must be [lowest, highest], two positive numbers "
                              f"with the lowest first, e.g. [0.5, 3.0]", path)
        bounds[language] = (float(pair[0]), float(pair[1]))
    return ReviewSettings(length_ratio=bounds, min_length=min_length)


def load_config(project_dir: Path | None = None) -> BookConfig:
    """Read ``source/book.toml`` of the project at ``project_dir`` (or the nearest one)."""
    project_dir = (project_dir or find_project_dir()).resolve()
    path = project_dir / "source" / BOOK_TOML
    data = _read_toml(path)
    _reject_unknown(data, {"book", "print", "fonts", "images", "epub", "isbn", "metadata", "limits", "translation",
                           "review"}, "top level", path)
    book = data.get("book", {})
    _reject_unknown(book, {"manuscript", "manuscript_encoding", "slug", "subject", "keywords", "source_language",
                           "languages"}, "book", path)
    manuscript = _expect(book, "manuscript", str, path, section="book")
    if not manuscript:
        raise ConfigError("[book] needs 'manuscript', the file under source/ to read", path)
    languages = tuple(_expect(book, "languages", list, path, ["en"], section="book"))
    if not languages or not all(isinstance(code, str) and code for code in languages):
        raise ConfigError("[book] languages must be a non-empty list of language codes", path)
    source_language = _expect(book, "source_language", str, path, "en", section="book")
    if source_language not in languages:
        raise ConfigError(f"source_language {source_language!r} is not in languages", path)
    fonts = _expect(data, "fonts", dict, path, {})
    images = _expect(data, "images", dict, path, {})
    if not all(isinstance(value, str) for value in images.values()):
        raise ConfigError("[images] maps an element id to a file under source/, e.g. ch1-opener = \"images/a.jpg\"",
                          path)
    print_table = dict(data.get("print", {}))
    notes = print_table.pop("notes", "endnotes")
    if notes not in ("endnotes", "footnotes"):
        raise ConfigError(f"[print] notes must be \"endnotes\" or \"footnotes\", not {notes!r}", path)
    return BookConfig(
        project_dir=project_dir,
        manuscript=(project_dir / "source" / manuscript),
        manuscript_encoding=_expect(book, "manuscript_encoding", str, path, section="book"),
        slug=_expect(book, "slug", str, path, "book", section="book"),
        subject=_expect(book, "subject", str, path, section="book"),
        keywords=tuple(_expect(book, "keywords", list, path, [], section="book")),
        source_language=source_language,
        languages=languages,
        print=_print_settings(print_table, path),
        fonts=fonts,
        images=images,
        notes=notes,
        epub=_epub_settings(_expect(data, "epub", dict, path, {}), path),
        limits=_limits(data.get("limits", {}), path),
        translation=_translation(_expect(data, "translation", dict, path, {}),
                                 tuple(code for code in languages if code != source_language), path),
        review=_review(_expect(data, "review", dict, path, {}),
                       tuple(code for code in languages if code != source_language), path),
        isbns=_isbns(data["isbn"], languages, path) if "isbn" in data else None,
        metadata=_metadata(_expect(data, "metadata", dict, path, {}), languages, path),
        tables=data,
    )


def _metadata(table: dict, languages: tuple[str, ...], path: Path) -> dict[str, dict]:
    """``[metadata]``: ``km = { subject = "…", keywords = ["…"] }``, the editions' metadata in their language."""
    found: dict[str, dict] = {}
    for lang, values in table.items():
        if lang not in languages:
            raise ConfigError(f"[metadata] names {lang!r}, which is not in [book] languages", path)
        if not isinstance(values, dict):
            raise ConfigError(f"[metadata] {lang} must be a table, e.g. {lang} = {{ subject = \"…\" }}", path)
        _reject_unknown(values, {"subject", "keywords"}, f"metadata.{lang}", path)
        subject, keywords = values.get("subject"), values.get("keywords", [])
        if subject is not None and not isinstance(subject, str):
            raise ConfigError(f"[metadata] {lang}.subject must be a string", path)
        if not isinstance(keywords, list) or not all(isinstance(word, str) for word in keywords):
            raise ConfigError(f"[metadata] {lang}.keywords must be a list of strings", path)
        found[lang] = {"subject": subject, "keywords": tuple(keywords)}
    return found


ISBN_FORMATS = ("pdf", "epub")


def _isbns(table, languages: tuple[str, ...], path: Path) -> dict[tuple[str, str], str]:
    """``[isbn]``: ``en = { pdf = "978-…", epub = "978-…" }``, each checked and hyphenated (python-stdnum)."""
    from stdnum import isbn as stdnum_isbn
    from stdnum.exceptions import ValidationError as InvalidNumber
    if not isinstance(table, dict):
        raise ConfigError("[isbn] maps a language to its editions' ISBNs, e.g. en = { pdf = \"978-…\" }", path)
    found: dict[tuple[str, str], str] = {}
    for lang, editions in table.items():
        if lang not in languages:
            raise ConfigError(f"[isbn] names {lang!r}, which is not in [book] languages", path)
        if not isinstance(editions, dict):
            raise ConfigError(f"[isbn] {lang} must be a table of formats, e.g. {lang} = {{ pdf = \"978-…\" }}", path)
        _reject_unknown(editions, set(ISBN_FORMATS), f"isbn.{lang}", path)
        for format, number in editions.items():
            try:
                value = stdnum_isbn.format(stdnum_isbn.validate(str(number), convert=True))
            except InvalidNumber as error:
                raise ConfigError(f"[isbn] {lang}.{format} = {number!r} is not a valid ISBN ({error})", path,
                                  hint="check the digits against the ISBN agency's record") from None
            if value in found.values():
                raise ConfigError(f"[isbn] {lang}.{format} repeats {value}: an ISBN names one edition "
                                  "(one language, one format)", path)
            found[(lang, format)] = value
    return found


def load_editorial(config: BookConfig) -> dict:
    """The editor's decisions (``source/editorial.toml``); an absent file means none yet."""
    if not config.editorial_file.exists():
        return {}
    return _read_toml(config.editorial_file)
