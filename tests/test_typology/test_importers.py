"""Importers of real sources (typology.importers): fixtures written here, with the real header
layouts (a title row, Russian headers, .xlsx via openpyxl, .csv in cp1251)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from typology.importers import (
    ImportDataError,
    carry,
    combine_crosswalks,
    crosswalk_from_dictionary,
    crosswalk_from_stable,
    import_dataset,
    match_addresses,
    read_bdmo_long,
    read_registry_export,
    read_rosstat_wide,
    read_sberindex,
)

WIDE_HEADER = ("oktmo,oktmo_stable,year,region_name,municipality,mun_type,wage_total,emp_total,emp_A,emp_B,emp_C,"
               "emp_D,emp_E,emp_G,emp_O,emp_P,emp_Q,pop_total")


def write_wide(path):
    """Two districts merged in 2024 into okrug 11501000 (their 2023 codes 11601000, 11602000
    carry oktmo_stable 11501000), a stable town, and a CD aggregate row."""
    rows = [
        "11601000,11501000,2023,Обл,Первый район,Муниципальный район,40000.0,1000.0,100.0,,300.0,50.0,,200.0,150.0,120.0,80.0,",
        "11602000,11501000,2023,Обл,Второй район,Муниципальный район,50000.0,3000.0,200.0,400.0,,60.0,10.0,300.0,250.0,"
        "220.0,180.0,",
        "11501000,11501000,2024,Обл,Новый округ,Муниципальный округ,46000.0,4100.0,310.0,420.0,700.0,115.0,12.0,510.0,"
        "400.0,345.0,262.0,5",
        "11701000,11701000,2023,Обл,Город,Городской округ,60000.0,9000.0,,1000.0,2000.0,300.0,100.0,900.0,600.0,700.0,"
        "650.0,",
        "11701000,11701000,2024,Обл,Город,Городской округ,65000.0,9100.0,,1100.0,2100.0,310.0,105.0,950.0,610.0,720.0,"
        "660.0,1",
        "11700000,CD,2023,Обл,Городские округа (сумма),,60000.0,9000.0,,1000.0,2000.0,300.0,100.0,900.0,600.0,700.0,650.0,",
    ]
    path.write_text(WIDE_HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def write_sberindex(folder):
    """Dictionary with coordinates, a recode (territory 2: 11602000 -> 11502000 -> merged), a
    union (territories 1 and 2 into 3) and a split (territory 5 into 6 and 7)."""
    folder.mkdir()
    d = pd.DataFrame({
        "municipal_district_name_short": ["Первый", "Второй", "Второй", "Новый", "Город", "Старый", "Север", "Юг"],
        "oktmo": ["11-601-000-000", "11-602-000-000", "11-502-000-000", "11-501-000-000", "11-701-000-000",
                  "11-603-000-000", "11-511-000-000", "11-512-000-000"],
        "municipal_district_type": "муниципальный район",
        "year_from": ["2018", "2018", "2020", "2024", "2018", "2018", "2024", "2024"],
        "year_to": ["2023", "2019", "2023", "9999", "9999", "2023", "9999", "9999"],
        "territory_id": ["1", "2", "2", "3", "4", "5", "6", "7"],
        "change_id_from": [None, None, None, "union_1", None, None, "disunion_1", "disunion_1"],
        "change_id_to": ["union_1", None, "union_1", None, None, "disunion_1", None, None],
        "region_code": "11", "region_name": "Обл",
        "municipal_district_center_lat": ["", "", "", "64.5", "65.1", "", "66.0", "63.0"],
        "municipal_district_center_lon": ["", "", "", "40.5", "41.2", "", "42.0", "43.0"],
    })
    d.to_csv(folder / "t_dict_municipal_districts.csv", index=False)
    pd.DataFrame({"territory_id": np.array([3, 4, 6], dtype="int32"), "market_access": [300.5, 410.25, 200.0]}
                 ).to_parquet(folder / "1_market_access.parquet")
    pop = pd.DataFrame({"territory_id": [3, 3, 4, 4, 4, 4, 6, 6], "year": [2024, 2024, 2023, 2023, 2024, 2024, 2024, 2024],
                        "period": "год", "age": "Всего", "gender": ["Женщины", "Мужчины"] * 4,
                        "value": [5000.0, 4500.0, 20000.0, 18000.0, 20100.0, 18050.0, 700.0, 650.0]})
    pop.to_parquet(folder / "2_bdmo_population.parquet")
    return folder


# ------------------------------------------------------------------ Rosstat wide
def test_rosstat_wide_values_cd_and_merge(tmp_path):
    t, rep, cw = read_rosstat_wide(write_wide(tmp_path / "wide.csv"))
    emp = t["employment"].set_index(["town_id", "year", "sector"])["employment"]
    # the merged okrug in 2023 = sum of its two districts; a suppressed part makes the sum suppressed
    assert emp[("11501000", 2023, "A")] == 300.0
    assert np.isnan(emp[("11501000", 2023, "B")]) and np.isnan(emp[("11501000", 2023, "C")])
    assert emp[("11501000", 2024, "C")] == 700.0
    assert np.isnan(emp[("11701000", 2023, "A")])
    assert "11700000" not in set(t["employment"]["town_id"])  # CD row dropped
    o = t["outcomes"].set_index(["town_id", "year"])
    # wage of the merged unit weighted by emp_total: (40000*1000 + 50000*3000) / 4000
    assert o.loc[("11501000", 2023), "avg_wage"] == pytest.approx(47500.0, rel=1e-15)
    assert o.loc[("11501000", 2023), "employees_total"] == 4000.0
    assert set(cw["code"]) == {"11601000", "11602000"} and set(cw["kind"]) == {"merge"}
    md = rep.to_markdown()
    assert "11700000" in md and "pop_total" in md and "11601000" in md and "11602000" in md
    assert "suppressed" in md


# ------------------------------------------------------------------ crosswalk
def test_crosswalk_dictionary_merge_and_split(tmp_path):
    d = pd.read_csv(write_sberindex(tmp_path / "s") / "t_dict_municipal_districts.csv", dtype=str)
    cw = crosswalk_from_dictionary(d).set_index("code")
    assert cw.loc["11602000", "unit"] == "11502000" and cw.loc["11602000", "kind"] == "recode"
    assert cw.loc["11601000", "unit"] == "11501000" and cw.loc["11601000", "kind"] == "merge"
    assert cw.loc["11502000", "unit"] == "11501000"
    assert cw.loc["11603000", "kind"] == "split" and pd.isna(cw.loc["11603000", "unit"])
    # a chain is followed to the latest unit; the split unit stays itself
    emp = pd.DataFrame({"town_id": ["11601000", "11602000", "11603000"], "year": 2022, "sector": "A",
                        "employment": [1.0, 2.0, 5.0]})
    got = carry(emp, combine_crosswalks(crosswalk_from_dictionary(d)), ["year", "sector"], sums=["employment"])
    assert got.set_index("town_id")["employment"].to_dict() == {"11501000": 3.0, "11603000": 5.0}


def test_crosswalk_from_stable_recode_and_cycle():
    w = pd.DataFrame({"oktmo": ["01614000", "01514000"], "oktmo_stable": ["01514000", "01514000"],
                      "year": [2023, 2024], "municipality": ["Район", "Округ"]})
    cw = crosswalk_from_stable(w)
    assert cw[["code", "unit", "kind"]].values.tolist() == [["01614000", "01514000", "recode"]]
    back = pd.DataFrame({"code": ["01514000"], "unit": ["01614000"], "kind": "recode", "source": "x", "name": ""})
    both = combine_crosswalks(cw, back)  # the reverse row would close a cycle: left out
    assert both["code"].tolist() == ["01614000"]


# ------------------------------------------------------------------ SberIndex
def test_sberindex_towns_population_and_access(tmp_path):
    t, rep, cw = read_sberindex(write_sberindex(tmp_path / "s"))
    towns = t["towns"].set_index("town_id")
    assert sorted(towns.index) == ["11501000", "11511000", "11512000", "11701000"]
    assert towns.loc["11701000", "lat"] == 65.1 and towns.loc["11701000", "population"] == 38150.0
    assert towns.loc["11501000", "sberindex_market_access"] == 300.5
    o = t["outcomes"].set_index(["town_id", "year"])["population"]
    assert o[("11701000", 2023)] == 38000.0
    assert "split" in rep.to_markdown() and "11603000" in rep.to_markdown()


# ------------------------------------------------------------------ БД ПМО long
def test_bdmo_long_annual_period_and_indicators(tmp_path):
    df = pd.DataFrame({
        "indicator": ["Y48423005", "Y48423005", "Y48423007", "Y48423007", "Y48423007", "Y48112027",
                      "Среднемесячная номинальная начисленная заработная плата работников организаций"],
        "oktmo": ["11701000"] * 7, "year": [2023] * 7,
        "period": ["январь-декабрь", "январь-декабрь", "январь-декабрь", "январь-июнь", "январь-декабрь", "год",
                   "январь-декабрь"],
        "okved": ["B", "C", "B", "B", "0", "", "C"],
        "value": [1000.0, None, 90000.5, 85000.0, 60000.25, 38150.0, 70000.75]})
    path = tmp_path / "long.csv"
    df.to_csv(path, index=False)
    t, rep = read_bdmo_long(path)
    e = t["employment"].set_index("sector")
    assert e.loc["B", "employment"] == 1000.0 and e.loc["B", "wage"] == 90000.5
    assert np.isnan(e.loc["C", "employment"]) and e.loc["C", "wage"] == 70000.75
    # both annual names are kept ('январь-декабрь' for wages, 'год' for population); 'январь-июнь' dropped
    assert t["outcomes"][["avg_wage", "population"]].values.tolist() == [[60000.25, 38150.0]]
    assert "январь-июнь" in rep.to_markdown()


def test_bdmo_long_by_territory_needs_dictionary(tmp_path):
    path = tmp_path / "salary.parquet"
    pd.DataFrame({"territory_id": [4], "year": [2023], "period": ["январь-декабрь"], "okved_name": ["Все"],
                  "okved_letter": ["0"], "value": [1.0]}).to_parquet(path)
    with pytest.raises(ImportDataError, match="territory_id"):
        read_bdmo_long(path)


# ------------------------------------------------------------------ registry exports
SPARK_HEADER = ["Наименование", "ИНН", "ОГРН", "Регион регистрации", "Адрес", "ОКТМО",
                "Код основного вида деятельности", "2023, Среднесписочная численность работников",
                "2024, Среднесписочная численность работников", "ИНН управляющей компании"]
SPARK_ROWS = [
    ["АО «Рудник»", "1101000011", "1021100000011", "Обл", "г. Город, ул. Ленина, 1", "11701000000", "07.29",
     "1200", "1250", None],
    ["ООО «Обогатитель»", "1101000022", "1021100000022", "Обл", "г. Город, ул. Мира, 2", "11701000", "24.45",
     "300", None, "1101000011"],
    ["ООО «Лес»", "0101000033", "1020100000033", "Обл", "с. Лесное", "11501000", "02.20", "45", "40", None],
    ["ООО «Нигде»", "1101000044", "1021100000044", "Обл", "д. Неизвестная", None, "47.11", "5", "6", None],
]


def write_spark_xlsx(path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Список"
    ws.append(["Список компаний, СПАРК-Интерфакс, выгрузка 01.02.2025"])
    ws.append(SPARK_HEADER)
    for r in SPARK_ROWS:  # numbers as Excel numbers, as SPARK writes them (ИНН 0101000033 loses its zero)
        ws.append([*r[:2], *r[2:6], r[6], *(int(v) if v else None for v in r[7:9]), r[9]])
    ws.cell(row=5, column=2, value=101000033)
    wb.create_sheet("Пусто")
    wb.save(path)
    return path


def write_kontur_csv(path):
    header = ["Наименование", "ИНН", "ОКТМО", "Вид деятельности/отрасль",
              "2024, Среднесписочная численность работников"]
    rows = [["ООО «Связь»", "1101000055", "11701000", "61.10 Деятельность в области связи", "75"],
            ["ООО «Вода»", "1101000066", "11501000", "36.00 Забор и очистка воды", "12"]]
    text = "Контур.Фокус: список организаций\n" + "\n".join(";".join(r) for r in [header, *rows]) + "\n"
    path.write_bytes(text.encode("cp1251"))
    return path


def test_spark_xlsx_title_row_russian_headers(tmp_path):
    t, rep = read_registry_export(write_spark_xlsx(tmp_path / "spark.xlsx"), source="spark",
                                  town_ids=["11701000", "11501000"])
    f = t["firms"].set_index(["firm_id", "year"])
    assert f.loc[("1101000011", 2024), "employees"] == 1250.0
    assert f.loc[("1101000011", 2024), "sector"] == "07" and f.loc[("1101000022", 2023), "sector"] == "24"
    assert f.loc[("0101000033", 2023), "town_id"] == "11501000"  # leading zero of the ИНН restored
    assert f.loc[("1101000011", 2023), "town_id"] == "11701000"  # 11-digit OKTMO cut to 8
    assert ("1101000022", 2024) not in f.index  # empty employees: dropped and reported
    assert f.loc[("1101000022", 2023), "group_id"] == "1101000011"
    assert f.loc[("1101000011", 2023), "group_id"] == "1101000011"  # the parent belongs to its group
    assert f.loc[("1101000011", 2023), "name"] == "АО «Рудник»"
    assert t["groups"].values.tolist() == [["1101000011", "11701000"]]
    md = rep.to_markdown()
    assert "1101000044" in md and "ООО «Нигде»" in md  # unmatched firm listed by name
    assert "title row" in md


def test_kontur_csv_cp1251_and_sheet_errors(tmp_path):
    t, rep = read_registry_export(write_kontur_csv(tmp_path / "kontur.csv"), source="kontur")
    f = t["firms"].set_index("firm_id")
    assert f.loc["1101000055", "sector"] == "61" and f.loc["1101000055", "employees"] == 75.0
    assert f.loc["1101000066", "name"] == "ООО «Вода»" and f.loc["1101000066", "year"] == 2024
    assert "cp1251" in rep.to_markdown()
    xlsx = write_spark_xlsx(tmp_path / "spark.xlsx")
    with pytest.raises(ImportDataError, match="Нет"):
        read_registry_export(xlsx, sheet="Нет")
    with pytest.raises(ImportDataError, match=r"sheet 'Пусто'"):
        read_registry_export(xlsx, sheet="Пусто")


def test_mapping_file_for_other_headers(tmp_path):
    path = tmp_path / "other.csv"
    pd.DataFrame({"Название": ["ООО «Порт»"], "Налоговый номер": ["1101000077"], "Код ОКТМО": ["11701000"],
                  "ОКВЭД-2": ["52.22"], "Работники 2023": ["140"], "Работники 2024": ["150"]}
                 ).to_csv(path, index=False, encoding="utf-8")
    m = tmp_path / "map.toml"
    m.write_text('[columns]\nfirm_id = "Налоговый номер"\nsector = "ОКВЭД-2"\noktmo = "Код ОКТМО"\n'
                 'employees = "Работники {year}"\n', encoding="utf-8")
    t, _ = read_registry_export(path, mapping=m)
    assert t["firms"].set_index("year")["employees"].to_dict() == {2023: 140.0, 2024: 150.0}
    with pytest.raises(ImportDataError, match="employees"):
        read_registry_export(path)  # without the mapping the employees column is not found


def test_registry_csv_without_oktmo_placed_by_address(tmp_path):
    path = tmp_path / "addr.csv"
    pd.DataFrame({
        "Наименование": ["ООО «Ухта»", "ООО «Мирный-А»", "ООО «Мирный-?»", "ООО «Лесное»", "ООО «Без адреса»"],
        "ИНН": ["1102000011", "2902000022", "1402000033", "1102000044", "1102000055"],
        "Адрес": ["169300, Республика Коми, г. Ухта, ул. Ленина, д. 1",
                  "164170, Архангельская обл., г. Мирный, ул. Ленина, д. 3",
                  "г. Мирный, ул. Мира, д. 5", "с. Лесное", None],
        "Код основного вида деятельности": ["47.11", "84.11", "47.19", "02.20", "62.01"],
        "Среднесписочная численность работников": ["10", "20", "30", "40", "50"],
    }).to_csv(path, index=False, encoding="utf-8")
    towns = pd.DataFrame({"town_id": ["87725000", "11715000", "98631000"], "name": ["Ухта", "Мирный", "Мирный"],
                          "region": ["Республика Коми", "Архангельская область", "Республика Саха (Якутия)"]})
    t, rep = read_registry_export(path, source="kontur", towns=towns)
    placed = t["firms"].set_index("firm_id")["town_id"].to_dict()
    assert placed == {"1102000011": "87725000", "2902000022": "11715000"}  # region resolves the two Мирный
    mapped = " ".join(rep.of("mapped"))
    assert "2 firm(s) without an OKTMO of a known town placed by address" in mapped
    assert "1102000011 ООО «Ухта» (row 2, '169300, Республика Коми, г. Ухта, ул. Ленина, д. 1') -> 87725000" in mapped
    (lost,) = rep.of("unmatched")
    assert lost.startswith("3 firm(s) without an OKTMO of a known town and not placed by address, dropped")
    assert ("1402000033 ООО «Мирный-?» (row 4, OKTMO none): several towns named 'мирный': "
            "11715000 (Архангельская область), 98631000 (Республика Саха (Якутия))") in lost
    assert "1102000044 ООО «Лесное» (row 5, OKTMO none): no town named 'лесное'" in lost
    assert "1102000055 ООО «Без адреса» (row 6, OKTMO none): no address" in lost
    # without a towns table nothing is placed by address
    t0, rep0 = read_registry_export(path, source="kontur")
    assert t0["firms"].empty and "address matching not done" in rep0.of("unmatched")[0]


def test_match_addresses_markers_and_normalization():
    towns = pd.DataFrame({"town_id": ["1", "2", "3"], "name": ["г. Великий Новгород", "Ёлкино", "Мирный"]})
    m = match_addresses(pd.Series(["Новгородская обл., г.Великий Новгород ул. Мира 1", "пгт ЕЛКИНО, д. 4",
                                   "ул. Ленина, 3", "Саха, г Мирный"]), towns)
    assert m["town_id"].tolist()[:2] == ["1", "2"] and m["town_id"].isna().tolist()[2:] == [True, False]
    assert m.loc[2, "reason"] == "no settlement marker in the address"


# ------------------------------------------------------------------ combined, CLI
def test_import_dataset_combines_and_validates(tmp_path):
    from typology.data.io import read_dataset

    wide, s = write_wide(tmp_path / "wide.csv"), write_sberindex(tmp_path / "s")
    spark = write_spark_xlsx(tmp_path / "spark.xlsx")
    path, rep = import_dataset(tmp_path / "ds", rosstat_wide=wide, sberindex=s, spark=spark)
    data = read_dataset(path)
    assert sorted(data.towns["town_id"]) == ["11501000", "11511000", "11512000", "11701000"]
    assert set(data.employment["town_id"]) == {"11501000", "11701000"}
    o = data.outcomes.set_index(["town_id", "year"])
    assert o.loc[("11701000", 2024), "population"] == 38150.0 and o.loc[("11701000", 2024), "avg_wage"] == 65000.0
    assert set(data.firms["firm_id"]) == {"1101000011", "1101000022", "0101000033"}
    md = (path / "import_report.md").read_text(encoding="utf-8")
    assert md == rep.to_markdown() + "\n"
    for code in ("11601000", "11602000", "11603000", "11700000"):
        assert code in md


def test_cli_import_exit_codes(tmp_path, capsys):
    from typology.cli import main

    wide, s = write_wide(tmp_path / "wide.csv"), write_sberindex(tmp_path / "s")
    out = tmp_path / "ds"
    assert main(["import", "--out", str(out), "--rosstat-wide", str(wide), "--sberindex", str(s), "--quiet"]) == 0
    assert main(["validate", str(out), "--quiet"]) == 0
    assert (out / "import_report.md").is_file()
    # not overwritten without --overwrite; a folder it did not write is refused even with it
    assert main(["import", "--out", str(out), "--rosstat-wide", str(wide), "--sberindex", str(s), "--quiet"]) == 1
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep", encoding="utf-8")
    assert main(["import", "--out", str(other), "--rosstat-wide", str(wide), "--sberindex", str(s),
                 "--overwrite", "--quiet"]) == 1
    assert (other / "notes.txt").read_text(encoding="utf-8") == "keep"
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"Наименование": ["x"], "ИНН": ["1101000011"]}).to_csv(bad, index=False)
    capsys.readouterr()
    assert main(["import", "--out", str(tmp_path / "d2"), "--sberindex", str(s), "--rosstat-wide", str(wide),
                 "--spark", str(bad), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "bad.csv" in err and "employees" in err
    assert main(["import", "--out", str(tmp_path / "d3")]) == 2
    with pytest.raises(SystemExit) as e:
        main(["import", "--out", str(tmp_path / "d4"), "--year-from", "x"])
    assert e.value.code == 2


# ------------------------------------------------------------------ the real sources (skipped without them)
def test_import_all_russia_real(shared_data, tmp_path):
    """The all-Russia Rosstat extract with the SberIndex tables: the municipalities re-organised
    in 2024 (Ukhta, Vuktyl: districts -> okrugs with new OKTMO) are carried through both years
    on their stable unit, the 17 CD codes are dropped and listed, and the dataset validates."""
    from typology.data.io import read_dataset

    wide = shared_data / "ru_mo_employment_okved_all" / "rosstat_bdpmo_employment_okved_2023_2024.csv"
    s = shared_data / "sberindex_mo_2025"
    path, rep = import_dataset(tmp_path / "ru", rosstat_wide=wide, sberindex=s,
                               bdmo_long=s / "4_bdmo_salary.parquet")
    data = read_dataset(path)
    e = data.employment
    per_year = e.groupby("year")["town_id"].nunique().to_dict()
    assert per_year == {2023: 2308, 2024: 2132}
    for ukhta_or_vuktyl in ("87525000", "87512000"):
        assert sorted(e.loc[e["town_id"] == ukhta_or_vuktyl, "year"].unique()) == [2023, 2024]
    md = (path / "import_report.md").read_text(encoding="utf-8")
    assert "17 codes" in md and "87725000" in md and "pop_total" in md
    # Ukhta's 2023 row (district code 87725000) is carried to the okrug's code 87525000 unchanged
    o = data.outcomes.set_index(["town_id", "year"])
    w = pd.read_csv(wide, dtype=str)
    assert o.loc[("87525000", 2023), "avg_wage"] == float(w.loc[w["oktmo"] == "87725000", "wage_total"].iloc[0])
    assert o.loc[("87525000", 2023), "population"] > 0


def test_cli_towns_xlsx_kontur_and_years(tmp_path):
    """A towns workbook (OKTMO stored as Excel numbers: the leading zero comes back) instead of
    SberIndex, Contour.Focus firms, and --year-from / --year-to."""
    from openpyxl import Workbook

    from typology.cli import main
    from typology.data.io import read_dataset

    wb = Workbook()
    ws = wb.active
    ws.append(["Муниципалитеты"])
    ws.append(["town_id", "name", "region", "lat", "lon", "population"])
    ws.append([11501000, "Новый", "Обл", 64.5, 40.5, 9500])
    ws.append([11701000, "Город", "Обл", 65.1, 41.2, 38150])
    ws.append([1514000, "Змеиногорский", "Алтай", 51.15, 81.0, 15000])
    wb.save(tmp_path / "towns.xlsx")
    out = tmp_path / "ds"
    args = ["import", "--out", str(out), "--rosstat-wide", str(write_wide(tmp_path / "wide.csv")),
            "--towns", str(tmp_path / "towns.xlsx"), "--kontur", str(write_kontur_csv(tmp_path / "k.csv")),
            "--year-from", "2024", "--year-to", "2024", "--quiet"]
    assert main(args) == 0
    data = read_dataset(out)
    assert "01514000" in set(data.towns["town_id"])
    assert set(data.employment["year"]) == {2024} and set(data.outcomes["year"]) == {2024}
    assert data.firms.set_index("firm_id")["town_id"].to_dict() == {"1101000055": "11701000",
                                                                    "1101000066": "11501000"}
