"""The editor's report on manuscripts it was not built on (issue 19, checked independently).

A small book shaped like ours but written for this test: four chapters, three with numbered notes and
one citing by author and date with an unnumbered bibliography. Each defect kind of issue 19 is planted
at a line this file finds by the text it planted there (never by the report's own numbers), and the
report must name each once, at its own line(s), and nothing on the clean text. The same book is then
made into a DOCX with real footnotes by pandoc, where the kinds that need lines do not exist.
Extract only: no rendering.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from conftest import ROOT, chapter, copy_project, run_press
from pipeline.config import load_config
from pipeline.docbook import NS, text_of
from pipeline.extract import extract_book
from pipeline.safety import parse_xml

FOLIO_AND_HEAD = "\n\n24\n\fPorts, Finance and the Global South\n\n"  # pdftotext: folio, form feed, running head

BOOK = """Rivers, Ports and Partners

Edited by

Mary Okafor

Published by:

Harbour Press

ISBN: 978-9924-9978-2-5

Chapter 1

Rivers and Trade in the Mekong Basin

Mary Okafor

Introduction

River trade along the Mekong has shaped the economies of five countries for centuries.¹ Traders moved rice, \
salt and timber between upland and lowland markets.² The colonial period brought new rules for these flows of goods.³

The postwar decades saw the the rise of new ports and state agencies that governed the river.⁴ Dams built after \
1990 changed the seasonal flood pulse on which fisheries depend.⁵ The commission publishes its flow data at
https://www.mekong-flows.org/data/annual-report.html for readers who wish to check them.

Regional bodies now coordinate some of this work, although their mandates remain

narrow and their budgets depend on donors.⁶ Local fishers report declining catches each year.⁷

\fMarkets and Memory

Older traders recall a river economy that was slower but more predictable. Their accounts are recorded in \
village archives and in the goverment reports of the period.

References

- 1 Smith, John. "Trade on the River". Mekong Studies 4. 2010.
<https://www.river-journal.org/smith-trade-on-the-river>
- 2 Nguyen, Lan. "Salt and Rice Markets". Hanoi: Delta Press. 2008.
- 3 Smith, John. "Trade on the River". Mekong Studies 4. 2010.
- 4 Ibid.
- 5 Chan, Dara. "Dams and Fish". Water Policy 12. 2015.

https://www.water-policy.org/chan-dams-and-fish.pdf
- 6 Smith, Trade on the River, p. 4.
- 7 Perera, Asha. "Fishers' Voices". Colombo: Lanka Press. 2018. https://www.lanka-press.lk/books/

fishers-voices.html
- 8 Okafor, Mary. "An Unused Note". Harbour Press. 2020.

Chapter 2

Ports, Finance and the Global South

Daniel Reyes

Introduction

Port finance has become a central question for coastal states in the Global South (World Bank 2021). Lenders \
now compete to fund new terminals.¹ Cooperation under such conditions is possible, as Keohane (1984) argued, when \
institutions lower the costs of bargaining.² Recent surveys confirm the pattern (Smith and Jones 2019, 12).

Terminal operators face rising costs.³ Many rely on loans from""" + FOLIO_AND_HEAD + """regional banks.⁴ Others \
turn to private equity funds.⁵

Debt and Dependence

Whether port lending creates dependence is disputed.⁶ The evidence so far is mixed, and most studies cover only \
a few cases.⁷ Yet the question matters for every government that signs a concession.⁸

References

- 1 Lee, Min. "Port Finance in Asia". Journal of Maritime Economics 8. 2017.
- 2 Keohane, Robert. After Hegemony. Princeton: Princeton University Press. 1984.
- 3 Smith, John. "Trade on the River". Mekong Studies 4. 2010.
- 4 Lee, Min. "Port Finance in Asia". Journal of Maritime Economics 8. 2017.

5 Ortiz, Carla. "Equity and the Docks". Lima: Andes Books. 2016.

