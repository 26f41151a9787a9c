"""What a new user meets first (issue 16, "small things"): how press is run, wrong arguments found before any
work, configuration messages that name their table, hints that fit, and doctor outside a project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import CHILD_PYTHONPATH, ROOT, copy_project, run_press
from pipeline.errors import ExitCode


def test_the_press_wrapper_runs_the_project_environment_and_says_when_it_is_missing(tmp_path):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    shutil.copy(ROOT / "press", checkout / "press")
    env = dict(os.environ, PYTHONPATH=CHILD_PYTHONPATH)
    missing = subprocess.run([str(checkout / "press"), "--version"], capture_output=True, text=True, env=env,
                             cwd=tmp_path, timeout=60)
    assert missing.returncode == ExitCode.ENVIRONMENT
    assert missing.stderr == f"error: environment: {checkout}/.venv is missing — run {checkout}/scripts/setup first " \
                             "(it creates it)\n"
    (checkout / ".venv" / "bin").mkdir(parents=True)
    (checkout / ".venv" / "bin" / "python").symlink_to(sys.executable)
    ran = subprocess.run([str(checkout / "press"), "--version"], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=60)
    assert ran.returncode == 0 and ran.stdout.startswith("press "), ran.stderr


def test_a_missing_python_package_is_one_line_with_the_fix(tmp_path):
    """``python -S`` leaves out site-packages, as a system Python without press's dependencies would."""
    project = copy_project(tmp_path)
    result = subprocess.run([sys.executable, "-S", "-m", "pipeline", "extract"], capture_output=True, text=True,
                            cwd=project, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60)
    assert result.returncode == ExitCode.ENVIRONMENT
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith("error: environment: the Python package providing '")
    assert "./press COMMAND, or . .venv/bin/activate first (scripts/setup creates .venv)" in lines[0]
    assert not (project / "output").exists()


def test_an_unknown_language_is_a_usage_error_before_any_work(tmp_path):
    project = copy_project(tmp_path)
    result = run_press("build", "--lang", "fr", cwd=project)
    assert result.returncode == ExitCode.USAGE
    assert result.stderr == ("error: usage: --lang fr: not a language of this book (its languages: en, km, ja; "
                             "[book] languages in source/book.toml)\n")
    assert not (project / "output").exists()  # nothing was extracted, repaired or locked


def test_a_wrong_type_names_its_table_in_words(tmp_path):
    project = copy_project(tmp_path)
    toml = project / "source" / "book.toml"
    text = toml.read_text()
    for old, new, expected in [
        ("beam_size = 4", 'beam_size = "4"', "'beam_size' in [translation] must be an integer, not a string"),
        ("beam_size = 4", "beam_size = true", "'beam_size' in [translation] must be an integer, not a boolean"),
        ('slug = "rise-of-global-south"', "slug = 3", "'slug' in [book] must be a string, not an integer"),
        ("margin_top_mm = 20", 'margin_top_mm = "20"', "'margin_top_mm' in [print] must be a number, not a string"),
    ]:
        toml.write_text(text.replace(old, new, 1))
        result = run_press("extract", cwd=project)
        assert result.returncode == ExitCode.CONFIG
        assert result.stderr == f"error: config: {expected} ({toml})\n"


def test_a_missing_model_file_hint_is_about_models_not_the_manuscript(tmp_path):
    project = copy_project(tmp_path)
    result = run_press("models", "install", str(tmp_path / "translate-en_ja-1_1.argosmodel"), cwd=project)
    assert result.returncode == ExitCode.INPUT
    assert "model package not found" in result.stderr and "manuscript" not in result.stderr
    assert "'press models install NAME' installs a model press knows by name" in result.stderr


def test_doctor_outside_a_project_still_checks_the_machine(tmp_path):
    result = run_press("doctor", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("warn  project") and "checking the machine only" in line for line in lines)
    assert any(line.startswith("ok") and "fonts (km)" in line and "Khmer OS" in line for line in lines)
    assert any(line.startswith("ok") and "msgfmt" in line for line in lines)
    assert not any("model (" in line for line in lines)
    assert lines[-1].startswith("doctor: ") and "0 failure(s)" in lines[-1]


def test_the_device_is_chosen_by_what_ctranslate2_sees(monkeypatch):
    """No GPU here: the CPU, as CTranslate2 reports. With one (CTranslate2's answers replaced, the only way to
    see the choice without the hardware), the GPU with int8_float16; device = "cuda" without one says so."""
    import ctranslate2
    import pytest
    from pipeline.errors import EnvironmentProblem
    from pipeline.i18n.engines import Device, choose_device
    assert ctranslate2.get_cuda_device_count() == 0
    assert choose_device("auto") == Device("cpu", "default") and str(choose_device()) == "cpu"
    with pytest.raises(EnvironmentProblem, match="CTranslate2 sees no CUDA GPU"):
        choose_device("cuda")
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)
    monkeypatch.setattr(ctranslate2, "get_supported_compute_types",
                        lambda device: {"float32", "float16", "int8_float16", "int8"} if device == "cuda" else set())
    assert choose_device("auto") == Device("cuda", "int8_float16")
    assert str(choose_device("auto")) == "cuda (int8_float16)"
    assert choose_device("cpu") == Device("cpu", "default")
    assert choose_device("auto", "float16") == Device("cuda", "float16")


def test_readme_says_how_to_run_press():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "./press" in readme and ". .venv/bin/activate" in readme
    assert os.access(ROOT / "press", os.X_OK) and Path(ROOT / "press").read_text().startswith("#!/bin/sh")
