"""``press build``: every stage in order, from source/ into output/.

This is the only place that sequences stages; each stage talks to the next through files
(``output/xml/book.xml``, ``locales/<lang>/*.po``), not through each other's internals. A language
without an installed model is reported and left untranslated; the build still succeeds.
"""

from __future__ import annotations

from pathlib import Path

from .config import load_config
from .errors import ExitCode
from .extract import extract_book
from .i18n import draft_translations, prepare_catalogs
from .progress import Reporter


def build(project: Path | None = None, *, reporter: Reporter | None = None) -> int:
    reporter = reporter or Reporter()
    config = load_config(project)
    reporter.step("build", f"project {config.project_dir}")
    extract_book(config, reporter=reporter)
    catalogs = prepare_catalogs(config, reporter)
    draft_translations(config, config.target_languages, catalogs.keep_terms, reporter=reporter)
    reporter.step("build", f"done in {reporter.elapsed():.1f} s")
    return ExitCode.OK
