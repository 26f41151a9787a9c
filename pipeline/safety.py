"""The only doors through which the pipeline parses XML, opens zip containers and writes files.

Every module goes through these functions (a test scans the code for bypasses), so each hazard
is handled once: entity expansion and network access in XML, zip bombs and hostile member
names, and half-written files after a crash.
"""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import stat
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from .errors import InputError, LimitError, OutputError, from_os_error

if TYPE_CHECKING:  # (imported by the functions that parse: the build's configuration, lock and cache keys, all a
    from lxml import etree  # no-op build runs, read no XML)


@dataclass(frozen=True)
class Limits:
    """Resource limits for untrusted input; configurable in ``[limits]`` of source/book.toml."""

    max_input_bytes: int = 64 * 1024 * 1024
    max_line_chars: int = 2_000_000
    max_zip_members: int = 5_000
    max_zip_total_bytes: int = 256 * 1024 * 1024
    max_zip_member_bytes: int = 128 * 1024 * 1024
    max_zip_ratio: float = 100.0
    max_pdf_pages: int = 2_000
    max_image_pixels: int = 40_000_000
    render_timeout_s: int = 900


DEFAULT_LIMITS = Limits()


# --------------------------------------------------------------------------- reading files


def read_input_bytes(path: Path, limits: Limits = DEFAULT_LIMITS, *, what: str = "input file") -> bytes:
    """Read a whole input file, refusing missing, special or oversized files before reading."""
    try:
        info = path.stat()
    except FileNotFoundError:
        manuscript = " (or the manuscript named in source/book.toml)" if what in ("manuscript", "input file") else ""
        raise InputError(f"{what} not found", path, hint=f"check the path{manuscript}")
    except PermissionError:
        raise InputError(f"{what} is not readable", path, hint="check the file's permissions")
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{what} is a directory", path, hint="give the path of a file")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{what} is not a regular file", path, hint="give the path of an ordinary file")
    if info.st_size > limits.max_input_bytes:
        raise LimitError(
            f"{what} is {info.st_size:,} bytes, over the limit of {limits.max_input_bytes:,}",
            path, hint="raise [limits] max_input_bytes in source/book.toml if this file is genuine")
    try:
        with open(path, "rb") as handle:
            data = handle.read(limits.max_input_bytes + 1)
    except OSError as exc:
        raise InputError(f"{what} could not be read: {exc.strerror or exc}", path)
    if len(data) > limits.max_input_bytes:
        raise LimitError(f"{what} grew past the size limit while being read", path)
    return data


