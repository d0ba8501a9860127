"""Municipal reforms: a crosswalk from every OKTMO code a source uses to a stable unit.

Districts turned into municipal okrugs get new OKTMO codes; several districts merged into one
okrug share one. The crosswalk (``code`` -> ``unit``) is built from

* the ``oktmo_stable`` column of Rosstat's wide extract (:func:`crosswalk_from_stable`): a
  code whose stable code differs is carried to it; several codes of one year on one stable
  code are a merge;
* the SberIndex municipal dictionary (:func:`crosswalk_from_dictionary`): the older OKTMO
  versions of a ``territory_id`` are recodes to its latest version; the rows whose
  ``change_id_to`` is ``union_k`` merge into the row(s) whose ``change_id_from`` is
  ``union_k``; ``disunion_k`` (a split) and ``transfer_k`` (part of a territory moved) are
  listed but not carried, since a split unit's earlier numbers cannot be divided among its
  successors.

:func:`carry` follows the crosswalk (chains included) and aggregates to the later unit:
counts are summed (a sum with a suppressed part is suppressed), other measures are averaged
with the given weights.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.rosstat import oktmo8

__all__ = ["CROSSWALK_COLUMNS", "carry", "combine_crosswalks", "crosswalk_from_dictionary", "crosswalk_from_stable",
           "resolve"]

CROSSWALK_COLUMNS = ["code", "unit", "kind", "source", "name"]
MAX_CHAIN = 20


def _frame(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=CROSSWALK_COLUMNS)
    return df.astype({c: "object" for c in CROSSWALK_COLUMNS})


def crosswalk_from_stable(wide: pd.DataFrame, id_column: str = "oktmo", stable_column: str = "oktmo_stable",
                          year_column: str = "year", name_column: str = "municipality") -> pd.DataFrame:
    """Crosswalk rows of a wide extract whose code differs from its stable code (rows marked
    ``CD`` excluded): ``recode`` when the stable unit has one code in that year, else ``merge``."""
    w = wide[wide[stable_column].astype("string").str.upper() != "CD"]
    code = oktmo8(w[id_column]).to_numpy()
    unit = oktmo8(w[stable_column]).to_numpy()
    per_year = pd.DataFrame({"unit": unit, "year": w[year_column].to_numpy(), "code": code})
    n_codes = per_year.groupby(["unit", "year"])["code"].transform("nunique").to_numpy()
    names = w[name_column].astype("string").to_numpy() if name_column in w.columns else np.full(len(w), "")
    moved = code != unit
    df = pd.DataFrame({"code": code[moved], "unit": unit[moved],
                       "kind": np.where(n_codes[moved] > 1, "merge", "recode"),
                       "source": "oktmo_stable", "name": names[moved]})
    df = df.sort_values(["code", "kind"]).drop_duplicates("code", keep="first")
    return _frame(df.to_numpy().tolist())


def crosswalk_from_dictionary(dictionary: pd.DataFrame) -> pd.DataFrame:
    """Crosswalk from the SberIndex dictionary (columns ``oktmo``, ``territory_id``,
    ``year_from``, ``year_to``, ``change_id_from``, ``change_id_to``, a name column)."""
    d = dictionary.copy()
    d["_code"] = oktmo8(d["oktmo"]).to_numpy()
    d["_to"] = pd.to_numeric(d["year_to"]).to_numpy()
    name_col = "municipal_district_name_short" if "municipal_district_name_short" in d.columns else "oktmo"
    d["label"] = d[name_col].astype("string").fillna("")
    rows = []
    latest = d.sort_values("_to", kind="stable").groupby("territory_id")["_code"].last()
    ver = d[["territory_id", "_code", "label"]].drop_duplicates(["territory_id", "_code"])
    ver = ver.set_axis(["territory_id", "code", "name"], axis=1).assign(unit=ver["territory_id"].map(latest))
    for r in ver[ver["code"] != ver["unit"]].itertuples(index=False):
        rows.append([r.code, r.unit, "recode", "dictionary", r.name])
    cur = dict(zip(d["territory_id"], d["territory_id"].map(latest), strict=True))
    for cid in sorted(set(d["change_id_to"].dropna()) | set(d["change_id_from"].dropna())):
        olds = d[d["change_id_to"] == cid]
        news = d[d["change_id_from"] == cid]
        new_units = sorted({cur[t] for t in news["territory_id"]})
        continuing = set(news["territory_id"])
        for o in olds.itertuples(index=False):
            if o.territory_id in continuing:
                continue
            code = cur[o.territory_id]
            if cid.startswith("union") and len(new_units) == 1:
                if code != new_units[0]:
                    rows.append([code, new_units[0], "merge", f"dictionary {cid}", o.label])
            else:
                kind = "split" if cid.startswith("disunion") else "transfer"
                rows.append([code, None, kind, f"dictionary {cid} -> {', '.join(new_units)}", o.label])
    return _frame(rows)


def combine_crosswalks(*parts: pd.DataFrame) -> pd.DataFrame:
    """Crosswalks in order of precedence (the first mention of a code wins); a row that would
    close a cycle is left out."""
    cw = pd.concat([p for p in parts if p is not None and len(p)], ignore_index=True) if any(
        p is not None and len(p) for p in parts) else _frame([])
    carried = cw[cw["unit"].notna()].drop_duplicates("code", keep="first")
    keep = []
    mapping: dict = {}
    for r in carried.itertuples(index=False):
        u, seen = r.unit, {r.code}
        while u in mapping and u not in seen:
            seen.add(u)
            u = mapping[u]
        if u not in seen:
            mapping[r.code] = r.unit
            keep.append(r)
    reported = cw[cw["unit"].isna() & ~cw["code"].isin(mapping)].drop_duplicates("code")
    return _frame([list(r) for r in keep] + reported.to_numpy().tolist())


def resolve(codes, crosswalk: pd.DataFrame) -> np.ndarray:
    """The stable unit of each code (itself when the crosswalk does not carry it)."""
    carried = crosswalk[crosswalk["unit"].notna()]
    mapping = pd.Series(carried["unit"].to_numpy(), index=carried["code"].to_numpy())
    cur = pd.Series(np.asarray(codes, dtype=object))
    for _ in range(MAX_CHAIN):
        nxt = cur.map(mapping)
        if nxt.isna().all():
            break
        cur = nxt.fillna(cur)
    return cur.to_numpy(dtype=object)


def carry(table: pd.DataFrame, crosswalk: pd.DataFrame, keys: list[str], sums: list[str],
          means: dict[str, str | None] | None = None, id_column: str = "town_id") -> pd.DataFrame:
    """``table`` with ``id_column`` carried to stable units and rows of one unit aggregated.

    ``sums`` are added (NaN when any part is NaN: a sum with a suppressed part is not
    published); ``means`` (column -> weight column or None) are weighted means over the parts
    with both value and weight. ``keys`` are the other key columns (``year``, ``sector``).
    Columns not named are taken from the first part.
    """
    t = table.copy()
    t[id_column] = resolve(t[id_column].to_numpy(), crosswalk)
    by = [id_column, *keys]
    if not t.duplicated(by).any():
        return t.reset_index(drop=True)
    g = t.groupby(by, sort=True, dropna=False)
    out = g.first()
    for c in sums:
        out[c] = g[c].sum(min_count=1).where(~t[c].isna().groupby([t[b] for b in by]).any())
    for c, w in (means or {}).items():
        v = t[c].astype(float)
        wt = t[w].astype(float) if w else pd.Series(1.0, index=t.index)
        ok = v.notna() & wt.notna()
        num = (v * wt).where(ok).groupby([t[b] for b in by]).sum(min_count=1)
        den = wt.where(ok).groupby([t[b] for b in by]).sum(min_count=1)
        out[c] = (num / den).reindex(out.index)
    return out.reset_index()[list(table.columns)]
