"""The EPUB editions of the real manuscript, built once per session by the real pipeline (PDF and EPUB,
so the page list can be compared with the print edition), then read back as a reader, a retailer's
validator and a font engine would read them."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from urllib.parse import urldefrag

import pytest
from lxml import etree

from conftest import ROOT, copy_built, made_once, run_press
from pipeline.build import BuildOptions, build
from pipeline.config import load_config
from pipeline.doctor import epubcheck_jar
from pipeline.docbook import NS
from pipeline.progress import Reporter
from pipeline.safety import open_zip, parse_xml

LANGUAGES = ("en", "km", "ja")
EPUBCHECK = epubcheck_jar()  # 5.x from PyPI: Debian's 4.2.6 misses current rules (deprecated roles)
XHTML = "http://www.w3.org/1999/xhtml"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
OPF = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
X = {"x": XHTML, "epub": "http://www.idpf.org/2007/ops"}


class Edition:
    """An EPUB read back: its files, parsed documents and package."""

    def __init__(self, path: Path, lang: str):
        self.path, self.lang = path, lang
        self.data = path.read_bytes()
        self.zip = open_zip(self.data, path=path)
        self.opf = etree.fromstring(self.zip.read("OEBPS/content.opf"))
        self.documents = {name.removeprefix("OEBPS/"): etree.fromstring(self.zip.read(name))
                          for name in self.zip.names() if name.endswith(".xhtml")}
        self.spine = [self.opf.xpath(f"opf:manifest/opf:item[@id='{ref}']/@href", namespaces=OPF)[0]
                      for ref in self.opf.xpath("opf:spine/opf:itemref/@idref", namespaces=OPF)]

    def resolve(self, base: str, href: str) -> etree._Element | None:
        """The element an href points at (a document's root when it has no fragment)."""
        target, fragment = urldefrag(href)
        document = self.documents.get(target or base)
        if document is None:
            return None
        if not fragment:
            return document
        found = document.xpath(f"//*[@id='{fragment}']")
        return found[0] if found else None

    def nav(self, kind: str) -> etree._Element:
        return self.documents["nav.xhtml"].xpath(f"//x:nav[@epub:type='{kind}']", namespaces=X)[0]

    def text(self) -> str:
        return "".join("".join(doc.find(f"{{{XHTML}}}body").itertext()) for doc in self.documents.values())


@pytest.fixture(scope="session")
def built(built_project) -> Path:
    """The project built once for the session: every language, PDF and EPUB (conftest.built_project)."""
    return built_project


@pytest.fixture(scope="session")
def editions(built) -> dict[str, Edition]:
    config = load_config(built)
    return {lang: Edition(config.output_dir / lang / f"{config.slug}.epub", lang) for lang in LANGUAGES}


@pytest.fixture(scope="session")
def built_book(built):
    path = built / "output" / "xml" / "book.xml"
    return parse_xml(path.read_bytes(), path)


# --------------------------------------------------------------------------- validity


EPUBCHECK_EACH = Path(__file__).resolve().parent / "java" / "EpubCheckEach.java"


@pytest.fixture(scope="session")
def epubcheck_reports(editions, tmp_path_factory) -> dict[str, dict]:
    """EPUBCheck's JSON report on each edition, all checked in one Java run (tests/java/EpubCheckEach.java:
    the JVM and EPUBCheck's schemas load once, not once per edition); made once for every worker."""
    java = shutil.which("java")
    if not java or not EPUBCHECK.is_file():
        pytest.skip("Java or EPUBCheck is not installed (scripts/setup installs default-jre-headless and epubcheck)")
    # a short-lived JVM: the quick compiler and the serial collector start a third faster
    options = [java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
    with made_once(tmp_path_factory, "epubcheck") as (directory, make):
        reports = {lang: directory / f"{lang}.json" for lang in editions}
        if make:
            pairs = [str(path) for lang, report in reports.items() for path in (report, editions[lang].path)]
            subprocess.run([*options, "-cp", str(EPUBCHECK), str(EPUBCHECK_EACH), *pairs], capture_output=True,
                           timeout=300, check=False)
            for lang, report in reports.items():  # a Java without its compiler cannot run a source file
                if not report.is_file():
                    subprocess.run([*options, "-jar", str(EPUBCHECK), "--json", str(report),
                                    str(editions[lang].path)], capture_output=True, timeout=300, check=False)
    return {lang: json.loads(report.read_text()) for lang, report in reports.items()}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_epubcheck_reports_nothing(epubcheck_reports, editions, lang):
    checked = epubcheck_reports[lang]
    assert checked["checker"]["path"] == str(editions[lang].path)  # the report on this edition, every file read
    assert {item["fileName"] for item in checked["items"]} >= {"OEBPS/content.opf", "OEBPS/nav.xhtml"}
    messages = [f"{m['severity']} {m['ID']}: {m['message']} {m['locations'][:1]}" for m in checked["messages"]]
    assert (checked["checker"]["nFatal"], checked["checker"]["nError"], checked["checker"]["nWarning"]) == (0, 0, 0), \
        "\n".join(messages)
    assert not messages


@pytest.mark.parametrize("lang", LANGUAGES)
def test_container_starts_with_stored_mimetype(editions, lang):
    import zipfile
    with zipfile.ZipFile(editions[lang].path) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED and not first.extra
        assert archive.read("mimetype") == b"application/epub+zip"
        names = [info.filename for info in archive.infolist()[1:]]
        assert names == sorted(names)


# --------------------------------------------------------------------------- navigation


@pytest.mark.parametrize("lang", LANGUAGES)
def test_contents_lists_every_part_and_chapter_in_order(editions, built_book, lang):
    edition = editions[lang]
    links = edition.nav("toc").xpath("x:ol/x:li/x:a/@href", namespaces=X)
    parts = [p.get("{http://www.w3.org/XML/1998/namespace}id")
             for p in built_book.xpath("db:preface | db:acknowledgements | db:chapter", namespaces=NS)]
    assert len([p for p in parts if p.startswith("ch")]) == 6
    assert links == [f"{identifier}.xhtml" for identifier in parts]
    for link in edition.nav("toc").xpath(".//x:a/@href", namespaces=X):
        assert edition.resolve("nav.xhtml", link) is not None, link
    assert edition.spine[:3] == ["cover.xhtml", "titlepage.xhtml", "nav.xhtml"]
    assert edition.spine[3:] == links


@pytest.mark.parametrize("lang", LANGUAGES)
def test_landmarks_point_at_cover_contents_and_text(editions, lang):
    edition = editions[lang]
    marks = {a.get(EPUB_TYPE): a.get("href") for a in edition.nav("landmarks").iter(f"{{{XHTML}}}a")}
    assert {"cover", "toc", "bodymatter"} <= set(marks)
    assert edition.resolve("nav.xhtml", marks["toc"]).get(EPUB_TYPE) == "toc"
    assert marks["bodymatter"] == "ch1.xhtml"
    cover = edition.resolve("nav.xhtml", marks["cover"])
    image = cover.find(f".//{{{XHTML}}}img")
    assert image is not None and image.get("alt")
    item = edition.opf.xpath("//opf:item[@properties='cover-image']", namespaces=OPF)[0]
    assert item.get("href") == image.get("src") and item.get("media-type") == "image/png"
    from PIL import Image
    with Image.open(io.BytesIO(edition.zip.read("OEBPS/" + item.get("href")))) as drawn:
        assert drawn.format == "PNG" and drawn.size[1] > drawn.size[0]  # a portrait cover
        colours = drawn.convert("L").getextrema()
        assert colours[1] - colours[0] > 150, "the drawn cover should carry legible lettering"


def _print_contents_folios(pdf: Path) -> list[str]:
    """The page numbers the printed contents page gives for each part and chapter, in order."""
    text = subprocess.run(["pdftotext", "-f", "3", "-l", "4", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    return re.findall(r"[.…]\s*([ivxlcdm]+|[0-9]+|[០-៩]+)\s*$", text, flags=re.MULTILINE)  # ja: a … leader


@pytest.mark.parametrize("lang", LANGUAGES)
def test_page_list_matches_the_print_edition(editions, built, lang):
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext is not installed (poppler-utils; scripts/setup installs it)")
    edition = editions[lang]
    entries = edition.nav("page-list").xpath(".//x:a", namespaces=X)
    pages = json.loads((built / "output" / lang / "pagemap.json").read_text())["pages"]
    assert len(entries) > pages * 0.8, "most print pages should be marked"
    labels = []
    for entry in entries:
        marker = edition.resolve("nav.xhtml", entry.get("href"))
        assert marker is not None, entry.get("href")
        assert marker.get(EPUB_TYPE) == "pagebreak" and marker.get("role") == "doc-pagebreak"
        assert marker.get("aria-label") == entry.text
        labels.append(entry.text)
    assert len(set(labels)) == len(labels)
    # the first page marker of each part and chapter carries the folio the printed contents give it
    starts = []
    for name in edition.spine[3:]:
        first = edition.documents[name].xpath("//*[@epub:type='pagebreak']", namespaces=X)[0]
        starts.append(first.get("aria-label"))
    pdf = built / "output" / lang / "rise-of-global-south.pdf"
    assert starts == _print_contents_folios(pdf)
    # the print edition is named as the pages' source when it has an ISBN: here only the English one
    assert edition.opf.xpath("//opf:meta[@property='source-of']/text()", namespaces=OPF) == (
        ["pagination"] if lang == "en" else [])


# --------------------------------------------------------------------------- content


@pytest.mark.parametrize("lang", LANGUAGES)
def test_notes_link_both_ways(editions, built_book, lang):
    edition = editions[lang]
    refs = notes = 0
    for name, document in edition.documents.items():
        for ref in document.xpath("//x:a[@epub:type='noteref']", namespaces=X):
            refs += 1
            note = edition.resolve(name, ref.get("href"))
            assert note is not None and note.get(EPUB_TYPE) == "endnote", ref.get("href")
            back = note.xpath(".//x:a[@epub:type='backlink']", namespaces=X)
            assert back and edition.resolve(name, back[0].get("href")) is ref
        for note in document.xpath("//*[@epub:type='endnote']", namespaces=X):
            notes += 1
            back = note.xpath(".//x:a[@epub:type='backlink']", namespaces=X)[0]
            assert edition.resolve(name, back.get("href")).get(EPUB_TYPE) == "noteref"
            assert note.xpath("ancestor::*[@epub:type='endnotes']", namespaces=X)
    footnotes = len(built_book.xpath("//db:footnote", namespaces=NS))
    assert footnotes > 100 and refs == notes == footnotes


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_document_says_its_language(editions, lang):
    edition = editions[lang]
    for name, document in edition.documents.items():
        assert document.get("lang") == lang and document.get(XML_LANG) == lang, name
        for element in document.xpath("//*[@lang]"):
            assert element.get(XML_LANG) == element.get("lang"), name
    english = [e for doc in edition.documents.values() for e in doc.xpath("//*[contains(@class, 'untranslated')]")]
    if lang == "en":
        assert not english
    else:  # no translations yet: the English text is marked English, so it is read and hyphenated as English
        assert len(english) > 100 and all(e.get("lang") == "en" == e.get(XML_LANG) for e in english)


def test_khmer_text_gets_the_print_word_breaks(built, built_book, tmp_path):
    """Khmer in the book reaches the EPUB with a zero-width space at each word boundary, as in print."""
    import copy

    from pipeline.render.epub import render_epub
    from pipeline.i18n.localize import localize
    from pipeline.render.khmer import break_khmer, cluster_splitting_breaks
    # loanwords (strategy, framework) where ICU's syllables end on a coeng
    sentence = "ព្រះរាជាណាចក្រកម្ពុជាមានប្រវត្តិសាស្ត្រយូរលង់ណាស់មកហើយស្ត្រាតេហ្ស៊ីនិងហ្វ្រេមវើក"
    book = localize(copy.deepcopy(built_book), "km", load_config(built)).book
    para = book.xpath("db:chapter[1]/db:section[1]/db:para[1]", namespaces=NS)[0]
    for child in list(para):
        para.remove(child)
    para.text = sentence
    para.set("{http://www.w3.org/XML/1998/namespace}lang", "km")
    para.attrib.pop("condition", None)
    output = tmp_path / "km.epub"
    render_epub(book, "km", load_config(built), output)
    edition = Edition(output, "km")
    section = para.getparent().get("{http://www.w3.org/XML/1998/namespace}id")
    paragraph = edition.documents["ch1.xhtml"].xpath(f"//x:section[@id='{section}']/x:p", namespaces=X)[0]
    assert "".join(paragraph.itertext()) == break_khmer(sentence)
    assert "\u200b" in break_khmer(sentence) and paragraph.get("lang") is None
    for name, document in edition.documents.items():  # no break anywhere splits a cluster
        text = "".join(document.itertext())
        assert cluster_splitting_breaks(text) == [], name


@pytest.mark.parametrize("lang", LANGUAGES)
def test_tables_figures_and_openers_keep_their_words(editions, built_book, lang):
    edition = editions[lang]
    tables = [t for doc in edition.documents.values() for t in doc.iter(f"{{{XHTML}}}table")]
    assert len(tables) == len(built_book.xpath("//db:table | //db:informaltable", namespaces=NS)) > 0
    for table in tables:
        assert table.xpath("x:thead/x:tr/x:th[@scope='col']", namespaces=X)
    titled = len(built_book.xpath("//db:table[db:title]", namespaces=NS))
    assert sum(1 for t in tables if t.find(f"{{{XHTML}}}caption") is not None) == titled
    figures = [f for doc in edition.documents.values() for f in doc.xpath("//x:figure[not(contains(@class, "
                                                                            "'opener'))]", namespaces=X)]
    assert len(figures) == len(built_book.xpath("//db:figure", namespaces=NS))
    assert all(f.find(f"{{{XHTML}}}figcaption") is not None for f in figures)
    for chapter in built_book.xpath("db:chapter", namespaces=NS):
        document = edition.documents[f"{chapter.get('{http://www.w3.org/XML/1998/namespace}id')}.xhtml"]
        names = [" ".join("".join(p.itertext()).split()) for p in document.xpath("//x:p[@class='chapter-author']",
                                                                                 namespaces=X)]
        expected = [" ".join("".join(p.itertext()).split()) for p in chapter.xpath("db:info/db:author/db:personname",
                                                                                   namespaces=NS)]
        assert names == expected and names


# --------------------------------------------------------------------------- package metadata


@pytest.mark.parametrize("lang", LANGUAGES)
def test_package_metadata(editions, built_book, lang):
    opf = editions[lang].opf
    printed = re.sub(r"\D", "", built_book.xpath("string(db:info/db:biblioid[@class='isbn'])", namespaces=NS))
    # the manuscript's ISBN is the English print edition's: no EPUB may claim it; without its own ISBN
    # ([isbn] in book.toml) an EPUB is a stable UUID, and the English one names its print edition as source
    identifier = opf.xpath("string(//dc:identifier[@id='pub-id'])", namespaces=OPF)
    assert identifier.startswith("urn:uuid:") and printed not in identifier
    assert opf.xpath("//dc:source/text()", namespaces=OPF) == ([f"urn:isbn:{printed}"] if lang == "en" else [])
    assert opf.xpath("//dc:language/text()", namespaces=OPF)[0] == lang
    editors = opf.xpath("//dc:creator", namespaces=OPF)
    assert len(editors) == len(built_book.xpath("db:info/db:editor", namespaces=NS)) == 2
    for editor in editors:
        role = opf.xpath(f"//opf:meta[@refines='#{editor.get('id')}'][@property='role']", namespaces=OPF)[0]
        assert (role.text, role.get("scheme")) == ("edt", "marc:relators")
    authors = opf.xpath("//dc:contributor", namespaces=OPF)
    assert authors and all(opf.xpath(f"//opf:meta[@refines='#{a.get('id')}'][@property='role']/text()",
                                     namespaces=OPF) == ["aut"] for a in authors)
    assert opf.xpath("//dc:publisher/text()", namespaces=OPF) and opf.xpath("//dc:rights/text()", namespaces=OPF)
    assert len(opf.xpath("//dc:title", namespaces=OPF)) == 1 and not opf.xpath("//opf:meta[@refines='#edition']",
                                                                               namespaces=OPF)
    assert not editions[lang].documents["ch1.xhtml"].xpath("//*[@class='draft-notice']"), "final: no draft notice"
    import os
    import tomllib
    from datetime import UTC, datetime
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    expected = (datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if epoch else
                tomllib.loads((ROOT / "source" / "book.toml").read_text())["epub"]["modified"])
    assert opf.xpath("//opf:meta[@property='dcterms:modified']/text()", namespaces=OPF) == [expected]


def test_source_date_epoch_dates_the_edition(monkeypatch, config):
    from pipeline.render.epub import modification_time, zip_package
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    assert modification_time(config).isoformat() == "2026-01-01T00:00:00+00:00"
    import zipfile
    with zipfile.ZipFile(io.BytesIO(zip_package({"OEBPS/a.txt": b"a"}, modification_time(config)))) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2026, 1, 1, 0, 0, 0)}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_accessibility_metadata_tells_the_truth(editions, built_book, lang):
    opf = editions[lang].opf

    def values(prop: str) -> list[str]:
        return opf.xpath(f"//opf:meta[@property='{prop}']/text()", namespaces=OPF)
    assert "textual" in values("schema:accessMode") and values("schema:accessModeSufficient") == ["textual"]
    assert values("schema:accessibilityHazard") == ["none"]
    assert values("dcterms:conformsTo") == ["EPUB Accessibility 1.1 - WCAG 2.1 Level AA"]
    features = values("schema:accessibilityFeature")
    assert {"tableOfContents", "structuralNavigation", "pageBreakMarkers"} <= set(features)
    images = editions[lang].zip.names()
    figures_with_images = [n for n in images if "/images/" in n and "cover" not in n]
    if not figures_with_images:  # this manuscript came without its figure images: no alt-text claim
        assert "alternativeText" not in features
        assert "not supplied" in values("schema:accessibilitySummary")[0]
    assert len(built_book.xpath("//db:figure", namespaces=NS)) > 0


# --------------------------------------------------------------------------- fonts and size


def _embedded_cmaps(edition: Edition) -> dict[str, set[int]]:
    from fontTools.ttLib import TTFont
    cmaps = {}
    for name in edition.zip.names():
        if name.startswith("OEBPS/fonts/"):
            font = TTFont(io.BytesIO(edition.zip.read(name)))
            cmaps[font["name"].getDebugName(1)] = set(font.getBestCmap())
            assert font["maxp"].numGlyphs < 3000, f"{name} is not a subset"
    return cmaps


@pytest.mark.parametrize("lang, family, script", [
    ("km", "Khmer OS", lambda c: "\u1780" <= c <= "\u17ff"),
    ("ja", "Noto Serif CJK JP", lambda c: unicodedata.name(c, "").startswith(("CJK", "HIRAGANA", "KATAKANA",
                                                                              "FULLWIDTH", "IDEOGRAPHIC"))),
    ("en", "Noto Serif", lambda c: c.isalpha()),
])
def test_embedded_fonts_have_every_glyph_the_text_needs(editions, lang, family, script):
    edition = editions[lang]
    cmaps = _embedded_cmaps(edition)
    assert family in cmaps
    needed = {char for char in edition.text() if script(char)}
    assert needed, "the edition should use characters of its script"
    missing = sorted(char for char in needed if ord(char) not in cmaps[family])
    assert not missing, f"{family} subset lacks {''.join(missing)}"
    latin = {char for char in edition.text() if char.isascii() and char.isalpha()}
    assert all(any(ord(char) in cmap for cmap in cmaps.values()) for char in latin)
    css = edition.zip.read("OEBPS/css/book.css").decode()
    for name in edition.zip.names():
        if name.startswith("OEBPS/fonts/"):
            assert f'url("../{name.removeprefix("OEBPS/")}")' in css
    assert re.search(r"body \{ font-family: [^}]*\bserif;", css), "a generic family for readers without fonts"


@pytest.mark.parametrize("lang", ("km", "ja"))
def test_khmer_and_japanese_editions_stay_small(editions, lang):
    assert editions[lang].path.stat().st_size < 3 * 1024 * 1024


# --------------------------------------------------------------------------- reproducibility and bad input


def test_two_builds_give_the_same_bytes(built, editions, tmp_path):
    project = tmp_path / "again"
    for name in ("source", "templates", "locales"):
        shutil.copytree(built / name, project / name)
    shutil.copytree(built / "output", project / "output", ignore=shutil.ignore_patterns("*.epub", ".cache"))
    assert build(project, reporter=Reporter(io.StringIO(), quiet=True), options=BuildOptions(formats=("epub",))) == 0
    for lang in LANGUAGES:
        again = (project / "output" / lang / editions[lang].path.name).read_bytes()
        assert again == editions[lang].data, f"{lang} EPUB differs between two builds"


@pytest.mark.slow
def test_epub_only_build_lays_out_print_when_the_page_map_is_stale(built, editions, tmp_path):
    """A pagemap.json that describes another print edition is not used: the print edition is laid out
    again, and the page list comes out as the PDF build made it."""
    project = _project_with_epub(built, tmp_path / "project")
    stale = project / "output" / "en" / "pagemap.json"
    data = json.loads(stale.read_text())
    data["print_digest"] = "0" * 64
    data["starts"] = [[index, "x", element] for index, _, element in data["starts"]]
    stale.write_text(json.dumps(data))
    (project / "output" / ".cache" / "epub-en.json").unlink()  # the edition must be made again, from the stale map
    assert build(project, reporter=Reporter(io.StringIO(), quiet=True),
                 options=BuildOptions(languages=("en",), formats=("epub",))) == 0
    assert (project / "output" / "en" / "rise-of-global-south.epub").read_bytes() == editions["en"].data
    assert json.loads(stale.read_text())["print_digest"] != "0" * 64


@pytest.mark.slow
def test_supplied_figure_images_are_embedded_with_text_alternatives(built, tmp_path):
    from PIL import Image
    project = _project_with_epub(built, tmp_path / "project")
    (project / "source" / "images").mkdir(exist_ok=True)
    for figure in ("ch5-figure1", "ch5-figure2"):
        Image.new("RGB", (400, 250), (30, 90, 160)).save(project / "source" / "images" / f"{figure}.png")
    assert build(project, reporter=Reporter(io.StringIO(), quiet=True),
                 options=BuildOptions(languages=("en",), formats=("epub",))) == 0
    edition = Edition(project / "output" / "en" / "rise-of-global-south.epub", "en")
    images = edition.documents["ch5.xhtml"].xpath("//x:figure/x:img", namespaces=X)
    assert len(images) == 2 and all(image.get("alt") for image in images)
    for image in images:
        assert edition.zip.read("OEBPS/" + image.get("src"))[:8] == b"\x89PNG\r\n\x1a\n"
        assert edition.opf.xpath(f"//opf:item[@href='{image.get('src')}']/@media-type", namespaces=OPF) == \
            ["image/png"]
    features = edition.opf.xpath("//opf:meta[@property='schema:accessibilityFeature']/text()", namespaces=OPF)
    assert "alternativeText" in features


def _project_with_epub(built: Path, destination: Path) -> Path:
    return copy_built(built, destination)


def _configure_cover(project: Path, cover: str) -> None:
    toml = project / "source" / "book.toml"
    toml.write_text(toml.read_text().replace('# cover = "images/cover.jpg"', f'cover = "{cover}"'))


@pytest.mark.parametrize("cover, make, expected", [
    ("images/missing.png", None, "missing"),
    ("images/cover.gif", "gif", "unsupported cover image type .gif"),
    ("images/cover.png", "broken", "cannot be read"),
])
def test_bad_cover_stops_with_one_line_and_keeps_the_old_epub(built, tmp_path, cover, make, expected):
    from PIL import Image
    project = _project_with_epub(built, tmp_path / "project")
    if make:
        (project / "source" / "images").mkdir(exist_ok=True)
        target = project / "source" / cover
        if make == "gif":
            Image.new("RGB", (60, 90), (10, 20, 30)).save(target, format="GIF")
        else:
            target.write_bytes(b"\x89PNG\r\n\x1a\n not really a picture")
    _configure_cover(project, cover)
    epub = project / "output" / "en" / "rise-of-global-south.epub"
    before = epub.read_bytes()
    result = run_press("build", "--lang", "en", "--format", "epub", "-q", cwd=project)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0] and cover.split("/")[-1] in errors[0], result.stderr
    assert epub.read_bytes() == before
    assert not list(epub.parent.glob("*.tmp*")) and not list(epub.parent.glob(".*"))


def test_publisher_cover_replaces_the_drawn_one(built, tmp_path):
    from PIL import Image
    project = _project_with_epub(built, tmp_path / "project")
    (project / "source" / "images").mkdir(exist_ok=True)
    supplied = project / "source" / "images" / "cover.jpg"
    Image.new("RGB", (600, 900), (120, 30, 30)).save(supplied, format="JPEG")
    assert build(project, reporter=Reporter(io.StringIO(), quiet=True),
                 options=BuildOptions(languages=("en",), formats=("epub",))) == 0
    edition = Edition(project / "output" / "en" / "rise-of-global-south.epub", "en")
    item = edition.opf.xpath("//opf:item[@properties='cover-image']", namespaces=OPF)[0]
    assert item.get("media-type") == "image/jpeg"
    assert edition.zip.read("OEBPS/" + item.get("href")) == supplied.read_bytes()


# --------------------------------------------------------------------------- as a reader sees it


@pytest.mark.parametrize("lang, document", [("en", "ch3.xhtml"), ("km", "titlepage.xhtml"), ("ja", "nav.xhtml")])
def test_pages_render_in_a_browser(editions, tmp_path, lang, document):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("chromium is not installed (scripts/setup installs it as root)")
    from PIL import Image
    edition = editions[lang]
    for name in edition.zip.names():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(edition.zip.read(name))
    shot = tmp_path / f"{lang}.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=800,1100", (tmp_path / "OEBPS" / document).as_uri()],
                   capture_output=True, timeout=120, check=False)
    assert shot.is_file(), "chromium made no screenshot"
    with Image.open(shot) as image:
        dark = sum(image.convert("L").histogram()[:128])
    assert dark > 2000, "the page should show text"


