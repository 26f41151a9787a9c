"""What the machine does to a build (issue 18): a full disk, read-only files and folders, a damaged cache.

Each fault is made for real: a tmpfs filled to the last block, file modes enforced on a child process that
runs without root's power to ignore them, cache files truncated, overwritten with random bytes, swapped,
replaced by links and folders. Every fault must end in one line with a category and a fix and a documented
exit status, or in a rebuild whose editions are byte-equal to a clean build's; never in a traceback, a
half-written file or a file of the machine published in an EPUB.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import copy_built, run_press
from pipeline.errors import ExitCode, OutputError
from pipeline.safety import atomic_write, check_writable

EPOCH = {"SOURCE_DATE_EPOCH": "1767225600"}  # 2026-01-01: the EPUBs are dated, so every run must agree
# Root ignores file modes. The permission cases run press without the capabilities that let it (the files
# belong to root, so root's own mode bits then apply, as any user's would).
WITHOUT_ROOT_POWERS = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner",
                       "--inh-caps=-dac_override,-dac_read_search,-fowner", "--"]


def _outputs(project: Path) -> dict[str, str]:
    """Every file a person or a reader relies on (output/ and locales/, the cache aside), by hash."""
    found = {}
    for top in ("output", "locales"):
        for path in sorted((project / top).rglob("*")):
            relative = path.relative_to(project).as_posix()
            if path.is_file() and "/.cache/" not in f"/{relative}" and not path.name.startswith("."):
                found[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _one_line_error(result: subprocess.CompletedProcess, code: ExitCode, *words: str) -> str:
    """The run failed with ``code`` and said so on one ``error:`` line, no traceback, naming ``words``."""
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == code, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and len(errors) == 1, result.stderr[-3000:]
    assert all(word in errors[0] for word in words), errors[0]
    assert " — " in errors[0], "the line ends with what to do"
    return errors[0]


@pytest.fixture(scope="module")
def epub_built(built_project, tmp_path_factory) -> Path:
    """The session's built project, its EPUBs rebuilt with a fixed date: the clean build the damaged ones are
    compared with (EPUBs only, so each damaged run is quick)."""
    project = copy_built(built_project, tmp_path_factory.mktemp("clean"))
    result = run_press("build", "--format", "epub", "-q", cwd=project, env=EPOCH, timeout=600)
    assert result.returncode == 0, result.stderr
    return project


# --------------------------------------------------------------------------- a damaged cache


def _entry(project: Path, name: str) -> Path:
    return project / "output" / ".cache" / f"{name}.json"


def _damage_every_kind(project: Path) -> dict[str, str]:
    """Damage the cache every way the campaign did, each on its own entry, all at once; returns what was done."""
    cache = project / "output" / ".cache"
    fonts = sorted((cache / "fonts").glob("*.font"))
    assert len(fonts) >= 5, "the EPUBs embed at least five subset fonts"
    done = {}
    entry = _entry(project, "extract")
    entry.write_bytes(entry.read_bytes()[:40])
    done["extract entry"] = "truncated"
    _entry(project, "review").write_bytes(os.urandom(600))
    done["review entry"] = "random bytes"
    ja, km = _entry(project, "epub-ja"), _entry(project, "epub-km")
    ja_bytes = ja.read_bytes()
    ja.write_bytes(km.read_bytes())
    km.write_bytes(ja_bytes)
    done["epub-ja/epub-km entries"] = "swapped"
    entry = _entry(project, "catalogs")
    data = json.loads(entry.read_text(encoding="utf-8"))
    data["data"] = {}
    entry.write_text(json.dumps(data), encoding="utf-8")
    done["catalogs entry"] = 'valid JSON, "data": {}'
    _entry(project, "catalog-verdicts").write_text(json.dumps({"tools": {"msgfmt": 1}, "msgfmt": {}, "checked": "x"}))
    done["catalog verdicts"] = "valid JSON, wrong types"  # ignored: msgfmt and msgcat run again, and it is rewritten
    entry = _entry(project, "epub-en")
    elsewhere = project / "elsewhere.json"
    shutil.move(entry, elsewhere)  # the entry itself, still valid, read through a link: never followed
    entry.symlink_to(elsewhere)
    done["epub-en entry"] = "symlink to a valid entry"
    fonts[0].write_bytes(fonts[0].read_bytes()[: len(fonts[0].read_bytes()) // 2])
    done[fonts[0].name] = "truncated"
    fonts[1].write_bytes(os.urandom(fonts[1].stat().st_size))
    done[fonts[1].name] = "random bytes"
    first, second = fonts[2].read_bytes(), fonts[3].read_bytes()
    fonts[2].write_bytes(second)
    fonts[3].write_bytes(first)
    done[f"{fonts[2].name}/{fonts[3].name}"] = "swapped"
    fonts[4].unlink()
    fonts[4].symlink_to("/etc/passwd")
    done[fonts[4].name] = "symlink to /etc/passwd"
    page_map = project / "output" / "en" / "pagemap.json"  # the print edition's page starts, kept for the EPUB
    data = json.loads(page_map.read_text(encoding="utf-8"))
    data["starts"] = [[index, "x", element] for index, _, element in data["starts"]]
    page_map.write_text(json.dumps(data), encoding="utf-8")
    done["en page map"] = "edited, its print digest kept"
    return done


@pytest.mark.slow
def test_every_kind_of_cache_damage_is_rebuilt_and_the_editions_equal_a_clean_builds(epub_built, tmp_path):
    project = copy_built(epub_built, tmp_path)
    clean = _outputs(project)
    done = _damage_every_kind(project)
    result = run_press("build", "--format", "epub", cwd=project, env=EPOCH, timeout=600)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    for lang in ("en", "ja", "km"):  # each damaged entry was not trusted: the edition was made again
        assert f"{lang} EPUB: inputs unchanged" not in result.stderr, (lang, done)
    assert _outputs(project) == clean, f"after {done}"
    passwd = Path("/etc/passwd").read_bytes()
    for lang in ("en", "ja", "km"):
        with zipfile.ZipFile(project / "output" / lang / "rise-of-global-south.epub") as epub:
            fonts = [epub.read(name) for name in epub.namelist() if name.endswith((".ttf", ".otf"))]
        assert fonts and all(font[:4] in (b"\x00\x01\x00\x00", b"OTTO") and font != passwd for font in fonts)
    cache = project / "output" / ".cache"
    links = [path for path in cache.rglob("*") if path.is_symlink()]
    assert links == [], "each damaged entry was replaced by a whole one"
    again = run_press("build", "--format", "epub", cwd=project, env=EPOCH, timeout=600)
    assert again.returncode == 0 and again.stderr.count("inputs unchanged, reused") >= 4, again.stderr
    assert _outputs(project) == clean


@pytest.mark.parametrize("entry", ["extract", "epub-ja"])
def test_a_folder_where_a_cache_entry_belongs_stops_the_build_before_any_work(epub_built, tmp_path, entry):
    project = copy_built(epub_built, tmp_path)
    _edited(project)
    before = _outputs(project)
    _entry(project, entry).unlink()
    (_entry(project, entry) / "inside").mkdir(parents=True)
    result = run_press("build", "--format", "epub", cwd=project, env=EPOCH)
    _one_line_error(result, ExitCode.OUTPUT, "a folder is where a file should be", f"{entry}.json")
    assert "extract: read" not in result.stderr, "refused before the work, not after it"
    assert _outputs(project) == before


# --------------------------------------------------------------------------- a full disk


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of its own (the only way to fill a disk without filling the machine's), unmounted after."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("mount(8) is not installed: cannot make a small disk to fill")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): {made.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path, leave: int = 0) -> None:
    """Fill the disk until at most ``leave`` bytes are free (the filler grows in 64 KiB steps)."""
    with open(disk / "filler", "wb") as filler:
        block = b"\0" * 65536
        try:
            while os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize > leave + len(block):
                filler.write(block)
                filler.flush()
            filler.write(block[: max(os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize - leave, 0)])
            filler.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC


def test_a_full_disk_keeps_the_old_file_and_says_so_in_one_line(small_disk):
    target = small_disk / "book.po"
    atomic_write(target, "reviewed translations\n")
    _fill(small_disk)
    with pytest.raises(OutputError) as raised:
        atomic_write(target, "a new catalog, longer than the old one, that needs a block of its own\n" * 200)
    assert raised.value.exit_code == ExitCode.OUTPUT
    assert "no space left on the device" in raised.value.one_line() and "df -h" in raised.value.one_line()
    assert target.read_text() == "reviewed translations\n"
    assert sorted(path.name for path in small_disk.iterdir()) == ["book.po", "filler"], "no half-written debris"


def test_a_build_on_a_full_disk_is_refused_before_the_work_and_outputs_stay_whole(built_project, small_disk):
    project = copy_built(built_project, small_disk / "project")
    for path in (project / "output").rglob("*.pdf"):  # room for the project: the PDFs are not what this tests
        path.unlink()
    _edited(project)
    before = _outputs(project)
    _fill(small_disk, leave=64 * 1024)
    result = run_press("build", "--format", "epub", cwd=project, env=EPOCH)
    _one_line_error(result, ExitCode.OUTPUT, "no space left on the device")
    assert "extract: read" not in result.stderr, "refused before the work, not after it"
    assert _outputs(project) == before
    assert not [p for p in project.rglob("*.tmp")], "no half-written debris"


def test_a_project_on_a_read_only_file_system_is_refused_in_one_line(built_project, small_disk):
    project = copy_built(built_project, small_disk / "project")
    _edited(project)
    before = _outputs(project)
    remounted = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True, text=True)
    if remounted.returncode != 0:
        pytest.skip(f"cannot remount the tmpfs read-only here: {remounted.stderr.strip()}")
    result = run_press("build", "--format", "epub", cwd=project, env=EPOCH)
    _one_line_error(result, ExitCode.OUTPUT, "read-only")
    assert "extract: read" not in result.stderr
    assert _outputs(project) == before


# --------------------------------------------------------------------------- read-only files and folders


def _run_without_root_powers(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed: cannot run press without root's file access")
    from conftest import CHILD_PYTHONPATH
    import sys
    environment = dict(os.environ, PYTHONPATH=CHILD_PYTHONPATH, **(env or {}))
    probe = subprocess.run([*WITHOUT_ROOT_POWERS, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot drop capabilities here: {probe.stderr.strip()}")
    return subprocess.run([*WITHOUT_ROOT_POWERS, sys.executable, "-m", "pipeline", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=environment)


def _read_only(*paths: Path) -> None:
    for path in paths:
        path.chmod(path.stat().st_mode & ~0o222)


def _edited(project: Path) -> None:
    """An author's edit to a sentence of the foreword: the book and a catalog of each language must change."""
    manuscript = project / "source" / "manuscript.txt"
    text = manuscript.read_text(encoding="utf-8")
    assert text.count("It is my great honour") == 1
    manuscript.write_text(text.replace("It is my great honour", "It is my very great honour"), encoding="utf-8")


