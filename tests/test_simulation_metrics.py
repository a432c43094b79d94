"""Every summary metric against a hand computation on a tiny table."""

from __future__ import annotations

import math
import statistics as st

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tailreg.simulation.metrics import (
    ad_statistic,
    ks_statistic,
    median_abs_error,
    summarize,
    wls_log_slope,
)


def _anderson_statistic(x):
    """scipy's Anderson-Darling statistic (``method=`` exists from SciPy 1.17 and only
    chooses how the p-value is found; the statistic is the same)."""
    try:
        return stats.anderson(x, "norm", method="interpolate").statistic
    except TypeError:
        return stats.anderson(x, "norm").statistic


OLS_X1 = [1.30, 0.80, 1.05, 0.40, 1.70]
HUB_X1 = [1.10, 0.95, 1.00, 0.70, 1.35]
OLS_SE = [0.20, 0.25, 0.30, 0.25, 0.35]
HUB_SE = [0.15, 0.20, 0.10, 0.20, 0.25]
TRUE, PSEUDO, AVAR, CRLB, N = 1.0, 1.1, 2.0, 1.0, 10


def _rows(n, estimator, x1, se, kind, converged=None):
    rows = []
    for r, (e, s) in enumerate(zip(x1, se, strict=True)):
        for param, est, tv in (("const", 0.0 + 0.01 * r, 0.0), ("x1", e, TRUE)):
            rows.append(
                {
                    "design": "d",
                    "law": "t3",
                    "n": n,
                    "replication": r,
                    "estimator": estimator,
                    "parameter": param,
                    "estimate": est,
                    "se_classical": s if kind == "classical" else np.nan,
                    "se_H1": s if kind == "H1" else np.nan,
                    "converged": True if converged is None else converged[r],
                    "true_value": tv,
                    "pseudo_true": PSEUDO if param == "x1" else 0.0,
                    "avar": AVAR,
                    "crlb": CRLB,
                }
            )
    return rows


@pytest.fixture(scope="module")
def table():
    rows = _rows(N, "ols", OLS_X1, OLS_SE, "classical")
    rows += _rows(N, "huber", HUB_X1, HUB_SE, "H1", converged=[True, True, False, True, True])
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def summary(table):
    return summarize(table, bootstrap=50)


def _get(summary, est, param="x1"):
    s = summary[(summary.estimator == est) & (summary.parameter == param)]
    assert len(s) == 1
    return s.iloc[0]


def test_location_and_spread(summary):
    row, x = _get(summary, "ols"), OLS_X1
    R = len(x)
    m, sd = st.mean(x), st.stdev(x)
    assert row.n_rep == R
    assert row.bias == pytest.approx(m - TRUE, abs=1e-15)
    assert row.bias_mcse == pytest.approx(sd / math.sqrt(R), rel=1e-14)
    assert row.bias_pseudo == pytest.approx(m - PSEUDO, abs=1e-15)
    assert row.bias_pseudo_mcse == pytest.approx(sd / math.sqrt(R), rel=1e-14)
    assert row.sd == pytest.approx(sd, rel=1e-14)
    assert row.sd_mcse == pytest.approx(sd / math.sqrt(2 * (R - 1)), rel=1e-14)
    sq = [(e - TRUE) ** 2 for e in x]
    mse = sum(sq) / R
    mcse_mse = math.sqrt(sum((v - mse) ** 2 for v in sq) / (R * (R - 1)))
    assert row.rmse == pytest.approx(math.sqrt(mse), rel=1e-14)
    assert row.rmse_mcse == pytest.approx(mcse_mse / (2 * math.sqrt(mse)), rel=1e-13)
    ab = [abs(e - TRUE) for e in x]
    assert row.mae == pytest.approx(st.mean(ab), rel=1e-14)
    assert row.mae_mcse == pytest.approx(st.stdev(ab) / math.sqrt(R), rel=1e-13)
    sqp = [(e - PSEUDO) ** 2 for e in x]
    assert row.rmse_pseudo == pytest.approx(math.sqrt(sum(sqp) / R), rel=1e-14)


def test_variance_against_theory(summary):
    row = _get(summary, "ols")
    R, sd = len(OLS_X1), st.stdev(OLS_X1)
    nvar = N * sd**2
    assert row.nvar == pytest.approx(nvar, rel=1e-14)
    assert row.nvar_mcse == pytest.approx(nvar * math.sqrt(2 / (R - 1)), rel=1e-14)
    assert row.avar == AVAR and row.crlb == CRLB
    assert row.nvar_ratio == pytest.approx(nvar / AVAR, rel=1e-14)
    assert row.nvar_ratio_mcse == pytest.approx(nvar / AVAR * math.sqrt(2 / (R - 1)), rel=1e-14)
    assert row.eff_crlb == pytest.approx(CRLB / nvar, rel=1e-14)
    assert row.eff_crlb_mcse == pytest.approx(CRLB / nvar * math.sqrt(2 / (R - 1)), rel=1e-14)


