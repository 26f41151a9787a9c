"""The editor's report names every defect of the real manuscript where it is (issue 19).

Each kind is counted, and each finding's lines are checked against source/manuscript.txt itself. The
expected lines below were found by reading the manuscript, not copied from the report: the tests
re-read each of those lines and check that it holds what the finding says.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys

import pytest

from conftest import CHILD_PYTHONPATH, MANUSCRIPT, ROOT, chapter, copy_project, run_press
from pipeline.config import load_config
from pipeline.docbook import NS, text_of
from pipeline.extract import extract_book
from pipeline.textrules import ends_sentence

SOURCE = MANUSCRIPT.read_text(encoding="utf-8").split("\n")


def line(number: int) -> str:
    return SOURCE[number - 1]


def of_type(extracted, kind: str) -> list:
    return [f for f in extracted.findings if f.type == kind]


# --------------------------------------------------------------------------- repeated references

# (chapter, note, its line) for every note that cites a work an earlier note of its chapter cited first;
# an "Ibid." (ch1 38, ch2 10 and 23, ch3 2) has a finding of its own and is not repeated here.
REPEATS = [
    ("ch1", "14", 281), ("ch1", "19", 287), ("ch1", "34", 305), ("ch1", "37", 311), ("ch1", "39", 315),
    ("ch1", "40", 317), ("ch1", "43", 323), ("ch1", "45", 327), ("ch1", "46", 329), ("ch1", "47", 331),
    ("ch1", "48", 333),
    ("ch2", "6", 440), ("ch2", "11", 445), ("ch2", "20", 460),
    ("ch3", "5", 638),
    ("ch5", "6", 1046), ("ch5", "13", 1053), ("ch5", "16", 1056), ("ch5", "17", 1057), ("ch5", "18", 1058),
    ("ch5", "19", 1060), ("ch5", "21", 1062), ("ch5", "22", 1063), ("ch5", "23", 1064), ("ch5", "32", 1073),
    ("ch5", "48", 1091), ("ch5", "49", 1092),
    ("ch6", "8", 1288), ("ch6", "17", 1298), ("ch6", "19", 1300), ("ch6", "22", 1303), ("ch6", "23", 1304),
    ("ch6", "27", 1308), ("ch6", "30", 1312),
]


def test_each_repeated_note_is_a_finding_at_its_own_line(extracted):
    repeats = of_type(extracted, "repeated-citation")
    found = sorted((f.chapter, f.message.split()[1], f.lines[0]) for f in repeats)
    assert found == sorted(REPEATS)
    assert all(f.lines == [f.line] for f in repeats)
    for finding in repeats:
        note = finding.message.split()[1]
        assert re.match(rf"^(- )?{note} ", line(finding.line)), (note, line(finding.line))
        first = finding.data["first"]
        named = re.findall(rf"\b{first} \(line (\d+)\)", finding.message)
        assert named and re.match(rf"^(- )?{first} ", line(int(named[0])))  # the group's first note, by its line
        assert set(finding.data["others"]) == set(finding.data["notes"]) - {note}
    singh = next(f for f in repeats if f.chapter == "ch1" and f.line == 315)
    assert "8 (line 273), 34 (line 305), 39 (line 315)" in singh.message


# --------------------------------------------------------------------------- joins

# URL joins: a URL on the line after its note, or after a blank line (a page break: ch2 note 16)
URL_JOINS = [("ch1", [263, 264]), ("ch1", [268, 269]), ("ch1", [271, 272]), ("ch1", [273, 274]),
             ("ch1", [277, 278]), ("ch2", [450, 452]), ("ch5", [1041, 1042]), ("ch5", [1044, 1045])]


def test_every_url_join_is_reported_with_its_lines(extracted):
    joins = [(f.chapter, f.lines) for f in of_type(extracted, "split-url")]
    assert joins == URL_JOINS
    for _, (first, second) in URL_JOINS:
        assert re.match(r"^- \d+ ", line(first)) and re.match(r"^<?https?://", line(second))
        assert all(not line(n).strip() for n in range(first + 1, second))
    assert "blank line" in next(f.message for f in of_type(extracted, "split-url") if f.lines == [450, 452])


def test_every_join_is_a_finding(extracted, book):
    joins = [f for f in extracted.findings if f.type in ("page-break-join", "split-url")]
    pairs = {tuple(f.lines) for f in joins}
    assert len(pairs) == len(joins) == 74  # 66 paragraph, list item and table row joins, 8 URL joins
    counts = {}
    for finding in of_type(extracted, "page-break-join"):
        counts[finding.chapter] = counts.get(finding.chapter, 0) + 1
    assert counts == {"acknowledgements": 1, "book-outline": 1, "executive-summary": 2, "ch1": 9, "ch2": 9,
                      "ch3": 9, "ch4": 13, "ch5": 10, "ch6": 12}
    for first, second in pairs:  # each is a cut: blank lines (a page break) or none between, no sentence's end
        assert line(first).strip() and line(second).strip()
        assert all(not line(n).strip() for n in range(first + 1, second))
        before = line(first).rstrip()
        assert not ends_sentence(before) or before.endswith(":") or line(second).lstrip().startswith(
            ("<http", "http", "\t")), (first, before[-40:])
    # from the source alone: a line followed, across blank lines, by one that starts in lower case is cut
    for number in range(1, len(SOURCE)):
        following = number + 1
        if not line(number).strip() or line(following).strip():
            continue
        while following < len(SOURCE) and not line(following).strip():
            following += 1
        rest = line(following).strip()
        if rest[:1].islower() and not rest.startswith("www."):
            assert (number, following) in pairs, (number, following)
    # and every element the book made from several lines was made by reported joins
    for pi in book.xpath("//processing-instruction('src')"):
        span = re.search(r'line="(\d+)" to-line="(\d+)"', pi.text)
        if span:
            assert (int(span.group(1)), int(span.group(2))) in pairs, pi.text


# --------------------------------------------------------------------------- author-date citations

AUTHOR_DATE = [  # (chapter, line, citation, the note marker right after it, if any)
    ("ch3", 563, "(JICA Annual Report 2023)", None), ("ch3", 567, "(JICA Statistical Data 2023)", None),
    ("ch3", 571, "Susan Strange (1988)", None), ("ch3", 575, "OECD (2022)", None),
    ("ch3", 575, "World Bank (2023)", None), ("ch3", 594, "(OECD 2025)", "16"), ("ch3", 600, "Nye (2004)", None),
    ("ch3", 608, "(MOFA 2015 Policy Speech)", None),
    ("ch5", 937, "(AMRO 2025)", None), ("ch5", 943, "George, et al. (2025)", "21"), ("ch5", 947, "AMRO (2025)", None),
    ("ch5", 963, "(Oikawa 2024)", "30"), ("ch5", 990, "(OECD, 2023)", None),
    ("ch5", 995, "(World Economic Forum, 2026)", None), ("ch5", 1023, "Brain & Company (2025)", None),
]


def test_author_date_citations_in_numbered_note_chapters_are_flagged(extracted, book):
    found = [(f.chapter, f.line, f.before, f.data.get("marker")) for f in of_type(extracted, "author-date-citation")]
    assert found == AUTHOR_DATE
    markers = {"16": "¹⁶", "21": "²¹", "30": "³⁰"}
    for _, number, citation, marker in AUTHOR_DATE:
        assert citation in line(number), (number, citation)
        following = line(number).split(citation, 1)[1]
        assert following.startswith(markers[marker]) if marker else not following.startswith(tuple("¹²³⁴⁵⁶⁷⁸⁹⁰"))
    assert all(f.action == "flagged" and f.after is None for f in of_type(extracted, "author-date-citation"))
    # never a note invented: the chapters keep the notes they had, and the citations stay in the text
    assert [len(chapter(book, n).xpath(".//db:footnote", namespaces=NS)) for n in (3, 5)] == [21, 49]
    assert "(JICA Annual Report 2023)" in text_of(chapter(book, 3))
    # chapter 4 cites by author and date throughout ("Vientiane Vision (2016)" is a name and a year): not flagged
    assert not [f for f in of_type(extracted, "author-date-citation") if f.chapter in ("ch1", "ch2", "ch4", "ch6")]


# --------------------------------------------------------------------------- lists: style, numbers, markers


def test_a_list_that_changes_style_is_reported_once_where_it_changes(extracted):
    changes = [(f.chapter, f.line) for f in of_type(extracted, "list-style-change")]
    assert changes == [("ch1", 301), ("ch2", 454), ("ch3", 648)]
    for finding in of_type(extracted, "list-style-change"):
        number = finding.line
        assert re.match(r"^\d+ ", line(number)) and not line(number - 1).strip()  # bare "N", after a blank line
        previous = max(n for n in range(1, number) if re.match(r"^- \d+ ", line(n)))
        assert int(line(number).split()[0]) == int(line(previous).split()[1]) + 1  # the next note, new style
        assert finding.lines[-1] == number and re.match(r"^- 1 ", line(finding.lines[0]))


def test_a_printed_number_used_twice_is_found_where_the_second_is(extracted):
    flagged = [(f.chapter, f.line) for f in of_type(extracted, "duplicate-number") if f.action == "flagged"]
    assert flagged == [("ch4", 870)]
    assert line(869).startswith("- 3 ") and line(870).startswith("- 3 ")


def test_uncited_notes_and_repeated_numbers_are_found_in_every_chapter(tmp_path):
    """Three chapters, each with the defects: a note no marker cites, a number printed twice (in a list of
    numbered notes, and in an author-date list the text does not cite), and a marker without a note."""
    text = """Chapter 1