6 Brautigam, Deborah. "The Debt Trap Question". Foreign Affairs 99. 2020.

6 Keohane, After Hegemony, p. 85.

7 Lee, "Port Finance in Asia", 12.

8 Morgan, Tess. "Concessions and Sovereignty". Policy Brief 3. 2022.

Chapter 3

Memory, Maps and Method

Sara Lindqvist

Introduction

Historians of the river have long relied on colonial maps (Baker 1999). Later work questioned these sources, \
and Tran (2012) showed how village memory corrects them. Both approaches are used in this chapter, following \
Lindqvist and Obi (2020, 45).

Sources and Silences

Archives hold only part of the story, and

31

what they hold was written by officials. Oral testimony fills some gaps, as Baker (1999, 30) noted long ago. \
The floods of 2011 (the worst in fifty years) destroyed many records.

Bibliography

Baker, Alan. 1999. Colonial Cartography on the Mekong. London: River Books.

Lindqvist, Sara, and Chika Obi. 2020. Memory and Method. Oslo: Nordic Press.

Tran, Minh. 2012. Village Memory. Hue: Central Press.

Chapter 4

Looking Ahead

Mary Okafor

Introduction

The next decade will test every institution described in this book.¹ Climate change will alter the river faster \
than treaties can adapt to it.² Data sharing will matter more than ever, and the commission's portal at \
https://www.mekong-flows.org/data/

seasonal-outlook.html already shows where the gaps lie.³ Readers should recieve these findings with caution. \
Institutions matter for cooperation.⁴ They cannot be built quickly.⁵ Nor do they work alone.⁶

References

