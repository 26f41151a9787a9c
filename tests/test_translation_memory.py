"""The translation memory: reviewed segments out as TMX 1.4b, a TMX in, exact and fuzzy matches before the model.

The catalogs are the real book's; the TMX files are press's own export, one written by translate-toolkit
(another tool's TMX, with region-tagged languages), and hostile ones.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from conftest import FAST, run_press, translation_project
from pipeline.config import load_config
from pipeline.errors import ExitCode, InputError
from pipeline.i18n import prepare_catalogs
from pipeline.i18n.catalogs import (MEMORY, REVIEWED, UNTRANSLATED, catalog_path, count_states, entry_state,
                                    existing_parts, read_catalog, write_catalog)
from pipeline.i18n.draft import draft_language
from pipeline.i18n.memory import Memory, MemoryUnit, apply_memory, memory_path, read_tmx, write_tmx
from pipeline.i18n.placeholders import compare_placeholders, placeholders

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
TMX_DTD = Path(__file__).parent / "schemas" / "tmx14.dtd"


def assert_valid_tmx(data: bytes) -> None:
    """Valid against the TMX 1.4b DTD written from the specification (tests/schemas/tmx14.dtd)."""
    dtd = etree.DTD(str(TMX_DTD))
    root = etree.fromstring(data)
    assert dtd.validate(root), dtd.error_log.filter_from_errors()


@pytest.fixture
def project(tmp_path, extracted):
    return translation_project(tmp_path / "book", extracted.output, **FAST)


def live(config, language: str) -> dict[str, Message]:
    found = {}
    for part in existing_parts(config, language):
        found.update({m.context: m for m in read_catalog(catalog_path(config, language, part), language) if m.id})
    return found


def review(config, language: str, translations: dict[str, str]) -> None:
    """A reviewer's work: translations saved without the fuzzy flag (as Poedit saves them)."""
    for part in existing_parts(config, language):
        path = catalog_path(config, language, part)
        catalog = read_catalog(path, language)
        touched = False
        for message in catalog:
            if message.context in translations:
                message.string, touched = translations[message.context], True
                message.flags.discard("fuzzy")
        if touched:
            write_catalog(path, catalog)


def japanese_for(source: str, index: int) -> str:
    """A stand-in Japanese translation carrying the source's placeholders in order (as a reviewer keeps them)."""
    tokens = placeholders(source)
    return f"訳文{index}：" + "".join(f"語{token}" for token in tokens) + "。"


@pytest.fixture
def reviewed_book(project):
    """The book with 40 Japanese entries reviewed, among them both with paired codes (the book's two
    emphasised titles) and ten with note markers (the inline codes TMX must carry)."""
    config = load_config(project)
    prepare_catalogs(config)
    entries = live(config, "ja")
    paired = [m for m in entries.values() if any(not t.endswith("/>") for t in placeholders(m.id))][:6]
    notes = [m for m in entries.values() if placeholders(m.id) and m.context not in {p.context for p in paired}][:10]
    with_codes = paired + notes
    plain = [m for m in entries.values() if not placeholders(m.id)][:40 - len(with_codes)]
    chosen = {m.context: japanese_for(m.id, index) for index, m in enumerate(with_codes + plain)}
    assert len(paired) == 2 and len(chosen) == 40
    review(config, "ja", chosen)
    return project, chosen


# --------------------------------------------------------------------------- export


