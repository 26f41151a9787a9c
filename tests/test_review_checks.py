"""press review check: planted mistakes are found with their segment ids, correct translations give nothing.

The translations below are real sentences of the book translated by hand (Japanese and Khmer), with
the number forms translators actually use: 2億8000万ドル for $280 million, Khmer digits, decimal
commas, 千件, ៥ ពាន់លាន. They are written into a copy of the committed catalogs with Babel, the way
a PO editor saves a reviewer's work, so the checks run on the real catalogs through the real CLI.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from conftest import copy_project, run_press
from pipeline.config import load_config
from pipeline.errors import ConfigError, ExitCode
from pipeline.review.checks import check_entry, check_translations, number_problems, target_values
from pipeline.review.glossary import load_glossary, parse_glossary

JAPANESE = {
    "ch1-title.1": "日ASEAN関係：過去、現在、そして未来",
    "ch1-s1-p1.1": "日本とASEANは、アジア太平洋地域の安定と成長の礎となってきた。",
    "ch1-s1-p1.2": "戦後復興期以来、1958年のインドネシア、1956年のフィリピンへの日本の賠償を経て、両者の関係は経済協力を強化し、"
                   "安全保障上の懸念に対処し、世界情勢の激しい変化に対応するためのイノベーションを促進する多面的な関係へと発展してきた。<n1/>",
    "ch1-s1-p1.3": "1973年に合成ゴムに関する日ASEAN分野別対話が開始され、経済的デタントの始まりとなった<n1/>。",
    "ch1-s1-p2.3": "また、この戦略的基盤は相互尊重と協力の上に築かれており、2024年までに2億8000万ドルを超える貿易の流れ、"
                   "政府安全保障能力強化支援（OSA）のような能力構築を通じた安全保障協力、そして日ASEANデジタルハブによって"
                   "促進されるイノベーションに取り組んでいる。<n1/>",
    "ch1-s2-p4.2": "1974年までに、日本はASEAN諸国にとって25％のシェアを占める主要な輸出市場となり、またトヨタやソニーなどの"
                   "企業が生産工場を設立するなど、重要な投資源となった。<n1/>",
    "ch1-s2-p4.3": "1978年にパタヤで開催された日ASEAN閣僚会議は投資対話の進展に寄与し、1980年には千件を超える日本の"
                   "プロジェクトが開始された。",
    "ch1-s2-p4.4": "文化面では、日本は1978年にASEAN文化基金を通じて文化交流を進め、同基金に50億円を拠出した。",
    "ch1-s4-p1.2": "1974年のJICA設立以来、日本は戦略的な経済インフラ、基本的人間ニーズ、人的潜在力の開発に重点を置き、"
                   "日本のODA総額のおよそ60％がこれらの分野に供与された。",
    "ch1-s5-p1.1": "1990年代は日本とASEANの経済関係の黄金期であった。",
    "ch1-s5-p1.5": "両地域間の貿易は1990年の400億ドルから2000年には1200億ドルへと急増し、地域間の自然な補完性により、"
                   "前の10年間の推定5倍の水準にまで加速した。<n1/>",
    "ch1-s5-p2.3": "平均17％から2003年までに0～5％の範囲へと関税を引き下げたAFTAにより、この地域は規模の経済を実現し、"
                   "ASEAN域内の専門化を加速させることができた。",
    "ch1-s5-p4.3": "域内輸出は、1997年第1四半期の231億ドルから1998年第1四半期には174億ドルへと減少した。",
    "ch1-s5-p4.4": "とりわけ最大の落ち込みは、ブルネイ・ダルサラーム（－34.8％）、マレーシア（－40％）、ベトナム（－39.6％）、"
                   "タイ（－50.8％）に及んだ。",
    "ch1-s7-p3.5": "2024年版「東南アジアの現状」調査によると、ASEAN加盟国の回答者の58.9％が、日本を地域で最も信頼できる"
                   "大国に挙げた。<n1/>",
    "ch1-s8-p2.2": "1975年から1987年までの日本の対外援助のおよそ65％がアジア諸国に向けられ、1970年代後半には日本政府は"
                   "ASEANの産業協力プロジェクトに10億米ドル近くを融資した。<n1/>",
    "ch1-s8-p5.2": "インターネット普及率が約71％に達し、零細・中小企業がおよそ7100万社にのぼる東南アジアのデジタル経済は、"
                   "日ASEAN協力の新たな焦点となっている。<n1/>",
    "ch1-s9-p1.5": "ASEANは世界で最も活力ある経済地域の一つとなり、海外直接投資の流入額は約1006億米ドル、ASEAN域内投資は"
                   "総額213億米ドルに達している。<n1/>",
}
JAPANESE_CH2 = {
    "ch2-s2-p1.2": "ASEAN加盟国の人口は2026年時点で合計6億7000万人、2024年の国内総生産（GDP）は合計4兆1300億ドルに達しており、"
                   "ASEAN諸国は国際貿易の回路と地域政治において重要な役割を果たし、東南アジアはグローバル・サウスの活力の"
                   "基盤として台頭している。<n1/>",
    "ch2-s2-p2.3": "しかし、アジア諸国が高い経済成長率を達成するにつれて状況は変わり、インドは平均6.5％、インドネシアは"
                   "平均5.1％の成長を遂げ、より効果的な中央銀行や貿易省によって制度的能力を高め、世界経済への統合も進めてきた。<n1/>",
}
KHMER = {
    "ch1-s1-p1.1": "ជប៉ុន និងអាស៊ាន គឺជាសសរស្តម្ភនៃស្ថិរភាព និងកំណើននៅក្នុងតំបន់អាស៊ីប៉ាស៊ីហ្វិក។",
    "ch1-s1-p1.3": "ការចាប់ផ្តើមកិច្ចសន្ទនាវិស័យអាស៊ាន-ជប៉ុន ស្តីពីកៅស៊ូសំយោគ នៅឆ្នាំ១៩៧៣ "
                   "បានសម្គាល់ការចាប់ផ្តើមនៃការបន្ធូរបន្ថយភាពតានតឹងផ្នែកសេដ្ឋកិច្ច<n1/>។",
    "ch1-s1-p2.3": "ម្យ៉ាងទៀត មូលដ្ឋានគ្រឹះយុទ្ធសាស្ត្រនេះផ្អែកលើការគោរពគ្នាទៅវិញទៅមក និងកិច្ចសហប្រតិបត្តិការ "
                   "ដែលដោះស្រាយលំហូរពាណិជ្ជកម្មលើសពី ២៨០ លានដុល្លារ ត្រឹមឆ្នាំ២០២៤ កិច្ចសហប្រតិបត្តិការសន្តិសុខតាមរយៈ"
                   "ការកសាងសមត្ថភាពដូចជាជំនួយសន្តិសុខផ្លូវការ (OSA) និងនវានុវត្តន៍ដែលសម្រួលដោយមជ្ឈមណ្ឌលឌីជីថលអាស៊ាន-ជប៉ុន។<n1/>",
    "ch1-s2-p4.2": "នៅឆ្នាំ១៩៧៤ ជប៉ុនបានក្លាយជាទីផ្សារនាំចេញដ៏សំខាន់សម្រាប់បណ្តាប្រទេសអាស៊ាន ដោយកាន់កាប់ចំណែក ២៥ ភាគរយ "
                   "និងជាប្រភពវិនិយោគដ៏សំខាន់ ដោយមានក្រុមហ៊ុនដូចជា Toyota និង Sony បង្កើតរោងចក្រផលិតកម្ម។<n1/>",
    "ch1-s2-p4.3": "កិច្ចប្រជុំរដ្ឋមន្ត្រីអាស៊ាន-ជប៉ុននៅប៉ាតាយ៉ាក្នុងឆ្នាំ១៩៧៨ បានជួយជំរុញកិច្ចសន្ទនាវិនិយោគ "
                   "ដែលនាំឱ្យមានការចាប់ផ្តើមគម្រោងជប៉ុនជាង ១.០០០ ក្នុងឆ្នាំ១៩៨០។",
    "ch1-s2-p4.4": "តាមផ្នែកវប្បធម៌ ជប៉ុនបានជំរុញការផ្លាស់ប្តូរវប្បធម៌តាមរយៈមូលនិធិវប្បធម៌អាស៊ាននៅឆ្នាំ១៩៧៨ "
                   "ដោយមានការរួមចំណែកពីជប៉ុនចំនួន ៥ ពាន់លានយ៉េន ដល់មូលនិធិនេះ។",
    "ch1-s5-p1.5": "ពាណិជ្ជកម្មរវាងតំបន់ទាំងពីរបានកើនឡើងពី ៤០ ពាន់លានដុល្លារ នៅឆ្នាំ១៩៩០ ដល់ ១២០ ពាន់លានដុល្លារ "
                   "នៅឆ្នាំ២០០០ ហើយបានកើនឡើងប្រមាណប្រាំដងនៃកម្រិតទសវត្សរ៍មុន ដោយសារភាពបំពេញគ្នាដោយធម្មជាតិរវាងតំបន់ទាំងពីរ។<n1/>",
    "ch1-s5-p4.3": "ការនាំចេញក្នុងតំបន់បានធ្លាក់ចុះពី ២៣,១ ពាន់លានដុល្លារ ក្នុងត្រីមាសទីមួយនៃឆ្នាំ១៩៩៧ "
                   "មកត្រឹម ១៧,៤ ពាន់លានដុល្លារ ក្នុងត្រីមាសទីមួយនៃឆ្នាំ១៩៩៨។",
    "ch1-s5-p4.4": "គួរកត់សម្គាល់ថា ការធ្លាក់ចុះធំបំផុតបានប៉ះពាល់ជាចម្បងដល់ប្រ៊ុយណេដារូសាឡឹម (-៣៤,៨%) "
                   "ម៉ាឡេស៊ី (-៤០%) វៀតណាម (-៣៩,៦%) និងថៃ (-៥០,៨%)។",
    "ch1-s7-p3.5": "យោងតាមការស្ទង់មតិស្ថានភាពអាស៊ីអាគ្នេយ៍ឆ្នាំ២០២៤ អ្នកឆ្លើយតប ៥៨,៩ ភាគរយ "
                   "នៅទូទាំងបណ្តារដ្ឋជាសមាជិកអាស៊ាន បានចាត់ទុកជប៉ុនថាជាមហាអំណាចដែលគួរឱ្យទុកចិត្តបំផុតនៅក្នុងតំបន់។<n1/>",
}
KHMER_CH2 = {
    "ch2-s2-p1.2": "បណ្តារដ្ឋជាសមាជិកអាស៊ានមានប្រជាជនសរុប ៦៧០ លាននាក់ គិតត្រឹមឆ្នាំ២០២៦ "
                   "និងផលិតផលក្នុងស្រុកសរុប (GDP) រួមគ្នា ៤,១៣ ទ្រីលានដុល្លារ នៅឆ្នាំ២០២៤ "
                   "ដូច្នេះបណ្តាប្រទេសអាស៊ានដើរតួនាទីយ៉ាងសំខាន់ក្នុងពាណិជ្ជកម្មអន្តរជាតិ និងនយោបាយតំបន់ "
                   "ដោយអាស៊ីអាគ្នេយ៍កំពុងលេចឡើងជាមូលដ្ឋានគ្រឹះនៃភាពរស់រវើករបស់ត្បូងសកល។<n1/>",
}

def _planted(sources: dict[str, str]) -> dict[str, tuple[str, str]]:
    return {
        "lost": (JAPANESE["ch1-s1-p1.3"].replace("<n1/>", ""), "placeholders"),
        "year": (JAPANESE["ch1-s5-p1.1"].replace("1990", "1980"), "numbers"),
        "copied": (sources["copied"], "untranslated"),
        "long": ("日本とASEANは、アジア太平洋地域の安定と成長の礎となってきた。" * 12, "length"),
        "term": ("ASEAN加盟国の人口は2026年時点で合計6億7000万人、2024年の国内総生産（GDP）は合計4兆1300億ドルに"
                 "達しており、東南アジアは南半球の新興国の活力の基盤として台頭している。<n1/>", "terminology"),
    }


def save(path: Path, language: str, translations: dict[str, str], *, fuzzy: bool = False,
         machine: bool = False) -> None:
    """Write translations into a catalog as a PO editor would (Babel), reviewed unless ``fuzzy``."""
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    found = set()
    for message in catalog:
        if message.context in translations:
            message.string = translations[message.context]
            found.add(message.context)
            if fuzzy:
                message.flags.add("fuzzy")
                if machine:
                    message.auto_comments.append("mt: argos translate-en_ja")
            else:
                message.flags.discard("fuzzy")
    assert found == set(translations), set(translations) - found
    with path.open("wb") as handle:
        write_po(handle, catalog, width=76)


def sources(path: Path, language: str) -> dict[str, str]:
    with path.open("rb") as handle:
        return {m.context: m.id for m in read_po(handle, locale=language) if m.id}


@pytest.fixture
def project(tmp_path):
    project = copy_project(tmp_path)
    save(project / "locales" / "ja" / "ch1.po", "ja", JAPANESE)
    save(project / "locales" / "ja" / "ch2.po", "ja", JAPANESE_CH2)
    save(project / "locales" / "km" / "ch1.po", "km", KHMER)
    save(project / "locales" / "km" / "ch2.po", "km", KHMER_CH2)
    return project


def test_correct_translations_give_no_findings(project):
    config = load_config(project)
    for language, expected in (("ja", len(JAPANESE) + len(JAPANESE_CH2)), ("km", len(KHMER) + len(KHMER_CH2))):
        result = check_translations(config, language)
        assert result.checked == {"reviewed": expected}
        assert result.findings == [], [(f.segment, f.kind, f.message) for f in result.findings]


def test_each_planted_mistake_is_found_with_its_segment_id(project):
    ch3 = project / "locales" / "ja" / "ch3.po"
    copied = next(context for context, text in sources(ch3, "ja").items() if "-p" in context and len(text) > 60)
    planted = _planted({"copied": sources(ch3, "ja")[copied]})
    save(project / "locales" / "ja" / "ch1.po", "ja", {"ch1-s1-p1.3": planted["lost"][0],
                                                          "ch1-s5-p1.1": planted["year"][0],
                                                          "ch1-s1-p1.1": planted["long"][0]})
    save(project / "locales" / "ja" / "ch2.po", "ja", {"ch2-s2-p1.2": planted["term"][0]})
    save(ch3, "ja", {copied: planted["copied"][0]})
    findings = check_translations(load_config(project), "ja").findings
    found = {(f.segment, f.kind) for f in findings}
    assert found == {("ch1-s1-p1.3", "placeholders"), ("ch1-s5-p1.1", "numbers"), (copied, "untranslated"),
                     ("ch1-s1-p1.1", "length"), ("ch2-s2-p1.2", "terminology")}, found
    messages = {f.segment: f.message for f in findings}
    assert messages["ch1-s1-p1.3"] == "lost <n1/>"
    assert "1990" in messages["ch1-s5-p1.1"] and "1980" in messages["ch1-s5-p1.1"]
    assert "Global South" in messages["ch2-s2-p1.2"] and "グローバル・サウス" in messages["ch2-s2-p1.2"]
    assert "copied" in messages[copied] and "suspiciously long" in messages["ch1-s1-p1.1"]


def test_a_changed_number_in_khmer_digits_and_machine_drafts_are_checked_but_not_for_terms(project):
    km = project / "locales" / "km" / "ch1.po"
    save(km, "km", {"ch1-s5-p4.3": KHMER["ch1-s5-p4.3"].replace("១៧,៤", "១៧,៩")}, fuzzy=True, machine=True)
    save(project / "locales" / "ja" / "ch2.po", "ja",
         {"ch2-s2-p1.2": JAPANESE_CH2["ch2-s2-p1.2"].replace("グローバル・サウス", "南の国々")}, fuzzy=True, machine=True)
    config = load_config(project)
    km_findings = check_translations(config, "km").findings
    assert [(f.segment, f.kind, f.state) for f in km_findings] == [("ch1-s5-p4.3", "numbers", "machine draft")]
    assert "17.4" in km_findings[0].message
    assert check_translations(config, "ja").findings == []  # the glossary binds reviewed text only


def test_entry_level_checks():
    source = "See https://www.mofa.go.jp/region/asia-paci/asean/ for the 2023 <e1>Joint Vision</e1> statement."
    good = "2023年の<e1>共同ビジョン</e1>声明については https://www.mofa.go.jp/region/asia-paci/asean/ を参照。"
    assert check_entry(source, good, "ja") == []
    changed = good.replace("asia-paci/asean/", "asia-paci/")
    assert [kind for kind, _ in check_entry(source, changed, "ja")] == ["urls"]
    swapped = "2023年の</e1>共同ビジョン<e1>声明については https://www.mofa.go.jp/region/asia-paci/asean/ を参照。"
    assert check_entry(source, swapped, "ja") == [("placeholders", "</e1> comes before its opening tag")]
    assert check_entry("ASEAN+3 (G20, 2024)", "ASEAN+3 (G20, 2024)", "ja") == []  # only names and numbers
    assert check_entry("Introduction", "Introduction", "ja")[0][0] == "untranslated"
    assert check_entry("The 1990s were golden.", "1990 年代は黄金期だった。", "ja") == []
    # number forms: Khmer digits, decimal comma, man/oku compounds, kanji numerals, Khmer number words
    assert number_problems("$4.13 trillion", "4兆1300億ドル") == []
    assert number_problems("over 1,000 projects", "二千件以上のプロジェクト") != []
    assert number_problems("five pillars and 5 steps", "ជំហានប្រាំ") == []
    assert {2_000.0, 1_234_567.0, 3.5} <= target_values("二千 ១.២៣៤.៥៦៧ 3,5")


def test_glossary_errors_are_one_line_naming_file_and_line(tmp_path):
    path = tmp_path / "glossary.csv"
    cases = {
        b"en,km,ja,do_not_translate,note\nASEAN,,,maybe,\n": ("line 2", "do_not_translate is 'maybe'"),
        b"en,km,fr,do_not_translate\n": ("line 1", "unknown glossary column 'fr'"),
        b"en,km,ja,do_not_translate,note\nGlobal South,,\"x,\n": ("line 2", "not valid CSV"),
        b"en,km,ja\nASEAN,,\n,x,y\n": ("line 3", "without its English term"),
        b"en,ja\nASEAN,\nasean,\n": ("line 3", "already on line 2"),
        b"en,ja\n\xff\xfe,\n": ("line 2", "not UTF-8"),
    }
    for data, (where, message) in cases.items():
        with pytest.raises(ConfigError) as error:
            parse_glossary(data, path, ("km", "ja"))
        assert error.value.where == where and message in error.value.message, (data, error.value.one_line())
        assert str(path) in error.value.one_line() and "\n" not in error.value.one_line()
    excel = "\ufeffen,ja,do_not_translate\nGlobal South,グローバル・サウス|グローバルサウス,\nJICA,,yes\n".encode()
    glossary = parse_glossary(excel, path, ("km", "ja"))
    assert [t.required("ja") for t in glossary.terms] == [("グローバル・サウス", "グローバルサウス"), ("JICA",)]
    assert glossary.terms[1].required("km") == ("JICA",) and glossary.terms[0].required("km") == ()


def test_the_committed_glossary_loads(config):
    glossary = load_glossary(config)
    assert {"ASEAN", "Global South", "Japan-ASEAN", "Free and Open Indo-Pacific", "JICA"} <= {
        t.en for t in glossary.terms}


def test_cli_prints_groups_writes_reports_and_strict_exits_11(project):
    save(project / "locales" / "ja" / "ch1.po", "ja", {"ch1-s5-p1.1": JAPANESE["ch1-s5-p1.1"].replace("1990", "1980")})
    result = run_press("review", "check", "ja", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "ch1:\n  ch1-s5-p1.1 [reviewed] numbers: 1990 of the source is not in the translation (it has 1980)" \
        in result.stdout
    assert "1 finding: placeholders 0, numbers 1, urls 0, untranslated 0, length 0, terminology 0" in result.stdout
    report = project / "output" / "reports" / "translation-check-ja.txt"
    assert report.read_text(encoding="utf-8") == result.stdout
    data = json.loads((project / "output" / "reports" / "translation-check-ja.json").read_text())
    assert data["counts"]["numbers"] == 1 and data["findings"][0]["segment"] == "ch1-s5-p1.1"
    strict = run_press("review", "check", "ja", "--strict", cwd=project)
    assert strict.returncode == ExitCode.STRICT and "1 finding" in strict.stdout
    clean = run_press("review", "check", "km", "--strict", cwd=project)
    assert clean.returncode == 0 and "0 findings" in clean.stdout
    unknown = run_press("review", "check", "fr", cwd=project)
    assert unknown.returncode == ExitCode.USAGE and unknown.stderr.count("\n") == 1
    (project / "locales" / "glossary.csv").write_text("en,ja,colour\n", encoding="utf-8")
    broken = run_press("review", "check", "ja", cwd=project)
    assert broken.returncode == ExitCode.CONFIG
    assert "glossary.csv:line 1" in broken.stderr and "colour" in broken.stderr