The First

Introduction

A claim with a source.¹ Another one.²

References

- 1 Smith, Ann. "One Work". 2001.
- 2 Jones, Bob. "Two Work". 2002.
- 2 Brown, Cy. "Twice Numbered". 2003.
- 3 Green, Di. "Never Cited". 2004.

Chapter 2

The Second

Introduction

Again a claim.¹ And more.² A marker with no note.⁴

References

- 1 White, Ed. "Three Work". 2005.
- 2 Black, Flo. "Four Work". 2006.
- 3 Gray, Gus. "Also Never Cited". 2007.
- 3 Blue, Hal. "Numbered Twice". 2008.

Chapter 3

The Third

Introduction

This chapter cites by author and date, as Smith (2001) does.

Bibliography

- 1 Smith, Ann. 2001. One Work. London: Press.
- 1 Jones, Bob. 2002. Two Work. London: Press.
"""
    path = tmp_path / "three.txt"
    path.write_text(text, encoding="utf-8")
    lines = text.split("\n")
    result = extract_book(load_config(ROOT), manuscript=path, output=tmp_path / "three.xml")
    at = {(f.type, f.chapter, f.line) for f in result.findings}

    def number(prefix: str) -> int:
        return lines.index(next(text_line for text_line in lines if text_line.startswith(prefix))) + 1

    assert ("note-without-marker", "ch1", number("- 3 Green")) in at
    assert ("note-without-marker", "ch2", number("- 3 Gray")) in at
    assert ("duplicate-number", "ch1", number("- 2 Brown")) in at
    assert ("duplicate-number", "ch2", number("- 3 Blue")) in at
    assert ("duplicate-number", "ch3", number("- 1 Jones")) in at
    assert ("marker-without-note", "ch2", number("Again a claim")) in at  # and a marker is found where it is


# --------------------------------------------------------------------------- spelling


@pytest.mark.skipif(shutil.which("hunspell") is None, reason="hunspell is not installed (scripts/setup installs it)")
def test_spelling_pass_proposes_and_never_applies(extracted, book):
    spelling = of_type(extracted, "spelling")
    words = [(f.line, f.before) for f in spelling]
    assert (831, "Défense") in words and (1031, "ecommerce") in words
    suggestions = {f.before: f.data["suggestions"] for f in spelling}
    assert suggestions["Défense"][0] == "Defense" and suggestions["ecommerce"][0] == "e-commerce"
    for number, word in words:  # each word is on the line the finding names, as a whole word
        assert re.search(rf"(?<![^\W\d_]){re.escape(word)}(?![^\W\d_])", line(number)), (number, word)
    assert all(f.action == "flagged" for f in spelling)
    assert "Défense Engagement and Coordinated Strategic Planning" in text_of(chapter(book, 4))  # not applied
    assert "ecommerce" in text_of(chapter(book, 5))
    # the book's names, acronyms and cited authors are its extra word list: none of them is queried
    assert not {"ASEAN", "Kimlong", "Chheng", "Panizales", "ReCAAP", "Fukuda", "Menghour", "Timor", "Leste",
                "Raúl", "Prebisch", "Suos"} & {word for _, word in words}
    assert len(spelling) == 18  # 13 words the dictionaries lack (geoeconomic, minilateral, …), some more than once


# --------------------------------------------------------------------------- the report itself


def test_every_finding_carries_its_lines_and_the_report_stays_readable(tmp_path):
    import json
    project = copy_project(tmp_path)
    result = run_press("extract", cwd=project)
    assert result.returncode == 0, result.stderr
    report = json.loads((project / "output/reports/repair.json").read_text())
    for finding in report["findings"]:
        assert isinstance(finding["lines"], list)
        if finding["line"] is not None:
            assert finding["lines"] and all(1 <= n <= len(SOURCE) for n in finding["lines"])
    markdown = (project / "output/reports/repair.md").read_text()
    assert "## Overview" in markdown and "| Chapter 3 |" in markdown
    chapter_three = markdown.split("## Chapter 3\n", 1)[1].split("\n## ", 1)[0]
    assert "| author-date-citation | 8 | 0 |" in chapter_three  # counted by kind first
    details = re.search(r"<details open><summary><b>author-date-citation</b> \(8\): lines 563, 567, 571, 575, "
                        r"594, 600, 608</summary>\n\n(.*?)\n</details>", chapter_three, re.S)
    assert details and len([row for row in details.group(1).splitlines() if row.startswith("| R")]) == 8
    # reader findings are filed under the chapter whose lines hold them, not under the front matter
    front = markdown.split("## The book (front matter and imprint)\n", 1)[1].split("\n## ", 1)[0]
    assert "line 264" not in front and "escaped-character" not in front


def test_every_printed_note_of_the_manuscript_has_its_marker(extracted, book):
    """The manuscript's own note lists, read here from the source: each chapter with markers has as many
    notes as its list has entries, and none is reported uncited (nor any marker without a note)."""
    headings = [n for n in range(1, len(SOURCE) + 1) if line(n).strip() in ("References", "Reference", "Bibliography")]
    entries = []
    for start in headings:
        end = next((n for n in range(start + 1, len(SOURCE) + 1) if line(n).startswith("Source:")), len(SOURCE))
        entries.append(sum(1 for n in range(start + 1, end) if re.match(r"^(- )?\d{1,2} \S", line(n))))
    assert entries == [48, 33, 21, 9, 49, 35]  # ch4's "Bibliography" (author-date, 9 lines, "3" twice): no markers
    notes = [len(chapter(book, n).xpath(".//db:footnote", namespaces=NS)) for n in (1, 2, 3, 5, 6)]
    assert notes == [48, 33, 21, 49, 35]
    assert not of_type(extracted, "note-without-marker") and not of_type(extracted, "marker-without-note")


def test_the_new_checks_change_nothing_in_the_book(book):
    """The author-date and spelling checks only report: run again on the repaired book, it stays the same."""
    import copy

    from pipeline.docbook import serialize
    from pipeline.findings import Findings
    from pipeline.repair.authordate import check_author_date_citations
    from pipeline.repair.spelling import check_spelling
    again = copy.deepcopy(book)
    findings = Findings()
    check_author_date_citations(again, findings)
    check_spelling(again, findings)
    assert len(findings.of_type("author-date-citation")) == len(AUTHOR_DATE)
    assert serialize(copy.deepcopy(again)) == serialize(copy.deepcopy(book))


@pytest.mark.skipif(shutil.which("hunspell") is None, reason="hunspell is not installed (scripts/setup installs it)")
def test_one_hunspell_process_serves_every_book_and_a_dead_one_is_replaced():
    """Hunspell is asked through one kept process (its dictionaries load once per press process); its answers
    depend on the dictionaries alone, and a process that died is started again, not a traceback."""
    from pipeline.repair.spelling import _hunspell, available_dictionaries
    speller = _hunspell(shutil.which("hunspell"), tuple(available_dictionaries()))
    first = speller.ask(["harbour", "harbor", "recieve"])
    assert first["harbour"] is None and first["harbor"] is None, "either spelling of the book's two is right"
    assert "receive" in first["recieve"]
    process = speller.process
    process.kill()
    process.wait()
    later = speller.ask(["acommodate", "colour"])
    assert speller.process is not process and "accommodate" in later["acommodate"] and later["colour"] is None


@pytest.mark.skipif(shutil.which("hunspell") is None, reason="hunspell is not installed (scripts/setup installs it)")
def test_hunspells_answers_kept_by_the_build_serve_the_next_run_without_asking_again(tmp_path):
    """The build keeps Hunspell's answers in its cache, named by the dictionary files: a later run (a new
    process) asks Hunspell only about words it has not answered, and answers kept for other dictionaries
    are not used."""
    import json

    from pipeline.repair.spelling import _Hunspell, answers_kept_in, available_dictionaries
    kept = tmp_path / "hunspell.json"
    command = (shutil.which("hunspell"), tuple(available_dictionaries()))
    with answers_kept_in(kept):
        first = _Hunspell(*command)
        assert "receive" in first.ask(["harbour", "recieve"])["recieve"]
        assert first.process is not None
        first._stop()
        later = _Hunspell(*command)  # as in the next build's process
        answers = later.ask(["recieve", "harbour"])
        assert later.process is None, "every word was answered before: Hunspell was not started"
        assert answers["harbour"] is None and "receive" in answers["recieve"]
        assert "accommodate" in later.ask(["acommodate"])["acommodate"] and later.process is not None
        later._stop()
    data = json.loads(kept.read_text(encoding="utf-8"))
    assert set(data["answers"]) == {"harbour", "recieve", "acommodate"}
    data["dictionaries"] = "another hunspell, other dictionaries"
    data["answers"]["recieve"] = None  # what those dictionaries would have said
    kept.write_text(json.dumps(data), encoding="utf-8")
    with answers_kept_in(kept):
        other = _Hunspell(*command)
        assert "receive" in other.ask(["recieve"])["recieve"] and other.process is not None
        other._stop()


def asked_of_one_hunspell(words: list[str]) -> dict[str, list[str] | None]:
    """What one ``hunspell -a`` process answers when asked every word in order, read here without press's code:
    press's protocol before the unknown words were listed first and shared out, the reference for it. With
    en_US and en_GB Hunspell suggests from the dictionary that knew the last known word, so order matters."""
    from pipeline.repair.spelling import available_dictionaries
    command = [shutil.which("hunspell"), "-a", "-i", "utf-8", "-d", ",".join(available_dictionaries())]
    output = subprocess.run(command, input="!\n" + "".join(f"^{word}\n" for word in words), capture_output=True,
                            text=True, encoding="utf-8", check=True).stdout
    answers: list[list[str] | None] = []
    current: list[str] | None = None
    for reply in output.split("\n")[1:]:  # after the version banner
        if len(answers) == len(words):
            break
        if not reply:
            answers.append(current)
            current = None
        elif reply.startswith("&"):
            current = [suggestion.strip() for suggestion in reply.partition(": ")[2].split(",")]
        elif reply.startswith("#"):
            current = []
    return dict(zip(words, answers))


def started_speller(monkeypatch, cores: int):
    """A fresh Hunspell client as a cold build has it, on ``cores`` cores, its processes started ahead."""
    from pipeline.repair import spelling
    monkeypatch.setattr(spelling, "_cores", lambda: cores)
    speller = spelling._Hunspell(shutil.which("hunspell"), tuple(spelling.available_dictionaries()))
    speller.prestart()
    assert speller.lister is not None and len(speller.suggesters) == 1  # the others when the words are known
    return speller


@pytest.mark.skipif(shutil.which("hunspell") is None, reason="hunspell is not installed (scripts/setup installs it)")
def test_a_process_forked_while_hunspell_runs_lets_go_of_its_pipes_and_the_pass_still_ends(monkeypatch):
    """The build forks its render workers while the spelling pass still has Hunspell running (the pass asks once
    the editions have started). ``hunspell -L`` reads its input to the end, which never came while a worker held
    a copy of the writing end: the build hung. A forked child's copies now point at /dev/null."""
    import stat
    speller = started_speller(monkeypatch, 1)
    pipes = [speller.lister.stdin.fileno(), speller.lister.stdout.fileno(),
             speller.process.stdin.fileno(), speller.process.stdout.fileno()]
    child = os.fork()
    if child == 0:  # the child: are its copies still pipes? (exit status: how many are)
        os._exit(sum(1 for fd in pipes if stat.S_ISFIFO(os.fstat(fd).st_mode)))
    try:
        answers = speller.ask(["colour", "recieve"] * 60)  # enough words to be asked through ``-L``
        assert answers["colour"] is None and "receive" in answers["recieve"]
        assert all(stat.S_ISFIFO(os.fstat(fd).st_mode) for fd in pipes[2:]), "the parent's own pipes are kept"
    finally:
        _, status = os.waitpid(child, 0)
        speller._stop()
    assert os.waitstatus_to_exitcode(status) == 0, "the forked child kept copies of the pipes to Hunspell"


