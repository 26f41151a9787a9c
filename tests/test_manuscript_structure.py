"""The real manuscript, chapter by chapter, as a careful reader of it sees the book (before repair).

Every number here was counted by reading source/manuscript.txt, not by running the code:
paragraphs re-joined across page breaks count once, table "Source:" lines are captions,
the abbreviation list and bibliography are not paragraphs.
"""

from __future__ import annotations

import re

import pytest

from conftest import MANUSCRIPT, NS, chapter, xid
from pipeline.docbook import source_of, text_of

CHAPTERS = {
    1: dict(
        title="Japan-ASEAN Relations: Past, Present, and Future",
        person=(None, "SUOS", "Yara"), affiliations=["Chairman of the Asian Cultural Council (ACC)"],
        sections=[(1, "Introduction"), (1, "Genesis of ASEAN-Japan Dialogue"),
                  (1, "Historical and Institutional Milestones"), (2, "Consolidation Phase"), (2, "Economic Surge"),
                  (2, "Strategic Framework"), (1, "Strategic Context of Japan–ASEAN Engagement"),
                  (1, "What Makes Japan Different"), (1, "Shared Vision for Like-Minded Cooperation")],
        paragraphs=30, notes=48, notes_title="References", tables=[], figures=0, lists=[],
        attribution="Source: Prime Minister's Office of Japan"),
    2: dict(
        title="Japan and the Global South in a Changing World Order",
        person=("Dr.", "PANIZALES", "Alfredo C."),
        affiliations=["Associate Professor, National University of Management (Cambodia)"],
        sections=[(1, "Introduction"), (1, "Conceptualizing the Global South Discourse"),
                  (1, "Multipolarity and Strategic Opportunities"), (1, "ASEAN's Strategic Place in Balancing Centrality"),
                  (1, "Forward-Looking Implications"), (1, "Conclusion")],
        paragraphs=28, notes=33, notes_title="References", tables=[], figures=0, lists=[],
        attribution="Source: Canva Pro"),
    3: dict(
        title="Global South's Development Cooperation in Transition",
        person=(None, "LIM", "Menghour"),
        affiliations=["Director of the Mekong Centre for Strategic Studies, Asian Vision Institute"],
        sections=[(1, "Introduction: Reframing Development Cooperation"),
                  (1, "Evolution of ODA: From Assistance to Strategic Partnership"), (1, "The Shift Toward Partnership"),
                  (1, "The Japan–ASEAN Partnership: A Case Study in Co-development"), (1, "The Strategic Turn in ODA"),
                  (1, "Japan's ODA Diplomacy in ASEAN"),
                  (2, "Economic Pacifism and Institutionalised Development Partnership"),
                  (2, "Infrastructure, Structural Power, and Strategic Positioning"),
                  (1, "Soft Power, Quality Infrastructure, and Normative Influence"),
                  (2, "Soft Power Through Development and Institutional Embedding"),
                  (2, "The Politics of “Quality Infrastructure” and Norm-Setting"), (1, "Policy Implications")],
        paragraphs=29, notes=21, notes_title="Reference", figures=0, lists=[3],
        tables=[("1", "Strategic Connectivity Projects in Global South Development Cooperation", 4, 5),
                ("2", "Differentiated Patterns of Japan’s ODA Provision Across ASEAN Countries", 4, 11)],
        attribution="Source: Reuters Photographer"),
    4: dict(
        title="Anchoring Peace and Security: Japan as a Regional Stabilizer",
        person=("Dr.", "SAM", "Seun"), affiliations=["Policy Analyst at the Royal Academy of Cambodia (RAC)"],
        sections=[(1, "Introduction"), (1, "Maritime Security Cooperation and Capacity Building"),
                  (1, "Disaster Relief and Humanitarian Assistance as Shared Responsibility"),
                  (1, "ASEAN-Led Security Dialogues and Japan's Support"), (2, "The ASEAN Regional Forum (ARF)"),
                  (2, "The ADMM-Plus"), (2, "Additional Forums: EAS and EAMF"),
                  (2, "JASMINE's Reinforcement of ASEAN-Led Dialogues"),
                  (1, "Défense Engagement and Coordinated Strategic Planning"), (1, "Conclusion")],
        paragraphs=45, notes=0, notes_title="Bibliography", tables=[], figures=0, lists=[],
        attribution="Source: Rasidah Hj Abu Bakar/The Scoop"),
    5: dict(
        title="Economic Synergy of the Global South: Building Resilience Together",
        person=("Dr.", "CHHENG", "Kimlong"), affiliations=["President of Asian Vision Institute"],
        sections=[(1, "Introduction"), (1, "Trade, Investment, and Industrial Collaboration for Mutual Gains"),
                  (2, "Reframing Trade and Investment in the Global South"), (2, "Investment-Led Industrial Upgrading"),
                  (2, "Infrastructure, Connectivity, and Industrial Complementarity"),
                  (1, "Enhancing ASEAN Supply Chains and Regional Value Networks"),
                  (2, "From Global Value Chains to Regional Resilience"),
                  (2, "Investment, Value Addition, and Industrial Upgrading"), (2, "Regional Cooperation Beyond ASEAN"),
                  (1, "Digital Economy, Innovation, and Joint Entrepreneurship"),
                  (2, "Cross-Border Platforms like the ASEAN-Japan AI Roadmap for E-Commerce"),
                  (2, "Innovation Hubs, Startup Funds, Tech Transfers"),
                  (2, "Entrepreneurial Resilience under the Hiroshima AI Process"),
                  (1, "Mitigating Economic Risks Through Coordinated Policies"), (2, "Joint Responses to Regional Shocks"),
                  (2, "Regional Risk-Sharing Mechanisms"), (2, "Projected Resilience Gains"), (1, "Conclusion")],
        paragraphs=41, notes=49, notes_title="References", tables=[], figures=2, lists=[],
        attribution="Source: KAZUHIRO NOGI | AFP/Getty Images"),
    6: dict(
        title="Beyond Binaries: Reimagining ASEAN-Japan Partnership in an Age of Multipolarity",
        person=(None, "WEILING", "Joanne Lin"),
        affiliations=["Senior Fellow and Coordinator, ASEAN Studies Centre, ISEAS-Yusof Ishak Institute",
                      "Fulbright Visiting Scholar at the MIT Center for International Studies"],
        sections=[(1, "Introduction"), (1, "The Global South as Strategic Posture, Not Political Bloc"),
                  (1, "ASEAN's Agency in Competitive Multipolarity"),
                  (1, "Japan as Middle-Power Stabiliser and Trust Capital"),
                  (1, "From Sectoral Cooperation to Integrated Strategic Partnership"),
                  (1, "Moving Forward: Co-Creating Stability in a Fluid Order"),
                  (1, "Conclusion: Beyond Binaries in an Age of Fluidity")],
        paragraphs=67, notes=35, notes_title="References", tables=[], figures=0, lists=[],
        attribution="Source: Prime Minister's Office of Japan"),
}

