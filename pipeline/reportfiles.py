"""Where the translation review's reports go: their names apart from the code that writes them.

The build names every file a stage may write before it runs (``ReviewStage.outputs``: the writability check,
the cache entry); a no-op build does exactly that and nothing more, so the names live here, where asking them
does not import the checks, Babel and the review packages behind ``pipeline.review.reports`` (a sixth of a
no-op build's time).
"""

from __future__ import annotations

from pathlib import Path

from .config import BookConfig

STATUS_PAGE = "translation-status.html"


def reports_dir(config: BookConfig) -> Path:
    return config.output_dir / "reports"


def check_report_paths(config: BookConfig, language: str) -> list[Path]:
    """The check's text report (for people) and its JSON (for CI)."""
    base = reports_dir(config) / f"translation-check-{language}"
    return [base.with_suffix(".txt"), base.with_suffix(".json")]


def review_report_paths(config: BookConfig, languages: tuple[str, ...]) -> list[Path]:
    """Every file the review stage writes: each language's check reports, then the status page covering them."""
    return [path for language in languages for path in check_report_paths(config, language)] + [
        reports_dir(config) / STATUS_PAGE]