- 1 Okafor, Mary. "Institutions Under Strain". Harbour Review 2. 2024.
- 2 Chan, Dara. "Dams and Fish". Water Policy 12. 2015.
- 3 Chan, "Dams and Fish", p. 9.
- 4 Keohane, Robert. After Hegemony. Princeton: Princeton University Press. 1984.
- 5 Keohane, After Hegemony, p. 85.
- 6 Keohane, Power and Interdependence, p. 3.
"""

LINES = BOOK.split("\n")


def at(prefix: str, after: int = 0) -> int:
    """The 1-based number of the first line after line ``after`` that starts with ``prefix`` (form feed aside)."""
    return next(number for number, text in enumerate(LINES, 1) if number > after and text.lstrip("\f").startswith(prefix))


def chapter_line(number: int) -> int:
    return at(f"Chapter {number}")


CH2, CH3, CH4 = chapter_line(2), chapter_line(3), chapter_line(4)

# every planted defect, by kind: (chapter, the line(s) it is at) -- found from the text planted there
PLANTED = {
    "repeated-citation": [  # a repeat of a full note, a short form with the title unquoted, and one with it quoted
        ("ch1", [at("- 3 Smith, John")]), ("ch1", [at("- 6 Smith, Trade")]),
        ("ch2", [at("- 4 Lee, Min")]), ("ch2", [at('7 Lee, "Port')]),
        ("ch4", [at('- 3 Chan, "Dams')]), ("ch4", [at("- 5 Keohane, After")]),
    ],
    "ibid": [("ch1", [at("- 4 Ibid.")])],
    "split-url": [  # in notes: on its own line, after a blank line; in running text: cut inside the URL by a page break
        ("ch1", [at("- 1 Smith, John"), at("<https://www.river-journal")]),
        ("ch1", [at("- 5 Chan, Dara"), at("https://www.water-policy")]),
        ("ch1", [at("- 7 Perera"), at("fishers-voices.html")]),  # cut inside its path, then a page break
        ("ch4", [at("The next decade"), at("seasonal-outlook.html")]),
    ],
    "page-break-join": [  # a URL on the next line of running text; blank line; folio and running head; lone folio
        ("ch1", [at("The postwar decades"), at("https://www.mekong-flows.org/data/annual")]),
        ("ch1", [at("Regional bodies"), at("narrow and their budgets")]),
        ("ch2", [at("Terminal operators"), at("regional banks.")]),
        ("ch3", [at("Archives hold only"), at("what they hold")]),
        ("ch4", [at("The next decade"), at("seasonal-outlook.html")]),
    ],
    "author-date-citation": [("ch2", [at("Port finance has")])] * 3,
    "list-style-change": [("ch2", [at("- 1 Lee, Min"), at("5 Ortiz")])],
    "note-without-marker": [("ch1", [at("- 8 Okafor")])],
    "duplicate-number": [("ch2", [at("6 Keohane, After")])],
    "duplicated-words": [("ch1", [at("The postwar decades")])],
    "dropped-text": [(None, [at("24")]), (None, [at("Ports, Finance and the Global South", CH2 + 2)]),
                     (None, [at("31")])],
}
SPELLING = [("ch1", [at("Older traders")], "goverment"), ("ch4", [at("seasonal-outlook.html")], "recieve")]
# not defects of issue 19: the autolink's angle brackets read as structure, and the project's editorial.toml
# (its heading levels name the real manuscript's headings, which this book lacks)
INCIDENTAL = {"markup-leftover", "editorial-decision"}


@pytest.fixture(scope="module")
def unseen(tmp_path_factory):
    directory = tmp_path_factory.mktemp("unseen")
    path = directory / "unseen.txt"
    path.write_text(BOOK, encoding="utf-8")
    result = extract_book(load_config(ROOT), manuscript=path, output=directory / "book.xml")
    return result, parse_xml((directory / "book.xml").read_bytes())


def found(result, kind: str) -> list[tuple[str | None, list[int]]]:
    return sorted((f.chapter, f.lines) for f in result.findings if f.type == kind)


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_each_planted_defect_is_named_once_at_its_lines(unseen, kind):
    result, _ = unseen
    assert found(result, kind) == sorted(PLANTED[kind])


def test_nothing_else_is_reported(unseen):
    """No finding on the clean text: the author-date chapter's citations and bibliography, a cross-chapter
    citation (each chapter cites in full first), another work by the same author, a date in parentheses
    that is no citation, a section heading after a page break."""
    result, _ = unseen
    kinds = {f.type for f in result.findings} - INCIDENTAL - {"spelling"}
    assert kinds == set(PLANTED)
    assert not [f for f in result.findings if f.chapter == "ch3" and f.type != "page-break-join"]
    assert ("ch4", [at("- 6 Keohane, Power")]) not in found(result, "repeated-citation")


def test_each_finding_says_which_notes_and_text(unseen):
    result, _ = unseen
    repeats = {(f.chapter, f.line): f for f in result.findings if f.type == "repeated-citation"}
    short = repeats[("ch1", at("- 6 Smith, Trade"))]
    assert f"1 (line {at('- 1 Smith, John')})" in short.message and f"6 (line {at('- 6 Smith, Trade')})" in short.message
    assert repeats[("ch4", at("- 5 Keohane, After"))].data["first"] == "4"
    citations = [f.before for f in result.findings if f.type == "author-date-citation"]
    assert citations == ["(World Bank 2021)", "Keohane (1984)", "(Smith and Jones 2019, 12)"]
    for text in citations:
        assert text in LINES[at("Port finance has") - 1]
    style = next(f for f in result.findings if f.type == "list-style-change")
    assert "entry 5" in style.message
    duplicate = next(f for f in result.findings if f.type == "duplicate-number")
    assert "no marker" in duplicate.message  # the uncited second 6 is said there, not in a second finding
    assert [f.message for f in result.findings if f.type == "dropped-text"] == [
        "left out by the text reader as folio", "left out by the text reader as running head",
        "left out by the text reader as folio"]


@pytest.mark.skipif(shutil.which("hunspell") is None, reason="hunspell is not installed (scripts/setup installs it)")
def test_spelling_proposes_for_the_typos_only(unseen):
    result, _ = unseen
    spelling = sorted((f.chapter, f.lines, f.before) for f in result.findings if f.type == "spelling")
    assert spelling == sorted(SPELLING)
    assert all(f.action == "flagged" for f in result.findings if f.type == "spelling")


def test_the_book_is_repaired_where_reported_and_kept_elsewhere(unseen):
    _, book = unseen
    two = text_of(chapter(book, 2))
    assert "loans from regional banks" in two and " 24 " not in two  # the folio and running head left out
    assert [text_of(t) for t in chapter(book, 2).xpath("db:section/db:title", namespaces=NS)] == \
        ["Introduction", "Debt and Dependence"]
    assert "Markets and Memory" in [text_of(t) for t in chapter(book, 1).xpath("db:section/db:title", namespaces=NS)]
    three = chapter(book, 3)
    assert "and what they hold" in text_of(three) and "31" not in text_of(three)
    entries = [text_of(e) for e in three.xpath(".//db:bibliomixed", namespaces=NS)]
    assert [e.split(",")[0] for e in entries] == ["Baker", "Lindqvist", "Tran"]  # one entry per work, as printed
    assert not three.xpath(".//db:footnote", namespaces=NS)
    links = book.xpath("//db:link/@xlink:href", namespaces={**NS, "xlink": "http://www.w3.org/1999/xlink"})
    assert "https://www.mekong-flows.org/data/annual-report.html" in links
    assert "https://www.water-policy.org/chan-dams-and-fish.pdf" in links
    assert "https://www.lanka-press.lk/books/fishers-voices.html" in links
    assert "https://www.mekong-flows.org/data/" in links  # the running-text cut is only proposed
    assert "the the rise" in text_of(chapter(book, 1)) and "goverment" in text_of(chapter(book, 1))  # never applied
    assert len(chapter(book, 2).xpath(".//db:footnote", namespaces=NS)) == 8  # no note invented for a citation
    assert "(World Bank 2021)" in two


def test_the_report_groups_by_chapter_and_kind(tmp_path):
    project = copy_project(tmp_path)
    (project / "source" / "editorial.toml").unlink()
    (project / "source" / "manuscript.txt").write_text(BOOK, encoding="utf-8")
    result = run_press("extract", cwd=project)
    assert result.returncode == 0, result.stderr
    report = json.loads((project / "output/reports/repair.json").read_text())
    assert all(isinstance(f["lines"], list) and f["lines"] for f in report["findings"])
    markdown = (project / "output/reports/repair.md").read_text()
    two = markdown.split("## Chapter 2\n", 1)[1].split("\n## ", 1)[0]
    assert "| author-date-citation | 3 | 0 |" in two
    line = at("Port finance has")
    assert f"<details open><summary><b>author-date-citation</b> (3): line {line}</summary>" in two
    three = markdown.split("## Chapter 3\n", 1)[1].split("\n## ", 1)[0]  # the author-date chapter: only its cut
    assert [row for row in three.splitlines() if row.startswith("| ") and "|---" not in row][:2] == \
        ["| kind | needs the editor | done |", "| page-break-join | 0 | 1 |"]
    assert f"<b>page-break-join</b> (1): lines {at('Archives hold only')}, {at('what they hold')}</summary>" in three
    furniture = markdown.split("## Left out on purpose (page furniture)", 1)[1]
    assert "| running-head | Ports, Finance and the Global South | 1 |" in furniture


# --------------------------------------------------------------------------- the same book as a DOCX

MARKDOWN = """---
title: Rivers, Ports and Partners
---