BODY_PARAS = ("db:para[not(ancestor::db:footnote) and not(ancestor::db:info) and not(ancestor::db:table)"
              " and not(ancestor::db:listitem) and not(ancestor::db:glossdef) and not(@role='source')]")


def xpath(node, query):
    return node.xpath(query, namespaces=NS)


def outline(element) -> list[tuple[int, str]]:
    found = []
    for section in xpath(element, ".//db:section"):
        depth = len(xpath(section, "ancestor::db:section")) + 1
        found.append((depth, text_of(xpath(section, "db:title")[0]).strip()))
    return found


def test_six_chapters_in_order(structured_book):
    assert [c.get("label") for c in xpath(structured_book, "db:chapter")] == ["1", "2", "3", "4", "5", "6"]
    assert [xid(c) for c in xpath(structured_book, "db:chapter")] == [f"ch{n}" for n in range(1, 7)]


@pytest.mark.parametrize("number", sorted(CHAPTERS))
def test_chapter_header(structured_book, number):
    expected = CHAPTERS[number]
    info = xpath(chapter(structured_book, number), "db:info")[0]
    assert text_of(xpath(info, "db:title")[0]) == expected["title"]
    authors = xpath(info, "db:author")
    assert len(authors) == 1
    honorific, family, given = expected["person"]
    name = xpath(authors[0], "db:personname")[0]
    assert xpath(name, "string(db:surname)") == family
    assert xpath(name, "string(db:firstname)") == given
    assert xpath(name, "string(db:honorific)") == (honorific or "")
    assert [text_of(a) for a in xpath(authors[0], "db:affiliation/db:orgname")] == expected["affiliations"]
    assert xpath(info, "string(db:bibliomisc[@role='notes-title'])") == expected["notes_title"]


@pytest.mark.parametrize("number", sorted(CHAPTERS))
def test_chapter_sections(structured_book, number):
    assert outline(chapter(structured_book, number)) == CHAPTERS[number]["sections"]


