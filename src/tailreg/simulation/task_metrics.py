r"""Monte Carlo metrics of grouped replication tables that are not a linear-model study.

:func:`tailreg.simulation.summarize` summarizes the engine's replication table. Studies run
through :func:`tailreg.simulation.tasks.run_tasks` produce tables of their own shape (one row
per replication, a few error columns); these functions summarize such tables per group,
every metric with its Monte Carlo standard error (Morris, White & Crowther 2019, Table 6):

* mean :math:`\bar e`, MCSE :math:`s/\sqrt R` (:func:`group_means`; as a bias when the
  column holds errors about the truth, :func:`error_summary`);
* RMSE :math:`\sqrt m`, :math:`m = \overline{e^2}`, MCSE
  :math:`\mathrm{sd}(e_r^2)/\sqrt R\,/\,(2\sqrt m)` (delta method);
* median absolute error with its order-statistic MCSE (:func:`median_abs_errors`, by
  :func:`tailreg.simulation.metrics.median_abs_error`);
* coverage :math:`p` of intervals :math:`\hat\theta \pm c\,SE`, MCSE :math:`\sqrt{p(1-p)/R}`,
  with the mean SE over the Monte Carlo SD (:func:`interval_coverage`; :math:`c` from
  :func:`critical_value`, the convention of :func:`~tailreg.simulation.summarize`);
* standardized estimates :math:`z = (\hat\theta - \theta^*)/\sqrt{V/n}` and their
  Kolmogorov–Smirnov and Anderson–Darling distances to N(0, 1) with seeded bootstrap MCSEs
  (:func:`standardize`, :func:`shape_distances`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from .metrics import ad_statistic, ks_statistic, median_abs_error

__all__ = [
    "IQR_NORMAL",
    "critical_value",
    "error_summary",
    "group_means",
    "group_seed",
    "interval_coverage",
    "median_abs_errors",
    "shape_distances",
    "standardize",
]

#: interquartile range of N(0, 1), 2 z_{0.75} = 1.3489795...
IQR_NORMAL = 2 * special.ndtri(0.75)


def group_seed(key: tuple[Any, ...]) -> int:
    """A bootstrap seed from the identity of a summary group: sha256 of ``repr(key)``."""
    return int.from_bytes(hashlib.sha256(repr(key).encode()).digest()[:8], "big")


def group_means(
    frame: pd.DataFrame,
    by: Sequence[str],
    columns: Sequence[str],
    *,
    mcse: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per group of ``by``: the group size ``R`` and the mean of each column.

    Columns named in ``mcse`` (default: all) get ``<column>_mcse`` = sd / sqrt(R). Groups in
    order of first appearance.
    """
    mcse = list(columns) if mcse is None else list(mcse)
    agg: dict[str, tuple[str, Any]] = {"R": (columns[0], "size")}
    for c in columns:
        agg[c] = (c, "mean")
        if c in mcse:
            agg[f"{c}_sd"] = (c, "std")
    out = frame.groupby(list(by), sort=False).agg(**agg).reset_index()
    for c in mcse:
        out[f"{c}_mcse"] = out.pop(f"{c}_sd") / np.sqrt(out["R"])
    return out


def _mean_square(e: pd.Series) -> float:
    return np.mean(e**2)


def _sd_square(e: pd.Series) -> float:
    return np.std(e**2, ddof=1)


def error_summary(
    frame: pd.DataFrame, by: Sequence[str], errors: Mapping[str, str]
) -> pd.DataFrame:
    """Bias and RMSE with their MCSEs per group, for columns of errors about the truth.

    ``errors`` maps an output prefix to an error column: ``{"slope_": "err"}`` gives
    ``slope_bias``, ``slope_bias_mcse``, ``slope_rmse``, ``slope_rmse_mcse`` (and the
    ``slope_sd``, ``slope_mse`` they come from). Bias is the mean error with MCSE
    :math:`s/\\sqrt R`; RMSE :math:`\\sqrt{\\overline{e^2}}` with MCSE
    :math:`\\mathrm{sd}(e^2)/\\sqrt R/(2\\,\\mathrm{RMSE})` (delta method). Also ``R``.
    """
    first = next(iter(errors.values()))
    agg: dict[str, tuple[str, Any]] = {"R": (first, "size")}
    for p, c in errors.items():
        agg[f"{p}bias"] = (c, "mean")
        agg[f"{p}sd"] = (c, "std")
        agg[f"{p}mse"] = (c, _mean_square)
        agg[f"{p}mse_sd"] = (c, _sd_square)
    out = frame.groupby(list(by), sort=False).agg(**agg).reset_index()
    root_r = np.sqrt(out["R"])
    for p in errors:
        out[f"{p}bias_mcse"] = out[f"{p}sd"] / root_r
        out[f"{p}rmse"] = np.sqrt(out[f"{p}mse"])
        out[f"{p}rmse_mcse"] = out[f"{p}mse_sd"] / root_r / (2 * out[f"{p}rmse"])
    return out


