"""Font subsets for the EPUBs: HarfBuzz first, fontTools when HarfBuzz cannot be loaded; both keep
every character asked for and the layout tables that shape Khmer."""

from __future__ import annotations

import io

import pytest
from fontTools.ttLib import TTFont

from pipeline.render import fonts

TEXT = {"Khmer OS": "ជប៉ុននិងអាស៊ានគឺជាសសរស្តម្ភនៃស្ថិរភាព ASEAN 2025",
        "Noto Serif CJK JP": "日本とASEANは、アジア太平洋地域の安定と成長の礎となってきた。第1章 目次"}


@pytest.mark.parametrize("family", sorted(TEXT))
@pytest.mark.parametrize("engine", ["harfbuzz", "fonttools"])
def test_a_subset_keeps_the_characters_and_the_shaping_tables(family, engine, monkeypatch):
    if engine == "fonttools":
        def unavailable():
            raise OSError("libharfbuzz-subset.so.0: cannot open shared object file")
        monkeypatch.setattr(fonts, "harfbuzz", unavailable)
    face = fonts.find_face(family)
    wanted = "".join(sorted(set(TEXT[family])))
    data = fonts._subset(face, wanted)
    assert data == fonts._subset(face, wanted), "the same bytes every time"
    font = TTFont(io.BytesIO(data))
    cmap = font.getBestCmap()
    assert all(ord(char) in cmap for char in wanted if not char.isspace())
    assert {"GSUB", "GPOS"} <= set(font.keys())
    assert len(cmap) < 200, "only what was asked for"
    assert len(data) < face.path.stat().st_size / 5
