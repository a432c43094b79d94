r"""Outliers and leverage points from a robust (MM) fit.

**Outliers.** Row :math:`i` is an outlier when :math:`|r_i|/\hat s > 2.5`, with
:math:`\hat s` the fit's robust scale (MM: the S-scale, consistent at the normal). 2.5 is
the cutoff of Rousseeuw & van Zomeren's (1990) diagnostic plot; a normal error exceeds it
with probability :math:`2\{1 - \Phi(2.5)\} = 1.24\%`. The bisquare robustness weights
(``result_.extra["weights"]``) are reported beside it: they fall to 0 only beyond
:math:`|r_i|/\hat s = c_\psi = 4.685`, so "weight 0" marks the rows the MM fit ignores
entirely, a stricter set. Whether there are *more* outliers than normal errors would give
is a one-sided exact binomial test of the count against 1.24% (``scipy.stats.binomtest``).

**Leverage.** Robust Mahalanobis distances of the regressors (the constant excluded) from
the reweighted minimum covariance determinant estimate (``sklearn.covariance.MinCovDet``);
row :math:`i` is a leverage point when :math:`RD_i^2 > \chi^2_{p, 0.975}` (Rousseeuw & van
Zomeren 1990). Robust rather than classical distances because a cluster of leverage points
masks itself in the classical ones. When the MCD scatter is singular — typical for dummy
regressors, where more than half the rows share a value — the rule falls back to the hat
values, :math:`h_i > 2k/n` (Belsley, Kuh & Welsch 1980), which are always reported too.

Each row is then *regular*, a *vertical outlier* (outlier, not leverage), a *good leverage*
point (leverage, not outlier) or a *bad leverage* point (both).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.covariance import MinCovDet

from .._validation import SeedLike, check_finite, check_random_state

__all__ = [
    "LEVERAGE_QUANTILE",
    "OUTLIER_CUTOFF",
    "OutlierDiagnostics",
    "hat_values",
    "outlier_diagnostics",
    "robust_distances",
]

#: |r|/s above this flags an outlier
OUTLIER_CUTOFF = 2.5
#: chi-square quantile of the squared robust distances that flags leverage
LEVERAGE_QUANTILE = 0.975
#: MCD scatter with condition number above this counts as singular
_MAX_CONDITION = 1e10


@dataclass(frozen=True)
class OutlierDiagnostics:
    """Flagged rows of a robust fit and the table behind the weights plot.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per observation: ``row``, ``resid``, ``std_resid`` (:math:`r/\\hat s`),
        ``weight``, ``robust_distance``, ``hat``, ``outlier``, ``leverage``, ``kind``.
    outliers, leverage, bad_leverage, zero_weight : ndarray of int
        Row positions flagged by each rule.
    n_outliers : int
    outlier_share : float
    expected_share : float
        :math:`2\\{1 - \\Phi(\\text{cutoff})\\}`, the share under normal errors.
    pvalue : float
        One-sided binomial test of ``n_outliers`` against ``expected_share``.
    cutoff : float
    leverage_rule : str
        The rule actually used (robust distance or hat-value fallback).
    leverage_measure : {"robust_distance", "hat"}
        The column of ``table`` the leverage rule thresholds.
    leverage_cutoff : float
        Its cutoff: :math:`\\sqrt{\\chi^2_{p,0.975}}` or :math:`2k/n`.
    zero_weight_cutoff : float
        :math:`|r|/\\hat s` beyond which the weight is 0 (``extra["c_psi"]`` of the fit; NaN
        when the fit does not state it).
    scale : float
    """

    table: pd.DataFrame
    outliers: np.ndarray
    leverage: np.ndarray
    bad_leverage: np.ndarray
    zero_weight: np.ndarray
    n_outliers: int
    outlier_share: float
    expected_share: float
    pvalue: float
    cutoff: float
    leverage_rule: str
    leverage_measure: str
    leverage_cutoff: float
    zero_weight_cutoff: float
    scale: float


def hat_values(design) -> np.ndarray:
    """Diagonal of :math:`X(X^\\top X)^{-1}X^\\top` (from the thin QR factor of ``design``)."""
    q, _ = np.linalg.qr(np.asarray(design, dtype=float))
    return np.einsum("ij,ij->i", q, q)


def robust_distances(X, *, random_state: SeedLike = None) -> np.ndarray | None:
    """Robust Mahalanobis distances :math:`RD_i` of the rows of ``X`` (reweighted MCD,
    ``sklearn.covariance.MinCovDet``), or None when the MCD scatter is singular.

    ``random_state`` seeds the MCD's random subsets through one integer drawn from it.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] == 0:
        return None
    seed = int(check_random_state(random_state).integers(2**31 - 1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            mcd = MinCovDet(random_state=seed).fit(X)
        except (ValueError, np.linalg.LinAlgError):
            return None
    if any("full rank" in str(w.message) for w in caught):
        return None
    cond = np.linalg.cond(mcd.covariance_)
    if not np.isfinite(cond) or cond > _MAX_CONDITION:
        return None
    return np.sqrt(mcd.mahalanobis(X))


def _result_of(fit: Any):
    res = getattr(fit, "result_", fit)
    extra = getattr(res, "extra", None)
    if extra is None or "weights" not in extra or not hasattr(res, "resid"):
        raise ValueError(
            "outlier_diagnostics needs a fitted robust estimator with robustness weights "
            "(e.g. tailreg.MM().fit(X, y)) or its result_"
        )
    return res


def _classify(outlier: np.ndarray, leverage: np.ndarray) -> np.ndarray:
    kind = np.full(outlier.size, "regular", dtype=object)
    kind[outlier & ~leverage] = "vertical outlier"
    kind[~outlier & leverage] = "good leverage"
    kind[outlier & leverage] = "bad leverage"
    return kind


def _leverage(Xa: np.ndarray, h: np.ndarray, k: int, random_state: SeedLike):
    """(robust distances, leverage flags, rule text, measure name, cutoff): robust distances
    of the non-constant regressors, or the hat values when the MCD scatter is singular."""
    n = Xa.shape[0]
    regs = Xa[:, np.ptp(Xa, axis=0) > 0]
    rd = robust_distances(regs, random_state=random_state)
    if rd is not None:
        cut = math.sqrt(stats.chi2.ppf(LEVERAGE_QUANTILE, regs.shape[1]))
        rule = f"robust distance (MCD) above sqrt(chi2_{regs.shape[1]}(0.975)) = {cut:.3f}"
        return rd, rd > cut, rule, "robust_distance", cut
    cut = 2 * k / n
    rule = f"hat value above 2k/n = {cut:.3f} (MCD scatter singular or no regressor)"
    return np.full(n, math.nan), h > cut, rule, "hat", cut


def outlier_diagnostics(
    fit, X, *, cutoff: float = OUTLIER_CUTOFF, random_state: SeedLike = None
) -> OutlierDiagnostics:
    """Flag outliers and leverage points of a robust fit (rules in the module notes).

    Parameters
    ----------
    fit : fitted estimator or FitResult
        A robust fit exposing ``result_.resid``, ``result_.scale`` and
        ``result_.extra["weights"]`` (``tailreg.MM``).
    X : array-like of shape (n, p)
        The regressors the fit was given (without the constant).
    cutoff : float, default 2.5
    random_state : None, int, SeedSequence or Generator
        Seeds the MCD.

    Returns
    -------
    OutlierDiagnostics
    """
    res = _result_of(fit)
    r = np.asarray(res.resid, dtype=float)
    w = np.asarray(res.extra["weights"], dtype=float)
    s = float(res.scale)
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    if Xa.ndim != 2 or Xa.shape[0] != r.size:
        raise ValueError(f"X must have shape ({r.size}, p) to match the fit, got {Xa.shape}")
    check_finite("X", Xa)
    if not (math.isfinite(s) and s > 0):
        raise ValueError(f"the fit's scale is {s}: an exact fit has no standardized residuals")
    n = r.size
    intercept = "const" in getattr(res, "params", pd.Series(dtype=float)).index
    design = np.column_stack([np.ones(n), Xa]) if intercept else Xa
    h = hat_values(design)
    rd, leverage, rule, measure, lev_cut = _leverage(Xa, h, design.shape[1], random_state)
    u = r / s
    outlier = np.abs(u) > cutoff
    p0 = 2 * stats.norm.sf(cutoff)
    count = int(outlier.sum())
    pval = float(stats.binomtest(count, n, p0, alternative="greater").pvalue)
    table = pd.DataFrame(
        {
            "row": np.arange(n),
            "resid": r,
            "std_resid": u,
            "weight": w,
            "robust_distance": rd,
            "hat": h,
            "outlier": outlier,
            "leverage": leverage,
            "kind": _classify(outlier, leverage),
        }
    )
    return OutlierDiagnostics(
        table=table,
        outliers=np.flatnonzero(outlier),
        leverage=np.flatnonzero(leverage),
        bad_leverage=np.flatnonzero(outlier & leverage),
        zero_weight=np.flatnonzero(w <= 0),
        n_outliers=count,
        outlier_share=count / n,
        expected_share=float(p0),
        pvalue=pval,
        cutoff=float(cutoff),
        leverage_rule=rule,
        leverage_measure=measure,
        leverage_cutoff=float(lev_cut),
        zero_weight_cutoff=float(res.extra.get("c_psi", math.nan)),
        scale=s,
    )