@pytest.mark.skipif(shutil.which("hunspell") is None, reason="hunspell is not installed (scripts/setup installs it)")
def test_the_manuscripts_words_listed_by_hunspell_l_then_suggested_apart_get_one_processs_answers(book, monkeypatch):
    """The spelling pass asks ``hunspell -L`` which of the book's words are unknown, then three ``-a`` processes
    for their suggestions: every answer (which words are unknown, each one's suggestions in their order) is
    the one a single ``-a`` process gives for all the words, so the findings are the same."""
    from pipeline.repair.spelling import spelling_candidates
    _, _, words = spelling_candidates(book)
    speller = started_speller(monkeypatch, 3)
    lister = speller.lister
    try:
        answers = speller.ask(words)
        assert lister.returncode == 0 and speller.lister is None, "the -L process listed the unknown words"
        assert len(speller.suggesters) == 3 and all(s.process.poll() is None for s in speller.suggesters)
    finally:
        speller._stop()
    reference = asked_of_one_hunspell(words)
    assert answers == reference
    unknown = [word for word in words if reference[word] is not None]
    assert len(words) > 3000 and 9 <= len(unknown) < 30  # enough for each process to have a share
    assert {"Défense", "ecommerce", "geoeconomic", "minilateral"} <= set(unknown)
    assert reference["ecommerce"][0] == "e-commerce"  # en_GB's suggestion: the word before was British