def test_relative_efficiency_vs_ols(summary):
    assert _get(summary, "ols").rel_eff == 1.0
    row = _get(summary, "huber")
    a = [(e - TRUE) ** 2 for e in OLS_X1]
    b = [(e - TRUE) ** 2 for e in HUB_X1]
    R = len(a)
    ma, mb = st.mean(a), st.mean(b)
    cab = sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True)) / (R - 1)
    var = (st.variance(a) / mb**2 + ma**2 * st.variance(b) / mb**4 - 2 * ma * cab / mb**3) / R
    assert row.rel_eff == pytest.approx(ma / mb, rel=1e-14)
    assert row.rel_eff_mcse == pytest.approx(math.sqrt(var), rel=1e-12)


def test_relative_efficiency_against_an_infinite_variance_reference(table):
    # OLS under infinite-variance errors: MSE(OLS) / MSE(Huber) diverges with R, so the
    # summary reports the limit instead of a Monte Carlo draw of it
    t = table.copy()
    t.loc[t.estimator == "ols", "avar"] = math.inf
    s = summarize(t, bootstrap=0)
    assert _get(s, "huber").rel_eff == math.inf
    assert math.isnan(_get(s, "huber").rel_eff_mcse)
    assert _get(s, "ols").rel_eff == 1.0
    t.loc[:, "avar"] = math.inf
    assert math.isnan(_get(summarize(t, bootstrap=0), "huber").rel_eff)
    t.loc[t.estimator == "ols", "avar"] = AVAR
    assert _get(summarize(t, bootstrap=0), "huber").rel_eff == 0.0


def test_intervals_per_kind(summary):
    row = _get(summary, "ols")
    R, sd = len(OLS_X1), st.stdev(OLS_X1)
    crit = stats.t.ppf(0.975, N - 2)  # classical: t with n - k df, k = const + x1
    inside = [abs(e - TRUE) <= crit * s for e, s in zip(OLS_X1, OLS_SE, strict=True)]
    cov = sum(inside) / R
    assert 0 < cov < 1  # the table has a miss
    assert row.coverage_classical == pytest.approx(cov)
    assert row.coverage_classical_mcse == pytest.approx(math.sqrt(cov * (1 - cov) / R))
    assert row.reject_classical == pytest.approx(1 - cov)
    assert row.reject_classical_mcse == pytest.approx(math.sqrt(cov * (1 - cov) / R))
    assert row.mean_se_classical == pytest.approx(st.mean(OLS_SE), rel=1e-14)
    assert row.mean_se_classical_mcse == pytest.approx(st.stdev(OLS_SE) / math.sqrt(R), rel=1e-13)
    assert row.width_classical == pytest.approx(2 * crit * st.mean(OLS_SE), rel=1e-14)
    assert row.width_classical_mcse == pytest.approx(
        2 * crit * st.stdev(OLS_SE) / math.sqrt(R), rel=1e-13
    )
    ratio = st.mean(OLS_SE) / sd
    assert row.se_sd_classical == pytest.approx(ratio, rel=1e-14)
    assert row.se_sd_classical_mcse == pytest.approx(
        ratio * math.sqrt(st.variance(OLS_SE) / (R * st.mean(OLS_SE) ** 2) + 1 / (2 * (R - 1))),
        rel=1e-13,
    )
    assert math.isnan(row.coverage_H1)  # OLS has no H1 standard errors
    hub = _get(summary, "huber")
    z = stats.norm.ppf(0.975)  # other kinds: normal reference
    hin = [abs(e - TRUE) <= z * s for e, s in zip(HUB_X1, HUB_SE, strict=True)]
    assert hub.coverage_H1 == pytest.approx(sum(hin) / R)
    # about the pseudo-true target (1.1 for x1 in this table)
    hin_p = [abs(e - PSEUDO) <= z * s for e, s in zip(HUB_X1, HUB_SE, strict=True)]
    cov_p = sum(hin_p) / R
    assert cov_p != hub.coverage_H1
    assert hub.coverage_pseudo_H1 == pytest.approx(cov_p)
    assert hub.coverage_pseudo_H1_mcse == pytest.approx(math.sqrt(cov_p * (1 - cov_p) / R))
    assert hub.width_H1 == pytest.approx(2 * z * st.mean(HUB_SE), rel=1e-14)


def test_shape_statistics(summary):
    row = _get(summary, "ols")
    x = np.array(OLS_X1)
    z = (x - x.mean()) / x.std(ddof=1)
    assert row.ks == pytest.approx(stats.kstest(z, "norm").statistic, rel=1e-12)
    assert row.ad == pytest.approx(_anderson_statistic(x), rel=1e-10)
    assert row["skewness"] == pytest.approx(stats.skew(x), rel=1e-12)
    assert row["kurtosis"] == pytest.approx(stats.kurtosis(x), rel=1e-12)
    for m in ("ks", "ad", "skewness", "kurtosis"):
        assert row[f"{m}_mcse"] > 0


