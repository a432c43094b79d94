"""Quantile regression in any units and against gross outliers (issue 12 items 1, 2, 11)."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from _reference import load_data, load_reference
from tailreg import LAD, QuantileRegression

KINDS = ("iid", "nid", "ker", "bootstrap", "cluster")


def _problem(seed=0, n=60):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = 1 + X @ [2.0, -1.0] + rng.standard_t(3, n)
    return X, y


def _with_groups(res, groups):
    ctx = res.cov_context
    ctx = dataclasses.replace(ctx, options={**ctx.options, "groups": groups})
    return dataclasses.replace(res, cov_context=ctx, _cache={})


def _ses(res, n):
    res = _with_groups(res, np.arange(n) // 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {k: res.bse(k).to_numpy() for k in KINDS}


@pytest.mark.parametrize("tau", [0.25, 0.5])
@pytest.mark.parametrize("solver", ["highs", "interior-point"])
def test_y_units_scale_coef_and_every_se(tau, solver):
    X, y = _problem()
    base = QuantileRegression(tau=tau, solver=solver, random_state=3, n_boot=40).fit(X, y).result_
    se0 = _ses(base, len(y))
    for k in range(-30, 31, 3):
        c = 10.0**k
        res = QuantileRegression(tau=tau, solver=solver, random_state=3, n_boot=40).fit(X, c * y)
        np.testing.assert_allclose(res.result_.params, c * base.params, rtol=1e-8, atol=0)
        np.testing.assert_allclose(res.result_.scale, c * base.scale, rtol=1e-8)
        for kind, se in _ses(res.result_, len(y)).items():
            np.testing.assert_allclose(se, c * se0[kind], rtol=1e-8, err_msg=f"{kind} k={k}")


def test_x_column_units_scale_coef_and_every_se():
    X, y = _problem(1)
    base = LAD(random_state=3, n_boot=40).fit(X, y).result_
    se0 = _ses(base, len(y))
    # (wider column scalings meet check_design's rank test, which is not this module's)
    for k in (-4, -2, 2, 4):
        d = np.array([10.0**k, 10.0 ** (-k / 2)])
        res = LAD(random_state=3, n_boot=40).fit(X * d, y).result_
        scale = np.r_[1.0, 1.0 / d]
        np.testing.assert_allclose(res.params, base.params * scale, rtol=1e-8)
        for kind, se in _ses(res, len(y)).items():
            np.testing.assert_allclose(se, se0[kind] * scale, rtol=1e-8, err_msg=f"{kind} k={k}")


def test_relative_cuts_keep_r_parity_on_unit_scale_data():
    """The references of summary.rq (absolute sqrt(eps) cuts) hold with the relative cuts."""
    ref = load_reference("modelling")["rq"]["unweighted"]["tau0.5"]
    df = load_data("hetero")
    f = df["f"].to_numpy()
    X = np.column_stack([df.x1, df.x2, df.x3, f == "b", f == "c", f == "d"]).astype(float)
    res = LAD().fit(X, df["y"].to_numpy()).result_
    for kind in ("iid", "nid"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.testing.assert_allclose(res.cov(kind), np.array(ref[kind]["cov"]), rtol=1e-6)


@pytest.mark.parametrize("solver", ["highs", "interior-point"])
@pytest.mark.parametrize("big", [1e6, 1e12, 1e14, 9.969209968386869e36, 1e36, np.finfo(float).max])
def test_one_gross_outlier_at_any_magnitude(solver, big):
    """The fit depends on an outlier only through its residual's sign: every magnitude
    gives the fit with the outlier at a moderate value (and the same standard errors)."""
    X, y = _problem(2, 50)
    moderate = y.copy()
    moderate[3] = 100.0
    ref = LAD(solver=solver).fit(X, moderate).result_
    yy = y.copy()
    yy[3] = big
    res = LAD(solver=solver).fit(X, yy).result_
    assert res.converged and res.extra["certified"]
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-10, atol=1e-12)
    for kind in ("iid", "nid", "ker"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.testing.assert_allclose(res.bse(kind), ref.bse(kind), rtol=1e-8)
    many = LAD(solver=solver).fit_many(X, np.stack([yy, moderate]))
    np.testing.assert_allclose(many.coef[0], ref.params, rtol=1e-10, atol=1e-12)
    assert many.converged.all()


def test_gross_outliers_on_both_sides_and_at_other_quantiles():
    X, y = _problem(3, 80)
    yy, moderate = y.copy(), y.copy()
    yy[[1, 5, 9]] = [1e300, -1e250, 1e14]
    moderate[[1, 5, 9]] = [200.0, -200.0, 200.0]
    for tau in (0.1, 0.5, 0.9):
        a = QuantileRegression(tau=tau).fit(X, yy).result_
        b = QuantileRegression(tau=tau).fit(X, moderate).result_
        np.testing.assert_allclose(a.params, b.params, rtol=1e-10, atol=1e-12)


def test_bse_overflow_is_a_clear_error():
    X, y = _problem(4)
    res = LAD(random_state=0, n_boot=20).fit(X, 1e200 * y).result_
    assert np.all(np.isfinite(res.params))
    for kind in ("iid", "nid", "ker", "bootstrap"):
        with pytest.raises(ValueError, match=r"overflows.*rescale y"):
            res.bse(kind)
    # fit_many: the NaN policy (no exception, no inf)
    many = LAD().fit_many(X, np.stack([1e200 * y, y]), kinds=("iid", "nid"))
    assert np.all(np.isnan(many.se["iid"][0])) and np.all(np.isfinite(many.se["iid"][1]))