@pytest.mark.skipif(shutil.which("hunspell") is None, reason="hunspell is not installed (scripts/setup installs it)")
def test_suggestions_shared_among_processes_come_back_in_order_from_the_dictionary_one_process_would_use(
        monkeypatch):
    """Unknown words between British- and American-only words: each is suggested from the dictionary a single
    process would use at that point (en_GB after "colour", en_US after "color"), and each answer is merged
    back to its own word, though three processes each answered a third of them."""
    words = ["colour", "recieve", "Défense", "color", "ecommerce", "harbour", "acommodate", "center", "seperate",
             "siloed", "centre", "definately", "agro", "favourite", "geoeconomic", "organize", "goverment", "we",
             "don’t", "Zürich", "o'clock", "l’état", "naïve", "café"]  # apostrophes and accents: one word a line
    reference = asked_of_one_hunspell(words)
    assert asked_of_one_hunspell(["colour", "ecommerce"])["ecommerce"] != reference["ecommerce"], \
        "the dictionary state changes the suggestions (else this test would not tell the order apart)"
    speller = started_speller(monkeypatch, 3)
    try:
        assert speller.ask(words) == reference
    finally:
        speller._stop()
    assert [word for word, answer in reference.items() if answer is not None] == [
        "recieve", "Défense", "ecommerce", "acommodate", "seperate", "siloed", "definately", "agro",
        "geoeconomic", "goverment", "Zürich", "l’état"]