def read_regular_file(path: Path) -> bytes:
    """A cache file's bytes, never through a symbolic link (a link in the cache could make press read, and then
    publish, any file on the machine) and never from a folder or a device."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            raise IsADirectoryError(f"not a regular file: {path}")
        return stream.read()


# --------------------------------------------------------------------------- XML


def xml_parser(*, keep_processing_instructions: bool = True, element_lookup=None) -> etree.XMLParser:
    """A parser for untrusted XML: no entity expansion, no DTD loading, no network, libxml2 limits on.

    ``element_lookup`` lets a library that maps XML to its own element classes (python-docx)
    parse through this door too.
    """
    from lxml import etree
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=not keep_processing_instructions,
        remove_comments=False,
        collect_ids=True,
    )
    if element_lookup is not None:
        parser.set_element_class_lookup(element_lookup)
    return parser


def parse_xml(data: bytes, path: Path | str | None = None, *, where: str | None = None,
              keep_processing_instructions: bool = True, element_lookup=None) -> etree._Element:
    """Parse XML bytes safely; a DOCTYPE with declarations or any entity reference is refused.

    Entities are never needed in the formats we read (OOXML parts, XLIFF, our own DocBook), and
    they are how XXE and "billion laughs" attacks arrive, so refusing them is the simplest defence.
    """
    from lxml import etree
    if b"<!ENTITY" in data:
        raise InputError("XML declares entities (DOCTYPE internal subset); refusing to expand them",
                         path, where, hint="the file is hostile or was made by a broken tool; re-export it")
    try:
        root = etree.fromstring(data, xml_parser(keep_processing_instructions=keep_processing_instructions,
                                                 element_lookup=element_lookup))
    except etree.XMLSyntaxError as exc:
        line = f"line {exc.lineno}" if getattr(exc, "lineno", None) else None
        detail = where + (f", {line}" if line else "") if where else line
        raise InputError(f"malformed XML: {exc.msg if hasattr(exc, 'msg') else exc}", path, detail,
                         hint="the file is damaged; re-export it from the program that made it")
    if root is None:
        raise InputError("XML document is empty", path, where)
    if root.getroottree().docinfo.doctype:
        raise InputError("XML carries a DOCTYPE; refusing it", path, where,
                         hint="the file is hostile or was made by a broken tool; re-export it")
    if any(True for _ in root.iter(etree.Entity)):
        raise InputError("XML contains entity references; refusing to expand them", path, where)
    return root


# --------------------------------------------------------------------------- zip containers


def _check_member_name(name: str) -> str | None:
    """Return why a zip member name is unsafe, or None when it is fine."""
    if not name or "\x00" in name:
        return "empty name or NUL byte"
    if "\\" in name:
        return "backslash in name"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if any(part == ".." for part in PurePosixPath(name).parts):
        return "parent-directory component"
    return None


class SafeZip:
    """A zip container whose members were checked before anything was decompressed."""

    def __init__(self, data: bytes, path: Path | str | None, limits: Limits):
        self.path = path
        self.data = data
        self._limits = limits
        try:
            self._zip = zipfile.ZipFile(BytesIO(data))
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
            raise InputError(f"not a readable zip container ({exc})", path,
                             hint="the file is truncated or not what its extension says; re-export it")
        self._check(infos)
        self.infos = {info.filename: info for info in infos}

    def _check(self, infos: list[zipfile.ZipInfo]) -> None:
        limits, path = self._limits, self.path
        if len(infos) > limits.max_zip_members:
            raise LimitError(f"zip container has {len(infos):,} members, over the limit of {limits.max_zip_members:,}",
                             path, hint="this is not an ordinary document; check where it came from")
        seen: set[str] = set()
        total = 0
        for info in infos:
            problem = _check_member_name(info.filename)
            if problem:
                raise InputError(f"zip member {info.filename!r} is unsafe ({problem})", path,
                                 hint="the file is hostile or damaged; do not open it elsewhere either")
            if info.filename in seen:
                raise InputError(f"zip member {info.filename!r} appears twice", path,
                                 hint="the file is hostile or damaged")
            seen.add(info.filename)
            if info.flag_bits & 0x1:
                raise InputError(f"zip member {info.filename!r} is encrypted", path,
                                 hint="save the document without a password")
            if info.file_size > limits.max_zip_member_bytes:
                raise LimitError(f"zip member {info.filename!r} expands to {info.file_size:,} bytes", path,
                                 hint="raise [limits] max_zip_member_bytes if the file is genuine")
            if info.file_size > 1_000_000 and info.file_size > limits.max_zip_ratio * max(info.compress_size, 1):
                ratio = info.file_size / max(info.compress_size, 1)
                raise LimitError(f"zip member {info.filename!r} compresses {ratio:,.0f}:1 (a zip bomb?)", path,
                                 hint=f"the limit is {limits.max_zip_ratio:.0f}:1 ([limits] max_zip_ratio)")
            total += info.file_size
        if total > limits.max_zip_total_bytes:
            raise LimitError(f"zip container expands to {total:,} bytes, over the limit of {limits.max_zip_total_bytes:,}",
                             path, hint="raise [limits] max_zip_total_bytes if the file is genuine")
        self._check_overlaps(infos)

    def _check_overlaps(self, infos: list[zipfile.ZipInfo]) -> None:
        """Refuse members whose data overlap ("quoted-overlap" zip bombs; CPython < 3.11.8 misses them)."""
        spans = sorted(((info.header_offset, info) for info in infos), key=lambda pair: pair[0])
        for (start, info), (next_start, next_info) in zip(spans, spans[1:]):
            end = start + 30 + len(info.orig_filename.encode("utf-8", "surrogateescape")) + info.compress_size
            if end > next_start:
                raise InputError(f"zip members {info.filename!r} and {next_info.filename!r} overlap (a zip bomb?)",
                                 self.path, hint="the file is hostile; do not open it elsewhere either")

    def names(self) -> list[str]:
        return list(self.infos)

    def read(self, name: str) -> bytes:
        """Read one member; its size was already bounded by the declared sizes checked above."""
        if name not in self.infos:
            raise InputError(f"zip member {name!r} is missing", self.path,
                             hint="the file is incomplete or not what its extension says")
        try:
            return self._zip.read(self.infos[name])
        except (zipfile.BadZipFile, EOFError, ValueError, OSError, zlib.error) as exc:
            raise InputError(f"zip member {name!r} is damaged ({exc})", self.path,
                             hint="the file is truncated or corrupt; re-export it")
        except NotImplementedError as exc:
            raise InputError(f"zip member {name!r} uses an unsupported compression ({exc})", self.path)

    def extract_to(self, root: Path) -> list[Path]:
        """Extract every member under ``root``, resolving each path and refusing escapes and links."""
        root = root.resolve()
        written: list[Path] = []
        for name, info in self.infos.items():
            if stat.S_ISLNK(info.external_attr >> 16):
                raise InputError(f"zip member {name!r} is a symbolic link", self.path,
                                 hint="the file is hostile or damaged")
            target = (root / name).resolve()
            if not target.is_relative_to(root):
                raise InputError(f"zip member {name!r} would be written outside {root}", self.path)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, self.read(name))
            written.append(target)
        return written


def open_zip(source: Path | bytes, limits: Limits = DEFAULT_LIMITS, *, path: Path | str | None = None) -> SafeZip:
    """Open a zip container (DOCX, .argosmodel, review package) after checking it is safe to read."""
    if isinstance(source, Path):
        path = path or source
        source = read_input_bytes(source, limits)
    return SafeZip(source, path, limits)


def make_zip(members: list[tuple[str, bytes, bool]], date_time: tuple[int, int, int, int, int, int]) -> bytes:
    """A zip container in memory, the same bytes for the same members: (name, data, compressed) in the
    order given, every member dated ``date_time`` with fixed permissions. Names must be relative
    POSIX paths without ``..``, so that no reader of ours or anyone's unpacks outside its folder."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, compressed in members:
            parts = PurePosixPath(name).parts
            if not name or name.startswith("/") or "\\" in name or ".." in parts:
                raise ValueError(f"unsafe name for a zip member: {name!r}")
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.create_system = 3  # Unix, whatever machine builds it
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
            archive.writestr(info, data, compresslevel=9 if compressed else None)
    return buffer.getvalue()


