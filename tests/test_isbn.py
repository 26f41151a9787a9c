"""Each edition its own ISBN: an ISBN names one language in one format.

All six editions used to print the English print edition's ISBN (978-9924-9978-2-5). Now
``[isbn]`` in book.toml gives each edition its own; one without prints none and its EPUB is
identified by a stable UUID.
"""

from __future__ import annotations

import re
import zipfile

import pytest

from conftest import copy_project, run_press
from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.i18n.localize import localize
from pipeline.render.epub import render_epub
from pipeline.render.pdf import _print_html

EN_PRINT = "978-9924-9978-2-5"  # the manuscript's, the English print edition's
KM_PRINT = "978-9924-9978-0-1"  # valid check digits, made up for the test
KM_EPUB = "9789924997818"  # given unhyphenated: press hyphenates it


def _project(tmp_path, isbn_table: str):
    project = copy_project(tmp_path)
    toml = project / "source" / "book.toml"
    text = re.sub(r"\[isbn\]\n(?:.*\n)*?\n", "", toml.read_text(encoding="utf-8"))
    toml.write_text(text + "\n[isbn]\n" + isbn_table, encoding="utf-8")
    return project


def test_isbns_are_checked_and_hyphenated(tmp_path):
    config = load_config(_project(tmp_path, f'en = {{ pdf = "{EN_PRINT}" }}\nkm = {{ pdf = "{KM_PRINT}", '
                                            f'epub = "{KM_EPUB}" }}\n'))
    assert config.edition_isbn("km", "epub") == "978-9924-9978-1-8"
    assert config.edition_isbn("km", "pdf") == KM_PRINT and config.edition_isbn("en", "pdf") == EN_PRINT
    assert config.edition_isbn("ja", "pdf") is None and config.edition_isbn("en", "epub") is None


@pytest.mark.parametrize("table, expected", [
    ('en = { pdf = "978-9924-9978-2-4" }', "not a valid ISBN"),
    (f'en = {{ pdf = "{EN_PRINT}", epub = "{EN_PRINT}" }}', "an ISBN names one edition"),
    (f'fr = {{ pdf = "{EN_PRINT}" }}', "not in [book] languages"),
    (f'en = {{ print = "{EN_PRINT}" }}', "unknown key"),
])
def test_a_wrong_isbn_table_stops_with_one_line(tmp_path, table, expected):
    project = _project(tmp_path, table + "\n")
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load_config(project)
    result = run_press("extract", cwd=project)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 5 and len(errors) == 1 and "book.toml" in errors[0], result.stderr


def test_each_edition_prints_its_own_isbn_or_none(tmp_path, book):
    config = load_config(_project(tmp_path, f'en = {{ pdf = "{EN_PRINT}" }}\nkm = {{ pdf = "{KM_PRINT}", '
                                            f'epub = "{KM_EPUB}" }}\n'))
    printed = {lang: _print_html(localize(book, lang, config).book, lang, config, drafts=False, notes="endnotes",
                                 images={})[0] for lang in ("en", "km", "ja")}
    assert f"ISBN {EN_PRINT}" in printed["en"] and KM_PRINT not in printed["en"]
    assert f"ISBN {KM_PRINT}" in printed["km"] and EN_PRINT not in printed["km"]
    assert "ISBN" not in printed["ja"], "an edition without its own ISBN prints none"

    def package(lang: str) -> str:
        output = tmp_path / f"{lang}.epub"
        render_epub(localize(book, lang, config).book, lang, config, output)
        with zipfile.ZipFile(output) as epub:
            return epub.read("OEBPS/content.opf").decode()
    km, ja = package("km"), package("ja")
    assert '<dc:identifier id="pub-id">urn:isbn:9789924997818</dc:identifier>' in km
    ja_id = re.search(r'<dc:identifier id="pub-id">([^<]+)<', ja).group(1)
    assert ja_id.startswith("urn:uuid:") and ja_id == re.search(r'id="pub-id">([^<]+)<', package("ja")).group(1)
    assert EN_PRINT.replace("-", "") not in ja, "no other edition's ISBN, not even as its source"


def test_without_an_isbn_table_only_the_source_print_edition_has_the_manuscripts(config):
    bare = type(config)(**{**config.__dict__, "isbns": None})
    assert bare.edition_isbn("en", "pdf", EN_PRINT) == EN_PRINT
    assert bare.edition_isbn("en", "epub", EN_PRINT) is None and bare.edition_isbn("km", "pdf", EN_PRINT) is None