@pytest.mark.parametrize("number", sorted(CHAPTERS))
def test_chapter_paragraphs_notes_tables_figures(structured_book, number):
    expected = CHAPTERS[number]
    element = chapter(structured_book, number)
    assert len(xpath(element, ".//" + BODY_PARAS)) == expected["paragraphs"]
    assert len(xpath(element, ".//db:footnote")) == expected["notes"]
    tables = [(t.get("label"), text_of(xpath(t, "db:title")[0]), int(xpath(t, "string(db:tgroup/@cols)")),
               len(xpath(t, ".//db:row"))) for t in xpath(element, ".//db:table")]
    assert tables == expected["tables"]
    assert len(xpath(element, ".//db:figure")) == expected["figures"]
    assert [len(xpath(items, "db:listitem")) for items in xpath(element, ".//db:itemizedlist")] == expected["lists"]


@pytest.mark.parametrize("number", sorted(CHAPTERS))
def test_notes_are_numbered_in_reading_order_and_hold_their_note(structured_book, number):
    notes = xpath(chapter(structured_book, number), ".//db:footnote")
    assert [note.get("label") for note in notes] == [str(n) for n in range(1, len(notes) + 1)]
    assert all(text_of(note).strip() for note in notes)
    assert not xpath(chapter(structured_book, number), ".//db:superscript[@role='noteref']")


@pytest.mark.parametrize("number", sorted(CHAPTERS))
def test_opening_image_attribution_belongs_to_its_chapter(structured_book, number):
    opener = xpath(chapter(structured_book, number), "db:info/db:mediaobject[@role='chapter-opener']")[0]
    assert xpath(opener, "string(db:caption/db:para[@role='attribution'])") == CHAPTERS[number]["attribution"]
    # and not to the previous chapter's notes or the front matter before it
    everything_else = [text_of(p) for p in xpath(structured_book, "//db:para[not(ancestor::db:mediaobject)]")]
    assert CHAPTERS[number]["attribution"] not in everything_else


def test_chapter_one_opener_keeps_the_words_in_its_image(structured_book):
    words = xpath(chapter(structured_book, 1), "db:info/db:mediaobject/db:textobject[@role='image-text']/db:para")
    assert [text_of(w) for w in words] == ["ASEAN", "MALAYSIA 2025", "INCLUSIVITY AND SUSTAINABILITY",
                                          "ASEAN – JAPAN SUMMIT", "OCTOBER 2025, KUALA LUMPUR"]
    summary = xpath(structured_book, "db:preface[@role='executive-summary']")[0]
    assert "MALAYSIA 2025" not in text_of(summary)


def test_book_metadata_comes_from_the_title_page_and_imprint(structured_book):
    info = xpath(structured_book, "db:info")[0]
    assert text_of(xpath(info, "db:title")[0]) == \
        "THE RISE OF GLOBAL SOUTH AND ITS IMPLICATIONS FOR JAPAN-ASEAN PARTNERSHIP"
    editors = [(xpath(e, "string(db:personname/db:honorific)"), xpath(e, "string(db:personname/db:surname)"),
                xpath(e, "string(db:personname/db:firstname)")) for e in xpath(info, "db:editor")]
    assert editors == [("Dr.", "CHHENG", "Kimlong"), ("", "LIM", "Menghour")]
    assert xpath(info, "string(db:publisher/db:publishername)") == "Asian Vision Institute (AVI)"
    assert xpath(info, "string(db:publisher/db:address/db:street)") == "Jayaphumin Apartment Building, 24 St 566"
    assert xpath(info, "string(db:publisher/db:address/db:city)") == "Phnom Penh"
    assert xpath(info, "string(db:publisher/db:address/db:uri)") == "www.asianvision.org"
    assert xpath(info, "string(db:biblioid[@class='isbn'])") == "978-9924-9978-2-5"
    assert xpath(info, "string(db:copyright/db:year)") == "2026"
    assert xpath(info, "string(db:copyright/db:holder)") == "Asian Vision Institute"
    assert text_of(xpath(info, "db:legalnotice[@role='rights']")[0]).strip().startswith("All rights reserved.")
    assert text_of(xpath(info, "db:legalnotice[@role='disclaimer']")[0]).strip().startswith(
        "The views do not necessary reflect")
    cover = {p.get("role"): [] for p in xpath(info, "db:mediaobject[@role='cover']//db:para")}
    for para in xpath(info, "db:mediaobject[@role='cover']//db:para"):
        cover[para.get("role")].append(text_of(para))
    assert cover["title"] == ["THE RISE OF GLOBAL SOUTH", "&", "IMPLICATIONS FOR JAPAN-ASEAN PARTNERSHIP"]
    assert cover["editor"] == ["Dr. Chheng Kimlong", "Lim Menghour"]
    assert xpath(info, "string(db:mediaobject[@role='back-cover'])").strip() == \
        "Copyrights © 2026 Asian Vision Institute"


