"""The cluster kind: R parity (vcovCL for lm and rlm, one- and two-way), conventions, errors,
frequency weights, batched contexts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import tailreg
from _reference import load_data, load_reference
from tailreg.estimators._mestimation import m_cov_context
from tailreg.inference.covariance import CovContext, covariance, standard_errors
from tailreg.losses import Bisquare as BisquareLoss
from tailreg.losses import Huber as HuberLoss

#: R's coefficient names of the hetero fits
HETERO_NAMES = ["(Intercept)", "x1", "x2", "x3", "fb", "fc", "fd"]


def hetero() -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X, y, g, f, w)``: X without constant, columns named as R's dummies (treatment)."""
    df = load_data("hetero")
    X = pd.DataFrame(
        {
            "x1": df["x1"],
            "x2": df["x2"],
            "x3": df["x3"],
            **{f"f{lev}": (df["f"] == lev).astype(float) for lev in "bcd"},
        }
    ).astype(float)
    return X, df["y"].to_numpy(), df["g"].to_numpy(), df["f"].to_numpy(), df["w"].to_numpy()


def hetero_wls() -> tuple[pd.DataFrame, np.ndarray]:
    """The weighted least-squares problem of ``lm(weights = w)`` as rows scaled by sqrt(w).

    ``OLS(fit_intercept=False)`` on it is R's weighted ``lm``: same coefficients, and its
    classical, HC and cluster covariances are those of ``vcov``/``vcovHC``/``vcovCL`` of the
    weighted fit (the scores :math:`\\sqrt{w_i}r_i\\sqrt{w_i}x_i = w_i r_i x_i` and the bread
    :math:`(X^\\top WX)^{-1}` are R's; see modelling.json's notes.lm_sandwich).
    """
    X, y, _, _, w = hetero()
    design = pd.concat([pd.Series(1.0, index=X.index, name="(Intercept)"), X], axis=1)
    sw = np.sqrt(w)
    return design.mul(sw, axis=0), y * sw


def ar1() -> tuple[np.ndarray, np.ndarray]:
    df = load_data("ar1")
    return df[["x1", "x2"]].to_numpy(float), df["y"].to_numpy(float)


def mat(a) -> np.ndarray:
    return np.array(a, dtype=float)


MOD = load_reference("modelling")
COV = load_reference("covopts")
RTOL = 1e-6  # the acceptance tolerance; the measured agreement is ~1e-12 (see each test)


def _close(a, b, rtol=RTOL):
    a, b = np.asarray(a, dtype=float), mat(b)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())


# -- R parity ----------------------------------------------------------------------------
def test_ols_cluster_is_cr1_as_vcovcl_hc1():
    X, y, g, _, _ = hetero()
    res = tailreg.OLS().fit(X, y).result_
    _close(res.cov("cluster", groups=g), MOD["lm"]["unweighted"]["vcovCL"]["HC1"], 1e-12)
    _close(
        res.cov("cluster", groups=g, type="HC0"), MOD["lm"]["unweighted"]["vcovCL"]["HC0"], 1e-12
    )
    # CR1 = G/(G-1) (n-1)/(n-k) times the plain cluster sum
    n, k, G = len(y), 7, 15
    np.testing.assert_allclose(
        res.cov("cluster", groups=g), res.cov("cluster", groups=g, type="HC0") * (n - 1) / (n - k)
    )
    assert len(np.unique(g)) == G


def test_weighted_ols_cluster_as_vcovcl_of_weighted_lm():
    Xw, yw = hetero_wls()
    _, _, g, _, _ = hetero()
    res = tailreg.OLS(fit_intercept=False).fit(Xw, yw).result_
    ref = MOD["lm"]["weighted"]
    _close(res.params, list(ref["coef"].values()), 1e-10)
    _close(res.cov("cluster", groups=g), ref["vcovCL"]["HC1"], 1e-12)
    _close(res.cov("cluster", groups=g, type="HC0"), ref["vcovCL"]["HC0"], 1e-12)


@pytest.mark.parametrize(
    "est, key", [(tailreg.Huber(method="irls"), "huber"), (tailreg.Bisquare(), "bisquare")]
)
def test_m_estimator_cluster_with_the_sandwich_bread(est, key):
    """G/(G-1) J^-1 (sum_g S_g S_g') J^-1 with the signed psi' Jacobian (covopts.R)."""
    X, y, g, _, _ = hetero()
    res = est.fit(X, y).result_
    _close(res.params, list(COV[key]["coef"].values()), 1e-9)
    _close(res.cov("cluster", groups=g), COV[key]["vcovCL_HC0"])
    if key == "huber":  # psi' >= 0: sandwich's own vcovCL(rlm, type = "HC0")
        _close(res.cov("cluster", groups=g), MOD["rlm_sandwich"]["huber"]["vcovCL"]["HC0"])