Edited by

Mary Okafor

Published by:

Harbour Press

# Chapter 1

Rivers and Trade in the Mekong Basin

Mary Okafor

## Introduction

River trade along the Mekong has shaped the economies of five countries for centuries.[^1] Traders moved rice, \
salt and timber between upland and lowland markets.[^2] The colonial period brought new rules.[^3]

The postwar decades saw the the rise of new ports and state agencies that governed the river.[^4] Dams built \
after 1990 changed the seasonal flood pulse on which fisheries depend.[^5]

Regional bodies now coordinate some of this work, although their mandates remain

narrow and their budgets depend on donors.[^6] The goverment reports of the period record them.

[^1]: Smith, John. "Trade on the River". Mekong Studies 4. 2010. <https://www.river-journal.org/smith-trade>
[^2]: Nguyen, Lan. "Salt and Rice Markets". Hanoi: Delta Press. 2008.
[^3]: Smith, John. "Trade on the River". Mekong Studies 4. 2010.
[^4]: Ibid.
[^5]: Chan, Dara. "Dams and Fish". Water Policy 12. 2015.
[^6]: Smith, Trade on the River, p. 4.

# Chapter 2

Ports, Finance and the Global South

Daniel Reyes

## Introduction

Port finance has become a central question for coastal states in the Global South (World Bank 2021). Lenders \
now compete to fund new terminals.[^7] Cooperation is possible, as Keohane (1984) argued, when institutions \
lower the costs of bargaining.[^8] Recent surveys confirm the pattern (Smith and Jones 2019, 12).

