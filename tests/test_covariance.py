"""Covariance kinds against explicit numpy formulas, batched and one at a time."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from tailreg.inference.covariance import (
    REGISTRY,
    CovarianceKind,
    CovContext,
    covariance,
    gram_inverse,
    hac_default_maxlags,
    leverage,
    register,
    standard_errors,
    xtx_inv,
)
from tailreg.inference.results import FitResult
from tailreg.losses import Huber, Squared

CORE_KINDS = ["classical", "HC0", "HC1", "HC2", "HC3", "HAC", "sandwich", "oim", "H1"]


def _problem(rng, n=12, k=3):
    X = np.column_stack([np.ones(n), rng.standard_normal((n, k - 1))])
    y = X @ rng.normal(size=k) + rng.standard_t(3, size=n) * (1 + X[:, 1] ** 2)
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    return X, y - X @ beta


def _hand(kind: str, X: np.ndarray, r: np.ndarray, scale: float, maxlags: int = 2) -> np.ndarray:
    """Textbook formulas, written the slow explicit way."""
    n, k = X.shape
    inv = np.linalg.inv(X.T @ X)
    H = X @ inv @ X.T
    h = np.diag(H)

    def hc(omega):
        meat = sum(omega[i] * r[i] ** 2 * np.outer(X[i], X[i]) for i in range(n))
        return inv @ meat @ inv

    if kind == "classical":
        return scale**2 * inv
    if kind == "HC0":
        return hc(np.ones(n))
    if kind == "HC1":
        return hc(np.full(n, n / (n - k)))
    if kind == "HC2":
        return hc(1 / (1 - h))
    if kind == "HC3":
        return hc(1 / (1 - h) ** 2)
    if kind == "HAC":
        meat = np.zeros((k, k))
        for i in range(n):
            for j in range(n):
                lag = abs(i - j)
                if lag <= maxlags:
                    meat += (1 - lag / (maxlags + 1)) * r[i] * r[j] * np.outer(X[i], X[j])
        return inv @ meat @ inv
    raise KeyError(kind)


@pytest.mark.parametrize("kind", ["classical", "HC0", "HC1", "HC2", "HC3", "HAC"])
def test_least_squares_kinds_by_hand(rng, kind):
    X, r = _problem(rng)
    s = np.sqrt(r @ r / (len(r) - X.shape[1]))
    ctx = CovContext(X=X, resid=r, scale=s, loss=Squared(), options={"maxlags": 2})
    np.testing.assert_allclose(covariance(kind, ctx), _hand(kind, X, r, s), rtol=1e-10)


def test_hac_default_maxlags_used(rng):
    X, r = _problem(rng, n=40)
    ctx = CovContext(X=X, resid=r)
    lags = hac_default_maxlags(40)
    assert lags == 3
    np.testing.assert_allclose(covariance("HAC", ctx), _hand("HAC", X, r, 1.0, lags), rtol=1e-10)


def _scores_jacobian(rng, n=15, q=3):
    scores = rng.standard_normal((n, q))
    A = rng.standard_normal((q, q))
    return scores, A @ A.T + q * np.eye(q)


def test_sandwich_and_oim_by_hand(rng):
    X, r = _problem(rng)
    scores, J = _scores_jacobian(rng, n=len(r))
    ctx = CovContext(X=X, resid=r, scores=scores, jacobian=J)
    Jinv = np.linalg.inv(J)
    meat = sum(np.outer(s, s) for s in scores)
    np.testing.assert_allclose(covariance("sandwich", ctx), Jinv @ meat @ Jinv, rtol=1e-12)
    np.testing.assert_allclose(covariance("oim", ctx), Jinv, rtol=1e-12)


def test_sandwich_with_squared_loss_scores_is_hc0(rng):
    """Scores x_i r_i and Jacobian X'X of the least-squares estimating equations give HC0."""
    X, r = _problem(rng)
    ctx = CovContext(X=X, resid=r, scores=X * r[:, None], jacobian=X.T @ X)
    np.testing.assert_allclose(covariance("sandwich", ctx), covariance("HC0", ctx), rtol=1e-12)
    # scaling scores and Jacobian alike (e.g. by 1/sigma^2 for a likelihood) changes nothing
    ctx2 = CovContext(X=X, resid=r, scores=X * r[:, None] / 3.0, jacobian=X.T @ X / 3.0)
    np.testing.assert_allclose(covariance("sandwich", ctx2), covariance("HC0", ctx), rtol=1e-12)


