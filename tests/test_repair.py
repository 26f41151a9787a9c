"""The repair stage on the real manuscript and on small cases, including where it must not guess."""

from __future__ import annotations

import copy
import json
import re

import pytest
from lxml import etree

from conftest import NS, ROOT, chapter, copy_project, run_press
from pipeline.config import load_config
from pipeline.docbook import XLINK_NS, serialize, text_of, validate
from pipeline.extract import extract_book
from pipeline.findings import Findings
from pipeline.repair import repair_book
from pipeline.repair.urls import clean_url
from pipeline.safety import parse_xml

HREF = f"{{{XLINK_NS}}}href"


def note(root, chapter_number: int, label: str):
    return chapter(root, chapter_number).xpath(f".//db:footnote[@label='{label}']", namespaces=NS)[0]


def works(element) -> list[str]:
    return [re.search(r'work="([^"]+)"', pi.text).group(1) for pi in element.xpath(".//processing-instruction('cite')")]


def findings_of(result, kind: str, scope: str | None = "any"):
    return [f for f in result.findings if f.type == kind and (scope == "any" or f.chapter == scope)]


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize("url, expected, kinds", [
    ("https://www.statista.com/x/?srsltid=AfmBOop4_e", "https://www.statista.com/x/", ["tracking-parameter"]),
    ("https://a.org/p?utm_source=tw&id=7&utm_medium=x&fbclid=Q", "https://a.org/p?id=7", ["tracking-parameter"]),
    ("https://a.org/p?gclid=1", "https://a.org/p", ["tracking-parameter"]),
    ("https://www.nst.com.my/a/b#google_vignette", "https://www.nst.com.my/a/b", ["tracking-parameter"]),
    ("https://a.org/doc.pdf#:~:text=2015%E2%80%9320Six", "https://a.org/doc.pdf", ["text-fragment-url"]),
    ("https://a.org/page#section-2:~:text=x", "https://a.org/page#section-2", ["text-fragment-url"]),
    ("https://asia-nikkei-com.iseaslibrary.remotexs.co/opinion/x", "https://asia.nikkei.com/opinion/x",
     ["proxy-url"]),
    ("https://docs--library-unoda-org.ezproxy.univ.edu/x", "https://docs-library.unoda.org/x", ["proxy-url"]),
    ("https://www.tandfonline.com/doi/full/10.1080/09592296.2023.2270320",
     "https://doi.org/10.1080/09592296.2023.2270320", ["doi-url"]),
    ("http://dx.doi.org/10.1177/1868103422", "https://doi.org/10.1177/1868103422", ["doi-url"]),
    ("https://doi.org/10.1016/j.aglobe.2025.100112", None, []),
    ("https://asean.org/the-founding-of-asean/", None, []),
    ("https://a.org/search?q=japan&page=2", None, []),
])
def test_clean_url(url, expected, kinds):
    steps = clean_url(url)
    assert [kind for kind, _, _ in steps] == kinds
    assert (steps[-1][2] if steps else None) == expected


def test_links_of_the_book_are_clean(book, extracted):
    hrefs = [link.get(HREF) for link in book.iter(f"{{{NS['db']}}}link")]
    assert hrefs and not [h for h in hrefs if re.search(r"utm_|srsltid|fbclid|gclid|google_vignette|:~:|remotexs", h)]
    modern = note(book, 2, "1").xpath(".//db:link", namespaces=NS)[0]
    assert modern.get(HREF) == modern.text == \
        "https://moderndiplomacy.eu/2024/07/18/inserting-aseans-role-in-the-dynamic-of-indo-pacific/"
    assert note(book, 6, "1").xpath("string(.//db:link/@xlink:href)", namespaces=NS).startswith(
        "https://asia.nikkei.com/opinion/beyond-asean")
    assert note(book, 1, "1").xpath("string(.//db:link/@xlink:href)", namespaces=NS) == \
        "https://doi.org/10.1080/09592296.2023.2270320"
    vignette = note(book, 1, "5").xpath(".//db:link", namespaces=NS)[0]
    assert vignette.text.endswith("factories-and-infrastructure") and vignette.tail.startswith(".")
    kinds = {f.type for f in extracted.findings if f.action == "repaired"}
    assert {"broken-url", "proxy-url", "tracking-parameter", "text-fragment-url", "doi-url"} <= kinds


