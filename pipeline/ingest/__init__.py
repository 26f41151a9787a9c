"""Readers: one per manuscript format, each turning a file into the same block stream."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import InputError
from ..safety import DEFAULT_LIMITS, Limits, read_input_bytes
from .model import Block, Dropped, Gap, Kind, Manuscript, ReaderWarning, Span, Where

__all__ = ["read_manuscript", "sniff_format", "Block", "Dropped", "ReaderWarning", "Gap", "Kind", "Manuscript", "Span", "Where"]


def _read_text(data: bytes, path: Path, limits: Limits, encoding: str | None) -> Manuscript:
    from .text import read_text
    return read_text(data, path, limits, encoding)


def _read_docx(data: bytes, path: Path, limits: Limits, encoding: str | None) -> Manuscript:
    from .docx import read_docx
    return read_docx(data, path, limits)


def _read_pdf(data: bytes, path: Path, limits: Limits, encoding: str | None) -> Manuscript:
    from .pdf import read_pdf
    return read_pdf(data, path, limits)


READERS: dict[str, Callable[[bytes, Path, Limits, str | None], Manuscript]] = {
    "text": _read_text,
    "docx": _read_docx,
    "pdf": _read_pdf,
}

_TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown", ""}


def sniff_format(data: bytes, path: Path) -> str:
    """Decide the format from the bytes first and the file name second, refusing what we cannot read."""
    suffix = path.suffix.lower()
    if data[:1024].lstrip().startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        if b"word/" in data or suffix == ".docx":
            return "docx"
        if b"mimetypeapplication/vnd.oasis.opendocument" in data[:200]:
            raise InputError("OpenDocument files are not supported", path, hint="save the manuscript as .docx")
        raise InputError("a zip container that is not a Word document", path,
                         hint="deliver the manuscript as .docx, .pdf or UTF-8 text")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError("legacy Word (.doc) files are not supported", path, hint="save the manuscript as .docx")
    if suffix == ".pdf":
        raise InputError("not a PDF: the file does not start with %PDF-", path,
                         hint="the file is damaged or mislabelled; export it again")
    if suffix == ".docx":
        raise InputError("not a DOCX: the file is not a zip container", path,
                         hint="the file is damaged, truncated or mislabelled; save it again from Word")
    if suffix in _TEXT_SUFFIXES or suffix:
        return "text"
    return "text"


def read_manuscript(path: Path, limits: Limits = DEFAULT_LIMITS, *, encoding: str | None = None) -> Manuscript:
    """Read any supported manuscript into the block stream the structuring stage expects."""
    data = read_input_bytes(path, limits, what="manuscript")
    return READERS[sniff_format(data, path)](data, path, limits, encoding)
