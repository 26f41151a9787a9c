"""The editions' subject and keywords in their own language ([metadata] in book.toml)."""

from __future__ import annotations

import re
import zipfile

import pytest

from conftest import ROOT, copy_project
from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.i18n.localize import localize
from pipeline.render.epub import render_epub
from pipeline.render.pdf import _print_html


def test_each_edition_describes_itself_in_its_language(book, tmp_path):
    config = load_config(ROOT)
    html = {lang: _print_html(localize(book, lang, config).book, lang, config, drafts=False, notes="endnotes",
                              images={})[0] for lang in ("en", "ja")}
    assert f'content="{config.subject}"' in html["en"]
    assert 'name="description" content="日ASEAN関係' in html["ja"] and "インド太平洋" in html["ja"]
    assert config.subject not in html["ja"], "the Japanese PDF's Subject is Japanese"
    output = tmp_path / "km.epub"
    render_epub(localize(book, "km", config).book, "km", config, output)
    with zipfile.ZipFile(output) as epub:
        package = epub.read("OEBPS/content.opf").decode()
    assert re.findall(r"<dc:subject>([^<]+)<", package) == list(config.keywords_for("km"))
    assert "ពិភពលោកខាងត្បូង" in package and "Global South" not in re.findall(r"<dc:subject>([^<]+)<", package)


def test_a_language_without_metadata_keeps_the_books(config):
    assert config.subject_for("en") == config.subject and config.keywords_for("en") == config.keywords


@pytest.mark.parametrize("table, expected", [
    ('fr = { subject = "x" }', "not in [book] languages"),
    ('ja = { title = "x" }', "unknown key"),
    ('ja = { keywords = "x" }', "must be a list of strings"),
])
def test_a_wrong_metadata_table_is_one_line(tmp_path, table, expected):
    project = copy_project(tmp_path)
    toml = project / "source" / "book.toml"
    text = re.sub(r"\[metadata\]\n(?:.*\n)*?\n", "", toml.read_text(encoding="utf-8"))
    toml.write_text(text + "\n[metadata]\n" + table + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load_config(project)
