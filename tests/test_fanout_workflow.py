"""The GitHub workflow that builds the editions as a matrix (.github/workflows/fanout.yml) against press.

The workflow cannot run on GitHub from here; ``bench/fanout.py`` replays it whole (separate workspaces that
share only the caches and artifacts the file names; measured in the README). These checks are the cheap
part that must hold on every commit: the matrix is every edition the book's configuration asks for, every
path a job caches or uploads is one a real build writes, and every press command line is one press accepts.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from pipeline.cli import build_parser
from pipeline.stages import FORMATS

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import fanout  # noqa: E402  (bench/fanout.py: the replay, whose matrix rules these checks share)

WORKFLOW = ROOT / ".github" / "workflows" / "fanout.yml"


@pytest.fixture(scope="module")
def spec() -> dict:
    import yaml
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _expanded(text: str, matrix: dict[str, str]) -> str:
    """``${{ matrix.X }}`` filled in; the other expressions (keys, hashes) do not name files."""
    for name, value in matrix.items():
        text = text.replace(f"${{{{ matrix.{name} }}}}", value)
    return text


def _uses(job: dict, action: str) -> list[dict]:
    return [step for step in job["steps"] if step.get("uses", "").split("@")[0] == action]


def test_the_matrix_is_every_edition_the_configuration_asks_for(spec, config):
    combinations = [(c["lang"], fmt) for c in fanout._matrix(spec["jobs"]["edition"])
                    for option, fmt in zip(c["formats"].split()[::2], c["formats"].split()[1::2])
                    if option == "--format"]
    assert len(combinations) == len(set(combinations)), "two jobs build the same edition"
    combinations = set(combinations)
    wanted = {(lang, fmt) for lang in config.languages for fmt in FORMATS
              if fmt != "printer" or config.printer_pdf_for(lang)}
    assert combinations == wanted


def test_every_path_a_job_caches_or_uploads_is_one_a_build_writes(spec, built_project):
    checked = 0
    for name, job in spec["jobs"].items():
        for combination in fanout._matrix(job):
            for step in _uses(job, "actions/cache") + _uses(job, "actions/cache/restore") + \
                    _uses(job, "actions/upload-artifact"):
                condition = step.get("if")
                if condition and combination and not _holds(condition, combination):
                    continue
                paths = [p for p in fanout._paths(_expanded(step["with"]["path"], combination)) if not p.startswith("!")]
                present = [p for p in paths if any(built_project.glob(p.rstrip("/")))]
                # a parts cache names the reader's and the printer's folders; a job has the one it lays out
                assert present, f"{name} {combination}: none of {paths} is written by a build"
                if "parts" not in step["with"]["path"]:
                    assert present == paths, f"{name} {combination}: {sorted(set(paths) - set(present))} is never written"
                checked += len(paths)
    assert checked > 20


def test_every_press_command_in_the_workflow_is_one_press_accepts(spec):
    parser = build_parser()
    commands = 0
    for job in spec["jobs"].values():
        for combination in fanout._matrix(job):
            for step in job["steps"]:
                for command in step.get("run", "").split("&&"):
                    words = shlex.split(_expanded(command, combination))
                    if words and words[0] == ".venv/bin/press":
                        parser.parse_args(words[1:])  # exits (SystemExit) on an option press lacks
                        commands += 1
    assert commands >= 6  # prepare, one per edition job, gather


def _holds(condition: str, matrix: dict[str, str]) -> bool:
    """A matrix condition (``matrix.format == 'pdf'``), with the replay's reading of it."""
    replay = fanout.Replay.__new__(fanout.Replay)
    return replay._true(condition, {"matrix": matrix})