def test_review_export_writes_the_reviewed_segments_as_tmx_with_inline_codes(reviewed_book, tmp_path):
    project, chosen = reviewed_book
    result = run_press("review", "export", "ja", "--format", "tmx", "-o", str(tmp_path / "out"), cwd=project)
    assert result.returncode == 0, result.stderr
    assert "40 reviewed segments as TMX 1.4b" in result.stderr
    tmx = tmp_path / "out" / "rise-of-global-south-ja.tmx"
    raw = tmx.read_bytes()
    assert raw.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE tmx SYSTEM \"tmx14.dtd\">")
    assert_valid_tmx(raw)
    root = etree.fromstring(raw)
    assert root.get("version") == "1.4" and root.find("header").get("srclang") == "en"
    units = root.findall("body/tu")
    assert len(units) == 40
    config = load_config(project)
    entries = live(config, "ja")
    for tu in units:
        segment_id = tu.find("prop[@type='x-press-origin']").text.split("/", 1)[1]
        source, target = tu.findall("tuv")
        assert (source.get(XML_LANG), target.get(XML_LANG)) == ("en", "ja")
        seg = source.find("seg")
        # the placeholders are inline codes, never text a CAT tool would let a translator break
        assert not re.search(r"</?[a-z]\d+/?>", seg.text or "") and all(
            not re.search(r"</?[a-z]\d+/?>", code.tail or "") for code in seg)
        codes = [(code.tag, code.text) for code in seg]
        expected = placeholders(entries[segment_id].id)
        assert [text for _, text in codes] == expected
        for tag, text in codes:
            assert tag == ("ph" if text.endswith("/>") else "ept" if text.startswith("</") else "bpt")
        x_source = {code.text: code.get("x") for code in seg if code.get("x")}
        x_target = {code.text: code.get("x") for code in target.find("seg") if code.get("x")}
        assert x_source == x_target, "x pairs each code in the source with the same code in the translation"
        pairs = {code.get("i") for code in seg if code.tag == "bpt"}
        assert pairs == {code.get("i") for code in seg if code.tag == "ept"}
    # read back: the sentences exactly as the catalogs hold them
    back = read_tmx(raw, tmx, "ja", "en")
    assert {(u.source, u.target) for u in back} == {(entries[i].id, text) for i, text in chosen.items()}


def test_translate_toolkit_reads_press_tmx(reviewed_book, tmp_path):
    """Another TMX implementation (translate-toolkit's) reads the export: every unit, both languages."""
    tmx_module = pytest.importorskip("translate.storage.tmx")
    project, chosen = reviewed_book
    assert run_press("review", "export", "ja", "--format", "tmx", "-o", str(tmp_path), cwd=project).returncode == 0
    store = tmx_module.tmxfile.parsefile(str(tmp_path / "rise-of-global-south-ja.tmx"))
    units = [unit for unit in store.units if unit.source]
    assert len(units) == 40
    assert {unit.target for unit in units} >= {text for text in chosen.values() if "<" not in text}


# --------------------------------------------------------------------------- import and use


