"""The translation status page: self-contained, its numbers the catalogs' own, everything escaped."""

from __future__ import annotations

import re

import lxml.html
from babel.messages.pofile import read_po, write_po

from conftest import copy_project, run_press
from pipeline.config import load_config
from pipeline.i18n.catalogs import COUNTED, MACHINE, REVIEWED, count_states
from test_review_checks import JAPANESE, KHMER, save

HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


def test_status_page_counts_bars_and_escaping(tmp_path):
    project = copy_project(tmp_path)
    save(project / "locales" / "ja" / "ch1.po", "ja", JAPANESE)
    save(project / "locales" / "km" / "ch1.po", "km", dict(list(KHMER.items())[:4]), fuzzy=True, machine=True)
    # a catalog string a hostile or careless hand wrote: the chapter's title as a catalog entry
    path = project / "locales" / "ja" / "ch2.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="ja")
    title = next(m for m in catalog if m.context == "ch2-title.1")
    catalog.delete(title.id, context="ch2-title.1")
    catalog.add(HOSTILE, "", context="ch2-title.1")
    with path.open("wb") as handle:
        write_po(handle, catalog, width=76)

    result = run_press("status", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "wrote output/reports/translation-status.html" in result.stdout
    page = project / "output" / "reports" / "translation-status.html"
    raw = page.read_text(encoding="utf-8")
    assert "<script" not in raw.lower() and "&lt;script&gt;" in raw
    assert not re.search(r"""(src|href)\s*=|<link|@import|url\(""", raw), "no external resources"
    document = lxml.html.fromstring(raw)
    assert document.xpath("string(//title)").startswith("Translation status")
    config = load_config(project)
    for language in ("km", "ja"):
        counts = count_states(config, language)
        table = document.xpath(f"//h2[starts-with(., '{language}:')]/following-sibling::table[1]")[0]
        rows = {row[0].text_content(): [cell.text_content() for cell in row[2:7]]
                for row in table.xpath("tbody/tr")}
        for part, tally in counts.items():
            assert rows[part] == [f"{tally[state]:,}" for state in COUNTED], (language, part)
        totals = [sum(t[state] for t in counts.values()) for state in COUNTED]
        assert rows["total"] == [f"{n:,}" for n in totals]
    ja_ch2 = document.xpath("//h2[starts-with(., 'ja:')]/following-sibling::table[1]/tbody/tr[td[1]='ch2']")[0]
    assert ja_ch2[1].text_content() == HOSTILE  # shown as text, not markup
    km_ch1 = document.xpath("//h2[starts-with(., 'km:')]/following-sibling::table[1]/tbody/tr[td[1]='ch1']")[0]
    widths = {span.get("class"): float(re.search(r"width: ([\d.]+)%", span.get("style")).group(1))
              for span in km_ch1.xpath(".//div[@class='bar']/span")}
    machine = count_states(config, "km")["ch1"][MACHINE]
    total = sum(count_states(config, "km")["ch1"].values())
    assert machine == 4 and abs(widths["s1"] - 100 * machine / total) < 0.01
    assert abs(sum(widths.values()) - 100) < 0.05
    reviewed = count_states(config, "ja")["ch1"][REVIEWED]
    assert f"{100 * reviewed / sum(count_states(config, 'ja')['ch1'].values()):.1f}%" in ja_ch2.getparent().text_content()
    before = page.stat().st_mtime_ns
    assert run_press("status", "km", cwd=project).returncode == 0
    assert page.stat().st_mtime_ns == before, "the page is deterministic: an unchanged project rewrites nothing"