def test_a_cover_or_image_anywhere_under_source_and_the_epoch_are_inputs_of_the_edition(built, tmp_path,
                                                                                        monkeypatch):
    """The cover named in [epub], the images named in [images] (anywhere under source/) and SOURCE_DATE_EPOCH
    change the EPUB: the edition is made again, not reported reused, and the manifest lists them."""
    from PIL import Image
    project = _project_with_epub(built, tmp_path / "project")
    (project / "source" / "art").mkdir()
    cover = project / "source" / "art" / "front.png"
    Image.new("RGB", (600, 900), (120, 30, 30)).save(cover)
    _configure_cover(project, "art/front.png")
    epub = project / "output" / "en" / "rise-of-global-south.epub"
    options = BuildOptions(languages=("en",), formats=("epub",))

    def run() -> str:
        stream = io.StringIO()
        assert build(project, reporter=Reporter(stream), options=options) == 0
        return stream.getvalue()

    def cover_bytes() -> bytes:
        edition = Edition(epub, "en")
        item = edition.opf.xpath("//opf:item[@properties='cover-image']", namespaces=OPF)[0]
        return edition.zip.read("OEBPS/" + item.get("href"))

    run()
    assert "en EPUB: inputs unchanged" in run(), "an unchanged build reuses the edition"
    Image.new("RGB", (600, 900), (30, 120, 30)).save(cover)
    log = run()
    assert "en EPUB: inputs unchanged" not in log and cover_bytes() == cover.read_bytes()
    manifest = json.loads((project / "output" / "manifest.json").read_text(encoding="utf-8"))
    assert "source/art/front.png" in manifest["inputs"]

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    log = run()
    assert "en EPUB: inputs unchanged" not in log
    modified = Edition(epub, "en").opf.xpath("//opf:meta[@property='dcterms:modified']/text()", namespaces=OPF)
    assert modified == ["2026-01-01T00:00:00Z"]
