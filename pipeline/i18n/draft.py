"""Catalogs → catalogs with machine drafts in their empty entries, and nothing else touched.

The translation memory (``memory.py``) is consulted first: its exact matches fill empty entries
(fuzzy, ``#. tm: exact <origin>``) and are not drafted; its fuzzy matches are noted beside the entry.
Only empty entries are drafted (with ``redraft``, also machine drafts nobody has edited since:
their text still matches the fingerprint recorded with them). Each draft is marked fuzzy and
carries ``#. mt: <engine> <model> sha256:<weights> draft:<fingerprint>``. Segments are sorted by
length and translated in batches; drafts are saved every few seconds and whenever the run stops,
so an interrupted run resumes where it stopped. A draft that lost or duplicated a placeholder
(note marker, emphasis, link, protected term) is not saved: the entry stays untranslated and the
run names it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from babel.messages.catalog import Catalog, Message

from ..config import BookConfig
from ..errors import EnvironmentProblem
from ..progress import Progress, Reporter, duration, plural
from . import engines
from .catalogs import (MT_PREFIX, source_text, UNTRANSLATED, catalog_path, catalog_states, draft_fingerprint, entry_state,
                       existing_parts, is_untouched_machine_draft, read_catalog, write_catalog)
from .memory import FUZZY_THRESHOLD, Memory, MemoryUnit, MemoryUse, apply_memory, load_memory
from .models import find_model, language_status, model_sha256
from .segments import prepare_for_machine, restore_from_machine


@dataclass
class DraftReport:
    language: str
    wanted: int = 0
    drafted: int = 0
    lost_placeholders: list[str] = field(default_factory=list)
    model: str | None = None  # None: no model available, nothing was drafted
    seconds: float = 0.0
    from_memory: int = 0  # entries the translation memory filled (exact matches, fuzzy for review)
    memory_suggestions: int = 0  # entries given a fuzzy match from the memory as a comment
    device: str = ""  # where the model ran: "cpu", "cuda (int8_float16)"


def open_engine(config: BookConfig, language: str) -> tuple[engines.Engine, list[str]] | None:
    """The engine serving ``language`` and its provenance lines, or None when no model is installed."""
    choice = config.translation.models.get(language)
    if choice is None:
        return None
    model_dir = find_model(config, choice.engine, choice.model)
    if model_dir is None:
        return None
    device = engines.choose_device(config.translation.device, config.translation.compute_type)
    engine = engines.load_engine(choice.engine, model_dir, config.source_language, language, device)
    return engine, [f"{MT_PREFIX}{choice.engine} {choice.model}", f"{MT_PREFIX}sha256:{model_sha256(model_dir)}"]


def draft_language(config: BookConfig, language: str, keep_terms: Iterable[str], *, redraft: bool = False,
                   reporter: Reporter | None = None, engine: tuple[engines.Engine, list[str]] | None = None) -> DraftReport:
    """Draft every empty entry of one language's catalogs; without a model, report and draft nothing."""
    reporter = reporter or Reporter(quiet=True)
    parts = existing_parts(config, language)
    units = load_memory(config, language, config.limits)
    if engine is None and not redraft and not units:  # only a model could fill the empty entries: counted, not read
        waiting = sum(catalog_states(catalog_path(config, language, part), language)[UNTRANSLATED] for part in parts)
        if not waiting:
            return _nothing_to_draft(DraftReport(language), reporter)
        engine = open_engine(config, language)
        if engine is None:
            return _left_untranslated(config, DraftReport(language, wanted=waiting), reporter)
    catalogs = {part: read_catalog(catalog_path(config, language, part), language) for part in parts}
    memory = _consult_memory(config, language, catalogs, units, reporter)
    todo = [(part, message) for part, catalog in catalogs.items() for message in catalog
            if message.id and (entry_state(message) == UNTRANSLATED or (redraft and is_untouched_machine_draft(message)))]
    report = DraftReport(language, wanted=len(todo), from_memory=len(memory.exact),
                         memory_suggestions=len(memory.suggested))
    if not todo:
        return _nothing_to_draft(report, reporter)
    engine = engine or open_engine(config, language)
    if engine is None:
        return _left_untranslated(config, report, reporter)
    report.model = engine[1][0].removeprefix(MT_PREFIX)
    report.device = str(getattr(engine[0], "device", "cpu"))
    reporter.step("translate", f"{language}: drafting {plural(len(todo), 'segment')} with {report.model} "
                               f"on {report.device}")
    _draft(config, language, catalogs, todo, engine, list(keep_terms), report, reporter)
    return report


def _nothing_to_draft(report: DraftReport, reporter: Reporter) -> DraftReport:
    reporter.step("translate", f"{report.language}: nothing to draft")
    report.model = "-"
    return report