def test_the_child_really_obeys_file_modes(tmp_path):
    """The permission tests mean something only if the child cannot write where the modes forbid it."""
    folder = tmp_path / "locked"
    folder.mkdir()
    _read_only(folder)
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed: cannot run press without root's file access")
    probe = subprocess.run([*WITHOUT_ROOT_POWERS, "touch", str(folder / "x")], capture_output=True, text=True)
    assert probe.returncode != 0 and "Permission denied" in probe.stderr


def test_a_read_only_output_folder_is_refused_before_the_render(epub_built, tmp_path):
    project = copy_built(epub_built, tmp_path)
    _edited(project)
    before = _outputs(project)
    _read_only(project / "output", project / "output" / "xml")
    result = _run_without_root_powers("build", "--format", "epub", cwd=project, env=EPOCH)
    _one_line_error(result, ExitCode.OUTPUT, "permission denied", "chmod u+w")
    assert "extract: read" not in result.stderr, "refused before the work, not after it"
    assert _outputs(project) == before


def test_read_only_catalogs_are_refused_before_the_merge(epub_built, tmp_path):
    project = copy_built(epub_built, tmp_path)
    _edited(project)
    before = _outputs(project)
    _read_only(project / "locales" / "ja")
    result = _run_without_root_powers("build", "--format", "epub", cwd=project, env=EPOCH)
    _one_line_error(result, ExitCode.OUTPUT, "permission denied", "locales/ja")
    after = _outputs(project)
    assert {k: v for k, v in after.items() if k.startswith("locales/")} == \
        {k: v for k, v in before.items() if k.startswith("locales/")}
    assert not any(name.startswith("output/") and after.get(name) != digest and name.endswith(".epub")
                   for name, digest in before.items()), "no edition changed"


