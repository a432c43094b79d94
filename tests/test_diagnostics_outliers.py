"""Outliers and leverage from an MM fit: the rules, the library references, planted points."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from sklearn.covariance import MinCovDet
from statsmodels.regression.linear_model import OLS as SMOLS
from statsmodels.stats.outliers_influence import OLSInfluence

import tailreg
from tailreg.diagnostics.outliers import (
    OUTLIER_CUTOFF,
    hat_values,
    outlier_diagnostics,
    robust_distances,
)


@pytest.fixture(scope="module")
def stackloss_mm(stackloss_data):
    X, y = stackloss_data
    return X, tailreg.MM(random_state=0).fit(X, y)


def test_stackloss_flags_the_known_rows(stackloss_mm):
    """Rousseeuw & Leroy (1987): observation 21 is a bad leverage point, 4 an outlier."""
    X, mm = stackloss_mm
    d = outlier_diagnostics(mm, X, random_state=1)
    res = mm.result_
    np.testing.assert_array_equal(d.table["std_resid"], res.resid / res.scale)
    np.testing.assert_array_equal(d.table["weight"], res.extra["weights"])
    assert {3, 20} <= set(d.outliers)
    assert 20 in d.bad_leverage
    assert set(d.outliers) == set(np.flatnonzero(np.abs(res.resid / res.scale) > 2.5))
    assert d.leverage_measure == "robust_distance"
    assert d.leverage_cutoff == pytest.approx(math.sqrt(stats.chi2.ppf(0.975, 3)))
    kinds = dict(zip(d.table["row"], d.table["kind"], strict=True))
    assert kinds[20] == "bad leverage" and kinds[3] == "vertical outlier"
    assert set(d.zero_weight) == set(np.flatnonzero(res.extra["weights"] <= 0))


def test_binomial_test_and_expected_share(stackloss_mm):
    X, mm = stackloss_mm
    d = outlier_diagnostics(mm, X, random_state=1)
    p0 = 2 * stats.norm.sf(OUTLIER_CUTOFF)
    assert d.expected_share == pytest.approx(0.0124193, abs=1e-6)
    ref = stats.binomtest(d.n_outliers, len(X), p0, alternative="greater").pvalue
    assert d.pvalue == ref
    assert d.outlier_share == d.n_outliers / len(X)


def test_robust_distances_are_sklearns_mcd(rng):
    X = rng.standard_normal((120, 2))
    got = robust_distances(X, random_state=np.random.SeedSequence(5))
    seed = int(np.random.default_rng(np.random.SeedSequence(5)).integers(2**31 - 1))
    ref = np.sqrt(MinCovDet(random_state=seed).fit(X).mahalanobis(X))
    np.testing.assert_array_equal(got, ref)


def test_hat_values_equal_statsmodels(stackloss_data):
    X, y = stackloss_data
    design = np.column_stack([np.ones(len(X)), X.to_numpy()])
    ref = OLSInfluence(SMOLS(y.to_numpy(), design).fit()).hat_matrix_diag
    np.testing.assert_allclose(hat_values(design), ref, rtol=1e-12)


def test_planted_bad_leverage_points_are_found():
    rng = np.random.default_rng(np.random.SeedSequence([16, 40]))
    n = 200
    X = rng.standard_normal((n, 2))
    y = 1 + X @ np.array([1.0, -1.0]) + rng.standard_normal(n)
    bad = np.arange(10)  # a tight cluster far out in x, far off the line: masks classical hats
    X[bad] = np.array([6.0, 6.0]) + 0.05 * rng.standard_normal((10, 2))
    y[bad] = -10.0
    mm = tailreg.MM(random_state=0).fit(X, y)
    d = outlier_diagnostics(mm, X, random_state=0)
    assert set(bad) <= set(d.bad_leverage)
    regular = d.table.loc[10:, "kind"]
    assert (regular == "regular").mean() > 0.9


def test_dummy_regressor_falls_back_to_hat_values():
    rng = np.random.default_rng(np.random.SeedSequence([16, 41]))
    n = 100
    X = np.column_stack([(rng.random(n) < 0.15).astype(float)])  # 85% zeros: MCD singular
    y = 1 + 2 * X[:, 0] + rng.standard_normal(n)
    mm = tailreg.MM(random_state=0).fit(X, y)
    d = outlier_diagnostics(mm, X, random_state=0)
    assert d.leverage_measure == "hat" and "hat value" in d.leverage_rule
    assert d.leverage_cutoff == pytest.approx(2 * 2 / n)
    np.testing.assert_array_equal(d.leverage, np.flatnonzero(d.table["hat"] > 4 / n))
    assert np.isnan(d.table["robust_distance"]).all()


def test_accepts_the_result_and_is_reproducible(stackloss_mm):
    X, mm = stackloss_mm
    a = outlier_diagnostics(mm, X, random_state=3)
    b = outlier_diagnostics(mm.result_, X, random_state=3)
    assert a.table.equals(b.table)


def test_bad_input_is_named(stackloss_data, stackloss_mm):
    X, y = stackloss_data
    ols = tailreg.OLS().fit(X, y)
    with pytest.raises(ValueError, match="robustness weights"):
        outlier_diagnostics(ols, X)
    _, mm = stackloss_mm
    with pytest.raises(ValueError, match="must have shape"):
        outlier_diagnostics(mm, X.iloc[:10])
