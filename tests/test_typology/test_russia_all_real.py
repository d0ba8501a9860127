"""The all-Russia real-data experiment (``typology experiment russia_all_real``) on ../shared/data.

Key numbers checked against the sources themselves, not against our own earlier output:

* municipalities: the Rosstat extract has 2,654 first-level municipalities (PROVENANCE.md of
  ru_mo_employment_okved_all: 2,671 codes less 17 ``CD`` aggregates); those carried to stable
  units that have a centroid in the SberIndex dictionary are kept, the rest are listed in the
  import report (Moscow's and St Petersburg's inner territories have no centroid);
* Harris market potential against SberIndex's road-based market access (an independent index
  built on road travel times): a rank correlation near 0.9, as in the northern experiment (0.900
  over 2,269 municipalities);
* the leading mining (section B) districts are the oil and gas districts of Yugra and Yamal and
  the coal and gold districts of Kuzbass and Irkutsk (Rosstat: these are the resource regions).
"""

from __future__ import annotations

import json

import pytest

from typology.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def experiment(shared_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("russia_all_real")
    out, data = root / "run", root / "data"
    code = main(["experiment", "russia_all_real", "--shared", str(shared_data), "--out", str(out),
                 "--data", str(data), "--quiet"])
    assert code == 0
    checks = json.loads((root / "run_checks" / "checks.json").read_text(encoding="utf-8"))
    return checks, out, data


def test_count_of_municipalities(experiment):
    checks, _, data = experiment
    d = checks["dataset"]
    # every kept municipality has 2023; 2024 misses five regions and the Stavropol city okrugs
    assert 2250 <= d["municipalities_with_employment"] <= 2654
    assert d["municipalities_by_year"]["2023"] == d["municipalities_with_employment"]
    assert d["municipalities_by_year"]["2024"] < d["municipalities_by_year"]["2023"] - 150
    assert d["municipalities_with_employment"] == 2308
    assert checks["towns_typed"] + checks["towns_left_out"] == d["municipalities_with_employment"]
    report = (data / "import_report.md").read_text(encoding="utf-8")
    assert "suppressed" in report and "without a town" in report
    assert d["suppressed_cells"] > 0.25 * d["section_cells"]


def test_market_potential_against_sberindex_market_access(experiment):
    ma = experiment[0]["market_access"]
    assert ma["n"] > 2200
    assert ma["spearman_all"] == pytest.approx(0.90, abs=0.02)
    assert ma["spearman_far_north"] > ma["spearman_all"]


def test_leading_mining_districts(experiment):
    top = experiment[0]["top_lq_mining"]
    names = [r["name"] for r in top]
    assert {"Нижневартовский", "Сургутский", "Нефтеюганский", "Бодайбинский"} <= set(names)
    regions = {r["region"] for r in top}
    assert regions <= {"Ханты-Мансийский автономный округ — Югра", "Ямало-Ненецкий автономный округ",
                       "Ненецкий автономный округ", "Иркутская область", "Кемеровская область"}
    assert all(r["lq_B"] > 10 for r in top)


def test_types_flags_and_the_north(experiment):
    checks, out, _ = experiment
    assert checks["n_types"] >= 2
    fn = checks["types_vs_flags"]["far_north"]
    assert 0 < fn["cramers_v"] <= 1 and fn["n"] > 1500
    small = checks["small_towns_north"]
    assert small["n"] >= 20
    mp = next(r for r in small["comparison"] if r["index"] == "market_potential")
    assert mp["mean_small_north"] < mp["mean_rest"] and 0 <= mp["mann_whitney_p"] <= 1
    md = (out.parent / "run_checks" / "checks.md").read_text(encoding="utf-8")
    assert "cannot identify" in md


def test_the_russian_report_of_the_real_data_renders_in_headless_chromium(experiment, headless_chrome):
    """The all-Russia run's report in Russian: no console errors, figures decoded, Russian text,
    municipalities called municipalities, no number in exponent notation, no sideways scroll."""
    import re

    _, out, _ = experiment
    assert main(["report", str(out), "--lang", "ru", "--quiet"]) == 0
    driver = headless_chrome
    driver.get((out / "report.html").as_uri())
    images = driver.execute_script("return Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
    assert len(images) >= 4 and all(c and w > 100 for c, w in images)
    text = driver.execute_script("return document.body.innerText")
    assert len(re.findall("[а-яё]", text, flags=re.IGNORECASE)) > 1000
    assert "муниципалитет" in text and not re.search(r"\d[eE][+-]\d", text)
    assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert driver.get_log("browser") == []