# --------------------------------------------------------------------------- fetching during rendering


def url_fetcher(roots: list[Path], limits: Limits = DEFAULT_LIMITS, refused: list[str] | None = None):
    """The only fetcher WeasyPrint gets: files under the project's own template, font and image
    directories, and data: URLs. No network, no other file (``/etc/passwd``, ``/dev/urandom``)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    allowed = [root.resolve() for root in roots]
    refusals = refused if refused is not None else []

    class ProjectFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme != "file":
                refusals.append(url)
                raise ValueError(f"refused to fetch {url!r}: only the project's own files are used")
            from urllib.request import url2pathname
            path = Path(url2pathname(url.split("?", 1)[0].split("#", 1)[0].removeprefix("file://"))).resolve()
            if not any(path.is_relative_to(root) for root in allowed) or not path.is_file():
                refusals.append(url)
                raise ValueError(f"refused to fetch {url!r}: outside the project's templates and images")
            size = path.stat().st_size
            if size > limits.max_input_bytes:
                refusals.append(url)
                raise ValueError(f"refused to fetch {url!r}: {size:,} bytes is over the input limit")
            import mimetypes
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            body = path.read_bytes()
            pixels = _raster_pixels(body) if kind.startswith("image/") else None
            if pixels is not None and pixels > limits.max_image_pixels:
                refusals.append(url)
                raise ValueError(f"refused to fetch {url!r}: {pixels:,} pixels is over [limits] max_image_pixels")
            return URLFetcherResponse(path.as_uri(), body=body, headers={"Content-Type": kind})

    return ProjectFetcher(allowed_protocols={"file", "data"}, allow_redirects=False)


def _raster_pixels(data: bytes) -> int | None:
    """Width × height from a raster image's header (nothing is decoded); None if it is not one."""
    import warnings
    from PIL import Image
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError:  # so large that Pillow will not even open it
        return 1 << 62
    except Exception:  # not a raster image Pillow knows (SVG, damaged): WeasyPrint decides, and warns
        return None
    return width * height


