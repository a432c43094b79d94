"""Case weights for the M-estimators (Huber and bisquare): MASS ``rlm(wt.method = "case")``.

References: ``tests/reference/modelling.json`` (``rlm_case``: coefficients and scale of
case-weighted rlm fits) and ``tests/reference/weights_rlm.json`` (``vcov(rlm)`` of the same
fits, i.e. summary.rlm's H1 with case weights; and fits, H1 and sandwich of the data with
rows repeated). Properties: integer weights = rows repeated, zero weight = row removed,
weighted ``fit_many`` = ``fit`` per replication, for every covariance kind.
"""

from __future__ import annotations

import numpy as np
import pytest

from _reference import load_data, load_reference
from tailreg.estimators.bisquare import Bisquare
from tailreg.estimators.huber import Huber
from tailreg.losses import Huber as HuberLoss
from tailreg.solvers.irls import irls

SCALES = {"MAD": "mad", "Huber": "proposal2"}
ESTIMATORS = {"huber": Huber, "bisquare": Bisquare}


def _hetero():
    df = load_data("hetero")
    X = np.column_stack([df.x1, df.x2, df.x3, df.f == "b", df.f == "c", df.f == "d"]).astype(float)
    return X, df.y.to_numpy(float), df.w.to_numpy(float)


def _freq():
    df = load_data("freq")
    return df[["x1", "x2"]].to_numpy(float), df.y.to_numpy(float), df.w.to_numpy(float)


def _estimator(psi: str, scale: str, **kw):
    return ESTIMATORS[psi](scale=SCALES[scale], **kw)


def _variants(psi: str):
    """Every iteration of the estimator: Huber's Newton and IRLS, bisquare's three starts."""
    if psi == "huber":
        return [{"method": "newton"}, {"method": "irls"}]
    return [{"init": "ls"}, {"init": "lad"}, {"init": "huber"}]


@pytest.mark.parametrize("scale", list(SCALES))
@pytest.mark.parametrize("psi", list(ESTIMATORS))
def test_case_weights_match_rlm(psi, scale):
    X, y, w = _hetero()
    ref = load_reference("modelling")
    names = ref["coef_names"]["hetero"]
    r = ref["rlm_case"][f"{psi}_{scale}"]
    vref = np.array(load_reference("weights_rlm")["hetero_case"][f"{psi}_{scale}"]["vcov_summary"])
    beta = np.array([r["coef"][k] for k in names])
    for kw in _variants(psi)[:2] if psi == "huber" else [{}]:
        res = _estimator(psi, scale, **kw).fit(X, y, sample_weight=w).result_
        np.testing.assert_allclose(res.params.to_numpy(), beta, rtol=0, atol=1e-9)
        assert res.scale == pytest.approx(r["s"], rel=1e-9)
        assert res.converged
        # H1 with case weights = vcov(rlm) of MASS (summary.rlm's wt.method = "case" branch)
        np.testing.assert_allclose(res.cov("H1"), vref, rtol=1e-7, atol=1e-12)
        np.testing.assert_array_equal(res.extra["sample_weight"], w)


def test_case_weighted_irls_weights_are_the_robustness_weights():
    # MASS's fit$w is psi(u)/u times the case weight; the result keeps the two apart
    X, y, w = _hetero()
    r = load_reference("modelling")["rlm_case"]["huber_MAD"]
    res = Huber(method="irls").fit(X, y, sample_weight=w).result_
    np.testing.assert_allclose(res.extra["weights"] * w, r["irls_weights"], atol=1e-9)


@pytest.mark.parametrize("scale", list(SCALES))
@pytest.mark.parametrize("psi", list(ESTIMATORS))
def test_integer_weights_equal_repeated_rows_and_r(psi, scale):
    X, y, w = _freq()
    ref = load_reference("weights_rlm")["freq"][f"{psi}_{scale}"]
    reps = w.astype(int)
    Xe, ye = np.repeat(X, reps, axis=0), np.repeat(y, reps)
    names = ["(Intercept)", "x1", "x2"]
    beta_r = np.array([ref["expanded"]["coef"][k] for k in names])
    for kw in _variants(psi):
        est = _estimator(psi, scale, **kw)
        a = est.fit(X, y, sample_weight=w).result_
        b = est.fit(Xe, ye).result_
        np.testing.assert_allclose(a.params, b.params, rtol=0, atol=1e-12)
        assert a.scale == pytest.approx(b.scale, rel=1e-12)
        for kind in ("H1", "sandwich"):
            np.testing.assert_allclose(a.cov(kind), b.cov(kind), rtol=1e-10, atol=1e-15)
        # and both are R's fit of the expanded data
        np.testing.assert_allclose(a.params, beta_r, atol=1e-9)
        assert a.scale == pytest.approx(ref["expanded"]["s"], rel=1e-9)
        np.testing.assert_allclose(
            a.cov("H1"), ref["weighted"]["vcov_summary"], rtol=1e-7, atol=1e-13
        )
        # sandwich of the repeated rows; R's bread takes |psi'|, ours psi' (equal for Huber)
        key = "expanded_sandwich" if psi == "huber" else "expanded_sandwich_signed_psiprime"
        np.testing.assert_allclose(a.cov("sandwich"), ref[key], rtol=1e-7, atol=1e-13)