Terminal operators face rising costs.[^9] Many rely on loans from regional banks.[^10]

[^7]: Lee, Min. "Port Finance in Asia". Journal of Maritime Economics 8. 2017.
[^8]: Keohane, Robert. After Hegemony. Princeton: Princeton University Press. 1984.
[^9]: Lee, "Port Finance in Asia", 12.
[^10]: Keohane, After Hegemony, p. 85.

# Chapter 3

Memory, Maps and Method

Sara Lindqvist

## Introduction

Historians of the river have long relied on colonial maps (Baker 1999). Later work questioned these sources, \
and Tran (2012) showed how village memory corrects them.

## Bibliography

Baker, Alan. 1999. Colonial Cartography on the Mekong. London: River Books.

Lindqvist, Sara, and Chika Obi. 2020. Memory and Method. Oslo: Nordic Press.

Tran, Minh. 2012. Village Memory. Hue: Central Press.
"""


@pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is not installed (scripts/setup installs it)")
def test_the_docx_path_names_each_defect_by_its_paragraph(tmp_path):
    """A DOCX has real footnotes and no lines: URLs split over lines, list style changes, uncited or twice-
    numbered printed notes and page folios cannot occur. The rest is found, at the body paragraph (a note's
    finding at the paragraph of its marker), which python-docx counts the same way."""
    import docx
    source = tmp_path / "unseen.md"
    source.write_text(MARKDOWN, encoding="utf-8")
    manuscript = tmp_path / "unseen.docx"
    subprocess.run(["pandoc", str(source), "-o", str(manuscript)], check=True)
    result = extract_book(load_config(ROOT), manuscript=manuscript, output=tmp_path / "book.xml")
    paragraphs = [p.text for p in docx.Document(str(manuscript)).paragraphs]

    def paragraph(start: str) -> int:
        return next(number for number, text in enumerate(paragraphs, 1) if text.startswith(start))

    def of(kind: str) -> list[tuple[str | None, int | None]]:
        return sorted((f.chapter, f.where.paragraph if f.where else None) for f in result.findings if f.type == kind)

    assert of("repeated-citation") == sorted([("ch1", paragraph("River trade")), ("ch1", paragraph("narrow and")),
                                              ("ch2", paragraph("Terminal operators")),
                                              ("ch2", paragraph("Terminal operators"))])
    assert [f.data["first"] for f in result.findings if f.type == "repeated-citation" and f.chapter == "ch2"] == ["1", "2"]
    assert of("ibid") == [("ch1", paragraph("The postwar"))]
    assert of("author-date-citation") == [("ch2", paragraph("Port finance"))] * 3
    assert of("duplicated-words") == [("ch1", paragraph("The postwar"))]
    cut = [f for f in result.findings if f.type == "page-break-join"]  # a sentence the author broke in two
    assert [(f.chapter, f.where.paragraph, f.action) for f in cut] == [("ch1", paragraph("Regional bodies"), "flagged")]
    if shutil.which("hunspell"):
        assert [(f.before, f.where.paragraph) for f in result.findings if f.type == "spelling"] == \
            [("goverment", paragraph("narrow and"))]
    assert not {f.type for f in result.findings} & {"split-url", "list-style-change", "note-without-marker",
                                                    "duplicate-number", "marker-without-note", "merged-references"}
    book = parse_xml((tmp_path / "book.xml").read_bytes())
    assert len(chapter(book, 3).xpath(".//db:bibliomixed", namespaces=NS)) == 3
    assert re.search(r"mandates remain$", text_of(chapter(book, 1).xpath("db:section/db:para", namespaces=NS)[2]))


# --------------------------------------------------------------------------- other shapes of the same kinds

CHICAGO = """A Second Test Book