@pytest.mark.slow
def test_the_memory_fills_exact_matches_for_review_and_notes_fuzzy_ones(reviewed_book, tmp_path, extracted,
                                                                         tiny_models, monkeypatch):
    """The next volume: this book's reviewed TMX imported into a fresh project; exact matches fill entries
    (fuzzy, 'tm: exact <origin>'), a sentence changed by a word gets a fuzzy match noted and is still drafted
    by the model; the status page counts memory matches apart from machine drafts."""
    project, chosen = reviewed_book
    assert run_press("review", "export", "ja", "--format", "tmx", "-o", str(tmp_path / "tm"), cwd=project).returncode == 0
    exported = tmp_path / "tm" / "rise-of-global-south-ja.tmx"
    # one unit's source as another book words it: one word different
    entries = live(load_config(project), "ja")
    changed_id = next(i for i in chosen if not placeholders(entries[i].id) and len(entries[i].id) > 80)
    changed_source = entries[changed_id].id
    altered = changed_source.replace(" the ", " this ", 1)
    assert altered != changed_source
    text = exported.read_text(encoding="utf-8").replace(f"<seg>{changed_source}</seg>", f"<seg>{altered}</seg>", 1)
    assert altered in text
    exported.write_text(text, encoding="utf-8")

    fresh = translation_project(tmp_path / "next", extracted.output, **FAST)
    result = run_press("tm", "import", str(exported), cwd=fresh)
    assert result.returncode == 0, result.stderr
    assert_valid_tmx((fresh / "locales" / "tm" / "ja.tmx").read_bytes())
    assert "ja: 40 added, 0 replaced, 0 already known; wrote locales/tm/ja.tmx" in result.stderr
    again = run_press("tm", "import", str(exported), cwd=fresh)
    assert "ja: 0 added, 0 replaced, 40 already known; unchanged: locales/tm/ja.tmx" in again.stderr

    config = load_config(fresh)
    prepare_catalogs(config)
    from argostranslate import package, settings as argos_settings
    from pipeline.i18n.engines import load_argos
    monkeypatch.setattr(argos_settings, "package_data_dir", tmp_path / "argos")
    package.install_from_path(tiny_models["ja"])
    [installed] = package.get_installed_packages(path=[tmp_path / "argos"])
    engine = (load_argos(installed.package_path, "en", "ja"), ["mt: argos translate-en_ja", "mt: sha256:test"])
    report = draft_language(config, "ja", [], engine=engine)
    assert report.from_memory == 39 and report.memory_suggestions >= 1

    after = live(config, "ja")
    for segment_id, translation in chosen.items():
        message = after[segment_id]
        if segment_id == changed_id:
            suggestion = [c for c in message.auto_comments if c.startswith("tm: ")]
            assert len(suggestion) == 1 and re.fullmatch(
                rf"tm: (8[5-9]|9\d)% rise-of-global-south/{re.escape(segment_id)}: {re.escape(translation)}", suggestion[0])
            # the model still drafted it (the tiny random model's draft may be refused for a lost placeholder)
            assert any(c.startswith("mt: draft:") for c in message.auto_comments) or \
                segment_id in report.lost_placeholders
            continue
        assert message.string == translation and message.fuzzy, segment_id
        assert f"tm: exact rise-of-global-south/{segment_id}" in message.auto_comments
        assert not any(c.startswith("mt: ") for c in message.auto_comments), "not a machine draft"
        assert entry_state(message) != REVIEWED
    po = catalog_path(config, "ja", "ch1").read_text(encoding="utf-8")
    assert "#. tm: exact rise-of-global-south/ch1-" in po
    # a reviewer in a CAT tool sees where the translation came from
    exported_xliff = run_press("review", "export", "ja", "--format", "xliff", "--part", "ch1", "-o", str(tmp_path / "x"),
                               cwd=fresh)
    assert exported_xliff.returncode == 0, exported_xliff.stderr
    xliff = (tmp_path / "x" / "ch1.xlf").read_text(encoding="utf-8")
    assert '<note category="provenance">tm: exact rise-of-global-south/ch1-' in xliff
    unit = etree.fromstring(xliff.encode()).xpath("//*[local-name()='unit'][.//*[local-name()='note' and "
                                                  "starts-with(., 'tm: exact')]]")[0]
    assert unit.xpath("string(.//*[local-name()='segment']/@state)") == "translated"
    assert not unit.xpath(".//*[local-name()='note'][@category='source-changed']"), "its source did not change"

    counts = count_states(config, "ja")
    assert sum(tally[MEMORY] for tally in counts.values()) == 39
    status = run_press("status", "ja", cwd=fresh)
    assert status.returncode == 0 and "memory match" in status.stdout
    page = etree.HTML((fresh / "output" / "reports" / "translation-status.html").read_bytes())
    header = [cell.text for cell in page.xpath("//h2[starts-with(., 'ja:')]/following-sibling::table[1]/thead/tr/th")]
    total = page.xpath("//h2[starts-with(., 'ja:')]/following-sibling::table[1]/tbody/tr[@class='total']/td")
    row = dict(zip(header, (cell.text for cell in total)))
    assert row["memory match"] == "39" and row["machine draft"] != "39"