# --------------------------------------------------------------------------- citations


def test_ibid_is_resolved_to_the_previous_notes_work(book, extracted):
    assert works(note(book, 1, "38")) == works(note(book, 1, "37"))
    tenth = works(note(book, 2, "10"))
    assert len(tenth) == 2 and tenth[0] == works(note(book, 2, "9"))[0]
    assert "Ibid." in text_of(note(book, 1, "38"))  # the note stays as the author wrote it
    resolved = [(f.chapter, f.action) for f in findings_of(extracted, "ibid")]
    assert resolved.count(("ch5", "flagged")) == 1  # note 28 follows a note citing two works
    assert len([r for r in resolved if r[1] == "repaired"]) == 4
    ambiguous = [f for f in findings_of(extracted, "ibid") if f.action == "flagged"][0]
    assert "note 27 cites 2 works" in ambiguous.message and not works(note(book, 5, "28"))


def test_repeated_citations_are_one_work_and_notes_stay(book, extracted):
    narongchai = {tuple(works(note(book, 1, label))) for label in ("17", "19", "37")}
    assert len(narongchai) == 1
    singh = {tuple(works(note(book, 1, label))) for label in ("8", "34", "39")}
    assert len(singh) == 1
    assert "Bhubhinder" in text_of(note(book, 1, "34")) and "Bhubbindar" in text_of(note(book, 1, "8"))
    spelling = findings_of(extracted, "name-inconsistency", "ch1")
    assert [(f.before, f.after) for f in spelling] == [("Singh, Bhubhinder", "Singh, Bhubbindar")]
    repeats = findings_of(extracted, "repeated-citation", "ch1")
    assert any(f.data["notes"] == ["17", "19", "37", "38"] for f in repeats)


def test_a_note_citing_three_works_is_split_at_its_semicolons(book):
    three = note(book, 1, "20")
    assert len(works(three)) == 3 and len(set(works(three))) == 3
    assert text_of(three).count(";") == 2  # and nothing was removed


def test_author_date_entry_holding_two_works_is_split_and_renumbered(book):
    entries = chapter(book, 4).xpath("db:bibliography/db:bibliomixed", namespaces=NS)
    assert [e.xpath("string(db:abbrev)", namespaces=NS) for e in entries] == [str(n) for n in range(1, 11)]
    assert text_of(entries[2]).strip().endswith("Jakarta: ASEAN Secretariat.")
    assert text_of(entries[3]).strip().startswith("4 Japan Ministry of Defense. 2016. Vientiane Vision:")
    assert len({e.get("{http://www.w3.org/XML/1998/namespace}id") for e in entries}) == 10


def test_citation_typography(book, extracted):
    assert "24 November 2022" in text_of(note(book, 1, "27"))
    assert text_of(note(book, 1, "46")).startswith('"Prime Minister Kishida Fumio Keynote Address"')
    curly = [label for label in map(str, range(1, 50)) if re.search("[“”]", text_of(note(book, 5, label)))]
    assert curly == []
    assert len(findings_of(extracted, "inconsistent-style", "ch5")) == 16
    flagged = {(f.chapter, f.message.split(":")[0]): f.after for f in findings_of(extracted, "unbalanced-quote")
               if f.action == "flagged"}
    assert flagged[("ch1", "note 11")] == '"SPEECH BY PRIME MINISTER TAKEO FUKUDA (Fukuda Doctrine Speech)"'
    assert flagged[("ch6", "note 7")].endswith('implications for world order"')
    assert flagged[("ch2", "note 13")] is None  # nested quotes: where they close is not certain
    assert flagged[("ch5", "note 14")] is None  # the title may or may not run into the publisher


# --------------------------------------------------------------------------- front matter and prose