# --------------------------------------------------------------------------- writing files


def open_lock_file(path: Path):
    """The build lock's file, opened for flock; it holds only the holder's pid, never content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "a+", encoding="utf-8")  # noqa: SIM115 - the caller holds it for the whole build


def atomic_write(path: Path, data: bytes | str, *, encoding: str = "utf-8") -> bool:
    """Write a file so that readers and crashes only ever see the old or the new contents.

    Writes a temporary file in the same directory, syncs it, renames it over the target and
    syncs the directory. Returns False (and writes nothing) when the file already holds ``data``,
    so an unchanged build leaves modification times alone.
    """
    if isinstance(data, str):
        data = data.encode(encoding)
    path = Path(path)
    try:
        if (path.is_file() and not path.is_symlink() and path.stat().st_size == len(data)
                and path.read_bytes() == data):
            return False  # (a link is replaced by the file itself, even when it points at the same bytes)
    except OSError:
        pass
    refuse_read_only(path)
    try:
        return _replace(path, data)
    except OSError as error:  # a full disk, a read-only folder, a folder in the file's place: one line, old file kept
        raise from_os_error(error, path) from error


def refuse_read_only(path: Path) -> None:
    """A file someone made read-only (chmod a-w) is not replaced behind their back: renaming over it would
    succeed, since a rename needs only the folder's permission."""
    try:
        info = path.lstat()
    except OSError:
        return
    if stat.S_ISREG(info.st_mode) and not info.st_mode & 0o222:
        raise OutputError("the file is read-only; press does not replace a file someone made read-only", path,
                          hint=f"make it writable (chmod u+w {path}) if press should update it")


def check_writable(files: Iterable[Path] = (), folders: Iterable[Path] = (), *, read_only_files: bool = True,
                   free_bytes: int = 1 << 20) -> None:
    """Refuse before the work, not after it: each file must be replaceable (not a folder, not read-only unless
    ``read_only_files`` is False) and each folder, or the nearest one that exists, must take a new file and have
    ``free_bytes`` free. Raises the OutputError the write itself would raise."""
    probed: set[Path] = set()
    for path in files:
        if path.is_dir() and not path.is_symlink():
            raise from_os_error(IsADirectoryError(errno.EISDIR, "Is a directory"), path)
        if read_only_files:
            refuse_read_only(path)
    for folder in [*folders, *(path.parent for path in files)]:
        existing = _nearest_existing(folder)
        if existing in probed:
            continue
        probed.add(existing)
        if not existing.is_dir():
            raise from_os_error(NotADirectoryError(errno.ENOTDIR, "Not a directory"), existing)
        _probe(existing, free_bytes)


def _nearest_existing(folder: Path) -> Path:
    while not folder.exists() and not folder.is_symlink() and folder.parent != folder:
        folder = folder.parent
    return folder


