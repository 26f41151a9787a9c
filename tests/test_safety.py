"""The doors: one safe XML parser, one checked zip reader, one atomic writer, and nothing around them."""

from __future__ import annotations

import ast
import errno
import io
import os
import zipfile
from pathlib import Path

import pytest

from pipeline import safety
from pipeline.errors import InputError, LimitError, OutputError
from pipeline.safety import Limits, atomic_write, open_zip, parse_xml

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"


# --------------------------------------------------------------------------- atomic writes


def test_atomic_write_writes_and_skips_identical_content(tmp_path):
    target = tmp_path / "deep" / "file.po"
    assert atomic_write(target, "first") is True
    stamp = target.stat().st_mtime_ns
    assert atomic_write(target, "first") is False
    assert target.stat().st_mtime_ns == stamp
    assert atomic_write(target, b"second") is True and target.read_bytes() == b"second"


def test_a_failed_write_leaves_the_old_file_and_no_debris(tmp_path, monkeypatch):
    target = tmp_path / "catalog.po"
    target.write_text("reviewed translations")
    target.chmod(0o640)

    def fail(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OutputError) as raised:  # one line with the fix, the documented exit code
        atomic_write(target, "half")
    assert "no space left" in raised.value.one_line() and raised.value.exit_code == 12
    assert target.read_text() == "reviewed translations"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog.po"]
    monkeypatch.undo()
    atomic_write(target, "new")
    assert oct(target.stat().st_mode & 0o777) == "0o640"  # the mode of the file it replaces


# --------------------------------------------------------------------------- XML


def test_entities_and_doctypes_are_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]><r>&x;</r>'.encode()
    with pytest.raises(InputError) as error:
        parse_xml(xxe, "evil.xml")
    assert "TOP-SECRET" not in str(error.value)
    laughs = b'<!DOCTYPE l [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>'
    with pytest.raises(InputError):
        parse_xml(laughs)
    with pytest.raises(InputError):
        parse_xml(b'<!DOCTYPE r SYSTEM "http://example.invalid/x.dtd"><r/>')
    with pytest.raises(InputError) as error:
        parse_xml(b"<r><unclosed></r>", "bad.xml")
    assert error.value.where.startswith("line 1")
    assert parse_xml(b"<r><?src line='3'?>fine</r>").tag == "r"


# --------------------------------------------------------------------------- zip containers


def make_zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name) if name.endswith("/") else name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["../escape.txt", "/abs.txt", "a\\..\\b.txt", "C:evil.txt", "a/../../b"])
def test_hostile_member_names(name):
    with pytest.raises(InputError) as error:
        open_zip(make_zip({"ok.txt": b"x", name: b"y"}), path="x.zip")
    assert "unsafe" in error.value.message and repr(name)[1:-1].split("\\")[0] in error.value.message


def test_duplicate_members_and_too_many_members():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "1")
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            archive.writestr("a.txt", "2")
    with pytest.raises(InputError, match="twice"):
        open_zip(buffer.getvalue())
    many = make_zip({f"f{i}.txt": b"" for i in range(30)})
    with pytest.raises(LimitError, match="members"):
        open_zip(many, Limits(max_zip_members=20))


def test_a_zip_bomb_is_refused_before_anything_is_decompressed():
    bomb = make_zip({"word/document.xml": b" " * 50_000_000})
    assert len(bomb) < 100_000
    with pytest.raises(LimitError, match="compresses"):
        open_zip(bomb)
    with pytest.raises(LimitError, match="expands"):
        open_zip(make_zip({"a": b"a" * 2_000_000}, zipfile.ZIP_STORED), Limits(max_zip_member_bytes=1_000_000))