def test_front_matter_checks(book, extracted):
    assert book.xpath("string(db:info/db:title)", namespaces=NS).strip() == \
        "The Rise of Global South and Its Implications for Japan-ASEAN Partnership"
    cover = [f for f in extracted.findings if f.type == "front-matter-inconsistency" and "cover" in f.message]
    assert len(cover) == 1 and cover[0].action == "flagged"
    claim = [f for f in extracted.findings if "claims 7 chapters" in f.message]
    assert len(claim) == 1 and claim[0].action == "flagged" and claim[0].after == "six chapters"
    assert not findings_of(extracted, "isbn")  # 978-9924-9978-2-5 is valid and hyphenated right
    assert [f.action for f in findings_of(extracted, "toc-mismatch")] == ["repaired", "repaired"]
    assert not [f for f in findings_of(extracted, "name-inconsistency") if f.chapter is None]


def test_prose_queries(extracted):
    subjects = {(f.chapter, f.before) for f in findings_of(extracted, "missing-subject")}
    assert ("ch5", "For instance,") in subjects and ("ch5", "Moreover,") in subjects
    assert any(chapter == "ch1" and before.startswith("According to the AMRO Report, highlights")
               for chapter, before in subjects)
    doubled = findings_of(extracted, "duplicated-words", "ch1")
    assert [f.after for f in doubled] == ["to strategic cooperation"]
    assert all(f.action == "flagged" for f in findings_of(extracted, "missing-subject") + doubled)


# --------------------------------------------------------------------------- invariants


def test_repaired_book_is_valid_and_body_words_are_untouched(book, structured_book, extracted):
    assert validate(book) == []
    body = "//db:chapter//db:para[not(ancestor::db:footnote)] | //db:preface//db:para | //db:acknowledgements//db:para"
    before = [text_of(p) for p in structured_book.xpath(body, namespaces=NS)]
    after = [text_of(p) for p in book.xpath(body, namespaces=NS)]
    assert before == after  # nothing in the running text is changed without the editor


def test_every_changed_note_is_explained_by_the_report(book, structured_book, extracted):
    def notes(root):
        return {(n.xpath("string(ancestor::db:chapter/@label)", namespaces=NS), n.get("label")): text_of(n)
                for n in root.xpath("//db:footnote", namespaces=NS)}
    old, new = notes(structured_book), notes(book)
    changed = [key for key in old if old[key] != new[key]]
    assert changed
    explaining = [f for f in extracted.findings if f.action == "repaired" and f.before and f.after]
    for key in changed:
        assert any(f.before in old[key] or f.before.strip() in old[key] for f in explaining
                   if f.chapter == f"ch{key[0]}"), key


def test_repairing_twice_changes_nothing(book):
    again = copy.deepcopy(book)
    findings = Findings()
    repair_book(again, findings)
    assert serialize(copy.deepcopy(again)) == serialize(copy.deepcopy(book))
    assert not [f for f in findings if f.action == "repaired" and f.type not in ("repeated-citation", "ibid")]


def test_reports_are_written_and_ids_are_stable(tmp_path):
    project = copy_project(tmp_path)
    first = run_press("extract", cwd=project)
    assert first.returncode == 0, first.stderr
    report = json.loads((project / "output/reports/repair.json").read_text())
    assert set(report["findings"][0]) >= {"id", "type", "chapter", "line", "action", "before", "after", "message"}
    assert report["summary"]["needs_editor"] == sum(1 for f in report["findings"] if f["action"] == "flagged")
    markdown = (project / "output/reports/repair.md").read_text()
    assert "## Chapter 4" in markdown and "### Needs the editor" in markdown
    assert run_press("extract", cwd=project).returncode == 0
    again = json.loads((project / "output/reports/repair.json").read_text())
    assert [f["id"] for f in again["findings"]] == [f["id"] for f in report["findings"]]
    assert len({f["id"] for f in report["findings"]}) == len(report["findings"])


# --------------------------------------------------------------------------- editorial decisions


