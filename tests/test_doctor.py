"""``press doctor`` on this machine, and on one with gaps made by hiding tools and fonts."""

from __future__ import annotations

import shutil

from conftest import run_press
from pipeline.errors import ExitCode


def test_this_machine_passes_and_models_are_warnings():
    result = run_press("doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("ok") and "fonts (km)" in line and "Khmer OS" in line for line in lines)
    assert any(line.startswith("ok") and "DocBook 5.0 schema" in line for line in lines)
    assert lines[-1].startswith("doctor: ") and "0 failure(s)" in lines[-1]


def test_missing_tools_and_fonts_fail_with_the_fix(monkeypatch, config):
    from pipeline import doctor as doctor_module
    from pipeline.render import pdf as pdf_module
    real_which = shutil.which
    monkeypatch.setattr(doctor_module.shutil, "which", lambda name: None if name == "msgfmt" else real_which(name))
    fonts = pdf_module.installed_fonts() - {"Noto Serif CJK JP"}
    monkeypatch.setattr(pdf_module, "installed_fonts", lambda: fonts)
    lines: list[str] = []
    status = doctor_module.doctor(config, lines.append)
    assert status == ExitCode.ENVIRONMENT
    text = "\n".join(lines)
    assert "FAIL  msgfmt" in text and "fix: apt-get install gettext" in text
    assert "FAIL  fonts (ja)" in text and "fonts-noto-cjk" in text
    assert "ok    fonts (km)" in text
    assert "2 failure(s)" in lines[-1]


def test_the_docstring_states_the_exit_status_doctor_returns():
    from pipeline import doctor
    from pipeline.errors import ExitCode
    assert f"{int(ExitCode.ENVIRONMENT)} (``ExitCode.ENVIRONMENT``)" in doctor.__doc__
