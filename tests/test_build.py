"""The build's bookkeeping: one build at a time per project, and a manifest of what made what."""

from __future__ import annotations

import hashlib
import json
import threading
import time

from conftest import copy_project, run_press
from pipeline.config import load_config
from pipeline.errors import ExitCode
from pipeline.manifest import project_lock


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_second_build_says_one_is_running_and_changes_nothing(tmp_path):
    project = copy_project(tmp_path)
    config = load_config(project)
    with project_lock(config):
        result = run_press("build", "--lang", "en", cwd=project)
    assert result.returncode == ExitCode.BUSY
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "another build is running" in errors[0] and "pid " in errors[0]
    assert not (project / "output" / "xml").exists(), "the refused build wrote nothing"


def test_a_build_told_to_wait_runs_when_the_first_finishes(tmp_path):
    project = copy_project(tmp_path)
    config = load_config(project)
    released = threading.Event()

    def hold():
        with project_lock(config):
            time.sleep(2)
        released.set()

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.3)
    result = run_press("build", "--lang", "en", "--format", "pdf", "--wait", "60", cwd=project)
    holder.join()
    assert released.is_set()
    assert result.returncode == 0, result.stderr
    assert (project / "output" / "en" / "rise-of-global-south.pdf").is_file()


def test_the_manifest_names_each_output_with_its_inputs_and_tools(tmp_path):
    project = copy_project(tmp_path)
    assert run_press("build", "--lang", "en", cwd=project).returncode == 0
    manifest_path = project / "output" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    pdf = project / "output" / "en" / "rise-of-global-south.pdf"
    assert manifest["outputs"]["output/en/rise-of-global-south.pdf"]["sha256"] == sha256(pdf)
    assert manifest["outputs"]["output/xml/book.xml"]["sha256"] == sha256(project / "output" / "xml" / "book.xml")
    assert manifest["inputs"]["source/manuscript.txt"] == sha256(project / "source" / "manuscript.txt")
    assert "templates/print.css" in manifest["inputs"] and "locales/ui/km.po" in manifest["inputs"]
    assert manifest["tools"]["weasyprint"] and manifest["tools"]["press"]
    assert "Noto Serif" in manifest["fonts"]["en"]
    before = manifest_path.stat().st_mtime_ns
    assert run_press("build", "--lang", "en", cwd=project).returncode == 0
    assert manifest_path.stat().st_mtime_ns == before, "an unchanged build leaves the manifest alone"
    (project / "templates" / "print.css").write_text(
        (project / "templates" / "print.css").read_text(encoding="utf-8") + "\n/* edited */\n", encoding="utf-8")
    assert run_press("build", "--lang", "en", cwd=project).returncode == 0
    changed = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert changed["inputs"]["templates/print.css"] != manifest["inputs"]["templates/print.css"]