Edited by

Ana Ruiz

Published by:

Small Press

Chapter 1

Coastal Cities and Climate

Ana Ruiz

Introduction

Coastal cities are growing quickly.¹ Their exposure to storms is rising (Smith et al. 2019).² Planners disagree \
about what to do, and Lopez & Chen (2020) describe three strategies.³ Some argue for retreat (see Hallegatte 2016).⁴ \
Others favour walls (UNCTAD, 2020: 14). The Paris Agreement (2015) and the \
Sendai Framework (2015) set goals for adaptation (Article 7).⁵

Cities also borrow on bond markets.⁶ The floods of 2011 (the worst in fifty years) made that harder.⁷

Notes

1. Min Lee, "Port Finance in Asia," Journal of Maritime Economics 8 (2017): 45.
2. Ana Ruiz, "Storm Exposure in Cities," Urban Studies 12 (2019): 3, https://www.urban-studies.org/articles/storm-
exposure-in-cities.
3. Lee, "Port Finance in Asia," 50.
4. Ibid., 52.
5. Ruiz, "Storm Exposure," 7.
6. Jean Dupont, Les villes et la mer (Paris: Seuil, 2018), 22.
7. Ruiz, op. cit., 9.
"""


def test_chicago_notes_and_other_citation_shapes(tmp_path):
    """Full notes that name the author first, short forms with a shortened title or "op. cit.", author-date
    citations with "et al.", "&", "see" and a page after a colon (but not a treaty named with its year), and a
    URL cut inside its path at a line end."""
    lines = CHICAGO.split("\n")

    def line(prefix: str) -> int:
        return next(number for number, text in enumerate(lines, 1) if text.startswith(prefix))

    path = tmp_path / "chicago.txt"
    path.write_text(CHICAGO, encoding="utf-8")
    result = extract_book(load_config(ROOT), manuscript=path, output=tmp_path / "book.xml")
    repeats = sorted((f.line, f.data["first"]) for f in result.findings if f.type == "repeated-citation")
    assert repeats == [(line("3. Lee"), "1"), (line("5. Ruiz"), "2"), (line("7. Ruiz"), "2")]
    assert [f.line for f in result.findings if f.type == "ibid"] == [line("4. Ibid.")]
    citations = [f.before for f in result.findings if f.type == "author-date-citation"]
    assert citations == ["(Smith et al. 2019)", "Lopez & Chen (2020)", "(see Hallegatte 2016)", "(UNCTAD, 2020: 14)"]
    assert [f.lines for f in result.findings if f.type == "split-url"] == [[line("2. Ana Ruiz"), line("exposure-in")]]
    assert not [f for f in result.findings if f.type in ("page-break-join", "note-without-marker", "duplicate-number")]
    book = parse_xml((tmp_path / "book.xml").read_bytes())
    links = book.xpath("//db:link/@xlink:href", namespaces={**NS, "xlink": "http://www.w3.org/1999/xlink"})
    assert links == ["https://www.urban-studies.org/articles/storm-exposure-in-cities"]


def test_furniture_left_in_a_cut_without_a_form_feed(tmp_path):
    """A text saved without form feeds: the running head and folio stand alone between the cut sentence and
    its lower-case continuation; they are left out as furniture and the sentence is joined across them."""
    text = BOOK.replace(FOLIO_AND_HEAD, "\n\nPorts, Finance and the Global South\n\n25\n\n").replace(
        "the story, and\n\n31\n\n", "the story, and\n\n32 Rivers, Ports and Partners\n\n")
    lines = text.split("\n")
    path = tmp_path / "no-form-feed.txt"
    path.write_text(text, encoding="utf-8")
    result = extract_book(load_config(ROOT), manuscript=path, output=tmp_path / "book.xml")

    def line(prefix: str, after: int = 0) -> int:
        return next(number for number, content in enumerate(lines, 1) if number > after and content.startswith(prefix))

    dropped = [(f.before, f.line) for f in result.findings if f.type == "dropped-text"]
    assert dropped == [("Ports, Finance and the Global South", line("Ports, Finance and the Global South", line("Terminal"))),
                       ("25", line("25")), ("32 Rivers, Ports and Partners", line("32 Rivers"))]
    joins = [f.lines for f in result.findings if f.type == "page-break-join"]
    assert [line("Terminal operators"), line("regional banks.")] in joins
    assert [line("Archives hold only"), line("what they hold")] in joins
    book = parse_xml((tmp_path / "book.xml").read_bytes())
    assert [text_of(t) for t in chapter(book, 2).xpath("db:section/db:title", namespaces=NS)] == \
        ["Introduction", "Debt and Dependence"]
    assert "loans from regional banks" in text_of(chapter(book, 2))


ENDNOTES = """A Third Test Book

