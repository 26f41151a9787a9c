"""The drawn EPUB cover wraps its title by shaped width at real line-break opportunities.

Counting characters (``textwrap.wrap(title, 22)``) split Khmer clusters (dotted circles at line
starts) and let a Japanese title of 22 full-width characters run ~1,500 px wide on a 1,200 px
cover. These tests draw covers with the edition fonts and look at the lines and the pixels.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from conftest import ROOT
from pipeline.config import load_config
from pipeline.render.cover import COVER_SIZE, TEXT_WIDTH, _font, draw_cover, line_break_opportunities, wrap_to_width
from pipeline.render.khmer import COENG, joins_previous
from pipeline.render.printbook import fonts_for

KHMER_TITLE = "ការងើបឡើងនៃពិភពលោកខាងត្បូង និងផលប៉ះពាល់របស់វាចំពោះភាពជាដៃគូជប៉ុន-អាស៊ាន និងស្ត្រាតេហ្ស៊ីហ្វ្រេមវើក"
JAPANESE_TITLE = "グローバル・サウスの台頭と日ASEANパートナーシップへの影響"
SMALL_KANA_AND_CLOSING = "ーぁぃぅぇぉっゃゅょァィゥェォッャュョ、。」』）・"


@pytest.fixture(scope="module")
def config():
    return load_config(ROOT)


def _measured_lines(text: str, lang: str, family: str, size: int = 68) -> list[str]:
    from PIL import ImageDraw
    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    font = _font(family, size)

    def width_of(line: str) -> float:
        left, _, right, _ = draw.textbbox((0, 0), line, font=font, language=lang)
        return right - left
    lines = wrap_to_width(text, width_of, lang)
    assert all(width_of(line) <= TEXT_WIDTH for line in lines), lines
    return lines


def test_khmer_title_lines_break_between_clusters_only(config):
    lines = _measured_lines(KHMER_TITLE, "km", fonts_for(config, "km")[1])
    assert len(lines) >= 3
    assert "".join(lines).replace(" ", "") == KHMER_TITLE.replace(" ", "")
    for line in lines:
        assert not joins_previous(line[0]), f"a line starts inside a cluster: {line}"
        assert line[-1] != COENG, f"a line ends on a coeng: {line}"


def test_japanese_title_fits_and_keeps_its_phrases(config):
    lines = _measured_lines(JAPANESE_TITLE, "ja", fonts_for(config, "ja")[1])
    assert len(lines) >= 2 and "".join(lines) == JAPANESE_TITLE
    assert all(line[0] not in SMALL_KANA_AND_CLOSING for line in lines), lines
    breaks = line_break_opportunities(JAPANESE_TITLE, "ja")
    assert JAPANESE_TITLE.index("台頭と") + 1 not in breaks  # a phrase is not cut


@pytest.mark.parametrize("lang, title", [("km", KHMER_TITLE), ("ja", JAPANESE_TITLE), ("en", "The Rise of "
                                          "Global South and Its Implications for Japan-ASEAN Partnership")])
def test_drawn_cover_keeps_every_letter_inside_the_frame(config, lang, title):
    """No ink between the frame and the edge: the old ja cover ran its title off the page."""
    cover = draw_cover(title, ["CHHENG Kimlong", "SUOS Sopheap"], "Edited by", "Asian Vision Institute", lang,
                       fonts_for(config, lang), fonts_for(config, "en")[1])
    image = Image.open(io.BytesIO(cover.data)).convert("L")
    assert image.size == COVER_SIZE
    width, height = image.size
    outside = [image.getpixel((x, y)) for y in range(300, 1100, 4) for x in (*range(0, 76, 3), *range(width - 76, width, 3))]
    assert max(outside) - min(outside) < 10, "lettering runs outside the frame"
    inside = [image.getpixel((x, y)) for y in range(330, 700, 3) for x in range(100, width - 100, 3)]
    assert max(inside) - min(inside) > 150, "the title is drawn"
