"""Reports for the people who finish the translations: the check findings and the status page.

Everything here is derived from the catalogs alone (no dates, no machine names), so an unchanged
project writes the same bytes and a no-op build rewrites nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..config import BookConfig
from ..safety import atomic_write
from .checks import CheckResult, check_report


def reports_dir(config: BookConfig) -> Path:
    return config.output_dir / "reports"


def check_report_paths(config: BookConfig, language: str) -> list[Path]:
    base = reports_dir(config) / f"translation-check-{language}"
    return [base.with_suffix(".txt"), base.with_suffix(".json")]


def write_check_reports(config: BookConfig, result: CheckResult) -> str:
    """Write the check's text report (for people) and JSON (for CI); returns the text."""
    text = check_report(result)
    text_path, json_path = check_report_paths(config, result.language)
    atomic_write(text_path, text)
    atomic_write(json_path, json.dumps(result.to_json(), ensure_ascii=False, indent=1) + "\n")
    return text
