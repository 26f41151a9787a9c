"""Expected failures, each with a category, a location and a hint, and the exit codes they map to.

The CLI turns a PipelineError into one line on stderr:
``error: <category>: <message> (<file>[:<where>]) — <hint>`` and exits with the class's code.
Anything that is not a PipelineError is a bug and shows a traceback.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    """Documented exit statuses of ``press`` (also listed in the README and ``press --help``)."""

    OK = 0
    INTERNAL = 1  # a bug: please report it with the traceback from --debug
    USAGE = 2  # wrong command-line arguments
    INPUT = 3  # the manuscript or another input file is unreadable, corrupt or unsupported
    LIMIT = 4  # an input exceeds a configured resource limit
    CONFIG = 5  # source/book.toml or source/editorial.toml is wrong
    INVALID = 6  # the produced document does not validate (DocBook 5.0)
    ENVIRONMENT = 7  # a tool, package, schema or font the stage needs is missing
    CATALOG = 8  # a translation catalog is damaged
    RENDER = 9  # an edition could not be rendered
    BUSY = 10  # another run (build, translation, review import) holds the project lock
    STRICT = 11  # --strict and the build produced warnings
    OUTPUT = 12  # an output cannot be written: disk full, read-only file or folder, a folder in a file's place
    # stopped by a signal: the shell's own 128 + signal number, so scripts see the same either way
    INTERRUPTED = 130  # SIGINT (Ctrl-C): workers stopped, finished files kept, none half-written
    TERMINATED = 143  # SIGTERM: the same


EXIT_CODE_HELP = "\n".join(
    f"  {code.value:>3}  {code.name.lower()}" for code in ExitCode
)


@dataclass
class PipelineError(Exception):
    """A failure the user can act on: what went wrong, where, and what to do about it."""

    message: str
    path: Path | str | None = None
    where: str | None = None  # "line 12", "page 3", "word/document.xml"
    hint: str | None = None
    category: str = "error"
    exit_code: ExitCode = ExitCode.INTERNAL

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def one_line(self) -> str:
        location = ""
        if self.path is not None:
            location = str(self.path)
            if self.where:
                location += f":{self.where}"
            location = f" ({location})"
        elif self.where:
            location = f" ({self.where})"
        hint = f" — {self.hint}" if self.hint else ""
        return f"error: {self.category}: {self.message}{location}{hint}"

    def __str__(self) -> str:
        return self.one_line()


class _CategorisedError(PipelineError):
    """A PipelineError whose category and exit code come from its class, so callers give only what
    differs: the message, the file, the place and the hint."""

    default_category: str = "error"
    code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, path: Path | str | None = None, where: str | None = None,
                 hint: str | None = None, category: str | None = None) -> None:
        PipelineError.__init__(self, message, path, where, hint,
                               category or self.default_category, self.code)


class UsageError(_CategorisedError):
    """The command line asks for something the project does not have (a language the book lacks)."""

    default_category, code = "usage", ExitCode.USAGE


class InputError(_CategorisedError):
    """An input file is unreadable, corrupt, hostile or of an unsupported kind."""

    default_category, code = "input", ExitCode.INPUT


class LimitError(_CategorisedError):
    """An input exceeds a configured resource limit (size, pages, zip ratio, ...)."""

    default_category, code = "limit", ExitCode.LIMIT


class ConfigError(_CategorisedError):
    """The project's configuration or editorial decisions are wrong."""

    default_category, code = "config", ExitCode.CONFIG


class ValidationError(_CategorisedError):
    """A document the pipeline produced does not validate."""

    default_category, code = "invalid", ExitCode.INVALID


class EnvironmentProblem(_CategorisedError):
    """Something the machine must provide (package, schema, font, tool) is missing."""

    default_category, code = "environment", ExitCode.ENVIRONMENT


class CatalogError(_CategorisedError):
    """A translation catalog is damaged or inconsistent."""

    default_category, code = "catalog", ExitCode.CATALOG


class RenderError(_CategorisedError):
    """An edition could not be rendered."""

    default_category, code = "render", ExitCode.RENDER


class BusyError(_CategorisedError):
    """Another run (a build, a translation run, a review import) holds the project lock."""

    default_category, code = "busy", ExitCode.BUSY


class OutputError(_CategorisedError):
    """A file cannot be written where press must write it (disk full, read-only, a folder in its place)."""

    default_category, code = "output", ExitCode.OUTPUT


def from_os_error(error: OSError, path: Path | str | None = None, *, action: str = "write") -> PipelineError:
    """The one line for a failure the machine caused (a full disk, a read-only file or folder, a folder where a
    file belongs): what happened to which file, and what to do. Writes go through one door
    (pipeline.safety.atomic_write), which keeps the previous file whole, so the hint can say so."""
    import errno

    where = path if path is not None else error.filename
    reasons: dict[int, tuple[str, str]] = {
        errno.ENOSPC: ("no space left on the device", "free some space on that disk (df -h shows it) and run again"),
        errno.EDQUOT: ("the disk quota is used up", "free some space (or ask for a larger quota) and run again"),
        errno.EROFS: ("the file system is read-only", "mount it read-write, or build a writable copy of the project"),
        errno.EACCES: ("permission denied", "make it writable for this user (chmod u+w, or chown), "
                                            "or run press as the project's owner"),
        errno.EPERM: ("operation not permitted", "make it writable for this user (chmod u+w, or chown), "
                                                 "or run press as the project's owner"),
        errno.EISDIR: ("a folder is where a file should be", "remove or rename that folder, then run again"),
        errno.ENOTDIR: ("a file is where a folder should be", "remove or rename that file, then run again"),
        errno.EEXIST: ("a file is where a folder should be", "remove or rename that file, then run again"),
    }
    message, hint = reasons.get(error.errno or 0, (error.strerror or str(error), "check the file and its folder"))
    return OutputError(f"cannot {action}: {message}", where, hint=f"{hint}; existing files were left as they were")


class Stopped(KeyboardInterrupt):
    """A signal (SIGINT or SIGTERM) stopped the run. A KeyboardInterrupt rather than a PipelineError:
    nothing is wrong with the input, no ``except Exception`` may swallow it, and every ``finally`` (a
    catalog saved, a worker stopped, a temporary file removed) still runs on the way out."""

    def __init__(self, signal_number: int = signal.SIGINT) -> None:
        super().__init__(signal_number)
        self.signal_number = signal_number
        self.kept: list[str] | None = None  # the files the run had finished (set by the project lock)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.TERMINATED if self.signal_number == signal.SIGTERM else ExitCode.INTERRUPTED

    def one_line(self) -> str:
        name = signal.Signals(self.signal_number).name
        if self.kept is None:
            kept = "files are written whole or not at all, so none is half-written"
        elif not self.kept:
            kept = "it had finished no file, and none is half-written"
        else:
            shown = ", ".join(self.kept[:3]) + (f" and {len(self.kept) - 3} more" if len(self.kept) > 3 else "")
            count = f"{len(self.kept)} file{'s' if len(self.kept) != 1 else ''}"
            kept = f"kept the {count} it had finished ({shown}), none half-written"
        return f"error: stopped: {name} stopped the run; {kept} — run it again to finish"
