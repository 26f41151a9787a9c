"""``press``: the command line of the publishing pipeline.

Every expected failure prints one line (``error: <category>: <message> (<file>) — <hint>``)
and exits with a documented code; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from . import __version__
from .errors import EXIT_CODE_HELP, ExitCode, PipelineError
from .progress import Reporter

EPILOG = f"""exit status:
{EXIT_CODE_HELP}

Run 'press COMMAND --help' for the options of a command."""


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", type=Path, metavar="DIR",
                        help="the project directory (default: the nearest one with source/book.toml)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only warnings and errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="print more detail")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="press",
        description="Turn a manuscript into a structured DocBook book and its editions.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"press {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    extract = commands.add_parser(
        "extract", help="read a manuscript and write the book as DocBook 5 XML",
        description="Read a manuscript (UTF-8 text, .docx or .pdf) and write the book as DocBook 5.0 XML. "
                    "The book is validated first; an invalid book is never written.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    extract.add_argument("manuscript", nargs="?", type=Path,
                         help="the manuscript to read (default: the one source/book.toml names)")
    extract.add_argument("-o", "--output", type=Path, metavar="FILE",
                         help="where to write the DocBook XML (default: output/xml/book.xml)")
    extract.add_argument("--encoding", metavar="NAME",
                         help="text encoding of a plain-text manuscript that is not UTF-8 (e.g. cp1252)")
    _common(extract)
    extract.set_defaults(run=_run_extract)

    build = commands.add_parser(
        "build", help="run every stage, in order, from source/ into output/",
        description="Run every stage of the pipeline in order: extract (and the stages that follow it as "
                    "they exist) from source/ into output/.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    build.add_argument("--lang", action="append", metavar="LANG",
                       help="build only this language's editions (repeatable; default: every language of the book)")
    build.add_argument("--format", action="append", choices=["pdf", "epub"], metavar="FORMAT",
                       help="build only this format (pdf or epub; repeatable; default: every format)")
    build.add_argument("--drafts", action="store_true",
                       help="use machine drafts in the translated editions (each page says so)")
    build.add_argument("--strict", action="store_true", help="exit with status 11 when the build has warnings")
    _common(build)
    build.set_defaults(run=_run_build)
    return parser


def _reporter(args: argparse.Namespace) -> Reporter:
    return Reporter(quiet=args.quiet, verbose=args.verbose)


def _run_extract(args: argparse.Namespace) -> int:
    from .config import load_config
    from .extract import extract_book
    config = load_config(args.project)
    manuscript = args.manuscript.resolve() if args.manuscript else None
    output = args.output.resolve() if args.output else None
    extract_book(config, manuscript, output, encoding=args.encoding, reporter=_reporter(args))
    return ExitCode.OK


def _run_build(args: argparse.Namespace) -> int:
    from .build import FORMATS, BuildOptions, build
    options = BuildOptions(languages=tuple(args.lang) if args.lang else None,
                           formats=tuple(args.format) if args.format else FORMATS, drafts=args.drafts,
                           strict=args.strict)
    return build(args.project, reporter=_reporter(args), options=options)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    try:
        return int(args.run(args))
    except PipelineError as error:
        if args.debug:
            traceback.print_exc()
        print(error.one_line(), file=sys.stderr)
        return int(error.exit_code)
    except KeyboardInterrupt:
        print("error: interrupted; files being written were left as they were", file=sys.stderr)
        return 130
    except MemoryError:
        print("error: limit: ran out of memory; the input is too large for this machine", file=sys.stderr)
        return int(ExitCode.LIMIT)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