@pytest.mark.parametrize("psi", list(ESTIMATORS))
def test_zero_weight_is_a_removed_row(psi):
    X, y, w = _hetero()
    w0 = w.copy()
    w0[[3, 17, 40, 41, 99]] = 0.0
    keep = w0 > 0
    for kw in _variants(psi):
        for scale in SCALES:
            est = _estimator(psi, scale, **kw)
            a = est.fit(X, y, sample_weight=w0).result_
            b = est.fit(X[keep], y[keep], sample_weight=w[keep]).result_
            np.testing.assert_array_equal(a.params, b.params)
            assert a.scale == b.scale and a.nobs == b.nobs


@pytest.mark.parametrize("shared_weights", [True, False], ids=["w(n,)", "w(R,n)"])
@pytest.mark.parametrize("psi", list(ESTIMATORS))
def test_weighted_fit_many_equals_fit(psi, shared_weights):
    X, y, w = _hetero()
    g = np.random.default_rng(5)
    R = 4
    Y = y + 0.3 * g.standard_normal((R, y.size))
    if shared_weights:
        W = w
    else:
        W = np.tile(w, (R, 1))
        W[0, :7] = 0.0  # zeros act as absent rows
        W[2] = g.integers(0, 4, y.size)
    Ws = np.broadcast_to(W, Y.shape)
    for kw in _variants(psi):
        for scale in SCALES:
            est = _estimator(psi, scale, **kw)
            many = est.fit_many(X, Y, kinds=("H1", "sandwich"), sample_weight=W)
            for r in range(R):
                one = est.fit(X, Y[r], sample_weight=Ws[r]).result_
                np.testing.assert_allclose(many.params[r], one.params, rtol=0, atol=1e-12)
                assert many.scale[r] == pytest.approx(one.scale, rel=1e-12)
                assert many.converged[r] == one.converged
                for kind in ("H1", "sandwich"):
                    np.testing.assert_allclose(many.se[kind][r], one.bse(kind), rtol=1e-10)


def test_stacked_designs_with_weights():
    X, y, _ = _hetero()
    g = np.random.default_rng(9)
    R = 3
    Xs = X + 0.01 * g.standard_normal((R, *X.shape))
    Y = y + 0.3 * g.standard_normal((R, y.size))
    W = g.uniform(0.2, 3.0, (R, y.size))
    many = Huber().fit_many(Xs, Y, kinds=("H1", "sandwich"), sample_weight=W)
    for r in range(R):
        one = Huber().fit(Xs[r], Y[r], sample_weight=W[r]).result_
        np.testing.assert_allclose(many.params[r], one.params, atol=1e-12)
        np.testing.assert_allclose(many.se["sandwich"][r], one.bse("sandwich"), rtol=1e-10)


def test_unit_weights_equal_the_unweighted_fit(stackloss_data):
    X, y = stackloss_data
    for est in (Huber(), Huber(scale="proposal2"), Bisquare(), Bisquare(init="lad")):
        a = est.fit(X, y).result_
        b = est.fit(X, y, sample_weight=np.ones(len(y))).result_
        np.testing.assert_allclose(b.params, a.params, rtol=1e-10)
        assert b.scale == pytest.approx(a.scale, rel=1e-10)
        for kind in ("H1", "sandwich"):
            np.testing.assert_allclose(b.bse(kind), a.bse(kind), rtol=1e-8)


def test_irls_weight_shapes_agree():
    # (n,) weights shared by the fits equal the same weights given per fit
    X, y, w = _hetero()
    Xc = np.column_stack([np.ones(len(y)), X])
    Y = np.vstack([y, y[::-1]])
    a = irls(Xc, Y, HuberLoss(1.345), sample_weight=w)
    b = irls(Xc, Y, HuberLoss(1.345), sample_weight=np.tile(w, (2, 1)))
    np.testing.assert_array_equal(a.beta, b.beta)
    assert a.gram_inv is None


@pytest.mark.parametrize(
    ("w", "match"),
    [
        (-np.ones(21), "negative"),
        (np.full(21, np.nan), "NaN"),
        (np.zeros(21), "zero"),
        (np.ones(20), "shape"),
    ],
)
def test_bad_weights_are_clear_errors(stackloss_data, w, match):
    X, y = stackloss_data
    for est in (Huber(), Bisquare()):
        with pytest.raises(ValueError, match=match):
            est.fit(X, y, sample_weight=w)