def test_a_read_only_catalog_is_not_replaced_behind_its_owners_back(epub_built, tmp_path):
    project = copy_built(epub_built, tmp_path)
    _edited(project)  # the new sentence lands in a catalog, which must then change
    catalogs = sorted((project / "locales" / "ja").glob("*.po"))
    _read_only(*catalogs)
    before = {path: path.read_bytes() for path in catalogs}
    result = run_press("build", "--format", "epub", cwd=project, env=EPOCH)  # as root: modes are a choice
    _one_line_error(result, ExitCode.OUTPUT, "read-only", "chmod u+w")
    assert {path: path.read_bytes() for path in catalogs} == before


def test_a_read_only_project_still_shows_its_status_and_says_nothing_was_written(epub_built, tmp_path):
    project = copy_built(epub_built, tmp_path)
    for path in sorted(project.rglob("*"), reverse=True):
        if not path.is_symlink():
            _read_only(path)
    _read_only(project)
    status = _run_without_root_powers("status", cwd=project)
    assert status.returncode == 0, status.stderr
    assert "ja:" in status.stdout and "translation-status.html unchanged" in status.stdout
    assert "wrote" not in status.stdout
    build = _run_without_root_powers("build", "--format", "epub", cwd=project, env=EPOCH)
    _one_line_error(build, ExitCode.OUTPUT, "permission denied")