def test_editorial_decisions_are_applied(tmp_path, extracted):
    by = {(f.type, f.before): f.id for f in extracted.findings}
    year = by[("two-digit-year", "24 November 22")]
    chapters = next(f.id for f in extracted.findings if "claims 7 chapters" in f.message)
    subject = next(f.id for f in extracted.findings if f.type == "missing-subject" and f.before == "Moreover,")
    project = copy_project(tmp_path)
    editorial = project / "source" / "editorial.toml"
    editorial.write_text(editorial.read_text() + f'''
[[decision]]
id = "{year}"
reject = true

[[decision]]
id = "{chapters}"
accept = true

[[decision]]
id = "{subject}"
text = "Moreover, Ofori, Asongu and Tchamyou"

[[decision]]
id = "Rdeadbee"
reject = true
''')
    result = extract_book(load_config(project), output=tmp_path / "decided.xml")
    root = parse_xml((tmp_path / "decided.xml").read_bytes())
    assert "24 November 22." in text_of(note(root, 1, "27"))
    outline = root.xpath("db:preface[@role='outline']", namespaces=NS)[0]
    assert "brings together six chapters" in text_of(outline)
    para = note(root, 5, "11").getparent()
    assert "Moreover, Ofori, Asongu and Tchamyou" in text_of(para) and note(root, 5, "11").tail.startswith(" argue")
    actions = {f.id: f.action for f in result.findings}
    assert actions[year] == "rejected" and actions[chapters] == "accepted" and actions[subject] == "edited"
    stale = [f for f in result.findings if f.type == "editorial-decision"]
    assert [f.before for f in stale] == ["Rdeadbee"]
    assert validate(root) == []


def test_a_malformed_decision_is_a_configuration_error(tmp_path):
    project = copy_project(tmp_path)
    editorial = project / "source" / "editorial.toml"
    editorial.write_text(editorial.read_text() + '\n[[decision]]\nid = "R1234567"\naccept = true\nreject = true\n')
    result = run_press("extract", cwd=project)
    assert result.returncode == 5 and "exactly one of accept, reject or text" in result.stderr


# --------------------------------------------------------------------------- small cases, and refusing to guess


def small_book(tmp_path, notes: str, body: str = "Our claim has a source.¹ And another.² And a third.³") -> tuple:
    path = tmp_path / "small.txt"
    path.write_text(f"Chapter 1\n\nA Title\n\nIntroduction\n\n{body}\n\nReferences\n\n{notes}\n", encoding="utf-8")
    result = extract_book(load_config(ROOT), manuscript=path, output=tmp_path / "small.xml")
    return parse_xml((tmp_path / "small.xml").read_bytes()), result


def test_ibid_refuses_to_guess(tmp_path):
    root, result = small_book(tmp_path, "- 1 Ibid.\n- 2 Smith, J. \"One\". 2020; Jones, K. \"Two\". 2021.\n- 3 Ibid.")
    assert [f.action for f in result.findings.of_type("ibid")] == ["flagged", "flagged"]
    assert not works(note(root, 1, "1")) and not works(note(root, 1, "3"))


def test_two_digit_year_from_the_future_is_only_reported(tmp_path):
    root, result = small_book(tmp_path, '- 1 A, B. "Old". 12 March 99.\n- 2 C, D. "New". 3 May 21.\n- 3 E. "X". 2020.')
    years = {f.before: f.action for f in result.findings.of_type("two-digit-year")}
    assert years == {"12 March 99": "flagged", "3 May 21": "repaired"}
    assert "12 March 99" in text_of(note(root, 1, "1")) and "3 May 2021" in text_of(note(root, 1, "2"))


def test_unbalanced_quote_without_evidence_is_not_mended(tmp_path):
    root, result = small_book(tmp_path, '- 1 A, B. "A title without end. Somewhere.\n- 2 C. "Fine". 2020.\n'
                                        '- 3 Title Only". Publisher. 2021.')
    quotes = {f.message.split(":")[0]: (f.action, f.after) for f in result.findings.of_type("unbalanced-quote")}
    assert quotes["note 1"] == ("flagged", None)
    assert quotes["note 3"][0] == "flagged"  # no other note quotes "Title Only"


