"""Numbers as the report shows them: sensible precision, units and the reader's decimal mark.

The run folder's CSV tables keep full precision; only the report's rendering goes through
:class:`NumberFormat`. The rules (for a value ``v``, ``a = |v|``):

* p-values: ``<0.001`` below 0.001, else three decimals;
* shares (a column whose data-dictionary unit is ``share``, or one marked as such): percent
  with one decimal, ``22.6%``;
* distances in km: thousands separators and no decimal from 100 km, one decimal below;
* counts (every value whole): thousands separators, no decimal;
* anything else: four significant digits from 1 (no decimal from 1,000, thousands separators),
  three below 1 (at most six decimals); ``a < 1e-6`` as ``1.2×10⁻⁷``, never ``1.2e-07``.

The decimal mark is ``.`` or ``,`` (``[report] decimal_comma``); with a decimal comma the
thousands separator is a thin no-break space (U+202F), as GOST 8.417 and the Russian
typographic convention write it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

__all__ = ["NumberFormat", "column_kind"]

_P_COLUMNS = re.compile(r"^(p|pvalue|p_value|pval|p_norm|p_sim|p_adjusted|ood_pvalue|pretrend_pvalue)$")
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def column_kind(name) -> str:
    """The kind of a numeric column from its name: ``pvalue``, ``share``, ``km`` or ``general``
    (features by the data dictionary's unit: ``share`` and ``km``)."""
    from features.dictionary import FEATURES

    n = str(name)
    if _P_COLUMNS.match(n):
        return "pvalue"
    units = {f.name: f.unit for f in FEATURES}
    if units.get(n) == "share" or n == "share":
        return "share"
    if units.get(n) == "km" or n.endswith("_km"):
        return "km"
    return "general"


@dataclass(frozen=True)
class NumberFormat:
    """How the report writes a number: ``decimal_comma`` for ``1,5`` instead of ``1.5``."""

    decimal_comma: bool = False

    def _marks(self, text: str) -> str:
        if not self.decimal_comma:
            return text
        return text.replace(",", "\u202f").replace(".", ",")

    def general(self, v: float) -> str:
        """Four significant digits from 1, three below 1, at most six decimals; no exponent."""
        if not math.isfinite(v):
            return "" if math.isnan(v) else ("∞" if v > 0 else "-∞")
        a = abs(v)
        if a == 0:
            return "0"
        if a < 1e-6:
            mant, exp = f"{v:.2e}".split("e")
            return self._marks(mant) + "×10" + str(int(exp)).translate(_SUPERSCRIPT)
        mag = math.floor(math.log10(a))
        decimals = max(0, 3 - mag) if a >= 1 else min(6, 2 - mag)
        return self._marks(f"{v:,.{decimals}f}")

    def value(self, v, kind: str = "general") -> str:
        """``v`` as text, by ``kind``: ``general``, ``pvalue``, ``share``, ``km``, ``count``
        (thousands separators) or ``plain`` (a whole number as it is: years)."""
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ""
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return str(v)
        v = float(v)
        if not math.isfinite(v):
            return self.general(v)
        if kind == "pvalue":
            return "<" + self._marks("0.001") if v < 0.001 else self._marks(f"{v:.3f}")
        if kind == "share":
            return self._marks(f"{100 * v:.1f}") + "%"
        if kind == "km":
            return self._marks(f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.1f}")
        if kind == "count":
            return self._marks(f"{v:,.0f}")
        if kind == "plain":
            return f"{v:.0f}"
        return self.general(v)

    def frame(self, df: pd.DataFrame, kinds: dict | None = None) -> pd.DataFrame:
        """The numeric columns of ``df`` as text (the kinds from the column names, overridden by
        ``kinds``); booleans and text stay as they are."""
        out = df.copy()
        kinds = kinds or {}
        for c in out.columns:
            s = out[c]
            if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
                continue
            kind = kinds.get(c, column_kind(c))
            x = s.to_numpy(dtype=float, na_value=float("nan"))
            finite = x[~pd.isna(x)]
            whole = len(finite) > 0 and bool((finite == finite.round()).all())
            if kind == "general" and whole and ("year" in str(c) or str(c) in ("event_time", "k")):
                kind = "plain"
            elif kind == "general" and whole and (pd.api.types.is_integer_dtype(s) or bool((abs(finite) >= 1).all())):
                kind = "count"
            out[c] = [self.value(v, kind) for v in x.tolist()]
        return out