def test_the_write_check_names_a_file_where_a_folder_belongs(tmp_path):
    (tmp_path / "output").write_text("not a folder")
    with pytest.raises(OutputError) as raised:
        check_writable([tmp_path / "output" / "manifest.json"])
    assert "a file is where a folder should be" in raised.value.one_line()


# --------------------------------------------------------------------------- catalogs in a charset not UTF-8

HEADER = ('msgid ""\nmsgstr ""\n"Project-Id-Version: test\\n"\n"Language: ja\\n"\n'
          '"Content-Type: text/plain; charset={charset}\\n"\n\n')


def _reviewed_catalog(path: Path, charset: str, encoding: str, entries: dict[str, tuple[str, str]]) -> bytes:
    """A catalog as another tool saved it: header first, then one reviewed entry per segment id."""
    body = "".join(f'msgctxt "{key}"\nmsgid "{source}"\nmsgstr "{target}"\n\n'
                   for key, (source, target) in entries.items())
    data = (HEADER.format(charset=charset) + body).encode(encoding)
    path.write_bytes(data)
    return data


def test_a_utf8_catalog_labelled_latin1_is_refused_whole(tmp_path):
    from pipeline.errors import CatalogError
    from pipeline.i18n.catalogs import read_catalog
    path = tmp_path / "ch1.po"
    data = _reviewed_catalog(path, "ISO-8859-1", "utf-8", {"s1": ("Japan and ASEAN", "日ASEAN関係")})
    with pytest.raises(CatalogError) as raised:
        read_catalog(path, "ja")
    line = raised.value.one_line()
    assert raised.value.exit_code == ExitCode.CATALOG and "\n" not in line
    assert "charset=ISO-8859-1" in line and "UTF-8" in line and "æ" not in line
    assert path.read_bytes() == data


@pytest.mark.parametrize("charset, encoding, text", [("EUC-JP", "euc_jp", "日ASEAN関係"),
                                                     ("ISO-8859-1", "latin-1", "Japon et l'ANASE, été")])
def test_a_catalog_in_a_real_legacy_charset_is_read_as_such(tmp_path, charset, encoding, text):
    from pipeline.i18n.catalogs import read_catalog, write_catalog
    path = tmp_path / "ch1.po"
    _reviewed_catalog(path, charset, encoding, {"s1": ("Japan and ASEAN", text)})
    catalog = read_catalog(path, "ja")
    assert [message.string for message in catalog if message.id] == [text]
    original = path.read_bytes()
    assert not write_catalog(path, catalog) and path.read_bytes() == original, \
        "entries unchanged: the file is left as it is, in its own charset (no churn)"
    for message in catalog:
        if message.id:
            message.user_comments = ["checked by the editor"]  # an entry changes: press writes the file
    assert write_catalog(path, catalog)
    written = path.read_bytes().decode("utf-8")  # ... in UTF-8
    assert "charset=UTF-8" in written and f'msgstr "{text}"' in written