def test_bisquare_differs_from_sandwich_only_by_its_absolute_psi_prime():
    """vcovCL(rlm) uses |psi'| in its bread (bread.rlm); with that bread we reproduce it."""
    X, y, g, _, _ = hetero()
    res = tailreg.Bisquare().fit(X, y).result_
    assert COV["bisquare"]["n_negative_psi_prime"] > 0
    ctx = res.cov_context
    u = ctx.resid / ctx.scale
    loss = BisquareLoss(4.685)
    design = ctx.X
    jac_abs = (design * np.abs(loss.psi_prime(u))[:, None]).T @ design / ctx.scale
    V = covariance("cluster", dataclasses.replace(ctx, jacobian=jac_abs), {"groups": g})
    _close(V, MOD["rlm_sandwich"]["bisquare"]["vcovCL"]["HC0"])
    # and the signed bread is not R's default here (the difference is real)
    ours = res.cov("cluster", groups=g).to_numpy()
    assert np.abs(ours - mat(MOD["rlm_sandwich"]["bisquare"]["vcovCL"]["HC0"])).max() > 1e-3


def test_two_way_clustering_as_vcovcl_multi0_false():
    X, y, g, f, _ = hetero()
    tw = COV["two_way"]
    ols = tailreg.OLS().fit(X, y).result_
    _close(ols.cov("cluster", groups=(g, f)), tw["lm_HC1"])
    _close(ols.cov("cluster", groups=(g, f), type="HC0"), tw["lm_HC0"])
    hub = tailreg.Huber(method="irls").fit(X, y).result_
    _close(hub.cov("cluster", groups=np.column_stack([g, f])), tw["rlm_huber_HC0"])


# -- estimators without an R counterpart: the formula by hand -----------------------------
def _by_hand(bread, scores, g, factor=1.0):
    labels = np.unique(g)
    meat = sum(np.outer(scores[g == c].sum(0), scores[g == c].sum(0)) for c in labels)
    G = len(labels)
    return factor * G / (G - 1) * bread @ meat @ bread.T


@pytest.mark.parametrize(
    "make",
    [tailreg.GaussianMLE, lambda: tailreg.StudentTMLE(df=4.0), lambda: tailreg.MM(random_state=1)],
    ids=["gaussian_mle", "student_t", "mm"],
)
def test_likelihood_and_mm_cluster_by_hand(make):
    X, y, g, _, _ = hetero()
    res = make().fit(X, y).result_
    ctx = res.cov_context
    expected = _by_hand(np.linalg.inv(ctx.jacobian), ctx.scores, g)
    np.testing.assert_allclose(res.cov("cluster", groups=g), expected, rtol=1e-10)
    # with one observation per cluster it is the sandwich times n/(n-1)
    n = len(y)
    np.testing.assert_allclose(
        res.cov("cluster", groups=np.arange(n)), res.cov("sandwich") * n / (n - 1), rtol=1e-10
    )


# -- options and errors --------------------------------------------------------------------
def test_groups_default_from_extra_and_with_cov():
    X, y, g, _, _ = hetero()
    res = tailreg.Huber().fit(X, y).result_
    with pytest.raises(ValueError, match="the cluster kind needs groups="):
        res.cov("cluster")
    with pytest.raises(ValueError, match="needs groups="):
        res.with_cov("cluster")
    formula_like = dataclasses.replace(res, extra={**res.extra, "groups": g})
    clustered = formula_like.with_cov("cluster")
    assert clustered.cov_kind == "cluster" and dict(clustered.cov_options) == {}
    np.testing.assert_array_equal(clustered.cov(), res.cov("cluster", groups=g))
    explicit = res.with_cov("cluster", groups=g)
    np.testing.assert_array_equal(explicit.bse(), clustered.bse())
    assert set(explicit.cov_options) == {"groups"}
    # string labels give the same matrix (summed in another cluster order: rounding only)
    labels = np.array([f"c{v}" for v in g], dtype=object)
    np.testing.assert_allclose(res.cov("cluster", groups=labels), explicit.cov(), rtol=1e-13)


@pytest.mark.parametrize(
    "groups, match",
    [
        (np.arange(5), "groups has 5 labels but the fit has 123 observations"),
        (np.zeros(123), "at least 2 distinct clusters"),
        (np.r_[np.nan, np.arange(122.0)], "NaN"),
        (np.ones((123, 3)), "shape"),
    ],
)
def test_bad_groups(groups, match):
    X, y, _, _, _ = hetero()
    res = tailreg.OLS().fit(X, y).result_
    with pytest.raises(ValueError, match=match):
        res.with_cov("cluster", groups=groups)


def test_unknown_option_names_the_accepted_ones():
    X, y, g, _, _ = hetero()
    res = tailreg.OLS().fit(X, y).result_
    with pytest.raises(ValueError, match=r"'cluster' does not accept option\(s\) \['group'\]"):
        res.with_cov("cluster", group=g)
    with pytest.raises(ValueError, match=r"it accepts: groups=None, type=None"):
        res.cov("cluster", clusters=g)
    with pytest.raises(ValueError, match="type must be one of"):
        res.cov("cluster", groups=g, type="HC3")


