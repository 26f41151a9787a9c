"""Repairs and typography as transforms with a priority: the order they run in, and what they change.

On the real manuscript: the sequence sorted by priority gives exactly the book the extract stage
writes, whatever order the list is written in; a repair added at a priority runs at that place in
every chapter; and quotes are curled in the editions' books, never in book.xml or the catalogs.
"""

from __future__ import annotations

import copy
import re

from babel.messages.pofile import read_po

from conftest import NS, ROOT, chapter, run_press
from pipeline.config import load_editorial
from pipeline.docbook import serialize, text_of
from pipeline.findings import Decisions, Findings
from pipeline.i18n.localize import localize
from pipeline.repair import REPAIRS, book_year
from pipeline.repair.report import record
from pipeline.repair.transforms import RepairContext
from pipeline.transforms import BOOK, CHAPTER, ENTRIES, Transform, Transformer, chapters, entry_lists
from pipeline.typography import smart_quotes


def _repair(structured_book, config, transforms, structuring=()) -> tuple[bytes, list[dict]]:
    """The structured manuscript repaired by ``transforms``, with the editor's decisions: book and the
    repairs' findings. ``structuring`` are the findings the stage had before repair (repairs read the
    page-break joins to place a finding inside a joined paragraph, and ids count what came before)."""
    root = copy.deepcopy(structured_book)
    findings = Findings(Decisions.from_editorial(load_editorial(config), config.editorial_file))
    for finding in structuring:
        findings._add(copy.copy(finding))
    before = len(findings)
    Transformer(transforms).apply(root, RepairContext(findings, book_year(root)))
    return serialize(root), [record(finding) for finding in findings[before:]]


def test_the_sequence_is_sorted_by_priority_and_gives_the_book_extract_writes(structured_book, structured, config,
                                                                              extracted):
    in_order, findings = _repair(structured_book, config, REPAIRS, structured.findings)
    assert in_order == extracted.output.read_bytes(), "the transforms make exactly the book the stage writes"
    backwards = _repair(structured_book, config, tuple(reversed(REPAIRS)), structured.findings)
    assert backwards == (in_order, findings), "priorities decide the order, not the list"
    assert len(findings) > 50
    stage = [record(finding) for finding in extracted.findings]
    start = stage.index(findings[0])
    assert stage[start:start + len(findings)] == findings, "the same findings as the stage's, ids and order"
    chapters_seen = [f["chapter"] for f in findings if f["type"] in ("inconsistent-style", "unbalanced-quote",
                                                                      "repeated-citation", "two-digit-year")]
    assert chapters_seen == sorted(chapters_seen, key=lambda scope: int(scope[2:])), \
        "chapter repairs run chapter by chapter: one chapter's findings before the next one's"


class Recorder(Transform):
    """Records which unit it was given, and whether the chapter's citations were marked by then."""

    def __init__(self, name: str, priority: int, unit: str, log: list) -> None:
        self.name, self.default_priority, self.unit, self.log = name, priority, unit, log
        super().__init__()

    def apply(self, target, ctx) -> None:
        if self.unit == ENTRIES:
            self.log.append((self.name, ctx.scope, len(target)))
        elif self.unit == CHAPTER:
            marks = len(target.xpath(".//processing-instruction('cite')"))
            self.log.append((self.name, ctx.scope, marks))
        else:
            self.log.append((self.name, ctx.scope, None))


def test_a_new_repair_runs_at_its_priority_in_every_chapter(structured_book, config):
    log: list = []
    added = [Recorder("first", 5, BOOK, log), Recorder("entries-a", 215, ENTRIES, log),
             Recorder("entries-b", 216, ENTRIES, log), Recorder("before-citations", 255, CHAPTER, log),
             Recorder("after-citations", 265, CHAPTER, log), Recorder("last", 999, BOOK, log)]
    _repair(structured_book, config, REPAIRS + tuple(added))
    ids = [chapter.get("{http://www.w3.org/XML/1998/namespace}id") for chapter in chapters(structured_book)]
    assert len(ids) == 6
    expected = [("first", None, None)]
    for scope, element in zip(ids, chapters(structured_book)):
        for entries in entry_lists(element):
            expected += [("entries-a", scope, len(entries)), ("entries-b", scope, len(entries))]
    assert [entry for entry in log if entry[0].startswith("entries")] == expected[1:]
    assert log[0] == ("first", None, None) and log[-1] == ("last", None, None)
    before = {scope: marks for name, scope, marks in log if name == "before-citations"}
    after = {scope: marks for name, scope, marks in log if name == "after-citations"}
    assert set(before) == set(after) == set(ids)
    assert not any(before.values()), "at 255 the chapter's citations are not marked yet"
    assert sum(after.values()) > 150, "at 265 the citations transform (260) has marked them"
    assert all(after[scope] > 0 for scope in ids if chapter(structured_book, int(scope[2:])).xpath(
        ".//db:footnote", namespaces=NS))


