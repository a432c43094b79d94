r"""Summaries of a replication table, every metric with its Monte Carlo standard error.

Formulas follow Morris, White & Crowther (2019), *Using simulation studies to evaluate
statistical methods*, Stat. Med. 38:2074, Table 6. With :math:`R` finite estimates
:math:`\hat\theta_r` of a parameter with true value :math:`\theta`, mean :math:`\bar\theta`
and :math:`s^2 = \sum(\hat\theta_r - \bar\theta)^2/(R-1)`:

* bias :math:`\bar\theta - \theta`, MCSE :math:`s/\sqrt R` (also ``bias_pseudo``, about the
  estimator's pseudo-true target);
* sd (empirical SE) :math:`s`, MCSE :math:`s/\sqrt{2(R-1)}`;
* MSE :math:`m = \overline{(\hat\theta-\theta)^2}`, MCSE
  :math:`\sqrt{\sum_r((\hat\theta_r-\theta)^2 - m)^2/(R(R-1))}`; RMSE :math:`\sqrt m` with
  MCSE :math:`\mathrm{MCSE}(m)/(2\sqrt m)` (delta method);
* MAE :math:`\overline{|\hat\theta-\theta|}`, MCSE
  :math:`\mathrm{sd}(|\hat\theta_r-\theta|)/\sqrt R`;
* coverage and rejection rates :math:`p`, MCSE :math:`\sqrt{p(1-p)/R}` (coverage also about
  the pseudo-true target, ``coverage_pseudo_<kind>``: for an intercept whose estimator
  targets the error law's median or Huber location rather than its mean, the interval can
  only cover that target);
* mean SE and mean interval width :math:`\bar w`, MCSE :math:`\mathrm{sd}(w_r)/\sqrt R`.

Derived metrics use the delta method: ``nvar`` :math:`= n s^2` has MCSE
:math:`n s^2\sqrt{2/(R-1)}`, and so do its ratios to the theory (``nvar_ratio`` = nvar / avar,
``eff_crlb`` = crlb / nvar). ``se_sd_<kind>`` = mean SE / s has relative MCSE
:math:`\sqrt{\mathrm{var}(SE)/(R\,\overline{SE}^2) + 1/(2(R-1))}`. ``rel_eff`` =
MSE(reference)/MSE(estimator) on replications where both are finite — except when the
theory's asymptotic variance (``avar``) of the reference or of the estimator is infinite
(OLS under infinite-variance errors): the Monte Carlo ratio then grows without bound with R,
so ``rel_eff`` is the limit, ``inf`` (reference infinite) or 0 (estimator infinite), NaN when
both are, with a NaN MCSE. Otherwise its MCSE is the delta method for a ratio of paired means,
:math:`R^{-1/2}(v_a/\bar b^2 + \bar a^2 v_b/\bar b^4 - 2\bar a c_{ab}/\bar b^3)^{1/2}`
with :math:`a_r, b_r` the squared errors of reference and estimator. Intervals are
:math:`\hat\theta \pm c\,SE` with :math:`c` the 0.975 quantile of Student t with
:math:`n - k` degrees of freedom for the ``classical`` kind and of N(0, 1) otherwise.

The shape of the sampling distribution is measured on the standardized estimates
:math:`z_r = (\hat\theta_r - \bar\theta)/s`: Kolmogorov–Smirnov distance to N(0, 1), the
Anderson–Darling statistic :math:`A^2` (as ``scipy.stats.anderson``), skewness :math:`g_1` and
excess kurtosis :math:`g_2` (biased moment estimators, as ``scipy.stats.skew``/``kurtosis``);
their MCSEs come from a seeded nonparametric bootstrap over replications.

The convergence rate is the weighted least-squares slope of :math:`\log \mathrm{RMSE}_n`
(about the pseudo-true target where it is known, else the true value) on :math:`\log n`
across sample sizes, weights :math:`1/\mathrm{MCSE}(\log\mathrm{RMSE}_n)^2`; ``rate_mcse``
is its standard error :math:`(\sum_n w_n(\log n - \overline{\log n}_w)^2)^{-1/2}`. Finite
variance gives a slope of :math:`-1/2`. Under infinite variance the RMSE does not settle
(it grows with R), so ``rate_medae`` fits the same slope to the median absolute error
``medae`` about the same target, whose MCSE is the half-width of the distribution-free 95%
interval for a median (order statistics :math:`R/2 \mp 1.96\sqrt R/2`) over 1.96.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

__all__ = [
    "GROUP",
    "NOTE_COLUMNS",
    "ad_statistic",
    "cell_notes",
    "ks_statistic",
    "median_abs_error",
    "summarize",
    "wls_log_slope",
]

#: one summary row per group
GROUP = ["design", "law", "n", "estimator", "parameter"]
_COEF = re.compile(r"^(const|x\d+)$")


def median_abs_error(err: np.ndarray) -> tuple[float, float]:
    """Median of ``|err|`` over the finite values, and its MCSE.

    The MCSE is the half-width of the distribution-free 95% interval for a median — the
    order statistics :math:`R/2 \\mp 1.96\\sqrt R/2` of the sorted values — over 1.96.
    NaN for fewer than 3 values.
    """
    a = np.sort(np.abs(np.asarray(err, dtype=float)))
    a = a[np.isfinite(a)]
    R = a.size
    if R < 3:
        return math.nan, math.nan
    h = 1.96 * math.sqrt(R) / 2
    lo = a[max(math.floor(R / 2 - h), 0)]
    hi = a[min(math.ceil(R / 2 + h), R - 1)]
    return float(np.median(a)), float((hi - lo) / (2 * 1.96))


def wls_log_slope(n: np.ndarray, y: np.ndarray, y_mcse: np.ndarray) -> tuple[float, float]:
    """Slope of log y on log n with weights 1/MCSE(log y)^2, and its standard error.

    ``MCSE(log y) = MCSE(y)/y`` (delta method); points with a non-finite or zero weight are
    dropped, and fewer than two distinct n give NaN.
    """
    n, y, y_mcse = (np.asarray(v, dtype=float) for v in (n, y, y_mcse))
    with np.errstate(divide="ignore", invalid="ignore"):
        ly, v = np.log(y), (y_mcse / y) ** 2
    ok = np.isfinite(ly) & np.isfinite(v) & (v > 0)
    if np.unique(n[ok]).size < 2:
        return math.nan, math.nan
    ln, w = np.log(n[ok]), 1.0 / v[ok]
    xw = (w * ln).sum() / w.sum()
    sxx = (w * (ln - xw) ** 2).sum()
    return float((w * (ln - xw) * ly[ok]).sum() / sxx), float(1.0 / math.sqrt(sxx))


def ks_statistic(z: np.ndarray, *, presorted: bool = False) -> np.ndarray:
    """Kolmogorov–Smirnov distance of the rows of ``z`` (..., R) to N(0, 1)."""
    z = z if presorted else np.sort(z, axis=-1)
    R = z.shape[-1]
    cdf = special.ndtr(z)
    i = np.arange(1, R + 1)
    return np.maximum((i / R - cdf).max(axis=-1), (cdf - (i - 1) / R).max(axis=-1))


def ad_statistic(z: np.ndarray, *, presorted: bool = False) -> np.ndarray:
    r"""Anderson–Darling :math:`A^2` of the rows of ``z`` (..., R) against N(0, 1).

    :math:`A^2 = -R - \frac1R\sum_{i=1}^R (2i-1)[\log\Phi(z_{(i)}) + \log(1-\Phi(z_{(R+1-i)}))]`.
    """
    z = z if presorted else np.sort(z, axis=-1)
    R = z.shape[-1]
    i = np.arange(1, R + 1)
    logcdf = special.log_ndtr(z)
    logsf = special.log_ndtr(-z[..., ::-1])
    return -R - ((2 * i - 1) * (logcdf + logsf)).sum(axis=-1) / R


def _shape_stats(x: np.ndarray) -> np.ndarray:
    """(ks, ad, skewness, excess kurtosis) of the rows of x (..., R), standardized per row."""
    x = np.sort(x, axis=-1)  # standardizing is monotone: one sort serves KS and AD
    R = x.shape[-1]
    d = x - x.mean(axis=-1, keepdims=True)
    d2 = d * d
    m2 = d2.mean(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = d / np.sqrt(m2 * R / (R - 1))[..., None]
        g1 = (d2 * d).mean(axis=-1) / m2**1.5
        g2 = (d2 * d2).mean(axis=-1) / m2**2 - 3.0
        cdf, sf = special.ndtr(z), special.ndtr(-z)
        i = np.arange(1, R + 1)
        ks = np.maximum((i / R - cdf).max(axis=-1), (cdf - (i - 1) / R).max(axis=-1))
        logc, logs = np.log(cdf), np.log(sf)
        far = (cdf == 0) | (sf == 0)  # beyond |z| ~ 38: log_ndtr keeps the tail finite
        if far.any():
            logc[far], logs[far] = special.log_ndtr(z[far]), special.log_ndtr(-z[far])
        ad = -R - ((2 * i - 1) * (logc + logs[..., ::-1])).sum(axis=-1) / R
    return np.stack([ks, ad, g1, g2], axis=-1)


def _seed_of(key: tuple) -> int:
    return int.from_bytes(hashlib.sha256(repr(key).encode()).digest()[:8], "big")


def _crit(kind: str, df: int) -> float:
    if kind == "classical" and df > 0:
        return float(stats.t.ppf(0.975, df))
    return float(special.ndtri(0.975))


def _mse_stats(err: np.ndarray) -> tuple[float, float, float, float]:
    """(rmse, mcse, mae, mcse) of errors about a target."""
    R = err.size
    sq = err**2
    mse = sq.mean()
    mcse_mse = math.sqrt(((sq - mse) ** 2).sum() / (R * (R - 1))) if R > 1 else math.nan
    rmse = math.sqrt(mse)
    ab = np.abs(err)
    return (
        rmse,
        mcse_mse / (2 * rmse) if rmse > 0 else math.nan,
        float(ab.mean()),
        float(ab.std(ddof=1) / math.sqrt(R)) if R > 1 else math.nan,
    )


def _ratio_mcse(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """mean(a)/mean(b) for paired samples and its delta-method standard error."""
    R = a.size
    ma, mb = a.mean(), b.mean()
    if R < 2 or mb <= 0:
        return math.nan, math.nan
    va, vb = a.var(ddof=1), b.var(ddof=1)
    cab = np.cov(a, b, ddof=1)[0, 1]
    v = (va / mb**2 + ma**2 * vb / mb**4 - 2 * ma * cab / mb**3) / R
    return ma / mb, math.sqrt(max(v, 0.0))


#: raw-table columns :func:`cell_notes` reads
NOTE_COLUMNS = ("design", "law", "n", "estimator", "replication", "theory", "n_warnings", "warning")
_CELL = ["design", "law", "n", "estimator"]


def cell_notes(results: pd.DataFrame) -> pd.DataFrame:
    """Per (design, law, n, estimator): the theory note, the warning count, the first warning.

    ``theory`` is ``""``, ``"none"`` or ``"failed: ..."`` (:mod:`tailreg.simulation.targets`);
    ``warnings`` sums ``n_warnings`` over the replications (the engine records each fit
    call's count once, on the first replication it fitted) and ``first_warning`` is the first
    non-empty ``warning`` in replication order. Tables without these columns (built by hand)
    give ``""``, 0 and ``""``.
    """
    df = results.reset_index(drop=True)
    one = df.drop_duplicates([*_CELL, "replication"]) if "replication" in df else df
    g = one.groupby(_CELL, sort=False)
    out = g.size().rename("rows").reset_index()[_CELL]
    out["theory"] = g["theory"].first().to_numpy() if "theory" in one else ""
    out["warnings"] = g["n_warnings"].sum().to_numpy() if "n_warnings" in one else 0
    if "warning" in one:
        first = g["warning"].agg(lambda w: next((m for m in w if m), ""))
        out["first_warning"] = first.to_numpy()
    else:
        out["first_warning"] = ""
    return out


@dataclass
class _Columns:
    """The replication table as arrays, grouped (what every group's metrics read)."""

    est: np.ndarray
    truth: np.ndarray
    pseudo: np.ndarray
    conv: np.ndarray
    rep: np.ndarray
    se: dict[str, np.ndarray]
    avar: np.ndarray
    crlb: np.ndarray
    k_by: pd.Series
    groups: dict[tuple, np.ndarray]


def _columns(df: pd.DataFrame, kinds: list[str]) -> _Columns:
    # coefficients per model, for the t reference distribution of the classical kind
    coef = df["parameter"].astype(str).str.match(_COEF)
    k_by = (
        df.loc[coef].groupby(["design", "law", "n", "estimator"], sort=False)["parameter"].nunique()
    )

    def col(name: str) -> np.ndarray:
        return df[name].to_numpy(float) if name in df else np.full(len(df), np.nan)

    return _Columns(
        est=df["estimate"].to_numpy(float),
        truth=df["true_value"].to_numpy(float),
        pseudo=col("pseudo_true"),
        conv=df["converged"].to_numpy(bool),
        rep=df["replication"].to_numpy(),
        se={kind: df[f"se_{kind}"].to_numpy(float) for kind in kinds},
        avar=col("avar"),
        crlb=col("crlb"),
        k_by=k_by,
        groups=df.groupby(GROUP, sort=False).indices,
    )


def _reference(c: _Columns, reference: str | None) -> dict[tuple, tuple[pd.Series, float]]:
    """Per (design, law, n, parameter): the reference's squared errors and its avar."""
    ref: dict[tuple, tuple[pd.Series, float]] = {}
    if reference is None:
        return ref
    for key, idx in c.groups.items():
        if key[3] == reference:
            ok = idx[np.isfinite(c.est[idx])]
            err = pd.Series((c.est[ok] - c.truth[ok]) ** 2, index=c.rep[ok])
            ref[(key[0], key[1], key[2], key[4])] = (err, float(c.avar[idx[0]]))
    return ref


def _location(x: np.ndarray, th: float, thp: float, n: int, avar: float, crlb: float) -> dict:
    """mean, bias, sd, RMSE, MAE, median |error|, n*Var and its ratios to the theory."""
    R = x.size
    nan = math.nan
    m, s = x.mean(), x.std(ddof=1)
    sem = s / math.sqrt(R)
    row: dict[str, float] = {"mean": m, "mean_mcse": sem, "bias": m - th, "bias_mcse": sem}
    row["bias_pseudo"], row["bias_pseudo_mcse"] = m - thp, sem
    row["sd"], row["sd_mcse"] = s, s / math.sqrt(2 * (R - 1))
    row["rmse"], row["rmse_mcse"], row["mae"], row["mae_mcse"] = _mse_stats(x - th)
    if np.isfinite(thp):
        row["rmse_pseudo"], row["rmse_pseudo_mcse"] = _mse_stats(x - thp)[:2]
    else:
        row["rmse_pseudo"] = row["rmse_pseudo_mcse"] = nan
    row["medae"], row["medae_mcse"] = median_abs_error(x - (thp if np.isfinite(thp) else th))
    rel = math.sqrt(2.0 / (R - 1))
    nvar = n * s * s
    row["nvar"], row["nvar_mcse"] = nvar, nvar * rel
    ratio = nvar / avar if avar and np.isfinite(avar) else nan
    row["nvar_ratio"], row["nvar_ratio_mcse"] = ratio, ratio * rel
    eff = crlb / nvar if nvar > 0 else nan
    row["eff_crlb"], row["eff_crlb_mcse"] = eff, eff * rel
    return row


def _rel_eff(
    ref: tuple[pd.Series, float] | None, mine: pd.Series, is_ref: bool, avar: float
) -> tuple[float, float]:
    """MSE(reference)/MSE(estimator) on the replications both have, or its limit."""
    nan = math.nan
    if ref is None:
        return nan, nan
    ref_err, ref_avar = ref
    if is_ref:
        return 1.0, 0.0
    inf_ref, inf_mine = ref_avar == math.inf, avar == math.inf
    if inf_ref or inf_mine:
        # the MSE ratio diverges with R; report its limit, not a Monte Carlo draw of it
        return (nan if inf_ref and inf_mine else (math.inf if inf_ref else 0.0)), nan
    both = ref_err.index.intersection(mine.index)
    return _ratio_mcse(ref_err.loc[both].to_numpy(), mine.loc[both].to_numpy())


def _interval(
    kind: str, x: np.ndarray, se_all: np.ndarray, s: float, th: float, thp: float, dfree: int
) -> dict:
    """Mean SE, SE/sd, coverage (also about the pseudo-true value), width, rejection."""
    good = np.isfinite(se_all) & (se_all > 0)
    if good.sum() < 2:
        return {}
    R = x.size
    se, xe = se_all[good], x[good]
    Rk = se.size
    crit = _crit(kind, dfree)
    mse_, sse = se.mean(), se.std(ddof=1)
    row = {f"mean_se_{kind}": mse_, f"mean_se_{kind}_mcse": sse / math.sqrt(Rk)}
    r_ = mse_ / s
    row[f"se_sd_{kind}"] = r_
    row[f"se_sd_{kind}_mcse"] = r_ * math.sqrt(sse**2 / (Rk * mse_**2) + 1.0 / (2 * (R - 1)))
    cov = float((np.abs(xe - th) <= crit * se).mean())
    rej = float((np.abs(xe - th) / se > crit).mean())
    row[f"coverage_{kind}"] = cov
    row[f"coverage_{kind}_mcse"] = math.sqrt(cov * (1 - cov) / Rk)
    if np.isfinite(thp):
        cp = float((np.abs(xe - thp) <= crit * se).mean())
        row[f"coverage_pseudo_{kind}"] = cp
        row[f"coverage_pseudo_{kind}_mcse"] = math.sqrt(cp * (1 - cp) / Rk)
    row[f"width_{kind}"] = 2 * crit * mse_
    row[f"width_{kind}_mcse"] = 2 * crit * sse / math.sqrt(Rk)
    row[f"reject_{kind}"] = rej
    row[f"reject_{kind}_mcse"] = math.sqrt(rej * (1 - rej) / Rk)
    return row


def _shape(x: np.ndarray, key: tuple, bootstrap: int) -> dict:
    """KS, AD, skewness and kurtosis of the standardized estimates, bootstrap MCSEs."""
    R = x.size
    shape = _shape_stats(x)
    if bootstrap and R > 2:
        rng = np.random.default_rng(_seed_of(key))
        boot = _shape_stats(x[rng.integers(0, R, size=(bootstrap, R))])
        with np.errstate(invalid="ignore"):
            shape_se = np.nanstd(boot, axis=0, ddof=1)
    else:
        shape_se = np.full(4, math.nan)
    row = {}
    for j, nm in enumerate(("ks", "ad", "skewness", "kurtosis")):
        row[nm], row[f"{nm}_mcse"] = float(shape[j]), float(shape_se[j])
    return row


def _group(key: tuple, idx: np.ndarray, c: _Columns, kinds, ref, reference, bootstrap) -> dict:
    """Every metric of one (design, law, n, estimator, parameter) group."""
    design, law, n, name, param = key
    ok = idx[np.isfinite(c.est[idx])]
    x = c.est[ok]
    R = x.size
    row: dict[str, object] = dict(zip(GROUP, key, strict=True))
    row["n_rep"] = R
    conv = c.conv[idx].mean()
    row["converged"], row["converged_mcse"] = conv, math.sqrt(conv * (1 - conv) / idx.size)
    th, thp = c.truth[idx[0]], c.pseudo[idx[0]]
    row["true_value"], row["pseudo_true"] = th, thp
    avar, crlb = float(c.avar[idx[0]]), float(c.crlb[idx[0]])
    row["avar"], row["crlb"] = avar, crlb
    if R < 2:
        return row
    row.update(_location(x, th, thp, n, avar, crlb))
    mine = pd.Series((x - th) ** 2, index=c.rep[ok])
    row["rel_eff"], row["rel_eff_mcse"] = _rel_eff(
        ref.get((design, law, n, param)), mine, name == reference, avar
    )
    dfree = int(n) - int(c.k_by.get((design, law, n, name), 0))
    s = x.std(ddof=1)  # as in _location
    for kind in kinds:
        row.update(_interval(kind, x, c.se[kind][ok], s, th, thp, dfree))
    row.update(_shape(x, key, bootstrap))
    return row


def summarize(
    results: pd.DataFrame,
    *,
    reference: str | None = "ols",
    bootstrap: int = 200,
) -> pd.DataFrame:
    """Summarize a replication table: one row per (design, law, n, estimator, parameter).

    Parameters
    ----------
    results : DataFrame
        The long table of :func:`~tailreg.simulation.run_study` (``.replications``) or of
        :func:`~tailreg.simulation.read_results`; or a :class:`~tailreg.simulation.StudyRun`.
    reference : str or None, default "ols"
        Estimator label that relative efficiencies compare against (NaN when absent).
    bootstrap : int, default 200
        Bootstrap resamples for the MCSEs of the shape statistics (0 skips them).

    Returns
    -------
    DataFrame
        Columns ``design, law, n, estimator, parameter, n_rep`` and, each followed by its
        ``<metric>_mcse``: ``converged``, ``mean``, ``bias``, ``bias_pseudo``, ``sd``,
        ``rmse``, ``rmse_pseudo``, ``mae``, ``medae``, ``nvar``, ``nvar_ratio``,
        ``eff_crlb``, ``rel_eff``; per covariance kind ``mean_se_<kind>``,
        ``se_sd_<kind>``, ``coverage_<kind>``, ``coverage_pseudo_<kind>``, ``width_<kind>``,
        ``reject_<kind>``; ``ks``, ``ad``, ``skewness``, ``kurtosis``; ``rate`` and
        ``rate_medae``. Also the targets ``true_value``, ``pseudo_true``, ``avar`` and
        ``crlb``, the ``theory`` note (``""``, ``"none"`` or ``"failed: ..."``: why a target
        is NaN), and per (cell, estimator) the ``warnings`` its fits raised and the
        ``first_warning`` (:func:`cell_notes`). See the module docstring for the formulas.
    """
    if hasattr(results, "replications"):
        results = results.replications
    df = results.reset_index(drop=True)
    kinds = [c[3:] for c in df.columns if c.startswith("se_")]
    c = _columns(df, kinds)
    ref = _reference(c, reference)
    rows = [_group(key, idx, c, kinds, ref, reference, bootstrap) for key, idx in c.groups.items()]
    out = _add_notes(_add_rates(pd.DataFrame(rows)), cell_notes(df))
    return out[_column_order(out.columns, kinds)]


def _add_notes(out: pd.DataFrame, notes: pd.DataFrame) -> pd.DataFrame:
    by_cell = {tuple(r[:4]): r[4:] for r in notes.itertuples(index=False)}
    vals = [by_cell[tuple(k)] for k in out[_CELL].itertuples(index=False)]
    for j, col in enumerate(("theory", "warnings", "first_warning")):
        out[col] = [v[j] for v in vals]
    return out


def _column_order(columns: pd.Index, kinds: list[str]) -> list[str]:
    def pair(names: list[str]) -> list[str]:
        return [c for m in names for c in (m, f"{m}_mcse") if c in columns]

    head = [*GROUP, "n_rep", "true_value", "pseudo_true", "avar", "crlb", "theory"]
    core = [
        "converged",
        "mean",
        "bias",
        "bias_pseudo",
        "sd",
        "rmse",
        "rmse_pseudo",
        "mae",
        "medae",
        "nvar",
        "nvar_ratio",
        "eff_crlb",
        "rel_eff",
    ]
    per_kind = [
        f"{m}_{k}"
        for k in kinds
        for m in ("mean_se", "se_sd", "coverage", "coverage_pseudo", "width", "reject")
    ]
    tail = ["ks", "ad", "skewness", "kurtosis", "rate", "rate_medae"]
    notes = [c for c in ("warnings", "first_warning") if c in columns]
    order = [c for c in head if c in columns] + pair(core) + pair(per_kind) + pair(tail) + notes
    return order + [c for c in columns if c not in order]


def _add_rates(out: pd.DataFrame) -> pd.DataFrame:
    """Slopes of log RMSE and log median |error| on log n per (design, law, estimator,
    parameter), weighted by their MCSEs (:func:`wls_log_slope`)."""
    for col in ("rate", "rate_mcse", "rate_medae", "rate_medae_mcse"):
        out[col] = np.nan
    if "rmse" not in out:
        return out
    use_pseudo = out["rmse_pseudo"].notna() if "rmse_pseudo" in out else False
    r = np.where(use_pseudo, out.get("rmse_pseudo"), out["rmse"]).astype(float)
    rs = np.where(use_pseudo, out.get("rmse_pseudo_mcse"), out["rmse_mcse"]).astype(float)
    n = out["n"].to_numpy(float)
    med = out["medae"].to_numpy(float)
    med_se = out["medae_mcse"].to_numpy(float)
    for _, idx in out.groupby(
        ["design", "law", "estimator", "parameter"], sort=False
    ).indices.items():
        rows = out.index[idx]
        out.loc[rows, ["rate", "rate_mcse"]] = wls_log_slope(n[idx], r[idx], rs[idx])
        out.loc[rows, ["rate_medae", "rate_medae_mcse"]] = wls_log_slope(
            n[idx], med[idx], med_se[idx]
        )
    return out