def test_front_matter_is_metadata_not_body_text(structured_book):
    body = " ".join(text_of(p) for p in xpath(structured_book, "db:preface//db:para | db:acknowledgements//db:para"
                                                    " | db:chapter//db:para[not(ancestor::db:info)]"))
    for printed in ("ISBN", "All rights reserved", "Edited by", "Table of Contents", "Chapter 586", "Published by"):
        assert printed not in body


def test_front_matter_parts(structured_book):
    parts = [(p.get("role") or "acknowledgements", text_of(xpath(p, "db:info/db:title")[0]),
              len(xpath(p, BODY_PARAS))) for p in xpath(structured_book, "db:preface | db:acknowledgements")]
    assert parts == [("foreword", "Foreword", 3), ("acknowledgements", "Acknowledgements", 5),
                     ("outline", "Book Outline", 7), ("executive-summary", "Executive Summary", 8)]
    signed = xpath(structured_book, "db:preface[@role='foreword']/db:info/db:author")[0]
    assert xpath(signed, "string(db:personname/db:surname)") == "CHHENG"
    assert xpath(signed, "string(db:affiliation/db:orgname)") == "President of Asian Vision Institute (AVI)"


def test_printed_contents_are_kept_apart_with_their_pages(structured_book):
    toc = xpath(structured_book, "db:toc[@role='printed']")[0]
    assert [(text_of(e), e.get("pagenum")) for e in xpath(toc, "db:tocentry")] == [
        ("Foreword", "5"), ("Acknowledgements", "6"), ("Book Outline", "8"), ("Executive Summary", "11")]
    divisions = xpath(toc, "db:tocdiv")
    assert [(text_of(xpath(d, "db:title")[0]), d.get("pagenum")) for d in divisions] == [
        ("Chapter 1", "15"), ("Chapter 2", "32"), ("Chapter 3", "47"), ("Chapter 4", "65"),
        ("Chapter 5", "86"), ("Chapter 6", "107")]
    assert [xpath(d, "string(db:tocentry[@role='title'])") for d in divisions] == \
        [CHAPTERS[n]["title"] for n in range(1, 7)]
    assert xpath(divisions[0], "string(db:tocentry[@role='author']/db:emphasis)") == "SUOS Yara"


def test_page_break_cuts_are_mended(structured_book):
    paragraphs = [text_of(p) for p in xpath(structured_book, "//db:para")]

    def has(fragment: str) -> bool:
        return any(fragment in paragraph for paragraph in paragraphs)

    assert has("mutual respect and cooperation that addresses trade flows of more than $280 million")
    assert has("safeguard against herd behaviour that reinforces defences")  # a wrapped line, no blank between
    assert has("ASEAN was Japan's source of oil")  # continuation that starts with a capital
    assert has("yet they converge on principles: adherence to international law")
    assert has("They do so not to displace long-standing partnerships")  # hyphen kept, no space
    assert has("Singapore, and Timor-Leste—foster enduring")
    assert has("the coordinator played an essential role")
    assert not has("played an ¶")


def test_markup_leftovers_become_structure(structured_book):
    everything = etree_text(structured_book)
    assert "\\$" not in everything and "<i>" not in everything and "*Modern Diplomacy*" not in everything
    note = xpath(chapter(structured_book, 2), ".//db:footnote[@label='1']")[0]
    assert xpath(note, "string(.//db:emphasis)") == "Modern Diplomacy"
    survey = xpath(chapter(structured_book, 6), ".//db:para/db:emphasis")
    assert "The State of Southeast Asia 2025 Survey Report" in [text_of(e) for e in survey]


def etree_text(root) -> str:
    return "".join(root.itertext())


def test_notes_sit_at_their_markers_with_links(structured_book):
    first = xpath(chapter(structured_book, 1), ".//db:footnote[@label='1']")[0]
    before = text_of(first.getparent())
    assert before.split("Indonesia in 1958")[1].split("innovation to navigate")[1].startswith(
        " the dynamic shifts in the global landscape.")
    assert text_of(first).startswith("Hiroyuki, Hishiro.")
    assert xpath(first, "string(.//db:link/@xlink:href)") == \
        "https://www.tandfonline.com/doi/full/10.1080/09592296.2023.2270320"
    second = xpath(chapter(structured_book, 1), ".//db:footnote[@label='2']")[0]
    assert second.tail.startswith(".")  # "détente²." keeps its full stop after the marker
    source = xpath(chapter(structured_book, 3), ".//db:table[@label='2']/following-sibling::db:para[1]")[0]
    assert source.get("role") == "source" and text_of(source).startswith("Source: (OECD 2025)")
    assert [n.get("label") for n in xpath(source, "db:footnote")] == ["16"]