@pytest.mark.skipif(shutil.which("hunspell") is None, reason="hunspell is not installed (scripts/setup installs it)")
def test_a_hunspell_process_killed_mid_request_is_replaced_and_the_request_asked_again(monkeypatch):
    """One of the ``-a`` processes dies while its answers are read (killed): the request is asked once more of
    fresh processes, the answers as one process gives them, and the dead process is reaped."""
    from pipeline.repair import spelling
    words = ["colour", "recieve", "color", "ecommerce", "harbour", "acommodate", "seperate", "definately", "centre",
             "goverment", "agro", "siloed"]
    speller = started_speller(monkeypatch, 2)
    read = spelling._Suggester._read
    killed: list = []

    def killed_while_read(descriptor: int) -> bytes:
        victim = speller.suggesters[-1].process  # the second -a process, started for this request
        if not killed and len(speller.suggesters) == 2 and descriptor == victim.stdout.fileno():
            victim.kill()
            killed.append(victim)
        return read(descriptor)

    monkeypatch.setattr(spelling._Suggester, "_read", staticmethod(killed_while_read))
    try:
        assert speller.ask(words) == asked_of_one_hunspell(words)
        [victim] = killed
        assert victim.poll() is not None, "killed, and reaped: no zombie"
        assert victim not in [s.process for s in speller.suggesters]
        assert speller.suggesters and all(s.process.poll() is None for s in speller.suggesters)
    finally:
        speller._stop()


