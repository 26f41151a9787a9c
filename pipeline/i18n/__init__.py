"""Translation: the book's sentences as gettext catalogs per language, and machine drafts for review.

``prepare_catalogs`` (book.xml → merged ``locales/<lang>/*.po``) and ``draft_translations``
(empty entries → fuzzy machine drafts) are the two stages ``press build`` runs after extract.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import BookConfig
from ..errors import InputError
from ..progress import Reporter, plural
from ..safety import check_writable, parse_xml, read_input_bytes
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .segments import Segment

__all__ = ["prepare_catalogs", "draft_translations", "PreparedCatalogs"]


@dataclass
class PreparedCatalogs:
    segments: list[Segment]
    keep_terms: tuple[str, ...]


def prepare_catalogs(config: BookConfig, reporter: Reporter | None = None,
                     languages: tuple[str, ...] | None = None) -> PreparedCatalogs:
    """Segment ``output/xml/book.xml`` and merge the segments into the target languages' catalogs
    (``languages``, default all of them)."""
    reporter = reporter or Reporter(quiet=True)
    if not config.book_xml.is_file():
        raise InputError("the book has not been extracted yet", config.book_xml,
                         hint="run 'press extract' (or 'press build') first")
    root = parse_xml(read_input_bytes(config.book_xml, config.limits, what="book"), config.book_xml)
    from .catalogs import update_catalogs
    from .segments import book_keep_terms, extract_segments
    segments = extract_segments(root, config.translation)
    languages = config.target_languages if languages is None else languages
    check_writable(folders=[config.locales_dir / lang for lang in languages])  # before merging, and drafting after it
    update = update_catalogs(config, segments, languages)
    parts = len({segment.part for segment in segments})
    reporter.step("catalogs", f"{plural(len(segments), 'segment')} in {plural(parts, 'catalog')} per language "
                              f"({', '.join(languages) or 'none'}): wrote {len(update.written)}, "
                              f"unchanged {len(update.unchanged)}")
    for path, charset in update.other_charsets.items():
        shown = path.relative_to(config.project_dir) if path.is_relative_to(config.project_dir) else path
        reporter.step("catalogs", f"note: {shown} was read as {charset}, the charset its header declares; " + (
            "it was written back in UTF-8" if path in update.written else
            "it stays as it is until an entry changes, then press writes it in UTF-8"))
    return PreparedCatalogs(segments, book_keep_terms(root, config.translation))


def __getattr__(name: str):
    """``draft_translations`` loads the engines' code only when drafting is asked for (a no-op build
    imports this package just to look models up)."""
    if name == "draft_translations":
        from .draft import draft_translations
        return draft_translations
    raise AttributeError(name)