def test_ks_and_ad_vectorised_match_scipy():
    rng = np.random.default_rng(0)
    x = rng.standard_t(4, size=(3, 200))
    ks = ks_statistic(x)
    ad = ad_statistic((x - x.mean(1, keepdims=True)) / x.std(1, ddof=1, keepdims=True))
    for i in range(3):
        assert ks[i] == pytest.approx(stats.kstest(x[i], "norm").statistic, rel=1e-12)
        assert ad[i] == pytest.approx(_anderson_statistic(x[i]), rel=1e-10)


def test_convergence_share_and_failed_rows(table):
    t = table.copy()
    t.loc[(t.estimator == "huber") & (t.replication == 4), "estimate"] = np.nan
    row = _get(summarize(t, bootstrap=0), "huber")
    assert row.n_rep == 4
    assert row.converged == pytest.approx(0.8)
    assert row.converged_mcse == pytest.approx(math.sqrt(0.8 * 0.2 / 5))
    assert row.sd == pytest.approx(st.stdev(HUB_X1[:4]))
    assert math.isnan(row.ks_mcse)


def test_convergence_rate_is_the_weighted_slope():
    rng = np.random.default_rng(1)
    rows = []
    for n in (10, 40, 160):
        x = TRUE + rng.standard_normal(50) / math.sqrt(n)
        rows += _rows(n, "ols", list(x), [0.1] * 50, "classical")
    t = pd.DataFrame(rows)
    t["pseudo_true"] = t["true_value"]
    s = summarize(t, bootstrap=0)
    s = s[s.parameter == "x1"]
    y = np.log(s.rmse_pseudo.to_numpy())
    sig = s.rmse_pseudo_mcse.to_numpy() / s.rmse_pseudo.to_numpy()
    coef, cov = np.polyfit(np.log(s.n.to_numpy(float)), y, 1, w=1 / sig, cov="unscaled")
    np.testing.assert_allclose(s.rate, coef[0], rtol=1e-10)
    np.testing.assert_allclose(s.rate_mcse, math.sqrt(cov[0, 0]), rtol=1e-10)
    assert -0.8 < coef[0] < -0.2


def test_bootstrap_mcse_is_reproducible(table):
    a, b = summarize(table, bootstrap=30), summarize(table, bootstrap=30)
    pd.testing.assert_frame_equal(a, b)


def test_shape_statistics_of_a_heavy_tailed_sample_stay_finite():
    from tailreg.simulation.metrics import _shape_stats

    x = np.random.default_rng(0).standard_cauchy(3000)
    ks, ad, g1, g2 = _shape_stats(x)
    assert ks == pytest.approx(stats.kstest((x - x.mean()) / x.std(ddof=1), "norm").statistic)
    ref = _anderson_statistic(x)
    assert np.isfinite(ad) and ad == pytest.approx(ref, rel=1e-10)
    assert g1 == pytest.approx(stats.skew(x), rel=1e-10)
    assert g2 == pytest.approx(stats.kurtosis(x), rel=1e-10)


def test_median_abs_error_by_hand(summary):
    # R = 5: the order-statistic interval runs from index floor(2.5 - 2.19) = 0 to
    # ceil(2.5 + 2.19) = 5 -> clipped to 4, i.e. the smallest and largest |error|
    err = [e - PSEUDO for e in OLS_X1]
    a = sorted(abs(e) for e in err)
    m, se = median_abs_error(np.array(err))
    assert m == pytest.approx(st.median(a)) and se == pytest.approx((a[4] - a[0]) / (2 * 1.96))
    row = _get(summary, "ols")  # about the pseudo-true target where it is known
    assert row.medae == pytest.approx(m) and row.medae_mcse == pytest.approx(se)
    big = np.random.default_rng(0).standard_normal(4000)
    m, se = median_abs_error(big)
    assert abs(m - 0.6745) < 3 * se and 0.005 < se < 0.03
    assert all(math.isnan(v) for v in median_abs_error(np.array([1.0, np.nan])))


def test_medae_rate_is_the_weighted_slope():
    rng = np.random.default_rng(2)
    rows = []
    for n in (10, 40, 160):
        x = TRUE + rng.standard_t(1.5, 60) / n ** (1 / 3)  # infinite variance
        rows += _rows(n, "ols", list(x), [0.1] * 60, "classical")
    t = pd.DataFrame(rows)
    t["pseudo_true"] = t["true_value"]
    s = summarize(t, bootstrap=0)
    s = s[s.parameter == "x1"]
    y, sig = s.medae.to_numpy(), s.medae_mcse.to_numpy() / s.medae.to_numpy()
    coef, cov = np.polyfit(np.log(s.n.to_numpy(float)), np.log(y), 1, w=1 / sig, cov="unscaled")
    np.testing.assert_allclose(s.rate_medae, coef[0], rtol=1e-10)
    np.testing.assert_allclose(s.rate_medae_mcse, math.sqrt(cov[0, 0]), rtol=1e-10)
    n = np.array([100.0, 400.0, 1600.0])
    slope, se = wls_log_slope(n, 2.0 * n**-0.5, 0.01 * n**-0.5)
    assert slope == pytest.approx(-0.5, abs=1e-12) and se > 0