def test_h1_by_hand(rng):
    """MASS rlm summary: K^2 [sum psi^2/(n-k)] / mean(psi')^2 s^2 (X'X)^-1, var with n - 1."""
    X, r = _problem(rng, n=30)
    s, loss = 1.3, Huber(1.345)
    n, k = X.shape
    u = r / s
    psi = np.clip(u, -1.345, 1.345)
    dpsi = (np.abs(u) <= 1.345).astype(float)
    m = dpsi.mean()
    K = 1 + k / n * np.sum((dpsi - m) ** 2) / (n - 1) / m**2
    expect = K**2 * np.sum(psi**2) / (n - k) / m**2 * s**2 * np.linalg.inv(X.T @ X)
    ctx = CovContext(X=X, resid=r, scale=s, loss=loss)
    np.testing.assert_allclose(covariance("H1", ctx), expect, rtol=1e-12)


def test_h1_with_squared_loss_is_classical(rng):
    """psi' = 1 gives K = 1 and sum(u^2)/(n-k) s^2 = RSS/(n-k): the classical covariance."""
    X, r = _problem(rng)
    s = np.sqrt(r @ r / (len(r) - X.shape[1]))
    ctx = CovContext(X=X, resid=r, scale=s, loss=Squared())
    np.testing.assert_allclose(covariance("H1", ctx), covariance("classical", ctx), rtol=1e-12)


# -- batching ----------------------------------------------------------------------------
def _batch(rng, R=5, n=14, k=3, shared=False):
    X = rng.standard_normal((n, k) if shared else (R, n, k))
    resid = rng.standard_normal((R, n))
    scale = rng.uniform(0.5, 2.0, size=R)
    scores = rng.standard_normal((R, n, k))
    A = rng.standard_normal((R, k, k))
    J = A @ np.swapaxes(A, -1, -2) + k * np.eye(k)
    return CovContext(
        X=X,
        resid=resid,
        scale=scale,
        loss=Huber(1.0),
        scores=scores,
        jacobian=J,
        options={"maxlags": 2},
    )


@pytest.mark.parametrize("shared", [False, True], ids=["stacked", "shared"])
@pytest.mark.parametrize("kind", CORE_KINDS)
def test_batched_equals_per_replication(rng, kind, shared):
    ctx = _batch(rng, shared=shared)
    batched = covariance(kind, ctx)
    assert batched.shape == (5, 3, 3)
    for r in range(5):
        one = CovContext(
            X=ctx.X if shared else ctx.X[r],
            resid=ctx.resid[r],
            scale=float(ctx.scale[r]),
            loss=ctx.loss,
            scores=ctx.scores[r],
            jacobian=ctx.jacobian[r],
            options=ctx.options,
        )
        np.testing.assert_allclose(batched[r], covariance(kind, one), rtol=1e-12)


def test_batched_helpers(rng):
    X = rng.standard_normal((4, 10, 3))
    inv = xtx_inv(X)
    np.testing.assert_allclose(inv, np.linalg.inv(np.swapaxes(X, -1, -2) @ X), rtol=1e-10)
    h = leverage(X)
    for r in range(4):
        H = X[r] @ np.linalg.inv(X[r].T @ X[r]) @ X[r].T
        np.testing.assert_allclose(h[r], np.diag(H), rtol=1e-10)
    np.testing.assert_allclose(h.sum(axis=-1), 3.0, rtol=1e-12)  # trace of the hat matrix


# -- registry ----------------------------------------------------------------------------
def test_registry_holds_core_kinds():
    assert set(CORE_KINDS) <= set(REGISTRY)
    for name, strategy in REGISTRY.items():
        assert isinstance(strategy, CovarianceKind)
        assert strategy.name == name


def test_unknown_kind(rng):
    X, r = _problem(rng)
    with pytest.raises(ValueError, match=r"unknown covariance kind 'HC9'; known: .*'HC0'"):
        covariance("HC9", CovContext(X=X, resid=r))


def test_missing_inputs(rng):
    X, r = _problem(rng)
    ctx = CovContext(X=X, resid=r)
    with pytest.raises(ValueError, match="sandwich kind needs the estimator's scores"):
        covariance("sandwich", ctx)
    with pytest.raises(ValueError, match="oim kind needs the estimator's observed information"):
        covariance("oim", ctx)