def median_abs_errors(
    frame: pd.DataFrame, by: Sequence[str], errors: np.ndarray | pd.Series
) -> pd.DataFrame:
    """Per group of ``by``: ``medae`` and ``medae_mcse`` of the errors (one per row)."""
    err = np.asarray(errors, dtype=float)
    rows = []
    for key, idx in frame.groupby(list(by), sort=False).indices.items():
        m, s = median_abs_error(err[idx])
        rows.append((*key, m, s))
    return pd.DataFrame(rows, columns=[*by, "medae", "medae_mcse"])


def critical_value(kind: str, df: int, level: float = 0.95) -> float:
    """Two-sided critical value: Student t with ``df`` for ``classical``, N(0, 1) otherwise."""
    q = 0.5 + level / 2
    return float(stats.t.ppf(q, df)) if kind == "classical" else float(special.ndtri(q))


def interval_coverage(
    estimate: np.ndarray, se: np.ndarray, target: float, crit: float
) -> dict[str, float] | None:
    """Coverage of :math:`\\hat\\theta_r \\pm c\\,SE_r` for ``target``, on the replications
    with a finite estimate and a finite positive SE.

    Returns ``n_rep``, ``coverage``, ``coverage_mcse``, ``mean_se``, ``sd`` (Monte Carlo SD
    of the estimates) and ``se_sd`` (mean SE / sd); None with fewer than two such
    replications or a non-finite target.
    """
    x = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    ok = np.isfinite(x) & np.isfinite(se) & (se > 0)
    R = int(ok.sum())
    if R < 2 or not np.isfinite(target):
        return None
    cov = float(np.mean(np.abs(x[ok] - target) <= crit * se[ok]))
    sd = float(np.std(x[ok], ddof=1))
    return {
        "n_rep": R,
        "coverage": cov,
        "coverage_mcse": math.sqrt(cov * (1 - cov) / R),
        "mean_se": float(se[ok].mean()),
        "sd": sd,
        "se_sd": float(se[ok].mean()) / sd if sd > 0 else math.nan,
    }


def standardize(reps: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Add ``z`` and ``standardization`` to a replication table, per group of ``by``.

    ``z = (estimate - pseudo_true) / sqrt(avar / n)`` ("theory") where the group's ``avar``
    is finite and positive and its target finite; where ``avar`` is infinite, the Monte
    Carlo median and IQR / 1.349 standardize instead ("iqr"); otherwise the Monte Carlo
    mean and SD ("mc"). ``by`` must contain ``n``.
    """
    reps = reps.copy()
    z = np.full(len(reps), np.nan)
    kind = np.empty(len(reps), dtype=object)
    est = reps["estimate"].to_numpy(float)
    at_n = list(by).index("n")
    for key, idx in reps.groupby(list(by), sort=False).indices.items():
        n = key[at_n]
        x = est[idx]
        target = float(reps["pseudo_true"].iat[idx[0]])
        avar = float(reps["avar"].iat[idx[0]])
        if np.isfinite(avar) and avar > 0 and np.isfinite(target):
            z[idx], kind[idx] = (x - target) / math.sqrt(avar / n), "theory"
        elif np.isinf(avar):
            q1, med, q3 = np.nanpercentile(x, [25, 50, 75])
            z[idx], kind[idx] = (x - med) / ((q3 - q1) / IQR_NORMAL), "iqr"
        else:
            z[idx], kind[idx] = (x - np.nanmean(x)) / np.nanstd(x, ddof=1), "mc"
    reps["z"], reps["standardization"] = z, kind
    return reps


def shape_distances(
    reps: pd.DataFrame, by: Sequence[str], column: str = "z", bootstrap: int = 200
) -> pd.DataFrame:
    """KS and AD distances of a standardized column to N(0, 1) per group, bootstrap MCSEs.

    The bootstrap resamples the group's finite values ``bootstrap`` times from
    ``default_rng(group_seed(key))``. Also ``ks_null`` = 0.8687 / sqrt(R), the expected
    KS distance of R draws from N(0, 1) (:math:`\\sqrt{\\pi/2}\\ln 2/\\sqrt R`), and the
    group's ``standardization``.
    """
    rows = []
    zz = reps[column].to_numpy(float)
    for key, idx in reps.groupby(list(by), sort=False).indices.items():
        z = zz[idx]
        z = z[np.isfinite(z)]
        R = z.size
        rng = np.random.default_rng(group_seed(key))
        boot = z[rng.integers(0, R, size=(bootstrap, R))]
        ks, ad = float(ks_statistic(z)), float(ad_statistic(z))
        rows.append(
            {
                **dict(zip(by, key, strict=True)),
                "R": R,
                "standardization": reps["standardization"].iat[idx[0]],
                "ks": ks,
                "ks_mcse": float(ks_statistic(boot).std(ddof=1)),
                "ks_null": 0.8687 / math.sqrt(R),
                "ad": ad,
                "ad_mcse": float(ad_statistic(boot).std(ddof=1)),
            }
        )
    return pd.DataFrame(rows)
