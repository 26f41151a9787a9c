"""Review packages: catalogs out to translators' tools (XLIFF 2.1, bilingual Word), their work back in.

``export_review`` writes one package per part of the book (``output/review/<lang>/<part>.xlf`` or
``.docx``) from the catalogs; ``import_review`` reads one returned file, checks all of it, and
applies it to the catalogs all at once or not at all (rules in ``apply.py``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from babel import Locale

from ..config import BookConfig
from ..errors import ConfigError, InputError, UsageError
from ..i18n.catalogs import STATES, catalog_path, existing_parts, read_catalog
from ..progress import Reporter, plural
from ..safety import atomic_write, read_input_bytes
from .apply import PartChanges, check_translator, plan_changes, write_changes
from .package import outgoing_entries
from .wordfile import read_docx, write_docx
from .xliff import read_xliff, write_xliff

FORMATS = {"xliff": ".xlf", "docx": ".docx", "tmx": ".tmx"}
STAGE = "review"

__all__ = ["FORMATS", "export_review", "import_review", "ImportResult"]


def export_review(config: BookConfig, language: str, fmt: str, parts: list[str] | None = None,
                  out_dir: Path | None = None, reporter: Reporter | None = None) -> list[Path]:
    """Write one review package per part (default: every part with a catalog); returns the files."""
    reporter = reporter or Reporter(quiet=True)
    if fmt not in FORMATS:
        raise ConfigError(f"unknown review format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    if language not in config.target_languages:
        raise UsageError(f"not a target language of this book: {language}",
                         config.project_dir / "source" / "book.toml",
                         hint=f"the book's target languages are {', '.join(config.target_languages)}")
    available = existing_parts(config, language)
    if not available:
        raise InputError(f"there are no {language} catalogs yet", config.locales_dir / language,
                         hint="run 'press translate' or 'press build' first")
    unknown = [part for part in parts or [] if part not in available]
    if unknown:
        raise ConfigError(f"no {language} catalog for part {', '.join(unknown)}",
                          hint=f"parts: {', '.join(available)}")
    out_dir = out_dir or config.output_dir / "review" / language
    if fmt == "tmx":
        return [_export_memory(config, language, parts or available, out_dir, reporter)]
    written = []
    for part in parts or available:
        source = catalog_path(config, language, part)
        entries = outgoing_entries(read_catalog(source, language), language, part)
        target = out_dir / f"{part}{FORMATS[fmt]}"
        atomic_write(target, _package_bytes(config, fmt, entries, language, part, source))
        states = Counter(entry.state for entry in entries)
        reporter.step(STAGE, f"wrote {_shown(config, target)} ({plural(len(entries), 'segment')}: "
                             + ", ".join(f"{states[state]} {state}" for state in STATES if states[state]) + ")")
        written.append(target)
    return written


def _export_memory(config: BookConfig, language: str, parts: list[str], out_dir: Path, reporter: Reporter) -> Path:
    """The reviewed entries of the parts as one TMX 1.4b file (``<slug>-<lang>.tmx``): the book's share
    of a translation memory, for ``press tm import`` in the next volume or for a CAT tool."""
    from ..i18n.memory import units_from_catalogs, write_tmx
    catalogs = {part: read_catalog(catalog_path(config, language, part), language) for part in parts}
    units = units_from_catalogs(catalogs, config.slug)
    target = out_dir / f"{config.slug}-{language}.tmx"
    atomic_write(target, write_tmx(units, source_language=config.source_language, target_language=language))
    reporter.step(STAGE, f"wrote {_shown(config, target)} ({plural(len(units), 'reviewed segment')} as TMX 1.4b"
                         + ("" if units else "; nothing is reviewed yet") + ")")
    return target


def _package_bytes(config: BookConfig, fmt: str, entries, language: str, part: str, source: Path) -> bytes:
    if fmt == "xliff":
        return write_xliff(entries, source_language=config.source_language, language=language, part=part,
                           original=_shown(config, source))
    return write_docx(entries, language=language, language_name=Locale.parse(language).english_name or language, part=part,
                      font=config.fonts.get(language, {}).get("body"))


def _shown(config: BookConfig, path: Path) -> str:
    """A path as the user thinks of it: relative to the project when it is inside."""
    resolved = path.resolve()
    root = config.project_dir.resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else str(path)


@dataclass
class ImportResult:
    path: Path
    parts: list[PartChanges] = field(default_factory=list)


def import_review(config: BookConfig, path: Path, reporter: Reporter | None = None,
                  translator: str | None = None) -> ImportResult:
    """Read one returned package (XLIFF or DOCX, told apart by content), check all of it, then apply it;
    each catalog it changes records the time (``PO-Revision-Date``) and, given, the reviewer
    (``Last-Translator``, ``Name <mail>``)."""
    reporter = reporter or Reporter(quiet=True)
    data = read_input_bytes(path, config.limits, what="review package")
    if data[:4] == b"PK\x03\x04" or path.suffix.lower() == ".docx":
        packages = [read_docx(data, path, config.limits)]
    else:
        packages = read_xliff(data, path)
    plans = [plan_changes(config, package) for package in packages]
    seen = Counter((plan.language, plan.part) for plan in plans)
    repeated = [f"{language}/{part}" for (language, part), count in seen.items() if count > 1]
    if repeated:
        raise InputError(f"the file holds part {', '.join(repeated)} more than once", path,
                         hint="one <file> per part; re-export the package")
    write_changes(plans, check_translator(translator) if translator else None)
    result = ImportResult(path, plans)
    for plan in plans:
        _report(config, plan, path, reporter)
    return result


def _report(config: BookConfig, plan: PartChanges, path: Path, reporter: Reporter) -> None:
    outcome = (f"wrote {_shown(config, plan.path)}" if plan.written else f"{_shown(config, plan.path)} unchanged")
    updated = plural(len(plan.updated), "entry", "entries")
    reporter.step(STAGE, f"{path.name} → {plan.language}/{plan.part}: {updated} "
                         f"updated, {len(plan.approved)} approved, {len(plan.commented)} commented, "
                         f"{plural(len(plan.conflicts), 'conflict')}; {outcome}")
    charset = getattr(plan.catalog, "source_charset", "utf-8")
    if plan.written and charset != "utf-8":
        reporter.step(STAGE, f"note: {_shown(config, plan.path)} was read as {charset}, the charset its header "
                             "declares; it was written back in UTF-8")
    for conflict in plan.conflicts:
        reporter.warn(STAGE, f"conflict: {conflict.segment_id}: {conflict.reason}")
    for warning in plan.warnings:
        reporter.warn(STAGE, warning)
