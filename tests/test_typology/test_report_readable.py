"""The report is readable: numbers with sensible precision and units, heatmap labels that
contrast with their cells, tables that do not widen the page; and it exists in Russian
(``[report] lang = "ru"``, ``typology report --lang ru``), rendered in headless Chromium."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pytest

from typology.workflow.config import ConfigError, load_config
from typology.workflow.numbers import NumberFormat


# ------------------------------------------------------------------------ numbers
@pytest.mark.parametrize("value,kind,comma,expected", [
    (1075.099, "km", False, "1,075"), (1075.099, "km", True, "1\u202f075"), (42.34, "km", False, "42.3"),
    (2.118e-129, "pvalue", False, "<0.001"), (0.0423, "pvalue", True, "0,042"),
    (0.2263, "share", False, "22.6%"), (0.2263, "share", True, "22,6%"),
    (1.2345678901234567, "general", False, "1.235"), (0.0004464, "general", False, "0.000446"),
    (3.59e5, "general", False, "359,000"), (2.31e-07, "general", False, "2.31×10⁻⁷"), (np.nan, "general", False, ""),
])
def test_numbers_have_sensible_precision_and_units(value, kind, comma, expected):
    assert NumberFormat(decimal_comma=comma).value(value, kind) == expected


def test_frame_formats_by_column_name_and_keeps_years_plain():
    f = pd.DataFrame({"dist_core_km": [1031.218], "corp_share": [0.368], "pvalue": [1e-9], "year": [2024],
                      "lq_max": [1.23456789012345], "nobs": [6438]})
    out = NumberFormat().frame(f).iloc[0].to_dict()
    assert out == {"dist_core_km": "1,031", "corp_share": "36.8%", "pvalue": "<0.001", "year": "2024",
                   "lq_max": "1.235", "nobs": "6,438"}


# ------------------------------------------------------------------------ heatmap labels
def test_heatmap_labels_on_dark_cells_are_light():
    import matplotlib.colors as mcolors

    from typology.workflow import figures as fg

    v = pd.DataFrame([[-3.0, 0.0, 3.0], [0.1, -0.2, 0.2]], index=["a", "b"], columns=["x", "y", "z"])
    fig = fg.heatmap(v, "t")
    ax = fig.axes[0]
    colours = {t.get_text(): mcolors.to_hex(t.get_color()) for t in ax.texts}
    im = ax.images[0]
    for text, val in (("-3.00", -3.0), ("3.00", 3.0), ("0.00", 0.0)):
        cell = im.cmap(im.norm(val))
        dark = fg.relative_luminance(np.array(cell)) < 0.179
        assert colours[text] == ("#ffffff" if dark else "#000000"), (text, cell)
    assert colours["-3.00"] == colours["3.00"] == "#ffffff"  # the darkest blue and red of RdBu_r
    # WCAG 2.1: sRGB white has luminance 1, black 0, mid grey #777777 about 0.184
    assert fg.relative_luminance(np.array([1.0, 1.0, 1.0])) == pytest.approx(1.0)
    assert fg.relative_luminance(np.array([0x77 / 255] * 3)) == pytest.approx(0.1845, abs=1e-3)


# ------------------------------------------------------------------------ the demo's report
def _table_lines(md: str) -> list[str]:
    return [line for line in md.splitlines() if line.startswith("|")]


def test_english_report_tables_have_no_exponents_or_long_decimals(demo_run):
    md = (demo_run / "report.md").read_text(encoding="utf-8")
    lines = _table_lines(md) + [line for line in md.splitlines() if line.startswith("- Type ")]
    text = "\n".join(lines)
    assert not re.search(r"\de[+-]\d", text), re.findall(r"\S*\de[+-]\d\S*", text)[:5]
    assert not re.search(r"\d\.\d{7,}", text), re.findall(r"\d+\.\d{7,}", text)[:5]
    assert "| 1,031 |" in md or "1,031 vs" in md  # dist_core_km of type 1 in km, with a separator
    assert "<0.001" in md


def test_units_word_follows_the_units_kind():
    from typology.workflow.i18n import tr, type_name, units_of

    assert units_of(["town", "town"]) == "towns"
    assert units_of(["municipal_district", "municipal_okrug"]) == "districts"
    assert units_of(["town"], "municipalities") == "municipalities"
    assert type_name("corporate town far from agglomerations", "en", "districts") == \
        "corporate district far from agglomerations"
    assert type_name("corporate town far from agglomerations", "ru") == "корпоративный город, удалённый от агломераций"
    assert type_name("my own name", "ru") == "my own name"
    assert "districts are typed" in tr("data.counts", "en", "districts", town_years=1, typed=2, left=0)


def test_every_key_has_every_language():
    from typology.workflow.i18n import LANGS, STRINGS

    assert [k for k, v in STRINGS.items() if set(v) != set(LANGS)] == []


@pytest.fixture(scope="module")
def russian_run(demo_run, tmp_path_factory):
    from typology.cli import main

    d = tmp_path_factory.mktemp("ru") / "demo"
    shutil.copytree(demo_run, d)
    assert main(["report", str(d), "--lang", "ru", "--quiet"]) == 0
    return d


def test_russian_report_has_russian_words_and_decimal_commas(russian_run, demo_run):
    md = (russian_run / "report.md").read_text(encoding="utf-8")
    for heading in ("## Данные", "## Число типов", "## Устойчивость типов", "## Профили типов", "## Карта",
                    "## Словарь данных", "## Панельные модели"):
        assert heading in md
    assert "корпоративный монопрофильный город, удалённый от агломераций" in md  # a type name
    assert "| доля | км |" in md or "км" in md  # the data dictionary's units
    assert re.search(r"\| \d,\d{3} \|", md)  # decimal commas in the tables
    assert "1\u202f031" in md or "1\u202f075" in md  # km with a thin space between thousands
    en = (demo_run / "report.md").read_text(encoding="utf-8")
    assert en.count("\n## ") == md.count("\n## ")  # the same sections


def test_report_lang_is_a_validated_config_key(tmp_path):
    (tmp_path / "ds").mkdir()
    f = tmp_path / "c.toml"
    f.write_text('[data]\npath = "ds"\n[report]\nlang = "ru"\nunits = "districts"\n')
    cfg = load_config(f)
    assert cfg.report.lang == "ru" and cfg.report.units == "districts" and cfg.report.decimal_comma is None
    for bad, key in (('lang = "de"', "lang"), ("decimal_comma = 1", "decimal_comma"), ('units = "cities"', "units")):
        f.write_text(f'[data]\npath = "ds"\n[report]\n{bad}\n')
        with pytest.raises(ConfigError) as info:
            load_config(f)
        assert f"[report] {key}" in str(info.value)


def test_russian_report_renders_in_headless_chromium(russian_run, headless_chrome):
    driver = headless_chrome
    driver.get((russian_run / "report.html").as_uri())
    assert driver.title == "Типология: отчёт"
    assert driver.execute_script("return document.documentElement.lang") == "ru"
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt])")
    assert len(images) >= 6
    for complete, w, h, alt in images:
        assert complete and w > 100 and h > 100, alt
    headings = driver.execute_script("return Array.from(document.querySelectorAll('h2')).map(h => h.textContent)")
    for section in ("Данные", "Число типов", "Устойчивость типов", "Профили типов", "Карта",
                    "Типология в виде пороговых правил", "Переходы между типами во времени", "Панельные модели"):
        assert section in headings
    body = driver.execute_script("return document.body.innerText")
    assert len(re.findall(r"[А-Яа-яЁё]", body)) > 1000
    # the page does not scroll sideways: wide tables scroll inside their own box
    widths = driver.execute_script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths
    assert driver.get_log("browser") == []


def test_english_report_page_does_not_scroll_sideways(demo_run, headless_chrome):
    driver = headless_chrome
    driver.get((demo_run / "report.html").as_uri())
    widths = driver.execute_script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths


def test_russian_report_translates_the_model_tables_and_the_event_study_texts(russian_run, demo_run):
    md = (russian_run / "report.md").read_text(encoding="utf-8")
    en = (demo_run / "report.md").read_text(encoding="utf-8")
    rows = ("Estimator", "Effects", "Standard errors", "Observations", "Towns", "R-squared")
    ru_rows = ("Метод оценки", "Эффекты", "Стандартные ошибки", "Наблюдений", "Городов", "R²")
    for e, r in zip(rows, ru_rows, strict=True):
        assert f"| {e} |" in en and f"| {r} |" in md and f"| {e} |" not in md
    assert "| Эффекты | город, год |" in md and "Стандартные ошибки в скобках." in md
    sentences = {  # English sentence of the demo report -> its Russian
        "Logit and probit models give the probability": "Логит- и пробит-модели дают вероятность",
        "Average marginal effects on the probability of each outcome level": "Средние предельные эффекты на вероятность",
        "Effect of the event by years since it": "Эффект события по годам после него",
        "Goodman-Bacon decomposition of the two-way DiD": "Разложение Гудмана-Бэкона",
        "Against the synthetic truth": "Сравнение с синтетической истиной",
        "true path inside the band": "истинная траектория внутри полосы",
        "| pre-trend p |": "| p предтренда |",
    }
    for e, r in sentences.items():
        assert e in en and e not in md and r in md
    assert re.search(r"\| (да|нет) \|", md) and not re.search(r"\| (True|False) \|", md)  # booleans as words


def test_units_follow_the_municipal_type_of_imported_data():
    """Rosstat's and SberIndex's municipal types name the units when the towns table has them."""
    from typology.workflow import i18n

    assert i18n.units_of(["городской округ"]) == "towns"
    assert i18n.units_of(["муниципальный район", "муниципальный округ"]) == "districts"
    assert i18n.units_of(["городской округ", "муниципальный район"]) == "municipalities"
    assert i18n.units_of(["town"], "districts") == "districts"
