"""Sector classification: OKVED-2 (identical to NACE Rev.2 at section and division level).

OKVED-2 (OK 029-2014) was harmonised with NACE Rev.2: its 21 sections ``A``..``U`` and 88
two-digit divisions are the NACE ones, with the same division-to-section map. Codes are
strings: a division keeps its leading zero (``"01"``, never ``"1"``).

Reference: Eurostat (2008), *NACE Rev. 2 - Statistical classification of economic
activities in the European Community*, Methodologies and Working Papers, Table 1;
Rosstat, *OK 029-2014 (NACE Rev. 2) Obshcherossiyskiy klassifikator vidov ekonomicheskoy
deyatelnosti*.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

__all__ = [
    "OKVED_DIVISIONS",
    "OKVED_SECTIONS",
    "SECTION_NAMES",
    "division_to_section",
    "hierarchy_from",
    "is_okved_code",
]

#: Section letter -> inclusive ranges of two-digit divisions (NACE Rev.2, Table 1).
_SECTION_RANGES: dict[str, list[tuple[int, int]]] = {
    "A": [(1, 3)],
    "B": [(5, 9)],
    "C": [(10, 33)],
    "D": [(35, 35)],
    "E": [(36, 39)],
    "F": [(41, 43)],
    "G": [(45, 47)],
    "H": [(49, 53)],
    "I": [(55, 56)],
    "J": [(58, 63)],
    "K": [(64, 66)],
    "L": [(68, 68)],
    "M": [(69, 75)],
    "N": [(77, 82)],
    "O": [(84, 84)],
    "P": [(85, 85)],
    "Q": [(86, 88)],
    "R": [(90, 93)],
    "S": [(94, 96)],
    "T": [(97, 98)],
    "U": [(99, 99)],
}

#: English section titles (NACE Rev.2).
SECTION_NAMES: dict[str, str] = {
    "A": "agriculture, forestry and fishing",
    "B": "mining and quarrying",
    "C": "manufacturing",
    "D": "electricity, gas and steam supply",
    "E": "water supply and waste management",
    "F": "construction",
    "G": "wholesale and retail trade",
    "H": "transportation and storage",
    "I": "accommodation and food services",
    "J": "information and communication",
    "K": "financial and insurance activities",
    "L": "real estate activities",
    "M": "professional, scientific and technical activities",
    "N": "administrative and support services",
    "O": "public administration and defence",
    "P": "education",
    "Q": "human health and social work",
    "R": "arts, entertainment and recreation",
    "S": "other service activities",
    "T": "activities of households as employers",
    "U": "extraterritorial organisations",
}

#: Division code -> section letter, for the 88 NACE Rev.2 / OKVED-2 divisions.
OKVED_DIVISIONS: dict[str, str] = {
    f"{d:02d}": section
    for section, ranges in _SECTION_RANGES.items()
    for lo, hi in ranges
    for d in range(lo, hi + 1)
}
# Divisions that do not exist in NACE Rev.2 although they fall inside a section's range.
for _missing in ("04", "34", "40", "44", "48", "54", "57", "67", "76", "83", "89"):
    OKVED_DIVISIONS.pop(_missing, None)

#: The 21 section letters, in order.
OKVED_SECTIONS: tuple[str, ...] = tuple(_SECTION_RANGES)

assert len(OKVED_DIVISIONS) == 88


def is_okved_code(code: str) -> bool:
    """True when ``code`` is an OKVED-2 section letter or one of its 88 divisions."""
    return code in OKVED_DIVISIONS or code in _SECTION_RANGES


def division_to_section(codes) -> pd.Series:
    """Map OKVED-2 codes to their section letter.

    A division maps to its section (``"05"`` -> ``"B"``); a section letter maps to itself.
    Codes that are neither map to missing (``pd.NA``), never to a guessed section.
    """
    index = pd.Index(list(codes), dtype=object)
    mapped = [OKVED_DIVISIONS.get(c, c if c in _SECTION_RANGES else None) for c in index]
    return pd.Series(mapped, index=index, dtype="object", name="section")


def hierarchy_from(sectors, hierarchy=None) -> pd.Series:
    """Resolve a sector -> section mapping for the given sector codes.

    Parameters
    ----------
    sectors : iterable of str
        Sector codes (the columns of an employment matrix).
    hierarchy : None, "okved", Mapping, pandas.Series or DataFrame with ``sector`` and ``section``
        ``None`` or ``"okved"`` uses the built-in OKVED-2 / NACE Rev.2 map; a mapping or Series
        maps each sector code to its group; a DataFrame is read as the contract's ``sectors``
        table. Codes absent from a user mapping fall back to the OKVED-2 map.

    Returns
    -------
    pandas.Series
        Indexed by sector code, values are section (group) codes.

    Raises
    ------
    ValueError
        When some sector cannot be mapped to a group (the message lists them).
    """
    sectors = [str(s) for s in sectors]
    if hierarchy is None or (isinstance(hierarchy, str) and hierarchy == "okved"):
        user: dict[str, str] = {}
    elif isinstance(hierarchy, pd.DataFrame):
        if not {"sector", "section"} <= set(hierarchy.columns):
            raise ValueError(
                "hierarchy DataFrame must have columns 'sector' and 'section'; "
                f"found {list(hierarchy.columns)}"
            )
        user = dict(zip(hierarchy["sector"].astype(str), hierarchy["section"].astype(str), strict=True))
    elif isinstance(hierarchy, pd.Series):
        user = {str(k): str(v) for k, v in hierarchy.items()}
    elif isinstance(hierarchy, Mapping):
        user = {str(k): str(v) for k, v in hierarchy.items()}
    else:
        raise TypeError(
            "hierarchy must be None, 'okved', a mapping, a Series or a DataFrame with "
            f"'sector' and 'section' columns; got {type(hierarchy).__name__}"
        )
    okved = division_to_section(sectors)
    out = pd.Series(
        [user.get(s, okved[s]) for s in sectors], index=pd.Index(sectors, name="sector"),
        dtype="object", name="section",
    )
    unknown = [s for s, g in out.items() if g is None or pd.isna(g)]
    if unknown:
        raise ValueError(
            f"no section known for sector(s) {unknown[:10]}"
            f"{' and more' if len(unknown) > 10 else ''}: expected OKVED-2 / NACE Rev.2 codes "
            "('A'..'U' or a two-digit division) or a hierarchy mapping them"
        )
    return out