def test_overlapping_members_are_refused():
    data = bytearray(make_zip({"a.txt": b"hello", "b.txt": b"world"}, zipfile.ZIP_STORED))
    # point b's central-directory entry at a's local header: two names, one stream
    central = data.rfind(b"PK\x01\x02")
    data[central + 42:central + 46] = (0).to_bytes(4, "little")
    with pytest.raises(InputError, match="overlap|twice|damaged"):
        open_zip(bytes(data))


def test_extraction_stays_inside_its_root(tmp_path):
    archive = open_zip(make_zip({"pkg/model.bin": b"weights", "pkg/": b""}))
    written = archive.extract_to(tmp_path / "models")
    assert [p.relative_to(tmp_path) for p in written] == [Path("models/pkg/model.bin")]


# --------------------------------------------------------------------------- nobody goes around the doors

FORBIDDEN_CALLS = {
    ("etree", "fromstring"), ("etree", "XML"), ("etree", "parse"), ("etree", "iterparse"),
    ("etree", "XMLParser"), ("etree", "HTMLParser"), ("zipfile", "ZipFile"),
}


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name):
                yield node, (function.value.id, function.attr)
            elif isinstance(function, ast.Name):
                yield node, (None, function.id)


def _opens_for_writing(node: ast.Call) -> bool:
    mode = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and any(c in mode.value for c in "wax+")


def test_no_module_bypasses_the_safety_doors():
    offences = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "safety.py":
            continue
        source = path.read_text()
        for forbidden in ("huge_tree=True", "resolve_entities=True"):
            if forbidden in source:
                offences.append(f"{path.name}: {forbidden}")
        for node, (owner, name) in _calls(ast.parse(source)):
            if (owner, name) in FORBIDDEN_CALLS:
                offences.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {owner}.{name}")
            if name in ("write_text", "write_bytes") and owner is None:
                offences.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {name}")
            if name == "open" and owner in (None, "io", "os") and _opens_for_writing(node):
                offences.append(f"{path.relative_to(PACKAGE)}:{node.lineno} open for writing")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Attribute) and node.attr in ("write_text", "write_bytes"):
                offences.append(f"{path.relative_to(PACKAGE)}:{node.lineno} .{node.attr}()")
    assert offences == []


def test_the_scan_would_catch_a_bypass(tmp_path):
    """The scanner above is not vacuous: it flags each kind of bypass in a sample module."""
    sample = "from lxml import etree\nimport zipfile\netree.fromstring(b'')\nzipfile.ZipFile('x')\n" \
             "open('f', 'w')\nPath('x').write_text('y')\n"
    found = [name for _, (owner, name) in _calls(ast.parse(sample)) if (owner, name) in FORBIDDEN_CALLS]
    assert found == ["fromstring", "ZipFile"]
    opens = [node for node, (owner, name) in _calls(ast.parse(sample)) if name == "open" and _opens_for_writing(node)]
    assert len(opens) == 1
    assert any(isinstance(n, ast.Attribute) and n.attr == "write_text" for n in ast.walk(ast.parse(sample)))
    assert safety.atomic_write  # the door itself exists


def test_the_render_fetcher_refuses_images_over_the_pixel_limit_before_decoding(tmp_path):
    """A template's image that claims 12,000 × 12,000 pixels (below Pillow's own refusal, so WeasyPrint
    would decode 144 million pixels) is refused from its header; a real small image is served."""
    import io
    import struct
    import zlib
    from PIL import Image
    from pipeline.safety import Limits, url_fetcher

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    huge = tmp_path / "huge.png"
    huge.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 12_000, 12_000, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
    small = tmp_path / "logo.png"
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(buffer, "PNG")
    small.write_bytes(buffer.getvalue())
    refused: list[str] = []
    fetcher = url_fetcher([tmp_path], Limits(), refused)
    with pytest.raises(ValueError, match="pixels is over"):
        fetcher.fetch(huge.as_uri())
    assert refused == [huge.as_uri()]
    served = fetcher.fetch(small.as_uri())
    assert served.read() == small.read_bytes() and served.content_type == "image/png"