@pytest.mark.skipif(shutil.which("hunspell") is None, reason="hunspell is not installed (scripts/setup installs it)")
def test_hunspell_processes_started_ahead_and_never_asked_end_with_press(tmp_path):
    """A build that never reaches the spelling pass (an error, a warm cache) leaves no Hunspell behind: the
    processes started ahead are ended when press exits, even while a forked render worker still holds their
    pipes (which alone would keep them waiting for input); a non-English book starts none."""
    from processes import alive
    script = tmp_path / "prestart.py"
    script.write_text(
        "import os, shutil, time\n"
        "from pipeline.repair import spelling\n"
        "spelling.prestart('km')\n"
        "assert spelling._hunspell.cache_info().currsize == 0, 'a Khmer book starts no Hunspell'\n"
        "spelling.prestart('en')\n"
        "speller = spelling._hunspell(shutil.which('hunspell'), tuple(spelling.available_dictionaries()))\n"
        "print(*[s.process.pid for s in speller.suggesters], speller.lister.pid, flush=True)\n"
        "worker = os.fork()\n"
        "if worker == 0:  # a render worker: it keeps the pipes to Hunspell, not the test's output\n"
        "    null = os.open(os.devnull, os.O_WRONLY)\n"
        "    os.dup2(null, 1)\n"
        "    os.dup2(null, 2)\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "print(worker, flush=True)\n", encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, PYTHONPATH=CHILD_PYTHONPATH))
    started, worker = result.stdout.split("\n")[:2]
    try:
        assert result.returncode == 0 and not result.stderr, result.stderr
        assert alive(int(worker)), "the forked worker still runs, holding the pipes"
        hunspells = [int(pid) for pid in started.split()]
        assert len(hunspells) >= 2 and not any(alive(pid) for pid in hunspells)
    finally:
        os.kill(int(worker), signal.SIGKILL)


@pytest.mark.skipif(shutil.which("hunspell") is None, reason="hunspell is not installed (scripts/setup installs it)")
def test_the_build_extract_stage_ends_the_hunspell_processes_it_started(tmp_path):
    """The extract stage, as the build runs it, starts Hunspell ahead and ends it once the book is written:
    the render workers forked next hold no pipe to it."""
    from pipeline.progress import Reporter
    from pipeline.repair import spelling
    from pipeline.stages import ExtractStage
    project = copy_project(tmp_path / "project")
    started: list = []
    prestart = spelling._Hunspell.prestart

    def recorded(client) -> None:
        prestart(client)
        started.extend([s.process for s in client.suggesters] + ([client.lister] if client.lister else []))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spelling._Hunspell, "prestart", recorded)
        ExtractStage().run(load_config(project), Reporter(quiet=True))
    assert started, "Hunspell was started ahead"
    assert all(process.poll() is not None for process in started), "ended, and reaped"
    assert not any(client.suggesters or client.lister for client in spelling._CLIENTS)