@pytest.mark.slow
def test_a_build_refuses_a_mislabelled_catalog_and_reads_a_real_euc_jp_one(epub_built, tmp_path):
    from pipeline.i18n.catalogs import read_catalog
    project = copy_built(epub_built, tmp_path)
    path = project / "locales" / "ja" / "ch1.po"
    catalog = read_catalog(path, "ja")
    message = next(m for m in catalog if m.id and m.context.startswith("ch1-") and m.id.isascii()
                   and not set(m.id) & set('"\\\n'))  # one that needs no escaping in the file written here
    entry = {message.context: (message.id, "日本とASEANの関係")}
    before = _outputs(project)
    mislabelled = _reviewed_catalog(path, "ISO-8859-1", "utf-8", entry)
    result = run_press("build", "--lang", "ja", "--format", "epub", cwd=project, env=EPOCH, timeout=600)
    _one_line_error(result, ExitCode.CATALOG, "ch1.po", "charset=ISO-8859-1")
    assert path.read_bytes() == mislabelled
    assert {k: v for k, v in _outputs(project).items() if k.endswith(".epub")} == \
        {k: v for k, v in before.items() if k.endswith(".epub")}, "nothing garbled was published"
    _reviewed_catalog(path, "EUC-JP", "euc_jp", entry)
    result = run_press("build", "--lang", "ja", "--format", "epub", cwd=project, env=EPOCH, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "ch1.po was read as euc_jp" in result.stderr and "written back in UTF-8" in result.stderr
    assert "日本とASEANの関係" in path.read_bytes().decode("utf-8")
    with zipfile.ZipFile(project / "output" / "ja" / "rise-of-global-south.epub") as epub:
        text = "".join(epub.read(name).decode("utf-8") for name in epub.namelist() if name.endswith(".xhtml"))
    assert "日本とASEANの関係" in text and "æ" not in text


def test_an_empty_catalog_and_a_bad_escape_are_one_line_with_the_place(tmp_path):
    from pipeline.errors import CatalogError
    from pipeline.i18n.catalogs import read_catalog
    empty = tmp_path / "empty.po"
    empty.write_bytes(b"\n")
    with pytest.raises(CatalogError) as raised:
        read_catalog(empty, "ja")
    assert "\n" not in raised.value.one_line() and "empty" in raised.value.one_line()
    escape = tmp_path / "escape.po"
    _reviewed_catalog(escape, "UTF-8", "utf-8", {"s1": ("Japan", "bad \\q escape")})
    with pytest.raises(CatalogError) as raised:
        read_catalog(escape, "ja")
    assert raised.value.where == "line 9, column 14", raised.value.one_line()
    assert "invalid control sequence" in raised.value.one_line() and "\n" not in raised.value.one_line()


# --------------------------------------------------------------------------- links a reader must not follow


@pytest.mark.parametrize("href, unsafe", [
    ("http://127.0.0.1:8080/admin", True), ("http://localhost/", True), ("http://[::1]/x", True),
    ("http://192.168.1.1/", True), ("http://10.0.0.7/x", True), ("http://169.254.169.254/latest/meta-data", True),
    ("http://0.0.0.0/", True), ("file:///etc/passwd", True), ("javascript:alert(1)", True), ("ftp://a.org/x", True),
    ("https://www.aseanstats.org/publication/", False), ("http://8.8.8.8/", False), ("https://doi.org/10.1/x", False),
])
def test_which_links_stay_text(href, unsafe):
    from pipeline.repair.urls import unsafe_link
    assert (unsafe_link(href) is not None) == unsafe, unsafe_link(href)


def test_a_bare_loopback_address_in_the_manuscript_stays_text_and_is_a_finding(tmp_path):
    from conftest import small_project
    project = small_project(tmp_path, extra=" (see http://127.0.0.1:8080/admin, http://10.1.2.3/x and "
                                            "https://example.org/ok)")
    result = run_press("extract", cwd=project)
    assert result.returncode == 0, result.stderr
    book = (project / "output" / "xml" / "book.xml").read_text(encoding="utf-8")
    assert "http://127.0.0.1:8080/admin" in book and "http://10.1.2.3/x" in book, "the words are kept"
    assert 'href="http://127.0.0.1' not in book and 'href="http://10.1.2.3' not in book
    assert 'href="https://example.org/ok"' in book
    report = json.loads((project / "output" / "reports" / "repair.json").read_text(encoding="utf-8"))
    findings = report["findings"] if isinstance(report, dict) else report
    unsafe = [finding for finding in findings if finding["type"] == "unsafe-link"]
    assert sorted(finding["before"] for finding in unsafe) == ["http://10.1.2.3/x", "http://127.0.0.1:8080/admin"]