def test_a_tmx_from_another_tool_is_imported(project, tmp_path):
    """translate-toolkit writes a TMX with region-tagged languages (en-US, ja-JP) and no press metadata."""
    tmx_module = pytest.importorskip("translate.storage.tmx")
    config = load_config(project)
    prepare_catalogs(config)
    title = next(m for m in live(config, "ja").values() if m.context == "ch1-title.1")
    store = tmx_module.tmxfile(sourcelanguage="en-US", targetlanguage="ja-JP")
    store.addtranslation(title.id, "en-US", "日ASEAN関係：過去、現在、そして未来", "ja-JP")
    store.addtranslation("A sentence this book does not have.", "en-US", "この本にない文。", "ja-JP")
    path = tmp_path / "other tool.tmx"
    path.write_bytes(bytes(store))
    result = run_press("tm", "import", str(path), cwd=project)
    assert result.returncode == 0, result.stderr
    memory = read_tmx(memory_path(config, "ja").read_bytes(), "ja.tmx", "ja", "en")
    assert {(u.source, u.target) for u in memory} == {(title.id, "日ASEAN関係：過去、現在、そして未来"),
                                                      ("A sentence this book does not have.", "この本にない文。")}
    assert all(u.origin.startswith("other_tool.tmx#") for u in memory)
    draft_language(config, "ja", [])  # no model configured: the memory still fills what it knows
    filled = live(config, "ja")["ch1-title.1"]
    assert filled.string == "日ASEAN関係：過去、現在、そして未来" and filled.fuzzy


