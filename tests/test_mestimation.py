"""The vectorised M-estimation core: Newton steps land where IRLS does, the MAD's gradient.

``irls(newton=True)`` must reach the same fixed point as MASS's weighted-least-squares
iteration (which the R references in test_huber.py pin down) — only in fewer sweeps.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tailreg._linalg import Design
from tailreg.distributions import make
from tailreg.estimators.huber import Huber as HuberRegressor
from tailreg.losses import Bisquare, Huber
from tailreg.scale import mad_with_gradient, median_abs
from tailreg.solvers.irls import irls

LAWS = {
    "normal": make("normal"),
    "t3": make("t", df=3),
    "lognormal": make("lognormal", s=1.0),
    "contaminated": make("contaminated", eps=0.2, c=10.0),
}


def _data(law, R, n, shared, seed=0, p=3):
    g = np.random.default_rng(seed)
    size = (n, p) if shared else (R, n, p)
    Z = g.standard_normal(size)
    X = np.concatenate([np.ones((*size[:-1], 1)), Z], axis=-1)
    beta = np.array([1.0, 1.0, -0.5, 0.25])
    Y = (X @ beta if not shared else np.broadcast_to(X @ beta, (R, n))) + law.sample((R, n), g)
    return X, Y


def _fit(X, Y, newton, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return irls(X, Y, Huber(1.345), newton=newton, **kw)


def _is_root(X, Y, res, loss=None):
    """The estimating equations of Huber-with-MAD hold: sum psi(r/s) x = 0, s = MAD(r)/0.6745."""
    loss = loss or Huber(1.345)
    fitted = (res.beta @ X.T) if X.ndim == 2 else (X @ res.beta[..., None])[..., 0]
    r = Y - fitted
    s = np.median(np.abs(r), axis=1) / 0.6745
    psi = loss.psi(r / s[:, None])
    eq = (psi @ X) if X.ndim == 2 else (psi[:, None, :] @ X)[:, 0, :]
    size = np.sqrt((psi**2).sum(axis=1))[:, None] * np.sqrt((X**2).sum(axis=-2))
    return (np.abs(eq) <= 1e-8 * size).all(axis=1) & np.isclose(s, res.scale, rtol=1e-8)


@pytest.mark.parametrize("law", list(LAWS))
@pytest.mark.parametrize("n", [20, 51, 200])
@pytest.mark.parametrize("shared", [False, True], ids=["stacked", "shared"])
def test_newton_reaches_the_irls_fixed_point(law, n, shared):
    X, Y = _data(LAWS[law], 300, n, shared, seed=n)
    a = _fit(X, Y, newton=False)
    b = _fit(X, Y, newton=True)
    assert b.converged[a.converged].all()
    ok = a.converged
    # Newton stops at a root of the same equations ...
    assert _is_root(X, Y, b)[ok].all()
    # ... and it is MASS's root: both stop at a residual change of 1e-12, so the coefficients
    # agree far below any statistical difference. At small n the beta-and-MAD system can have
    # several roots; then the two paths may stop at different ones (4 in 6000 contaminated-
    # normal samples at n = 20, none of 126000 normal, t3 or lognormal samples at n >= 20).
    same = (np.abs(a.beta - b.beta) <= 1e-8 * np.maximum(1.0, np.abs(a.beta))).all(axis=1)
    assert same[ok].mean() >= 0.99
    np.testing.assert_allclose(b.scale[same], a.scale[same], rtol=1e-8)
    # the Newton iteration is the cheaper one
    assert b.n_iter.mean() < a.n_iter.mean()


@pytest.mark.parametrize("scale", ["proposal2", 1.5])
def test_newton_with_proposal2_and_fixed_scale(scale):
    X, Y = _data(LAWS["t3"], 200, 80, shared=False, seed=3)
    a = _fit(X, Y, newton=False, scale=scale)
    b = _fit(X, Y, newton=True, scale=scale)
    assert a.converged.all() and b.converged.all()
    np.testing.assert_allclose(b.beta, a.beta, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(b.scale, a.scale, rtol=1e-8)


def test_newton_at_fixed_scale_is_finite_for_huber():
    # at a fixed scale Huber's objective is piecewise quadratic: once the set of residuals
    # beyond +-ks settles, one Newton step is exact, so few sweeps are needed
    X, Y = _data(LAWS["normal"], 100, 400, shared=False, seed=5)
    b = _fit(X, Y, newton=True, scale=1.0)
    assert b.converged.all()
    assert b.n_iter.max() <= 8


def test_newton_falls_back_when_too_few_residuals_are_in_the_quadratic_zone():
    # a tiny fixed scale puts (almost) every residual beyond +-ks: psi' = 0 for nearly all
    # rows and X'Psi'X is singular or nearly so; every sweep must then be a weighted-least-
    # squares step, i.e. the very path of newton=False
    X, Y = _data(LAWS["normal"], 20, 60, shared=False, seed=7)
    a = _fit(X, Y, newton=False, scale=1e-3, maxiter=5000)
    b = _fit(X, Y, newton=True, scale=1e-3, maxiter=5000)
    assert not b.singular.any()
    np.testing.assert_array_equal(b.beta, a.beta)
    np.testing.assert_array_equal(b.n_iter, a.n_iter)


def test_newton_needs_a_convex_loss():
    X, Y = _data(LAWS["normal"], 5, 30, shared=False)
    with pytest.raises(ValueError, match="convex"):
        irls(X, Y, Bisquare(4.685), newton=True)


def test_newton_flags_exact_fits_like_irls():
    X, Y = _data(LAWS["normal"], 4, 40, shared=False, seed=11)
    Y = Y.copy()
    Y[0] = X[0] @ np.array([1.0, 2.0, 3.0, 4.0])  # replication 0 is an exact fit
    a = _fit(X, Y, newton=False)
    b = _fit(X, Y, newton=True)
    np.testing.assert_array_equal(b.exact_fit, a.exact_fit)
    assert b.exact_fit[0] and not b.exact_fit[1:].any()


@pytest.mark.parametrize("n", [101, 100, 1001, 1000])
@pytest.mark.parametrize("shared", [False, True], ids=["stacked", "shared"])
def test_mad_gradient_matches_finite_differences(n, shared):
    g = np.random.default_rng(n)
    R, k = 6, 3
    X = g.standard_normal((n, k) if shared else (R, n, k))
    Y = g.standard_normal((R, n))
    beta = g.normal(size=(R, k)) * 0.1
    fitted = (beta @ X.T) if shared else (X @ beta[..., None])[..., 0]
    r = Y - fitted
    half = (n - 1) // 2
    s, grad = mad_with_gradient(r, Design(X), half)
    np.testing.assert_allclose(s, np.median(np.abs(r), axis=1) / 0.6745, rtol=1e-15)
    np.testing.assert_array_equal(median_abs(r, half), np.median(np.abs(r), axis=1))
    # the MAD is piecewise linear in beta: a small enough central difference is exact
    h = 1e-9
    for j in range(k):
        e = np.zeros(k)
        e[j] = h
        rp = r - ((X @ e) if shared else (X @ e)[..., :])
        rm = r + ((X @ e) if shared else (X @ e)[..., :])
        fd = (np.median(np.abs(rp), axis=1) - np.median(np.abs(rm), axis=1)) / (2 * h * 0.6745)
        np.testing.assert_allclose(grad[:, j], fd, rtol=1e-5, atol=1e-6)


def test_h1_standard_errors_do_not_need_the_scores():
    # fit_many skips the scores and Jacobians when no requested kind reads them; the H1
    # standard errors must not change
    X, Y = _data(LAWS["t3"], 50, 60, shared=False, seed=13)
    est = HuberRegressor(fit_intercept=False)
    alone = est.fit_many(X, Y, ("H1",))
    both = est.fit_many(X, Y, ("H1", "sandwich"))
    np.testing.assert_array_equal(alone.se["H1"], both.se["H1"])
    np.testing.assert_array_equal(alone.params, both.params)