Edited by

Ana Ruiz

Published by:

Small Press

Chapter 1

Trade Corridors

Ana Ruiz

Introduction

Trade corridors link inland producers to the sea.¹ Their value depends on the
the quality of roads and ports.² Governments invest in them for this reason.³ Investors have been been cautious.⁴

The corridors also carry migrants.⁵ Their numbers rose after 2015.⁶

Endnotes

1. Park, Ji-won. "Corridors of Trade". Seoul: Han Press. 2016.
2. Okoro, Emeka. "Roads and Ports". Lagos: Delta Books. 2019.
3. Park, Ji-won. "Corridors of Trade". Seoul: Han Press. 2016.

4 Mensah, Kofi. "Investment Risk". Accra: Volta. 2020.

5 Okoro, "Roads and Ports", 33.

6 Ibid.

7 Haddad, Rana. "Never Cited Here". Beirut: Cedar. 2021.
"""


def test_doubled_words_at_their_own_lines_and_a_numbered_list_that_changes_style(tmp_path):
    """A word doubled across a line break names both lines; one doubled on the paragraph's second line names
    that line, not the paragraph's first. A "1." list that goes on as bare numbers, an uncited last note."""
    lines = ENDNOTES.split("\n")

    def line(prefix: str) -> int:
        return next(number for number, text in enumerate(lines, 1) if text.startswith(prefix))

    path = tmp_path / "endnotes.txt"
    path.write_text(ENDNOTES, encoding="utf-8")
    result = extract_book(load_config(ROOT), manuscript=path, output=tmp_path / "book.xml")
    doubled = [(f.before, f.lines) for f in result.findings if f.type == "duplicated-words"]
    assert doubled == [("the the", [line("Trade corridors"), line("the quality")]),
                       ("been been", [line("the quality")])]
    assert [(f.line, f.lines) for f in result.findings if f.type == "list-style-change"] == \
        [(line("4 Mensah"), [line("1. Park"), line("4 Mensah")])]
    assert [f.line for f in result.findings if f.type == "note-without-marker"] == [line("7 Haddad")]
    assert sorted(f.line for f in result.findings if f.type == "repeated-citation") == [line("3. Park"), line("5 Okoro")]
    assert [f.line for f in result.findings if f.type == "ibid"] == [line("6 Ibid.")]