def _probe(folder: Path, free_bytes: int) -> None:
    """Whether a file can be made in ``folder``: asked of the kernel (access(2) and statvfs(2)), not tried, so that
    a build with nothing to do leaves even the folders' times alone."""
    try:
        info = os.statvfs(folder)
    except OSError as error:
        raise from_os_error(error, folder) from error
    if info.f_flag & os.ST_RDONLY:
        raise from_os_error(OSError(errno.EROFS, "Read-only file system"), folder)
    if not os.access(folder, os.W_OK | os.X_OK, effective_ids=os.access in os.supports_effective_ids):
        raise from_os_error(PermissionError(errno.EACCES, "Permission denied"), folder)
    available = (info.f_bfree if os.geteuid() == 0 else info.f_bavail) * info.f_frsize
    if available < free_bytes:
        raise from_os_error(OSError(errno.ENOSPC, "No space left on device"), folder)


def _replace(path: Path, data: bytes) -> bool:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.fchmod(fd, mode)
        os.close(fd)
        fd = -1
        os.replace(tmp_name, path)
        _sync_directory(path.parent)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    return True


def _is_temporary(path: Path) -> bool:
    """A file atomic_write left behind when its process was killed between writing and renaming."""
    name = path.name
    return name.startswith(".") and name.endswith(".tmp") and len(name.rsplit(".", 2)[-2]) == 8


def remove_stale_temporaries(*directories: Path) -> int:
    """Remove the debris of killed writers; call it only while holding the project lock, so that no
    live writer's temporary file can be taken for debris. Returns how many files were removed."""
    removed = 0
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in directory.rglob(".*.tmp"):
            if path.is_file() and not path.is_symlink() and _is_temporary(path):
                try:
                    path.unlink()
                    removed += 1
                except FileNotFoundError:
                    pass
    return removed


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _sync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- time limits


@contextmanager
def time_limit(seconds: float, what: str, path: Path | str | None = None, *, setting: str = "render_timeout_s"):
    """Stop work that runs longer than a configured limit with a LimitError (a hostile stylesheet or
    a pathological table can keep a layout engine busy for hours). Only the main thread can take
    the alarm; elsewhere the work runs unlimited rather than not at all."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum, frame):
        raise LimitError(f"{what} took longer than {seconds:g} s", path,
                         hint=f"raise [limits] {setting} in source/book.toml if the book really needs it")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def file_hash(path: Path) -> str:
    """A file's SHA-256, read in blocks (a model's weights run to gigabytes): the one hasher for the cache
    keys, the manifest and the models' records."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# Hashes kept for this process (settled_file_hash): file name -> (its status when read, its SHA-256)
_SETTLED_HASHES: dict[str, tuple[tuple[int, int, int, int, int], str]] = {}
SETTLED_NS = 2_000_000_000  # a file last changed this long before it was read may be known by its status


def settled_file_hash(path: Path) -> str:
    """``file_hash``, kept for the process while the file keeps its status (device, inode, size, modification and
    change times): a build hashed output/xml/book.xml ten times (the extract stage's output; the catalogs' and
    each edition's input; the manifest's input and output) and each catalog five, 9 of the 13 MB a no-op build
    hashed. A hash is kept only for a file whose last change came at least two seconds before it was read, as
    git keeps its index's "racy" entries apart: any write after the reading sets the change time to the clock's
    time then (no one can set a change time by hand), so the status differs and the file is read again, however
    coarse its file system's times and whatever modification time a tool restores."""
    status = os.stat(path)
    signature = (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)
    name = os.fspath(path)
    known = _SETTLED_HASHES.get(name)
    if known is not None and known[0] == signature:
        return known[1]
    read_at = time.time_ns()
    digest = file_hash(path)
    if max(status.st_mtime_ns, status.st_ctime_ns) < read_at - SETTLED_NS:
        _SETTLED_HASHES[name] = (signature, digest)
    return digest