def test_explain_lists_the_transforms_in_the_order_they_run():
    result = run_press("build", "--explain", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    extract = result.stdout.split("\ncatalogs:")[0]
    listed = re.findall(r"^\s+(\d+) ([a-z-]+)\s+(book|chapter|entries)\s", extract, re.M)
    assert [name for _, name, _ in listed] == [t.name for t in sorted(REPAIRS, key=lambda t: t.priority)]
    assert [int(priority) for priority, _, _ in listed] == sorted(int(priority) for priority, _, _ in listed)
    assert re.search(r"^pdf-en:(?:.|\n)*?^\s+850 smart-quotes\s+book\s", result.stdout, re.M)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"^\s+850 smart-quotes\s", readme, re.M) and re.search(r"^\s+260 citations\s+chapter\s", readme, re.M)


# --------------------------------------------------------------------------- typography


def test_smart_quotes_open_after_a_space_or_bracket_and_close_otherwise():
    assert smart_quotes('He said "the \'new\' order" (\'Asia\').') == "He said “the ‘new’ order” (‘Asia’)."
    assert smart_quotes("Japan's role") == "Japan’s role"
    assert smart_quotes('"', before="d") == "”" and smart_quotes('"', before="(") == "“"


def _note(root, chapter_number: int, label: str):
    return chapter(root, chapter_number).xpath(f".//db:footnote[@label='{label}']/db:para",
                                               namespaces=NS)[0]


def test_quotes_are_curled_in_the_editions_books_not_in_book_xml(book, config):
    """The repaired book keeps the manuscript's quotes; every edition's book has them curled, block by block:
    a note that opens with a quoted title opens with “ (the HTML writer, setting notes after the chapter's
    text, gave it the closing ” of whatever it had set last)."""
    assert text_of(_note(book, 1, "9")).startswith('"Diplomatic Bluebook 2014"')
    for lang in ("en", "km", "ja"):
        edition = localize(book, lang, config).book
        assert text_of(_note(edition, 1, "9")).startswith("“Diplomatic Bluebook 2014”"), lang
        assert text_of(_note(edition, 1, "46")).startswith("“Prime Minister Kishida"), lang
        paragraphs = [text_of(p) for p in edition.xpath("//db:para[not(ancestor::db:footnote)]", namespaces=NS)]
        assert not [p for p in paragraphs if '"' in p or re.search(r"\w'\w", p)], f"{lang}: a straight quote left"
        assert any("Japan’s" in p for p in paragraphs)
    printed_urls = [link for link in localize(book, "en", config).book.iter("{http://docbook.org/ns/docbook}link")
                    if link.text and link.text == link.get("{http://www.w3.org/1999/xlink}href")]
    assert printed_urls and not [link.text for link in printed_urls if re.search("[“”‘’]", link.text)], \
        "a printed URL keeps its characters"


def test_the_catalogs_msgids_keep_the_manuscripts_quotes(book, config):
    """Curling happens after localization, so a sentence's msgid is the manuscript's: the committed catalogs
    still match the book, and their many apostrophes are not turned into changed entries."""
    from pipeline.i18n.segments import extract_segments
    segments = {(segment.id, segment.text) for segment in extract_segments(book, config.translation)}
    committed = [(message.context, message.id) for message in read_po((ROOT / "locales/km/ch1.po").open("rb"))
                 if message.id]
    straight = [entry for entry in committed if "'" in entry[1] or '"' in entry[1]]
    assert len(straight) > 20 and set(straight) <= segments


def test_quotes_are_decided_block_by_block_and_typed_characters_are_kept():
    """A block starts afresh; inside it the context runs through inline markup but not through a note (the text
    after a note call goes on from the word before it); URLs, code and remarks keep what was typed."""
    from pipeline.docbook import XLINK_NS, el
    from pipeline.typography import educate
    url = "https://a.org/it's"
    first = el("para", "He wrote ", el("emphasis", text="'Asia'"), "'s story",
               el("footnote", el("para", text='"Title," 2020.')), ' and "more".')
    second = el("para", '"Opening" after a paragraph that ended in a full stop.')
    third = el("para", "See ", el("link", text=url, attrs={f"{{{XLINK_NS}}}href": url}), " and ",
               el("code", text="x = 'y'"), el("remark", text="an 'aside'"), "'s end.")
    chapter_element = el("chapter", el("info", el("title", text="Japan's 'role'")), first, second, third)
    educate(chapter_element)
    assert text_of(chapter_element.find("db:info/db:title", NS)) == "Japan’s ‘role’"
    assert "".join(first.itertext()) == "He wrote ‘Asia’’s story“Title,” 2020. and “more”."
    assert text_of(second) == "“Opening” after a paragraph that ended in a full stop."
    assert "".join(third.itertext()) == f"See {url} and x = 'y'an 'aside'’s end."