def test_register_new_kind(rng):
    @register
    class Doubled(CovarianceKind):
        name = "_test_doubled"

        def bread(self, ctx):
            return 2.0 * xtx_inv(ctx.X)

    try:
        X, r = _problem(rng)
        got = covariance("_test_doubled", CovContext(X=X, resid=r))
        np.testing.assert_allclose(got, 2 * np.linalg.inv(X.T @ X), rtol=1e-10)
    finally:
        REGISTRY.pop("_test_doubled")


def test_context_shape_properties(rng):
    ctx = _batch(rng)
    assert (ctx.nobs, ctx.k) == (14, 3)


# -- the (X'X)^-1 of stacked designs ---------------------------------------------------
def test_gram_inverse_flags_ill_conditioned_designs(rng):
    X = rng.standard_normal((5, 30, 3))
    X[0, :, 2] = X[0, :, 1] + 1e-6 * rng.standard_normal(30)  # cond(X'X) ~ 1e12
    inv, ok = gram_inverse(X)
    np.testing.assert_array_equal(ok, [False, True, True, True, True])
    np.testing.assert_allclose(
        inv[1:], np.linalg.inv(np.swapaxes(X[1:], -1, -2) @ X[1:]), rtol=1e-12
    )
    # xtx_inv sends the flagged replication through QR
    for r in range(5):
        rr = np.linalg.qr(X[r], mode="r")
        ri = np.linalg.inv(rr)
        np.testing.assert_allclose(xtx_inv(X)[r], ri @ ri.T, rtol=1e-9)


def test_context_computes_xtx_inverse_once_or_takes_it(rng):
    X = rng.standard_normal((4, 20, 3))
    ctx = CovContext(X=X, resid=rng.standard_normal((4, 20)), scale=np.ones(4))
    first = ctx.xtx_inverse()
    assert ctx.xtx_inverse() is first
    np.testing.assert_allclose(first, np.linalg.inv(np.swapaxes(X, -1, -2) @ X), rtol=1e-12)
    given = np.broadcast_to(np.eye(3), (4, 3, 3))
    ctx2 = CovContext(X=X, resid=ctx.resid, scale=np.ones(4), gram_inv=given)
    np.testing.assert_array_equal(covariance("classical", ctx2), given)


def test_kinds_declare_whether_they_read_scores():
    for name in ("classical", "H1", "avar1"):
        assert not REGISTRY[name].uses_scores
    # the HC, HAC and cluster kinds read the estimator's scores and Jacobian when it has them
    for name in ("sandwich", "oim", "HC0", "HC1", "HC2", "HC3", "HAC", "cluster"):
        assert REGISTRY[name].uses_scores


# -- one fit of a batch, and the batched standard errors ---------------------------------
@pytest.mark.parametrize("shared", [False, True], ids=["stacked", "shared"])
def test_take_is_the_context_of_one_fit(rng, shared):
    ctx = _batch(rng, shared=shared)
    ctx = CovContext(**{**ctx.__dict__, "options": {"maxlags": 2, "y": ctx.resid + 1.0}})
    one = ctx.take(3)
    assert not one.batched and ctx.batched and ctx.n_fits == 5 and one.n_fits == 1
    np.testing.assert_array_equal(one.X, ctx.X if shared else ctx.X[3])
    np.testing.assert_array_equal(one.resid, ctx.resid[3])
    np.testing.assert_array_equal(one.jacobian, ctx.jacobian[3])
    assert one.scale == ctx.scale[3] and one.options["maxlags"] == 2
    np.testing.assert_array_equal(one.options["y"], ctx.options["y"][3])  # a row option


def test_standard_errors_are_the_square_roots_of_the_batched_diagonals(rng):
    ctx = _batch(rng)
    se = standard_errors(ctx, ["HC1", "sandwich"])
    for kind in ("HC1", "sandwich"):
        np.testing.assert_array_equal(
            se[kind], np.sqrt(np.diagonal(covariance(kind, ctx), axis1=-2, axis2=-1))
        )


