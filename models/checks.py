"""Checks of a linear panel model's data: degenerate outcomes, absorbed and collinear regressors,
standard errors that are zero to rounding.

Each check is a pure function of arrays that returns a flag or raises the error of
:mod:`models.exceptions` naming the outcome or the regressors and what to do instead.
"""

from __future__ import annotations

import numpy as np

from .exceptions import AbsorbedRegressorError, CollinearityError, DegenerateModelError

__all__ = [
    "ZERO",
    "absorbed_error",
    "check_outcome",
    "check_rank",
    "check_rank_gram",
    "no_variation_left",
    "zero_std_errors",
]

# relative size below which a variation, residual or standard error counts as zero: well above
# the rounding error of the least-squares algebra (about 1e-15 times the condition number),
# far below anything data produce (a t statistic of 1e9)
ZERO = 1e-9


def check_outcome(y: np.ndarray, transformed: np.ndarray | None, name: str, what: str = "", advice: str = "",
                  estimator: str = "") -> None:
    """Refuse a constant outcome, or one whose variation the model's effects remove.

    ``y`` is the outcome in the rows used; ``transformed`` what the estimator keeps of it (for
    example the deviations from town means), ``None`` to check only that ``y`` varies. The
    transformed outcome has no variation when ``||y~|| <= 1e-9 ||y - mean(y)||``; the error then
    says that the outcome ``what`` and gives the ``advice``.
    """
    spread = float(np.ptp(y)) if len(y) else 0.0
    if spread <= ZERO * 1e-3 * max(float(np.abs(y).max()) if len(y) else 0.0, np.finfo(float).tiny):
        raise DegenerateModelError(
            f"the outcome {name!r} is constant ({float(y[0]):.6g}) in the {len(y)} rows used: there is "
            "nothing to explain, and any coefficient or t statistic would be rounding noise; check the column "
            "(and which rows have missing values in the model's variables) or choose another outcome")
    if transformed is None:
        return
    centred = y - y.mean()
    if np.sqrt(transformed @ transformed) <= ZERO * np.sqrt(centred @ centred):
        raise DegenerateModelError(f"the outcome {name!r} {what}, so a {estimator} model of it is degenerate; {advice}")


def no_variation_left(transformed: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Columns whose transformation removed (numerically) all of their variation:
    ``||x~_j|| <= 1e-9 ||x_j||`` (``original`` centred by the caller)."""
    scale = np.sqrt((original * original).sum(axis=0))
    scale[scale == 0] = 1.0
    return np.sqrt((transformed * transformed).sum(axis=0)) <= 1e-9 * scale


def absorbed_error(names: list[str], why: str, estimator: str) -> AbsorbedRegressorError:
    """The error for regressors ``names`` that the model's effects absorb (``why`` says how)."""
    listing = ", ".join(names)
    return AbsorbedRegressorError(
        f"{listing}: {why}. Their effect cannot be estimated with {estimator} effects; to keep "
        f"{'it' if len(names) == 1 else 'them'} use estimator='random' (with mundlak=True for the correlated random "
        "effects of Mundlak 1978, whose coefficients on the time-varying regressors equal the within ones) or "
        "estimator='between', or drop them from the formula (interactions with time-varying regressors, "
        "e.g. x:C(type), are identified)")


def check_rank(X: np.ndarray, names: list[str]) -> None:
    """Refuse collinear regressors: an eigenvalue of the correlation-scaled ``X'X`` below
    ``1e-10`` of the largest; the error names the regressors of the null direction."""
    if X.shape[1] == 0:
        return
    check_rank_gram(X.T @ X, names)


def check_rank_gram(xtx: np.ndarray, names: list[str]) -> None:
    """:func:`check_rank` of the regressors whose cross products ``X'X`` are ``xtx``."""
    if xtx.shape[1] == 0:
        return
    d = np.sqrt(np.diag(xtx))
    d[d == 0] = 1.0
    c = xtx / np.outer(d, d)
    w = np.linalg.eigvalsh(c)
    if w.min() > 1e-10 * max(1.0, w.max()):
        return
    w, v = np.linalg.eigh(c)
    null = v[:, w <= 1e-10 * max(1.0, w.max())]
    involved = [names[i] for i in range(len(names)) if np.abs(null[i]).max() > 1e-6]
    raise CollinearityError(
        f"regressors are collinear: a linear combination of {', '.join(involved)} is zero "
        "(given the intercept and the effects); remove one of them from the formula")


def zero_std_errors(Xt: np.ndarray, yt: np.ndarray, se: np.ndarray, has_icpt: bool, centre: bool) -> np.ndarray:
    """Standard errors that are zero to rounding: ``se_j <= 1e-9 ||y~|| / ||x~_j||``.

    ``||y~|| / ||x~_j||`` (outcome and regressor centred when the model has an intercept or
    effects; the intercept column itself uncentred) is the standard error a coefficient would
    have if the residuals were as large as the outcome; a real standard error is at least
    about ``sqrt((1 - R^2) / N)`` of it."""
    yc = yt - yt.mean() if centre else yt
    y_norm = np.sqrt(yc @ yc)
    del yc
    xn = np.empty(Xt.shape[1])
    for j in range(Xt.shape[1]):  # a loop over columns (one column's copy at a time), not rows
        if has_icpt and j == 0:
            xn[j] = np.sqrt(len(Xt))
            continue
        c = Xt[:, j] - Xt[:, j].mean() if centre else Xt[:, j] * 1.0
        c *= c  # the squares in the copy
        xn[j] = np.sqrt(c.sum())
    xn[xn == 0] = np.inf
    return ~(se > ZERO * y_norm / xn)
