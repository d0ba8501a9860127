"""A shallow decision tree that states a typology as readable threshold rules.

The tree is fitted on the features in their own units (km, shares, % per year) to predict
the types, so its thresholds read directly ("dist_core_km > 305"). Its *fidelity* is the share
of towns whose type it reproduces (Craven & Shavlik 1996's fidelity of an extracted model);
``cv_fidelity`` is the same share under 5-fold stratified cross-validation (unshuffled folds),
i.e. how well the rules would type towns they did not see. The tree uses
``random_state=0`` and the rows in town_id order, so the rules depend only on the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.tree import DecisionTreeClassifier

__all__ = ["Surrogate", "fit_surrogate"]


@dataclass(frozen=True)
class Surrogate:
    """Threshold rules of a typology (read-only).

    Attributes
    ----------
    rules : DataFrame
        One row per leaf: ``rule`` (conditions joined by "and", thresholds to 4 significant
        digits), ``type`` (predicted), ``n`` (towns in the leaf), ``purity`` (share of them of
        that type) and ``conditions`` (the exact thresholds as (feature, op, value) tuples, op
        ">" or "<=", a town in the leaf meets all of them).
    fidelity : float
        Share of the reference towns whose type the rules reproduce.
    cv_fidelity : float
        The same under 5-fold cross-validation (NaN when a type has fewer than 5 towns).
    importances : Series
        Impurity-based importance of each feature in the tree.
    max_depth : int
    tree : DecisionTreeClassifier
        The fitted tree (``predict`` on the features in their own units).
    """

    rules: pd.DataFrame
    fidelity: float
    cv_fidelity: float
    importances: pd.Series
    max_depth: int
    tree: DecisionTreeClassifier

    def to_text(self, names: dict | None = None) -> str:
        """The rules as lines "if ... then type t (name)  [n towns, purity]"."""
        out = [f"Decision rules (depth <= {self.max_depth}): fidelity {self.fidelity:.1%}, "
               f"cross-validated {self.cv_fidelity:.1%}"]
        for _, r in self.rules.iterrows():
            name = f" ({names[r['type']]})" if names and r["type"] in names else ""
            out.append(f"  if {r['rule']} then type {r['type']}{name}  [{r['n']} towns, {r['purity']:.0%} of this type]")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.to_text()


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _leaf_rules(tree: DecisionTreeClassifier, features: list[str]) -> list[tuple[int, str, tuple]]:
    t = tree.tree_
    out = []

    def walk(node: int, bounds: dict):
        if t.children_left[node] == -1:
            conds, exact = [], []
            for f in features:
                if f in bounds:
                    lo, hi = bounds[f]
                    if lo is not None and hi is not None:
                        conds.append(f"{_fmt(lo)} < {f} <= {_fmt(hi)}")
                    elif lo is not None:
                        conds.append(f"{f} > {_fmt(lo)}")
                    else:
                        conds.append(f"{f} <= {_fmt(hi)}")
                    if lo is not None:
                        exact.append((f, ">", lo))
                    if hi is not None:
                        exact.append((f, "<=", hi))
            out.append((node, " and ".join(conds) if conds else "always", tuple(exact)))
            return
        f, thr = features[t.feature[node]], float(t.threshold[node])
        lo, hi = bounds.get(f, (None, None))
        walk(t.children_left[node], {**bounds, f: (lo, thr if hi is None else min(hi, thr))})
        walk(t.children_right[node], {**bounds, f: (thr if lo is None else max(lo, thr), hi)})

    walk(0, {})
    return out


def fit_surrogate(raw: pd.DataFrame, labels: np.ndarray, max_depth: int = 3) -> Surrogate:
    """Fit the rules on the reference towns' features (own units) and their types."""
    X = raw.to_numpy(dtype=float)
    features = list(raw.columns)
    min_leaf = max(1, int(0.01 * len(X)))
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_leaf, random_state=0).fit(X, labels)
    fidelity = float((tree.predict(X) == labels).mean())
    counts = np.bincount(np.searchsorted(np.unique(labels), labels))
    if counts.min() >= 5:
        cv = StratifiedKFold(n_splits=5, shuffle=False)
        est = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_leaf, random_state=0)
        cv_fid = float(cross_val_score(est, X, labels, cv=cv).mean())
    else:
        cv_fid = float("nan")
    leaves = tree.apply(X)
    rows = []
    for node, rule, exact in _leaf_rules(tree, features):
        in_leaf = leaves == node
        n = int(in_leaf.sum())
        pred = tree.classes_[int(np.argmax(tree.tree_.value[node][0]))]
        purity = float((labels[in_leaf] == pred).mean()) if n else float("nan")
        rows.append({"rule": rule, "type": int(pred), "n": n, "purity": purity, "conditions": exact})
    rules = pd.DataFrame(rows).sort_values(["type", "n"], ascending=[True, False], kind="stable").reset_index(drop=True)
    importances = pd.Series(tree.feature_importances_, index=features, name="importance")
    return Surrogate(rules, fidelity, cv_fid, importances, max_depth, tree)