def _left_untranslated(config: BookConfig, report: DraftReport, reporter: Reporter) -> DraftReport:
    """No model installed for the language: its empty entries wait, and the warning says how to install one."""
    status = language_status(config, report.language)
    reporter.warn("translate", f"{report.language}: {status.detail}; {plural(report.wanted, 'segment')} left "
                               f"untranslated — {status.fix}")
    return report


def _consult_memory(config: BookConfig, language: str, catalogs: Mapping[str, Catalog], units: list[MemoryUnit],
                    reporter: Reporter) -> MemoryUse:
    """The translation memory before the model: exact matches fill empty entries (for review), fuzzy ones
    become suggestions beside them; the catalogs it changed are saved at once."""
    use = apply_memory(Memory(units), catalogs)
    _save(config, language, catalogs, set(use.parts))
    if units:
        reporter.step("translate", f"{language}: translation memory ({plural(len(units), 'unit')}): "
                                   f"{plural(len(use.exact), 'exact match', 'exact matches')} filled for review, "
                                   f"{plural(len(use.suggested), 'fuzzy match', 'fuzzy matches')} (≥ "
                                   f"{FUZZY_THRESHOLD:.0f}%) noted for the reviewer")
    return use


def _draft(config: BookConfig, language: str, catalogs: Mapping[str, Catalog], todo: list[tuple[str, Message]],
           engine: tuple[engines.Engine, list[str]], keep_terms: list[str], report: DraftReport, reporter: Reporter) -> None:
    settings = config.translation
    todo.sort(key=lambda item: len(item[1].id))
    progress = Progress(reporter, "translate", len(todo), "segments")
    dirty: set[str] = set()
    last_save = time.monotonic()
    try:
        for start in range(0, len(todo), settings.batch_size):
            batch = todo[start:start + settings.batch_size]
            prepared = [prepare_for_machine(source_text(message), keep_terms) for _, message in batch]
            outputs = engine[0].translate([p.text for p in prepared], beam_size=settings.beam_size,
                                          max_decoding_length=settings.max_decoding_length)
            for (part, message), machine_input, output in zip(batch, prepared, outputs):
                text, problems = restore_from_machine(output, machine_input)
                if problems or not text:
                    report.lost_placeholders.append(message.context or "")
                    continue
                _record(message, text, engine[1])
                report.drafted += 1
                dirty.add(part)
            progress.advance(len(batch))
            if time.monotonic() - last_save >= config.translation.checkpoint_seconds:
                _save(config, language, catalogs, dirty)
                last_save = time.monotonic()
    finally:
        _save(config, language, catalogs, dirty)
        report.seconds = time.monotonic() - progress.started
        _summarise(report, reporter)


def _record(message: Message, text: str, provenance: list[str]) -> None:
    message.string = text
    message.flags.add("fuzzy")
    message.previous_id = []
    message.auto_comments = [c for c in message.auto_comments if not c.startswith(MT_PREFIX)]
    message.auto_comments += [*provenance, f"{MT_PREFIX}draft:{draft_fingerprint(text)}"]


def _save(config: BookConfig, language: str, catalogs: Mapping[str, Catalog], dirty: set[str]) -> None:
    for part in sorted(dirty):
        write_catalog(catalog_path(config, language, part), catalogs[part])
    dirty.clear()


def _summarise(report: DraftReport, reporter: Reporter) -> None:
    rate = report.drafted / report.seconds if report.seconds else 0.0
    reporter.step("translate", f"{report.language}: drafted {plural(report.drafted, 'segment')} in "
                               f"{duration(report.seconds)} ({rate:.1f} segments/s on {report.device or 'cpu'}), "
                               "all marked fuzzy for review")
    if report.lost_placeholders:
        shown = ", ".join(report.lost_placeholders[:5]) + (", …" if len(report.lost_placeholders) > 5 else "")
        reporter.warn("translate", f"{report.language}: {plural(len(report.lost_placeholders), 'draft')} lost a "
                                   f"note marker, tag or protected term and {'was' if len(report.lost_placeholders) == 1 else 'were'} "
                                   f"not saved ({shown}); they stay untranslated")
    left = report.wanted - report.drafted
    if left:
        reporter.step("translate", f"{report.language}: {plural(left, 'segment')} left untranslated")


def draft_translations(config: BookConfig, languages: Iterable[str], keep_terms: Iterable[str], *,
                       redraft: bool = False, reporter: Reporter | None = None,
                       require_models: bool = False) -> list[DraftReport]:
    """Draft each language; ``require_models`` turns a missing model into an error (``press translate``)."""
    keep_terms = list(keep_terms)
    reports = [draft_language(config, language, keep_terms, redraft=redraft, reporter=reporter)
               for language in languages]
    missing = [report.language for report in reports if report.model is None]
    if require_models and missing:
        fixes = "; ".join(f"{language}: {language_status(config, language).fix}" for language in missing)
        raise EnvironmentProblem(f"no model installed for {', '.join(missing)}; those segments were left untranslated",
                                 config.project_dir / "source" / "book.toml", hint=fixes)
    return reports