def test_standard_errors_nan_policy(rng):
    ctx = _batch(rng)
    jac = ctx.jacobian.copy()
    jac[2] = 0.0  # singular: the batched inverse raises, so the kinds go one fit at a time
    ctx = CovContext(**{**ctx.__dict__, "jacobian": jac})
    valid = np.array([True, True, True, True, False])
    se = standard_errors(ctx, ["oim", "sandwich", "classical"], valid=valid)
    for kind in ("oim", "sandwich", "classical"):
        assert se[kind].shape == (5, 3)
        assert np.isnan(se[kind][4]).all()  # not valid
        for r in (0, 1, 3):
            one = np.sqrt(np.diag(covariance(kind, ctx.take(r))))
            np.testing.assert_allclose(se[kind][r], one, rtol=1e-12)
    assert np.isnan(se["oim"][2]).all() and np.isnan(se["sandwich"][2]).all()
    assert np.isfinite(se["classical"][2]).all()  # classical does not read the Jacobian
    with pytest.raises(ValueError, match="unknown covariance kind"):
        standard_errors(ctx, ["HC9"])


def test_kinds_that_are_not_batched_run_one_fit_at_a_time(rng):
    calls = []

    @register
    class Counted(CovarianceKind):
        name = "_test_counted"
        batched = False

        def bread(self, ctx):
            assert not ctx.batched
            calls.append(1)
            return xtx_inv(ctx.X)

    try:
        ctx = _batch(rng)
        cov = covariance("_test_counted", ctx)
        assert cov.shape == (5, 3, 3) and len(calls) == 5
        se = standard_errors(ctx, ["_test_counted"], valid=np.arange(5) != 1)
        assert len(calls) == 9  # the invalid fit is skipped
        assert np.isnan(se["_test_counted"][1]).all()
        np.testing.assert_allclose(se["_test_counted"][0], np.sqrt(np.diag(cov[0])), rtol=1e-14)
    finally:
        REGISTRY.pop("_test_counted")


# -- the options API (what new kinds declare) --------------------------------------------
def test_a_registered_kind_declares_options_and_defaults_from_extra(rng):
    """A kind's ``options`` are accepted (others rejected, naming them), checked by
    ``validate_options``, merged into ``ctx.options`` over the estimator's own, and a result
    fills ``options_from_extra`` from its ``extra``."""

    @register
    class Scaled(CovarianceKind):
        name = "test_scaled"
        uses_scores = False
        options: ClassVar[dict] = {"factor": 1.0, "tag": None}
        options_from_extra: ClassVar[dict] = {"tag": "tag"}

        def validate_options(self, options, ctx):
            if options.get("factor", 1.0) <= 0:
                raise ValueError("factor must be > 0")
            return options

        def bread(self, ctx):
            return ctx.options.get("factor", 1.0) * ctx.xtx_inverse()

    try:
        X, r = _problem(rng)
        ctx = CovContext(X=X, resid=r, options={"factor": 3.0})
        np.testing.assert_allclose(covariance("test_scaled", ctx), 3.0 * np.linalg.inv(X.T @ X))
        np.testing.assert_allclose(
            covariance("test_scaled", ctx, {"factor": 2.0}), 2.0 * np.linalg.inv(X.T @ X)
        )
        with pytest.raises(ValueError, match=r"it accepts: factor=1.0, tag=None"):
            covariance("test_scaled", ctx, {"fctor": 2.0})
        with pytest.raises(ValueError, match="factor must be > 0"):
            standard_errors(
                CovContext(X=X, resid=r[None]),
                ["test_scaled"],
                options={"test_scaled": {"factor": -1}},
            )
        res = FitResult(
            params=pd.Series(np.zeros(X.shape[1])),
            cov_context=ctx,
            cov_kinds=("test_scaled",),
            cov_kind="test_scaled",
            nobs=len(r),
            df_resid=len(r) - X.shape[1],
            scale=1.0,
            n_iter=0,
            converged=True,
            resid=r,
            extra={"tag": "from-extra"},
        )
        seen = {}
        orig = Scaled.validate_options

        def spy(self, options, ctx):
            seen.update(options)
            return orig(self, options, ctx)

        Scaled.validate_options = spy
        res.bse(factor=2.0)
        assert seen == {"factor": 2.0, "tag": "from-extra"}
        assert dict(res.with_cov("test_scaled", factor=2.0).cov_options) == {"factor": 2.0}
        assert dataclasses.replace(res).cov_kind == "test_scaled"
    finally:
        REGISTRY.pop("test_scaled", None)