HOSTILE = {
    "entities": b'<?xml version="1.0"?><!DOCTYPE tmx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
                b'<tmx version="1.4"><header srclang="en"/><body><tu><tuv xml:lang="en"><seg>&b;</seg></tuv>'
                b'<tuv xml:lang="ja"><seg>x</seg></tuv></tu></body></tmx>',
    "external entity": b'<?xml version="1.0"?><!DOCTYPE tmx SYSTEM "tmx14.dtd" [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                       b'<tmx version="1.4"><header srclang="en"/><body><tu><tuv xml:lang="en"><seg>&x;</seg></tuv>'
                       b'<tuv xml:lang="ja"><seg>x</seg></tuv></tu></body></tmx>',
    "not tmx": b'<?xml version="1.0"?><xliff version="2.1"/>',
    "broken": b'<?xml version="1.0"?><tmx version="1.4"><body><tu>',
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_hostile_or_broken_tmx_is_refused_in_one_line_and_nothing_is_written(project, tmp_path, kind):
    path = tmp_path / "in.tmx"
    path.write_bytes(HOSTILE[kind])
    result = run_press("tm", "import", str(path), cwd=project)
    assert result.returncode == ExitCode.INPUT, result.stderr
    assert result.stderr.count("\n") == 1 and "in.tmx" in result.stderr and "Traceback" not in result.stderr
    assert not (project / "locales" / "tm").exists()


# --------------------------------------------------------------------------- the memory's promises


TOKENS = ["<e1>", "</e1>", "<n1/>", "<n2/>", "<l1/>"]
sentences = st.lists(st.sampled_from(["Japan", "and", "ASEAN", "trade", "grew", *TOKENS]), min_size=1, max_size=8)
targets = st.lists(st.sampled_from(["日本", "貿易", *TOKENS]), min_size=1, max_size=8)
states = st.sampled_from([UNTRANSLATED, "reviewed", "draft", "fuzzy by hand"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(sentences, states, targets, st.booleans()), min_size=1, max_size=12))
def test_the_memory_never_overwrites_work_nor_fills_an_entry_whose_placeholders_differ(rows):
    catalog = Catalog(locale="ja")
    units = []
    for number, (words, state, translation, remembered) in enumerate(rows):
        source, target = " ".join(words), " ".join(translation)
        message = Message(source, "" if state == UNTRANSLATED else f"人の訳 {number}", context=f"s{number}",
                          flags={"fuzzy"} if state in ("draft", "fuzzy by hand") else set(),
                          auto_comments=["mt: argos x", "mt: draft:0"] if state == "draft" else [])
        catalog[source] = message
        if remembered:
            units.append(MemoryUnit(source, target, f"other/s{number}"))
    before = {m.context: (m.string, set(m.flags)) for m in catalog if m.id}
    apply_memory(Memory(units), {"ch1": catalog})
    remembered_targets = {unit.source: unit.target for unit in units}
    for message in (m for m in catalog if m.id):
        old_string, old_flags = before[message.context]
        if old_string:
            assert (message.string, set(message.flags)) == (old_string, old_flags), "work is never overwritten"
        elif message.string:
            assert message.string == remembered_targets[message.id] and message.fuzzy
            assert compare_placeholders(message.id, message.string) == [], "filled only with the same placeholders"
        elif message.id in remembered_targets:
            assert compare_placeholders(message.id, remembered_targets[message.id]), \
                "an exact match carrying the same placeholders does fill"


def test_tmx_round_trip_keeps_every_placeholder_shape():
    """Paired, empty, unpaired (an opening with no closing, a closing with no opening) tokens all survive."""
    units = [MemoryUnit("See <e1>this</e1> and <n1/>.", "<e1>これ</e1>と<n1/>を参照。", "a/1"),
             MemoryUnit("Odd </e1> closing <l1/>", "奇妙 </e1> <l1/>", "a/2"),
             MemoryUnit("Open <e1> only", "開く <e1> だけ", "a/3")]
    data = write_tmx(units, source_language="en", target_language="ja")
    assert_valid_tmx(data)
    root = etree.fromstring(data)
    assert root.xpath("count(//it)") == 4 and root.xpath("count(//bpt)") == 2 and root.xpath("count(//ph)") == 4
    assert sorted(read_tmx(data, "x.tmx", "ja", "en"), key=lambda u: u.origin) == units


def test_a_tmx_without_the_book_languages_is_refused(project, tmp_path):
    path = tmp_path / "de.tmx"
    path.write_bytes(write_tmx([MemoryUnit("Trade grew.", "Der Handel wuchs.", "x/1")], source_language="en",
                               target_language="de"))
    result = run_press("tm", "import", str(path), cwd=project)
    assert result.returncode == ExitCode.INPUT and "no en→km/ja translation units" in result.stderr
    with pytest.raises(InputError):
        from pipeline.i18n.memory import import_memory
        import_memory(load_config(project), path)


def test_the_build_summary_names_memory_matches_only_when_there_are_some():
    from pipeline.build import needs_people
    with_memory = needs_people(0, {"ja": {UNTRANSLATED: 1184, "machine draft": 0, MEMORY: 39, "needs review": 0,
                                          REVIEWED: 0}})
    assert "translators (ja): 1,184 untranslated, 0 machine draft, 39 memory match, 0 needs review, 0 reviewed" \
        in with_memory[1]
    without = needs_people(0, {"km": {UNTRANSLATED: 1223, "machine draft": 0, MEMORY: 0, "needs review": 0,
                                      REVIEWED: 0}})
    assert "memory" not in without[1]


def test_the_fuzzy_lookup_finds_what_comparing_every_sentence_finds():
    """The lookup reads only the sentence lengths that can reach the threshold; on the book's own sentences,
    edited a word or two, it finds the same best score as comparing against every sentence."""
    from rapidfuzz import fuzz
    from conftest import ROOT
    from pipeline.i18n.memory import FUZZY_THRESHOLD
    sources = sorted({m.id for path in sorted((ROOT / "locales" / "ja").glob("*.po"))
                      for m in read_catalog(path, "ja") if m.id})
    memory = Memory(MemoryUnit(source, "訳", f"book/{number}") for number, source in enumerate(sources))
    found = 0
    for number, source in enumerate(sources[::7]):
        words = source.split()
        query = " ".join(words[:-2] if number % 3 == 0 else words[1:] if number % 3 == 1 else words + ["too"])
        brute = max(fuzz.ratio(query, candidate) for candidate in sources)
        match = memory.fuzzy_match(query)
        if brute >= FUZZY_THRESHOLD:
            assert match is not None and match[1] == pytest.approx(brute), query
            found += 1
        else:
            assert match is None, query
    assert found >= 100


# --------------------------------------------------------------------------- TMX as CAT tools write it

CAT_TOOL_TMX = """<?xml version="1.0" encoding="{encoding}"?>
<!DOCTYPE tmx SYSTEM "tmx14.dtd">
<tmx version="1.4">
<header creationtool="SDL Language Platform" creationtoolversion="8.1" o-tmf="SDL TM8 Format" datatype="xml"
 segtype="sentence" adminlang="EN-US" srclang="EN-US" creationdate="20261130T101010Z">
<prop type="x-Recognizers">RecognizeAll</prop>
</header>
<body>
<tu tuid="17" usagecount="3"><prop type="x-Origin">TM</prop><note>checked by the editor</note>
<tuv xml:lang="EN-US"><seg>Trade grew fast.<ph x="1" type="fnote">&lt;n1/&gt;</ph></seg></tuv>
<tuv xml:lang="ja-JP"><seg>貿易は急速に伸びた。<ph x="1" type="fnote">&lt;n1/&gt;</ph></seg></tuv>
<tuv xml:lang="KM-kh"><seg>ពាណិជ្ជកម្មរីកចម្រើនយ៉ាងលឿន។<ph x="1" type="fnote">&lt;n1/&gt;</ph></seg></tuv>
</tu>
<tu tuid="18"><tuv xml:lang="en-us"><seg>Past, Present, and <hi type="italic">Future</hi></seg></tuv>
<tuv xml:lang="JA"><seg>過去、現在、<hi type="italic">未来</hi></seg></tuv></tu>
</body>
</tmx>
"""


@pytest.mark.parametrize("encoding, bom", [("UTF-16", b"\xff\xfe"), ("UTF-16", b"\xfe\xff"), ("UTF-8", b"\xef\xbb\xbf"),
                                           ("UTF-16LE", b""), ("UTF-16BE", b"")])
def test_a_cat_tools_tmx_in_utf16_with_its_doctype_is_read(encoding, bom):
    """Trados and other Windows CAT tools write TMX in UTF-16 with a BOM and the plain ``<!DOCTYPE tmx SYSTEM
    "tmx14.dtd">``; the DOCTYPE was only recognised in UTF-8 bytes, so such a file was refused as hostile."""
    codec = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be", b"\xef\xbb\xbf": "utf-8"}.get(bom, encoding.lower())
    data = bom + CAT_TOOL_TMX.format(encoding=encoding).encode(codec)
    japanese = read_tmx(data, "trados.tmx", "ja", "en")
    assert {(u.source, u.target, u.origin) for u in japanese} == {
        ("Trade grew fast.<n1/>", "貿易は急速に伸びた。<n1/>", "trados.tmx#17"),
        ("Past, Present, and Future", "過去、現在、未来", "trados.tmx#18")}
    assert [(u.source, u.target) for u in read_tmx(data, "trados.tmx", "km", "en")] == [
        ("Trade grew fast.<n1/>", "ពាណិជ្ជកម្មរីកចម្រើនយ៉ាងលឿន។<n1/>")]


def test_a_utf16_tmx_with_entities_is_still_refused():
    hostile = HOSTILE["external entity"].replace(b'version="1.0"?>', b'version="1.0" encoding="UTF-16"?>', 1)
    with pytest.raises(InputError):
        read_tmx(b"\xff\xfe" + hostile.decode("ascii").encode("utf-16-le"), "in.tmx", "ja", "en")


def test_a_missing_tmx_is_one_line_that_does_not_talk_of_the_manuscript(project, tmp_path):
    """The issue asked that a missing file's hint not mention the manuscript (it did for a model file); a TMX
    or a review package given on the command line is not the manuscript either."""
    for command in (("tm", "import"), ("review", "import")):
        result = run_press(*command, str(tmp_path / "missing.tmx"), cwd=project)
        assert result.returncode == ExitCode.INPUT, result.stderr
        assert result.stderr.count("\n") == 1 and "missing.tmx" in result.stderr
        assert "manuscript" not in result.stderr, result.stderr
