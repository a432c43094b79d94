"""OLS with observation weights: R's lm(weights=) and sandwich conventions, fit_many, rank."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone

import tailreg
from _reference import load_data, load_reference
from tailreg import OLS
from tailreg.exceptions import ConvergenceWarning

KINDS = ["HC0", "HC1", "HC2", "HC3"]


def hetero_design(df):
    dummies = [(df["f"] == lev).to_numpy(float) for lev in ("b", "c", "d")]
    return np.column_stack([df[["x1", "x2", "x3"]].to_numpy(), *dummies])


@pytest.fixture(scope="module")
def weighted_fit():
    df = load_data("hetero")
    return OLS().fit(hetero_design(df), df["y"].to_numpy(), sample_weight=df["w"].to_numpy())


@pytest.mark.parametrize("which", ["weighted", "unweighted"])
def test_lm_weights_coef_classical_hc_match_r(which):
    ref = load_reference("modelling")["lm"][which]
    df = load_data("hetero")
    w = df["w"].to_numpy() if which == "weighted" else None
    res = OLS().fit(hetero_design(df), df["y"].to_numpy(), sample_weight=w).result_
    np.testing.assert_allclose(res.params, list(ref["coef"].values()), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(res.scale, ref["sigma"], rtol=1e-6)
    assert res.df_resid == ref["df_residual"]
    np.testing.assert_allclose(res.cov("classical"), ref["vcov"], rtol=1e-6, atol=1e-12)
    for kind in KINDS:
        np.testing.assert_allclose(res.cov(kind), ref["vcovHC"][kind], rtol=1e-6, atol=1e-12)


def test_resid_are_unweighted_and_weights_are_kept(weighted_fit):
    df = load_data("hetero")
    res = weighted_fit.result_
    np.testing.assert_allclose(res.resid, df["y"] - weighted_fit.predict(hetero_design(df)))
    np.testing.assert_array_equal(res.extra["sample_weight"], df["w"].to_numpy())
    np.testing.assert_allclose(res.objective, np.sum(df["w"] * res.resid**2))


@pytest.mark.parametrize("lag", [1, 2, 4])
def test_weighted_hac_matches_newey_west(lag):
    ref = load_reference("weights_ols")
    df = load_data("ar1")
    w = np.asarray(ref["w"])
    res = OLS(hac_maxlags=lag).fit(df[["x1", "x2"]].to_numpy(), df["y"].to_numpy(), sample_weight=w)
    r = res.result_
    np.testing.assert_allclose(r.params, list(ref["coef"].values()), rtol=1e-6)
    np.testing.assert_allclose(r.cov("classical"), ref["vcov"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(r.cov("HC0"), ref["HC0"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(r.cov("HAC"), ref["NeweyWest"][f"L{lag}"], rtol=1e-6, atol=1e-12)


def test_weights_are_least_squares_on_sqrt_w_scaled_rows(weighted_fit, rng):
    """The definition: every kind equals the unweighted kind on (sqrt(w) x, sqrt(w) y)
    without intercept column added (it is scaled too)."""
    df = load_data("hetero")
    w = df["w"].to_numpy()
    X = np.column_stack([np.ones(len(df)), hetero_design(df)]) * np.sqrt(w)[:, None]
    plain = OLS(fit_intercept=False).fit(X, df["y"].to_numpy() * np.sqrt(w)).result_
    res = weighted_fit.result_
    np.testing.assert_allclose(res.params.to_numpy(), plain.params.to_numpy(), rtol=1e-12)
    for kind in ["classical", *KINDS, "HAC"]:
        np.testing.assert_allclose(res.cov(kind).to_numpy(), plain.cov(kind).to_numpy(), rtol=1e-10)


def test_integer_weights_equal_repeated_rows():
    """Coefficients equal those of the expanded data (R: max diff 1.3e-15); sigma, the
    covariances and df do not (lm counts rows) — both sides checked against R."""
    ref = load_reference("modelling")["frequency_weights"]["lm"]
    df = load_data("freq")
    X, y, w = df[["x1", "x2"]].to_numpy(), df["y"].to_numpy(), df["w"].to_numpy()
    a = OLS().fit(X, y, sample_weight=w).result_
    b = OLS().fit(np.repeat(X, w, axis=0), np.repeat(y, w)).result_
    np.testing.assert_allclose(a.params, b.params, rtol=1e-12)
    for fit, key in ((a, "weighted"), (b, "expanded")):
        np.testing.assert_allclose(fit.params, list(ref[key]["coef"].values()), rtol=1e-6)
        np.testing.assert_allclose(fit.scale, ref[key]["sigma"], rtol=1e-6)
        np.testing.assert_allclose(fit.cov("classical"), ref[key]["vcov"], rtol=1e-6)
        assert fit.df_resid == ref[key]["df_residual"]


def test_zero_weights_drop_rows(rng):
    X = rng.normal(size=(40, 2))
    y = X @ [1.0, -1.0] + rng.normal(size=40)
    w = rng.uniform(0.5, 2.0, 40)
    w[[3, 17, 30]] = 0.0
    keep = w > 0
    a = OLS().fit(X, y, sample_weight=w).result_
    b = OLS().fit(X[keep], y[keep], sample_weight=w[keep]).result_
    assert a.nobs == 37
    for kind in ["classical", *KINDS, "HAC"]:
        np.testing.assert_allclose(a.cov(kind), b.cov(kind), rtol=1e-13)


@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("zeros", [False, True])
def test_fit_many_with_weights_equals_fit_per_replication(rng, shared, zeros):
    R, n = 6, 30
    X = rng.normal(size=(n, 2)) if shared else rng.normal(size=(R, n, 2))
    Y = rng.normal(size=(R, n)) + 1.0
    W = rng.uniform(0.2, 3.0, size=(R, n))
    if zeros:
        W[rng.random((R, n)) < 0.15] = 0.0
    kinds = ("classical", *KINDS, "HAC")
    many = OLS(hac_maxlags=2).fit_many(X, Y, kinds, sample_weight=W)
    for r in range(R):
        Xr = X if shared else X[r]
        one = OLS(hac_maxlags=2).fit(Xr, Y[r], sample_weight=W[r]).result_
        np.testing.assert_allclose(many.params[r], one.params, rtol=1e-10)
        np.testing.assert_allclose(many.scale[r], one.scale, rtol=1e-10)
        for kind in kinds:
            np.testing.assert_allclose(many.se[kind][r], one.bse(kind), rtol=1e-9)


def test_fit_many_shared_weights(rng):
    X = rng.normal(size=(30, 2))
    Y = rng.normal(size=(4, 30))
    w = rng.uniform(0.2, 3.0, 30)
    many = OLS().fit_many(X, Y, ("classical", "HC3"), sample_weight=w)
    for r in range(4):
        one = OLS().fit(X, Y[r], sample_weight=w).result_
        np.testing.assert_allclose(many.params[r], one.params, rtol=1e-12)
        np.testing.assert_allclose(many.se["HC3"][r], one.bse("HC3"), rtol=1e-12)


# -- rank (issue 12) ----------------------------------------------------------------------
EVERY = [
    tailreg.OLS(),
    tailreg.GaussianMLE(),
    tailreg.Huber(),
    tailreg.Bisquare(),
    tailreg.LAD(),
    tailreg.QuantileRegression(tau=0.3),
    tailreg.MM(random_state=7),
    tailreg.StudentTMLE(df=3),
]


@pytest.mark.parametrize("est", EVERY, ids=lambda e: type(e).__name__)
def test_rank_deficient_replication_is_a_nan_row_with_a_warning(rng, est):
    R, n = 5, 40
    X = rng.normal(size=(R, n, 2))
    X[2, :, 1] = 3.0 * X[2, :, 0]  # collinear in replication 2 only
    Y = X @ np.array([1.0, 2.0]) + rng.standard_t(3, size=(R, n))
    with pytest.warns(ConvergenceWarning, match="1 of 5 replications have a rank-deficient"):
        many = est.fit_many(X, Y)
    assert np.isnan(many.params[2]).all() and not many.converged[2]
    assert np.isnan(many.se[est.default_cov_kind][2]).all()
    good = [0, 1, 3, 4]
    assert np.isfinite(many.params[good]).all() and many.converged[good].all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        alone = clone(est).fit_many(X[good], Y[good])
    np.testing.assert_array_equal(many.params[good], alone.params)


def test_weights_that_leave_a_replication_rank_deficient(rng):
    X = rng.normal(size=(20, 2))
    Y = rng.normal(size=(3, 20))
    W = np.ones((3, 20))
    W[1, 2:] = 0.0  # two rows left for three coefficients
    with pytest.warns(ConvergenceWarning, match="1 of 3"):
        many = OLS().fit_many(X, Y, sample_weight=W)
    assert np.isnan(many.params[1]).all() and many.converged[[0, 2]].all()


def test_every_replication_rank_deficient_is_an_error(rng):
    X = rng.normal(size=(3, 20, 2))
    X[..., 1] = X[..., 0]
    with pytest.raises(ValueError, match="every one of the 3 replications"):
        OLS().fit_many(X, rng.normal(size=(3, 20)))


def test_badly_scaled_columns_are_full_rank(rng):
    n = 60
    X = rng.normal(size=(n, 2)) * [1e-10, 1e10]
    y = 1.0 + X @ [2e10, 3e-10] + rng.normal(size=n)
    res = OLS().fit(X, y).result_
    unit = OLS().fit(X / [1e-10, 1e10], y).result_
    np.testing.assert_allclose(res.params * [1, 1e-10, 1e10], unit.params, rtol=1e-8)
    Xs = np.stack([X, X])
    many = OLS().fit_many(Xs, np.stack([y, y]))
    np.testing.assert_allclose(many.params[0], res.params, rtol=1e-8)
    with pytest.raises(ValueError, match="rank-deficient"):
        OLS().fit(np.column_stack([X, X[:, 0] * 7.0]), y)
    with pytest.raises(ValueError, match="rank-deficient"):
        OLS().fit(np.column_stack([X, np.zeros(n)]), y)


def test_zero_replications_and_const_column_are_clear_errors(rng):
    import pandas as pd

    with pytest.raises(ValueError, match="at least one replication"):
        OLS().fit_many(rng.normal(size=(10, 2)), np.empty((0, 10)))
    with pytest.raises(ValueError, match="at least one replication"):
        OLS().fit_many(np.empty((0, 10, 2)), np.empty((0, 10)))
    X = pd.DataFrame({"const": np.ones(10), "x": rng.normal(size=10)})
    with pytest.raises(ValueError, match="named 'const'"):
        OLS().fit(X, rng.normal(size=10))
    # without the added intercept the column is just a regressor
    res = OLS(fit_intercept=False).fit(X, rng.normal(size=10)).result_
    assert list(res.params.index) == ["const", "x"]