@pytest.mark.skipif(shutil.which("hunspell") is None, reason="hunspell is not installed (scripts/setup installs it)")
def test_a_misspelt_name_is_offered_the_books_own_spelling_first():
    from lxml import etree
    from pipeline.findings import Findings
    from pipeline.repair.spelling import check_spelling
    book = etree.fromstring(
        '<book xmlns="http://docbook.org/ns/docbook" xml:lang="en"><chapter xml:id="ch1"><title>Trade</title>'
        "<para>The report by Kimlong was read twice, and Kimlong answered.</para>"
        "<para>Kimlnog agreed in the end.</para></chapter></book>")  # a name opening a sentence is checked
    findings = Findings()
    check_spelling(book, findings)
    [finding] = [f for f in findings if f.type == "spelling"]
    assert finding.before == "Kimlnog" and finding.after == "Kimlong"


@pytest.mark.skipif(shutil.which("hunspell") is None, reason="hunspell is not installed (scripts/setup installs it)")
def test_the_book_is_written_before_the_spelling_questions_and_an_accepted_suggestion_before_it(tmp_path,
                                                                                               monkeypatch):
    """The spelling pass only asks: with no editorial decision left for it, the book is written (and the build
    starts its editions) before Hunspell's suggestions are awaited, and the report still holds every question;
    an editor's accepted suggestion changes the book, so with one the pass runs before the book is written."""
    import json

    import pipeline.repair.spelling as spelling_pass
    from pipeline.extract import when_book_written

    project = copy_project(tmp_path / "project")
    config = load_config(project)
    reports = project / "output" / "reports"
    seen: list[tuple[bool, str]] = []
    events: list[str] = []
    ask = spelling_pass._misspelt
    monkeypatch.setattr(spelling_pass, "_misspelt", lambda *args: (events.append("asked"), ask(*args))[1])

    def at_book_written() -> None:  # what the editions see when they start
        events.append("written")
        seen.append(((reports / "repair.json").exists(), config.book_xml.read_text(encoding="utf-8")))

    with when_book_written(at_book_written):
        extract_book(config)
    assert len(seen) == 1 and not seen[0][0], "the book was written before the findings were reported"
    assert events == ["written", "asked"], "Hunspell was asked once the book was written"
    findings = json.loads((reports / "repair.json").read_text())["findings"]
    spelling = [finding for finding in findings if finding["type"] == "spelling"]
    assert len(spelling) == 18 and "ecommerce" in seen[0][1]
    ecommerce = next(finding for finding in spelling if finding["before"] == "ecommerce")
    assert ecommerce["after"] == "e-commerce"

    (project / "source" / "editorial.toml").write_text(
        (project / "source" / "editorial.toml").read_text(encoding="utf-8")
        + f'\n[[decision]]\nid = "{ecommerce["id"]}"\naccept = true\n', encoding="utf-8")
    (reports / "repair.json").unlink()
    seen.clear()
    events.clear()
    with when_book_written(at_book_written):
        extract_book(load_config(project))
    assert events == ["asked", "written"], "with a decision to apply, Hunspell was asked before the book was written"
    assert len(seen) == 1 and "e-commerce" in seen[0][1] and "ecommerce" not in seen[0][1], \
        "the accepted suggestion is in the book the editions start from"
    again = json.loads((reports / "repair.json").read_text())["findings"]
    assert [(f["id"], f["type"], f["before"]) for f in again if f["type"] == "spelling"] == \
        [(f["id"], f["type"], f["before"]) for f in spelling]


@pytest.mark.skipif(shutil.which("hunspell") is None, reason="hunspell is not installed (scripts/setup installs it)")
def test_a_new_word_asked_with_answers_kept_gets_the_suggestions_a_cold_build_gives():
    """A build after an edit knows most words from the kept answers and asks about the new ones only; with
    en_US and en_GB, Hunspell suggests from the dictionary that knew the last known word, so the new word is
    asked after the known words the whole request has before it, as a cold build asks it: the report does not
    depend on what the cache held."""
    from pipeline.repair import spelling
    words = ["colour", "ecommerce", "harbour", "siloed", "color", "geoeconomic"]
    reference = asked_of_one_hunspell(words)
    assert asked_of_one_hunspell(["ecommerce"])["ecommerce"] != reference["ecommerce"], \
        "the dictionary state changes the suggestions (else this test would not tell the two apart)"
    speller = spelling._Hunspell(shutil.which("hunspell"), tuple(spelling.available_dictionaries()))
    speller.known = {word: answer for word, answer in reference.items() if word not in ("ecommerce", "siloed")}
    try:
        assert speller.ask(words) == reference
    finally:
        speller._stop()