# -- frequency weights and batched contexts -------------------------------------------------
def _m_problem(rng, n=40, k=3):
    X = np.column_stack([np.ones(n), rng.standard_normal((n, k - 1))])
    y = X @ np.ones(k) + rng.standard_t(3, n)
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    return X, y - X @ beta


@pytest.mark.parametrize(
    "kind, scored",
    [(k, True) for k in ("cluster", "HC0", "HC1", "HC2", "HC3", "sandwich")]
    + [(k, False) for k in ("cluster", "HC0", "HC1", "HC2", "HC3")],
)
def test_integer_case_weights_equal_repeated_rows(rng, kind, scored):
    """Case weights v: every kind equals the same kind on the data with row i repeated v_i times.

    ``scored``: an M-estimator context (Huber scores, weighted Jacobian); otherwise least squares.
    """
    X, r = _m_problem(rng)
    n = len(r)
    v = rng.integers(1, 4, n).astype(float)
    g = rng.integers(0, 8, n)
    rep = np.repeat(np.arange(n), v.astype(int))
    loss = HuberLoss(1.345)

    def ctx(Xa, ra, w):
        if not scored:
            return CovContext(X=Xa, resid=ra, scale=1.0, weights=w)
        c = m_cov_context(Xa, ra, 0.8, loss)
        if w is not None:  # the Jacobian of case-weighted equations is the weighted sum
            u = ra / 0.8
            jac = (Xa * (w * loss.psi_prime(u))[:, None]).T @ Xa / 0.8
            c = dataclasses.replace(c, jacobian=jac, weights=w)
        return c

    opts = {"groups": g} if kind == "cluster" else None
    opts_rep = {"groups": g[rep]} if kind == "cluster" else None
    weighted = covariance(kind, ctx(X, r, v), opts)
    expanded = covariance(kind, ctx(X[rep], r[rep], None), opts_rep)
    np.testing.assert_allclose(weighted, expanded, rtol=1e-10)


@pytest.mark.parametrize("kind", ["cluster", "HC1", "HC3", "HAC"])
def test_batched_weighted_and_clustered_equal_one_fit_each(rng, kind):
    """compute_many on (R, n) weights (zeros = absent rows) equals each fit without its zeros."""
    R, n, k = 4, 30, 3
    X = np.column_stack([np.ones(n), rng.standard_normal((n, k - 1))])
    resid = rng.standard_t(4, (R, n))
    g = np.repeat(np.arange(10), 3)
    loss = HuberLoss(1.345)
    s = np.full(R, 0.9)
    W = None if kind == "HAC" else rng.integers(0, 3, (R, n)).astype(float)
    ctx = m_cov_context(X, resid, s, loss)
    if W is not None:
        u = resid / s[:, None]
        jac = np.einsum("ni,rn,nj->rij", X, W * loss.psi_prime(u), X) / s[:, None, None]
        ctx = dataclasses.replace(ctx, jacobian=jac, weights=W)
    opts = {"groups": g} if kind == "cluster" else ({"maxlags": 2} if kind == "HAC" else None)
    se = standard_errors(ctx, [kind], options={kind: opts} if opts else None)[kind]
    for r in range(R):
        keep = slice(None) if W is None else W[r] > 0
        one = m_cov_context(X[keep], resid[r][keep], s[r], loss)
        if W is not None:
            u = resid[r][keep] / s[r]
            jac = (X[keep] * (W[r][keep] * loss.psi_prime(u))[:, None]).T @ X[keep] / s[r]
            one = dataclasses.replace(one, jacobian=jac, weights=W[r][keep])
        o = {"groups": g[keep]} if kind == "cluster" else opts
        np.testing.assert_allclose(se[r], np.sqrt(np.diag(covariance(kind, one, o))), rtol=1e-10)


def test_fit_many_cluster_equals_fit_per_replication(rng):
    """The batched M-estimator context of fit_many gives each fit's cluster covariance."""
    X, y = ar1()
    Y = np.vstack([y, y + rng.standard_normal(len(y)), y[::-1]])
    g = np.arange(len(y)) // 10
    est = tailreg.Huber()
    many = est.fit_many(X, Y, kinds=("sandwich",))
    # the batched context of those fits (as fit_many builds it), clustered
    design = np.column_stack([np.ones(len(y)), X])
    resid = Y - many.params @ design.T
    ctx = m_cov_context(design, resid, many.scale, est.loss)
    se = standard_errors(ctx, ["cluster"], options={"cluster": {"groups": g}})["cluster"]
    for r in range(len(Y)):
        one = tailreg.Huber().fit(X, Y[r]).result_
        np.testing.assert_allclose(se[r], one.bse("cluster", groups=g), rtol=1e-8)
