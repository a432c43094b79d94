"""Weighted quantile regression: rq(weights=) parity, frequency weights, fit_many with weights."""

from __future__ import annotations

import numpy as np
import pytest

from _reference import load_data, load_reference
from tailreg import LAD, QuantileRegression

MOD = load_reference("modelling")
TAUS = {"tau0.25": 0.25, "tau0.5": 0.5, "tau0.75": 0.75}


@pytest.fixture(scope="module")
def hetero():
    df = load_data("hetero")
    f = df["f"].to_numpy()
    X = np.column_stack([df.x1, df.x2, df.x3, f == "b", f == "c", f == "d"]).astype(float)
    return X, df["y"].to_numpy(), df["w"].to_numpy()


@pytest.mark.parametrize("solver", ["highs", "interior-point"])
@pytest.mark.parametrize("group", ["weighted", "unweighted"])
@pytest.mark.parametrize("key", sorted(TAUS))
def test_rq_weights_match_quantreg(hetero, group, key, solver):
    """coef and the iid/nid/ker covariances of summary.rq for rq(weights = w), to 1e-6."""
    X, y, w = hetero
    ref = MOD["rq"][group][key]
    est = QuantileRegression(tau=TAUS[key], solver=solver)
    res = est.fit(X, y, sample_weight=w if group == "weighted" else None).result_
    np.testing.assert_allclose(
        res.params.to_numpy(), list(ref["coef"].values()), rtol=1e-6, atol=1e-9
    )
    for kind in ("iid", "nid", "ker"):
        with np.errstate(all="ignore"), pytest.warns() if ref[kind]["warnings"] else _nothing():
            cov = res.cov(kind).to_numpy()
        np.testing.assert_allclose(cov, np.array(ref[kind]["cov"]), rtol=1e-6, atol=1e-12)
    if group == "weighted":
        np.testing.assert_array_equal(res.extra["sample_weight"], w)
        np.testing.assert_allclose(res.scale, res.objective / w.sum())


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("tau", [0.25, 0.5, 0.75])
def test_integer_weights_equal_repeated_rows(tau):
    """quantreg: rq with integer weights = rq on the rows repeated (modelling.json)."""
    df = load_data("freq")
    X = df[["x1", "x2"]].to_numpy()
    y, w = df["y"].to_numpy(), df["w"].to_numpy().astype(float)
    ref = MOD["frequency_weights"][f"rq_tau{tau:.2f}"]
    a = QuantileRegression(tau=tau).fit(X, y, sample_weight=w)
    b = QuantileRegression(tau=tau).fit(np.repeat(X, w.astype(int), 0), np.repeat(y, w.astype(int)))
    np.testing.assert_allclose(a.result_.params, b.result_.params, atol=1e-10)
    np.testing.assert_allclose(a.result_.params, list(ref["weighted"].values()), atol=1e-9)
    np.testing.assert_allclose(a.result_.objective, b.result_.objective, rtol=1e-12)
    np.testing.assert_allclose(a.result_.scale, b.result_.scale, rtol=1e-12)
    np.testing.assert_allclose(a.result_.loglik, b.result_.loglik, rtol=1e-12)


def test_zero_weights_drop_rows_and_scaling_weights_is_harmless(hetero):
    X, y, w = hetero
    w0 = w.copy()
    w0[::7] = 0.0
    a = LAD().fit(X, y, sample_weight=w0)
    keep = w0 > 0
    b = LAD().fit(X[keep], y[keep], sample_weight=w0[keep])
    np.testing.assert_allclose(a.result_.params, b.result_.params, atol=1e-12)
    # the weighted check loss is homogeneous in the weights: coefficients do not change
    c = LAD().fit(X, y, sample_weight=3.0 * w)
    d = LAD().fit(X, y, sample_weight=w)
    np.testing.assert_allclose(c.result_.params, d.result_.params, atol=1e-10)


@pytest.mark.parametrize("shared_weights", [True, False])
@pytest.mark.parametrize("with_zeros", [False, True])
def test_fit_many_with_weights_equals_fit(hetero, shared_weights, with_zeros):
    X, y, w = hetero
    rng = np.random.default_rng(4)
    R, n = 4, len(y)
    Y = y + rng.normal(scale=0.3, size=(R, n))
    W = np.broadcast_to(w, (R, n)).copy() if shared_weights else rng.uniform(0.2, 3.0, (R, n))
    if with_zeros:
        W[:, ::9] = 0.0
        if not shared_weights:
            W[1, 5:12] = 0.0
    Wa = W[0] if shared_weights else W
    kinds = ("iid", "nid", "ker")
    many = QuantileRegression(tau=0.4).fit_many(X, Y, kinds=kinds, sample_weight=Wa)
    for r in range(R):
        one = QuantileRegression(tau=0.4).fit(X, Y[r], sample_weight=W[r]).result_
        np.testing.assert_allclose(many.coef[r], one.params, atol=1e-9)
        for kind in kinds:
            with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
                __import__("warnings").simplefilter("ignore")
                np.testing.assert_allclose(many.se[kind][r], one.bse(kind), rtol=1e-8)


def test_bad_weights_are_clear_errors():
    X = np.arange(10.0)[:, None]
    y = np.arange(10.0)
    with pytest.raises(ValueError, match="negative"):
        LAD().fit(X, y, sample_weight=-np.ones(10))
    with pytest.raises(ValueError, match="zero"):
        LAD().fit(X, y, sample_weight=np.zeros(10))
    with pytest.raises(ValueError, match="NaN"):
        LAD().fit(X, y, sample_weight=np.r_[np.nan, np.ones(9)])