def test_markup_that_is_not_ours_is_reported_in_notes(tmp_path):
    root, result = small_book(tmp_path, '- 1 A. "B" <u>underlined</u> *unclosed. 2020.\n- 2 C. 2021.\n- 3 D. 2022.')
    assert "<u>underlined</u>" in text_of(note(root, 1, "1"))  # unknown markup is never interpreted or dropped
    leftovers = [f.before for f in result.findings.of_type("markup-leftover") if f.action == "flagged"]
    assert leftovers == ["<u>", "</u>", "*"]


def test_isbn_check_digit_and_hyphens(tmp_path):
    from pipeline.repair.frontmatter import check_isbn
    for printed, kind, after in [("978-9924-9978-2-4", "flagged", None), ("9789924997825", "repaired", "978-9924-9978-2-5"),
                                 ("978-99249-978-2-5", "repaired", "978-9924-9978-2-5")]:
        root = etree.fromstring(f'<book xmlns="http://docbook.org/ns/docbook"><info><title>T</title>'
                                f'<biblioid class="isbn">{printed}</biblioid></info></book>'.encode())
        findings = Findings()
        check_isbn(root, findings)
        assert [(f.type, f.action, f.after) for f in findings] == [("isbn", kind, after)], printed


def test_a_url_broken_over_a_line_is_rejoined(tmp_path):
    root, result = small_book(tmp_path, "- 1 A. \"B\". 2020. <https://example.org/some/long-\npath/page.html>.\n"
                                        "- 2 C. 2021.\n- 3 D. 2022.")
    link = note(root, 1, "1").xpath(".//db:link", namespaces=NS)[0]
    assert link.get(HREF) == link.text == "https://example.org/some/long-path/page.html"
    assert link.tail.startswith(".")
    assert [f.action for f in result.findings.of_type("split-url")] == ["repaired"]


def test_a_misspelt_contributor_is_reported(tmp_path):
    text = (ROOT / "source" / "manuscript.txt").read_text(encoding="utf-8")
    text = text.replace("<i>Dr. SAM Seun</i>", "<i>Dr. SAM Suen</i>", 1)  # the contents misspell chapter 4's author
    path = tmp_path / "manuscript.txt"
    path.write_text(text, encoding="utf-8")
    result = extract_book(load_config(ROOT), manuscript=path, output=tmp_path / "b.xml")
    names = [(f.before, f.after) for f in result.findings.of_type("name-inconsistency") if f.chapter != "ch1"]
    assert ("Dr. SAM Suen", "Dr. SAM Seun") in names
    assert any(f.type == "toc-mismatch" and "chapter 4" in f.message for f in result.findings)


def test_every_repair_names_the_enclosing_part_not_a_section(extracted):
    """Findings are grouped by part or chapter in the report: a front-matter claim inside a section of the
    outline, like a query in a chapter's section, is filed under its part (one rule for every repair)."""
    root = copy.deepcopy(extracted.book.root)
    outline = root.xpath("db:preface[@xml:id='book-outline']", namespaces=NS)[0]
    section = etree.SubElement(outline, f"{{{NS['db']}}}section")
    section.set("{http://www.w3.org/XML/1998/namespace}id", "book-outline-s1")
    etree.SubElement(section, f"{{{NS['db']}}}title").text = "Scope"
    etree.SubElement(section, f"{{{NS['db']}}}para").text = "The volume brings together nine chapters."
    findings = Findings()
    repair_book(root, findings)
    claims = [f for f in findings if f.type == "front-matter-inconsistency" and "nine" in (f.before or "")]
    assert [f.chapter for f in claims] == ["book-outline"]
    assert {f.chapter for f in findings if f.type in ("missing-subject", "duplicated-words")} <= {
        chapter.get("{http://www.w3.org/XML/1998/namespace}id") for chapter in root.xpath("db:*", namespaces=NS)}