def test_table_row_split_by_a_page_break_is_one_row(structured_book):
    table = xpath(chapter(structured_book, 3), ".//db:table[@label='2']")[0]
    rows = [[text_of(e) for e in xpath(r, "db:entry")] for r in xpath(table, ".//db:row")]
    assert rows[0] == ["Country", "Primary ODA Modality", "Sectoral Focus", "Strategic Rationale"]
    assert rows[-2] == ["Singapore", "Limited traditional ODA; strategic policy partnership",
                        "Smart city, digital governance, innovation", "Advanced-economy cooperation"]
    assert rows[-1][0] == "Brunei"
    assert len(xpath(table, "db:tgroup/db:thead/db:row")) == 1


def test_list_item_continues_across_the_break(structured_book):
    items = xpath(chapter(structured_book, 3), ".//db:itemizedlist/db:listitem")
    assert text_of(items[2]).strip().endswith("financial management and environmental sustainability will ensure "
                                              "effective investments.")


def test_abbreviations_and_bibliography_of_chapter_four(structured_book):
    ch4 = chapter(structured_book, 4)
    entries = xpath(ch4, "db:glosslist[@role='abbreviations']/db:glossentry")
    assert xpath(ch4, "string(db:glosslist/db:title)") == "List of Abbreviations"
    assert len(entries) == 48
    pairs = [(xpath(e, "string(db:glossterm)"), text_of(xpath(e, "db:glossdef/db:para")[0])) for e in entries]
    assert pairs[0] == ("AADMER", "ASEAN Agreement on Disaster Management and Emergency Response")
    assert pairs[-1] == ("WPS", "Women, Peace and Security")
    references = xpath(ch4, "db:bibliography/db:bibliomixed")
    assert [xpath(r, "string(db:abbrev)") for r in references] == ["1", "2", "3", "3", "4", "5", "6", "7", "8"]
    assert not xpath(ch4, ".//db:footnote")


def test_figures_of_chapter_five(structured_book):
    figures = xpath(chapter(structured_book, 5), ".//db:figure")
    assert [f.get("label") for f in figures] == ["1", "2"]
    assert text_of(xpath(figures[0], "db:title")[0]).startswith("The Growth of Generative AI Research")
    assert text_of(xpath(figures[1], "db:title")[0]).startswith("ASEAN digital economy growth from $300B")


def test_every_block_points_back_to_its_manuscript_line(structured_book):
    """The provenance of each block names a line that holds the block's opening words."""
    lines = MANUSCRIPT.read_text(encoding="utf-8").split("\n")

    def normal(text: str) -> str:
        text = re.sub(r"</?i>|\*|\\|[⁰¹²³⁴⁵⁶⁷⁸⁹]|<|>", "", text)
        return re.sub(r"[^\w]+", "", text)

    checked = 0
    for element in xpath(structured_book, "//db:para | //db:title | //db:tocentry | //db:bibliomixed | //db:row"):
        origin = source_of(element)
        if element.xpath("processing-instruction('src')") and "line" in origin:
            words = normal(text_of(element))[:25]
            line = normal(lines[int(origin["line"]) - 1])
            if not words:  # a line of punctuation only, such as the cover's "&"
                words, line = text_of(element).strip(), lines[int(origin["line"]) - 1]
            assert words and words in line, (origin, text_of(element)[:60])
            checked += 1
    assert checked > 400


def test_findings_name_what_the_extraction_did(extracted):
    findings = extracted.findings
    kinds = {finding.type for finding in findings}
    assert {"page-break-join", "markup-leftover", "escaped-character", "toc-mismatch"} <= kinds
    assert [f.before for f in findings.of_type("toc-mismatch")] == ["Chapter 586", "Chapter 6107"]
    duplicates = findings.of_type("duplicate-number")
    # the printed "3" used twice (manuscript lines 869 and 870) is named where the second one is, and the
    # author-date list is then renumbered
    assert [(d.chapter, d.action, d.line) for d in duplicates] == [("ch4", "flagged", 870), ("ch4", "repaired", 867)]
    assert any("modern diplomacy.eu" in (f.before or "") for f in findings.of_type("broken-url"))


def test_extraction_is_deterministic(config, tmp_path, structured):
    from pipeline.extract import extract_book
    again = extract_book(config, output=tmp_path / "again.xml", repair=False)
    assert again.output.read_bytes() == structured.output.read_bytes()
    assert [(f.id, f.type, f.before) for f in again.findings] == [(f.id, f.type, f.before) for f in structured.findings]
