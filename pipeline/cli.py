"""``press``: the command line of the publishing pipeline.

Every expected failure prints one line (``error: <category>: <message> (<file>) — <hint>``)
and exits with a documented code; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import signal
import sys
import traceback
from pathlib import Path
from types import FrameType
from typing import NoReturn

from . import __version__
from .errors import EXIT_CODE_HELP, ExitCode, PipelineError, Stopped, from_os_error
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
    extract.add_argument("--dump-blocks", action="store_true",
                         help="print the block stream the reader made of the manuscript (one block a line, "
                              "before any structuring) and write nothing")
    _common(extract)
    extract.set_defaults(run=_run_extract)

    build = commands.add_parser(
        "build", help="run every stage, in order, from source/ into output/",
        description="Run every stage in order, from source/ into output/: extract and repair, merge the "
                    "translation catalogs and draft where a model is installed, check the translations and write "
                    "output/reports/translation-status.html, render the PDF and EPUB editions (languages in "
                    "parallel; final editions use reviewed translations only), write output/manifest.json. Stages "
                    "whose inputs are unchanged are reused from output/.cache; each edition's render stops after "
                    "[limits] render_timeout_s.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    build.add_argument("--lang", action="append", metavar="LANG",
                       help="build only this language's editions (repeatable; default: every language of the book)")
    build.add_argument("--format", action="append", choices=["pdf", "printer", "epub"], metavar="FORMAT",
                       help="build only this format (pdf, printer or epub; repeatable; default: every format; "
                            "the printer's PDF only for the languages [print] printer_pdf names)")
    build.add_argument("--no-editions", action="store_true",
                       help="run the stages before the editions (extract, catalogs, drafts, translation checks) and "
                            "render none: the first job of a CI matrix whose other jobs render one edition each")
    build.add_argument("--drafts", action="store_true",
                       help="use machine drafts in the translated editions, which say so on every page and in their "
                            "metadata, written as <slug>-draft.pdf/.epub beside the final ones")
    build.add_argument("--strict", action="store_true", help="exit with status 11 when the build has warnings")
    build.add_argument("--single-pass", action="store_true",
                       help="lay each reader's PDF out as one WeasyPrint document (the reference renderer) instead "
                            "of in parts stitched together ([print] render = \"single\" says it in book.toml)")
    build.add_argument("--explain", action="store_true",
                       help="print the stages in order with what each reads (files, book.toml tables, code) and "
                            "writes, from the registry the cache keys and the manifest are made from; build nothing")
    build.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                       help="if another build is running in the project, wait this long for it (default: fail at "
                            "once with status 10)")
    _common(build)
    build.set_defaults(run=_run_build)
    _translation_commands(commands)
    _review_commands(commands)
    _memory_commands(commands)
    return parser


def _translation_commands(commands) -> None:
    translate = commands.add_parser(
        "translate", help="merge the catalogs and machine-draft their empty entries",
        description="Merge the book's sentences into locales/<lang>/*.po (translations are never lost), then "
                    "fill empty entries from the translation memory (locales/tm/<lang>.tmx: exact matches) and "
                    "with machine drafts, all marked fuzzy for review. Reviewed translations and existing drafts "
                    "are never touched.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    translate.add_argument("languages", nargs="*", metavar="LANG",
                           help="languages to draft (default: every language of the book but the source)")
    translate.add_argument("--redraft", action="store_true",
                           help="also redraft machine drafts that nobody has edited (never human work)")
    translate.add_argument("--beam-size", type=int, metavar="N", help="beam size (default: [translation] beam_size)")
    translate.add_argument("--batch-size", type=int, metavar="N",
                           help="segments per batch (default: [translation] batch_size)")
    translate.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                           help="if a build or another translation is running in the project, wait this long "
                                "for it (default: fail at once with status 10)")
    _common(translate)
    translate.set_defaults(run=_run_translate)

    doctor = commands.add_parser(
        "doctor", help="check this machine for everything the build needs, and say how to fix each gap",
        description="Check Python, Pango, ICU, the DocBook schema, the fonts of every edition, gettext, "
                    "EPUBCheck, the translation models and write access; print a fix for each gap.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(doctor)
    doctor.set_defaults(run=_run_doctor)

    status = commands.add_parser(
        "status", help="per language and catalog: untranslated, machine-drafted, reviewed",
        description="Count the catalogs' entries by state, per language and catalog, and write the page "
                    "output/reports/translation-status.html (every language, with bar charts) and the quality checks' "
                    "reports.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    status.add_argument("languages", nargs="*", metavar="LANG", help="languages to show (default: all)")
    _common(status)
    status.set_defaults(run=_run_status)

    models = commands.add_parser(
        "models", help="install, list or remove machine-translation models",
        description="Manage the models that draft translations: Argos Translate packages (.argosmodel) and "
                    "multilingual CTranslate2 model directories (NLLB-200, M2M-100, MADLAD-400).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = models.add_subparsers(dest="action", metavar="ACTION", required=True)
    install = actions.add_parser(
        "install", help="install a model by name, or from a path or URL",
        description="Install a model press knows by name (NAME: 'press models list --available' shows them; "
                    "downloaded from the Hugging Face hub or the Argos index, verified, then installed), an "
                    ".argosmodel file or URL, every package of an Argos index.json this book needs (file:// works for "
                    "an offline mirror), or a CTranslate2 model directory with its SentencePiece tokenizer. A book "
                    "language that no [translation.LANG] table names yet is set to the new model.")
    install.add_argument("source", metavar="NAME|PATH|URL")
    install.add_argument("--user", action="store_true", help="install for this user rather than this project")
    install.add_argument("--accept-license", action="store_true",
                         help="accept the model's licence where it restricts use (NLLB-200: CC-BY-NC-4.0, "
                              "non-commercial)")
    _common(install)
    install.set_defaults(run=_run_models_install)
    use = actions.add_parser(
        "use", help="make a model draft a language ([translation.LANG] in source/book.toml)",
        description="Write engine and model into [translation.LANG] of source/book.toml, keeping every comment "
                    "and the layout of the file.")
    use.add_argument("language", metavar="LANG", help="a target language of the book (km, ja, ...)")
    use.add_argument("name", metavar="NAME", help="an installed model, or one press knows by name")
    _common(use)
    use.set_defaults(run=_run_models_use)
    listing = actions.add_parser("list", help="list the installed models and each language's model status")
    listing.add_argument("--available", action="store_true",
                         help="list the models press can install by name instead (its registry)")
    _common(listing)
    listing.set_defaults(run=_run_models_list)
    remove = actions.add_parser("remove", help="remove an installed model")
    remove.add_argument("name", help="the model's name as 'press models list' shows it")
    remove.add_argument("--user", action="store_true", help="remove it from the user's models")
    _common(remove)
    remove.set_defaults(run=_run_models_remove)
    pin = actions.add_parser(
        "pin", help="(maintainers) record a registry model's commit and SHA-256s",
        description="Download NAME's files (network needed), resolve its revisions to commits and write them and "
                    "every file's SHA-256 into the model registry ($PRESS_MODEL_REGISTRY or press's own "
                    "pipeline/i18n/model_registry.toml), keeping its comments. Commit the result.")
    pin.add_argument("name", metavar="NAME")
    _common(pin)
    pin.set_defaults(run=_run_models_pin)


def _review_commands(commands) -> None:
    """``press review``: packages for translators' tools out, their work back into the catalogs."""
    review = commands.add_parser(
        "review", help="check translations, export review packages (XLIFF 2.1, Word), import reviewed files",
        description="Check the catalogs' translations, send them to reviewers in the tools they use (XLIFF 2.1 "
                    "for CAT tools, a bilingual Word table) and bring their work back: edited translations and "
                    "approvals become reviewed entries, comments become translator comments.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = review.add_subparsers(dest="action", metavar="ACTION", required=True)
    _review_check_command(actions)
    export = actions.add_parser(
        "export", help="write one review package per part of the book",
        description="Write one review package per part (chapter, front matter) from locales/LANG/*.po: "
                    "XLIFF 2.1 (<part>.xlf) or a bilingual Word table (<part>.docx); or the reviewed segments "
                    "as one translation memory, TMX 1.4b (<slug>-LANG.tmx), for 'press tm import' or a CAT tool.")
    export.add_argument("language", metavar="LANG", help="the target language (e.g. km, ja)")
    export.add_argument("--format", required=True, choices=["xliff", "docx", "tmx"], help="the package format")
    export.add_argument("--part", action="append", metavar="PART",
                        help="only this part (repeatable; e.g. ch1, foreword; default: every part)")
    export.add_argument("-o", "--output", type=Path, metavar="DIR",
                        help="where to write the packages (default: output/review/LANG/)")
    _common(export)
    export.set_defaults(run=_run_review_export)
    import_ = actions.add_parser(
        "import", help="merge reviewed packages back into the catalogs",
        description="Merge reviewed packages (.xlf or .docx) into the catalogs. Each file is checked whole first "
                    "and applied all or nothing; a segment whose source changed since the export is reported as "
                    "a conflict and left alone.")
    import_.add_argument("files", nargs="+", type=Path, metavar="FILE", help="returned .xlf or .docx files")
    import_.add_argument("--translator", metavar='"NAME <MAIL>"',
                         help="the reviewer, written as the changed catalogs' Last-Translator (their "
                              "PO-Revision-Date is set either way)")
    _common(import_)
    import_.set_defaults(run=_run_review_import)


def _memory_commands(commands) -> None:
    """``press tm``: the project's translation memory (locales/tm/LANG.tmx)."""
    memory = commands.add_parser(
        "tm", help="add a TMX file to the project's translation memory",
        description="The translation memory (locales/tm/LANG.tmx, TMX 1.4b) that 'press translate' consults before "
                    "the model: exact matches fill empty entries for review, fuzzy matches (85%% and up) are noted "
                    "beside them.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = memory.add_subparsers(dest="action", metavar="ACTION", required=True)
    import_ = actions.add_parser(
        "import", help="add a TMX file's translation units to the memory",
        description="Add the units of a TMX file (press review export --format tmx, another book, a CAT tool) to "
                    "locales/tm/LANG.tmx for every target language of the book it holds; a sentence the memory "
                    "already has takes the imported translation.")
    import_.add_argument("file", type=Path, metavar="FILE.tmx")
    _common(import_)
    import_.set_defaults(run=_run_tm_import)


def _run_tm_import(args: argparse.Namespace) -> int:
    from .config import load_config
    from .i18n.memory import import_memory
    from .lock import project_lock
    config = load_config(args.project)
    reporter = _reporter(args)
    with project_lock(config, activity="press tm import"):  # a build may be reading the memory
        for result in import_memory(config, args.file.resolve()):
            outcome = "wrote" if result.written else "unchanged:"
            reporter.step("tm", f"{result.language}: {result.added:,} added, {result.replaced:,} replaced, "
                                f"{result.known:,} already known; {outcome} "
                                f"{result.path.relative_to(config.project_dir).as_posix()}")
    return ExitCode.OK


def _review_check_command(actions) -> None:
    check = actions.add_parser(
        "check", help="report suspicious translations of one language",
        description="Check every translated entry of LANG's catalogs (reviewed, machine drafts, outdated): lost or "
                    "extra placeholders and note markers, numbers and URLs that differ from the source, copied or "
                    "untranslated text, suspicious lengths, and on reviewed entries the glossary "
                    "(locales/glossary.csv). Prints the findings per catalog and writes "
                    "output/reports/translation-check-LANG.txt and .json.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("language", metavar="LANG", help="the language to check (km, ja, ...)")
    check.add_argument("--strict", action="store_true", help="exit with status 11 when there are findings")
    _common(check)
    check.set_defaults(run=_run_review_check)


def _reporter(args: argparse.Namespace) -> Reporter:
    return Reporter(quiet=args.quiet, verbose=args.verbose)


def _run_extract(args: argparse.Namespace) -> int:
    from .config import load_config
    from .extract import extract_book
    config = load_config(args.project)
    manuscript = args.manuscript.resolve() if args.manuscript else None
    if args.dump_blocks:
        from .ingest import read_manuscript
        from .ingest.dump import dump_blocks
        read = read_manuscript(manuscript or config.manuscript, config.limits,
                               encoding=args.encoding or config.manuscript_encoding)
        sys.stdout.write(dump_blocks(read))
        return ExitCode.OK
    output = args.output.resolve() if args.output else None
    extract_book(config, manuscript, output, encoding=args.encoding, reporter=_reporter(args))
    return ExitCode.OK


def _run_build(args: argparse.Namespace) -> int:
    from .build import FORMATS, BuildOptions, build
    from .config import load_config
    if args.explain:
        from .stages import explain
        print(explain(load_config(args.project)))
        return ExitCode.OK
    if args.lang:  # a language the book lacks is a wrong argument: say so before any work
        languages = load_config(args.project).languages
        unknown = [code for code in args.lang if code not in languages]
        if unknown:
            print(f"error: usage: --lang {', '.join(unknown)}: not a language of this book (its languages: "
                  f"{', '.join(languages)}; [book] languages in source/book.toml)", file=sys.stderr)
            return ExitCode.USAGE
    if args.no_editions and args.format:
        print("error: usage: --no-editions renders no edition; --format chooses which to render", file=sys.stderr)
        return ExitCode.USAGE
    formats = () if args.no_editions else tuple(args.format) if args.format else FORMATS
    options = BuildOptions(languages=tuple(args.lang) if args.lang else None, formats=formats, drafts=args.drafts,
                           strict=args.strict, wait_seconds=args.wait, single_pass=args.single_pass)
    return build(args.project, reporter=_reporter(args), options=options)


def _languages(config, requested: list[str]) -> tuple[str, ...]:
    """The target languages a command names, checked before any work: one the book lacks is a usage error."""
    from .errors import UsageError
    unknown = [code for code in requested if code not in config.target_languages]
    if unknown:
        raise UsageError(f"not a target language of this book: {', '.join(unknown)}",
                         config.project_dir / "source" / "book.toml",
                         hint=f"the book's target languages are {', '.join(config.target_languages)} "
                              "([book] languages)")
    return tuple(requested) or config.target_languages


def _run_translate(args: argparse.Namespace) -> int:
    import dataclasses
    from .config import load_config
    from .i18n import draft_translations, prepare_catalogs
    from .lock import project_lock
    config = load_config(args.project)
    languages = _languages(config, args.languages)
    overrides = {name: value for name, value in (("beam_size", args.beam_size), ("batch_size", args.batch_size))
                 if value is not None}
    if any(value <= 0 for value in overrides.values()):
        print("error: usage: --beam-size and --batch-size must be positive", file=sys.stderr)
        return ExitCode.USAGE
    config = dataclasses.replace(config, translation=dataclasses.replace(config.translation, **overrides))
    reporter = _reporter(args)
    with project_lock(config, args.wait, activity="press translate"):
        catalogs = prepare_catalogs(config, reporter)
        draft_translations(config, languages, catalogs.keep_terms, redraft=args.redraft, reporter=reporter,
                           require_models=True)
    return ExitCode.OK


def _run_doctor(args: argparse.Namespace) -> int:
    """Inside a project, everything; outside one, the machine still (a missing project is not a failure)."""
    from .config import find_project_dir, load_config
    from .doctor import doctor
    if args.project is None:
        try:
            find_project_dir()
        except PipelineError:
            return doctor(None)
    return doctor(load_config(args.project))


def _run_status(args: argparse.Namespace) -> int:
    from .config import load_config
    from .i18n.catalogs import COUNTED as STATES
    from .review.reports import STATUS_PAGE, review_statuses, write_status_pages
    config = load_config(args.project)
    languages = _languages(config, args.languages)
    checked = review_statuses(config, config.target_languages)
    statuses = {status.language: status for status in checked}
    for language in languages:
        counts = statuses[language].counts if language in statuses else {}
        if not counts:
            print(f"{language}: no catalogs yet (run 'press translate' or 'press build')")
            continue
        print(f"{language}:")
        print(f"  {'catalog':<20}" + "".join(f"{state:>14}" for state in STATES))
        for part, tally in counts.items():
            print(f"  {part:<20}" + "".join(f"{tally[state]:>14,}" for state in STATES))
        print(f"  {'total':<20}" + "".join(f"{sum(t[state] for t in counts.values()):>14,}" for state in STATES))
    written = write_status_pages(config, checked)  # after the counts: a read-only project still shows them
    if not args.quiet:
        print(f"wrote output/reports/{STATUS_PAGE}" if written else f"output/reports/{STATUS_PAGE} unchanged")
    return ExitCode.OK


def _run_review_check(args: argparse.Namespace) -> int:
    from .config import load_config
    from .review.checks import check_translations
    from .review.reports import write_check_reports
    config = load_config(args.project)
    (language,) = _languages(config, [args.language])
    result = check_translations(config, language)
    text = write_check_reports(config, result)
    if not args.quiet or result.findings:
        sys.stdout.write(text)
    if args.strict and result.findings:
        print(f"error: strict: {len(result.findings)} translation findings; --strict makes them fatal", file=sys.stderr)
        return ExitCode.STRICT
    return ExitCode.OK


def _run_review_export(args: argparse.Namespace) -> int:
    from .config import load_config
    from .review import export_review
    config = load_config(args.project)
    output = args.output.resolve() if args.output else None
    export_review(config, args.language, args.format, args.part, output, reporter=_reporter(args))
    return ExitCode.OK


def _run_review_import(args: argparse.Namespace) -> int:
    """Each file on its own (all or nothing per file); an error in one still lets the others through."""
    from .config import load_config
    from .lock import project_lock
    from .review import import_review
    from .review.apply import check_translator
    try:
        translator = check_translator(args.translator) if args.translator else None
    except PipelineError as error:  # a malformed option: a usage error, found before anything is read
        print(f"error: usage: {error.message} — {error.hint}", file=sys.stderr)
        return ExitCode.USAGE
    config = load_config(args.project)
    reporter = _reporter(args)
    status = ExitCode.OK
    # a build must not merge the catalogs while they are being written
    with project_lock(config, activity="press review import"):
        for path in args.files:
            try:
                import_review(config, path.resolve(), reporter=reporter, translator=translator)
            except (PipelineError, OSError) as error:
                if args.debug:
                    traceback.print_exc()
                problem = error if isinstance(error, PipelineError) else from_os_error(error, action="read or write")
                print(problem.one_line(), file=sys.stderr)
                status = status or problem.exit_code
    return status


def _run_models_install(args: argparse.Namespace) -> int:
    from .config import load_config
    from .i18n.models import install_models
    config = load_config(args.project)
    reporter = _reporter(args)
    installed = install_models(config, args.source, user=args.user, accept_license=args.accept_license,
                               quiet=args.quiet, warn=lambda message: reporter.warn("models", message))
    for model in installed:
        reporter.step("models", f"installed {model.kind} {model.name} ({model.source}→{', '.join(model.targets)}) "
                                f"in {model.path} sha256:{model.sha256[:16]}…")
        _configure_new_languages(config, model, reporter)
    return ExitCode.OK


def _configure_new_languages(config, model, reporter: Reporter) -> None:
    """A language no [translation.LANG] names gets the new model; a configured one is left, with the command
    that would switch it."""
    from .i18n.models import write_language_model
    for language in model.targets:
        if language not in config.target_languages:
            continue
        choice = config.translation.models.get(language)
        if choice is None:
            write_language_model(config, language, model.kind, model.name)
            reporter.step("models", f"{language}: now drafted by {model.name} ([translation.{language}] written in "
                                    "source/book.toml)")
        elif choice.model != model.name:
            reporter.step("models", f"{language}: still drafted by {choice.model} ([translation.{language}]); "
                                    f"'press models use {language} {model.name}' switches to this one")


def _run_models_use(args: argparse.Namespace) -> int:
    from .config import load_config
    from .i18n.models import language_status, use_model
    config = load_config(args.project)
    engine, installed = use_model(config, args.language, args.name)
    status = language_status(load_config(args.project), args.language)
    _reporter(args).step("models", f"{args.language}: [translation.{args.language}] now names {engine} {args.name}"
                                   + ("" if installed else f" (not installed yet — {status.fix})"))
    return ExitCode.OK


def _run_models_list(args: argparse.Namespace) -> int:
    from .config import load_config
    from .i18n.models import language_status, list_models
    if args.available:
        return _list_registry()
    config = load_config(args.project)
    serving = {(choice.engine, choice.model): language for language, choice in config.translation.models.items()}
    models = list_models(config)
    if not models:
        print("no models installed; 'press models install NAME' installs one ('press models list --available')")
    for model in models:
        used = serving.get((model.kind, model.name))
        print(f"{model.kind:<12} {model.name:<32} {model.source}→{','.join(model.targets) or '-':<8} "
              f"{model.scope:<8} sha256:{model.sha256[:16]}  {'drafts ' + used if used else 'not configured'}")
    for language in config.target_languages:
        status = language_status(config, language, models)
        print(f"{language}: {status.state}: {status.detail}" + (f" — {status.fix}" if status.fix else ""))
    return ExitCode.OK


def _list_registry() -> int:
    from .i18n.registry import load_registry
    for model in load_registry().values():
        print(f"{model.name:<26} {model.engine:<12} {model.license:<14} {model.size:<14} "
              f"{'pinned' if model.pinned else 'not pinned':<10} {model.family}"
              + ("  (needs --accept-license)" if model.accept_license else ""))
    return ExitCode.OK


def _run_models_pin(args: argparse.Namespace) -> int:
    from .i18n.registry import pin
    model = pin(args.name, quiet=args.quiet)
    _reporter(args).step("models", f"pinned {model.name} in {model.registry}: "
                                   + ", ".join(f"{f.path}@{f.revision[:12]} sha256:{(f.sha256 or '')[:16]}…"
                                               for f in model.files)
                                   + (f"{model.argos.package} {model.argos.version} sha256:{(model.argos.sha256 or '')[:16]}…"
                                      if model.argos else ""))
    return ExitCode.OK


def _run_models_remove(args: argparse.Namespace) -> int:
    from .config import load_config
    from .i18n.models import remove_model
    config = load_config(args.project)
    model = remove_model(config, args.name, user=args.user)
    _reporter(args).step("models", f"removed {model.kind} {model.name} from {model.path}")
    return ExitCode.OK


def missing_dependency_line(module: str) -> str:
    """One line for a Python package missing from the interpreter running press (e.g. the system Python)."""
    return (f"error: environment: the Python package providing '{module.split('.')[0]}' is not installed for "
            f"{sys.executable} — run press from the project's environment: ./press COMMAND, or "
            ". .venv/bin/activate first (scripts/setup creates .venv)")


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _raise_stopped(number: int, frame: FrameType | None) -> None:
    ignore_stop_signals()  # once: a second Ctrl-C must not cut short the clean-up the first one started
    raise Stopped(number)


def stop_on_signals() -> None:
    """SIGTERM and SIGINT stop the run by raising ``Stopped`` in the main thread: ``finally`` blocks run,
    render workers are stopped, atomic writes drop their temporary files, and the command line prints
    one line and exits 130 (SIGINT) or 143 (SIGTERM)."""
    for number in STOP_SIGNALS:
        signal.signal(number, _raise_stopped)


def ignore_stop_signals() -> None:
    """From here on SIGTERM and SIGINT change nothing (the run is over, or is already stopping)."""
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_IGN)


def main(argv: list[str] | None = None) -> int:
    """The ``press`` command line. Run as the program (no ``argv``), the process ends here, without the
    interpreter's teardown (see ``_leave``); called with ``argv`` (the tests), it returns the exit status."""
    code = _main(argv)
    if argv is None and sys.getprofile() is None and sys.gettrace() is None:  # (a profiler's report is written
        _leave(code)                                                           # at the interpreter's exit)
    return code


def _leave(code: int) -> NoReturn:
    """End the process once its work is done and written: threads joined, exit handlers run (the worker
    pools', logging's, temporary folders'), standard streams flushed; then no teardown of the heap. Freeing
    every object of a render one by one took a tenth of a second after the build had said it was done
    (3 % of a cold English PDF), and every file press writes is already closed and renamed into place."""
    import atexit
    import os
    import threading
    shutdown = getattr(threading, "_shutdown", None)  # what the interpreter's exit runs first: the worker pools'
    if shutdown is not None:                           # exit hooks, then every non-daemon thread joined
        shutdown()
    else:
        for thread in threading.enumerate():
            if thread is not threading.main_thread() and not thread.daemon:
                thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: what could be said was said
            code = code or int(ExitCode.OUTPUT)
    os._exit(code)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    stop_on_signals()  # SIGTERM and SIGINT: stop the workers, say what was kept, exit 143 or 130
    try:
        return int(args.run(args))
    except PipelineError as error:
        if args.debug:
            traceback.print_exc()
        print(error.one_line(), file=sys.stderr)
        return int(error.exit_code)
    except ModuleNotFoundError as error:
        if (error.name or "pipeline").split(".")[0] == "pipeline":
            raise  # press's own module missing: a bug or a broken checkout, show the traceback
        print(missing_dependency_line(error.name or "?"), file=sys.stderr)
        return int(ExitCode.ENVIRONMENT)
    except KeyboardInterrupt as interrupt:
        ignore_stop_signals()
        stopped = interrupt if isinstance(interrupt, Stopped) else Stopped(signal.SIGINT)
        if args.debug:
            traceback.print_exc()
        print(stopped.one_line(), file=sys.stderr)
        return int(stopped.exit_code)
    except MemoryError:
        print("error: limit: ran out of memory; the input is too large for this machine", file=sys.stderr)
        return int(ExitCode.LIMIT)
    except OSError as error:  # the machine, not the input: a full disk or a file press may not touch
        if args.debug:
            traceback.print_exc()
        problem = from_os_error(error, action="read or write")
        print(problem.one_line(), file=sys.stderr)
        return int(problem.exit_code)
    finally:
        if argv is None:  # the program itself: its work is over, so a late signal has nothing left to stop
            ignore_stop_signals()
        else:  # called in-process: the caller gets its own handlers back
            for number, handler in previous.items():
                signal.signal(number, handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
