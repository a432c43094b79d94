"""Gross outliers in y (issue 12, items 1 and 11): Huber and bisquare at any magnitude.

With n = 50, unit noise and one y value at 1e6 ... 0.5 * the largest double (bisquare: five
values, up to 1e100), the fit equals the fit with the same rows at 1e4 (already far beyond every
tuning constant, so psi is saturated for Huber and 0 for bisquare: the fit no longer depends on the
magnitude) to 1e-9 absolute (coefficients and scale are of order 1; the convergence tolerance
1e-12 on the relative residual change gives ~1e-11 here), reports ``converged=True`` and warns
nothing — in particular no false exact fit. Before, one y of 1e12 gave an exact-fit warning
and wrong coefficients with ``converged=True``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tailreg.estimators.bisquare import Bisquare
from tailreg.estimators.huber import Huber
from tailreg.exceptions import ConvergenceWarning, ExactFitWarning
from tailreg.losses import Huber as HuberLoss
from tailreg.solvers.irls import irls

BIG = np.finfo(float).max
MAGNITUDES = [1e6, 1e12, 1e14, 9.969209968386869e36, 1e100, 1e300, 0.5 * BIG]
ATOL = 1e-9

ESTIMATORS = [
    Huber(),
    Huber(method="irls"),
    Huber(scale="proposal2"),
    Bisquare(),
    Bisquare(init="lad"),
    Bisquare(init="huber"),
    Bisquare(scale="proposal2"),
]


def _data(seed=1, n=50):
    g = np.random.default_rng(seed)
    X = g.standard_normal((n, 2))
    return X, 1.0 + X @ np.array([1.0, -2.0]) + g.standard_normal(n)


def _fit_quietly(est, X, y, w=None):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no exact-fit, convergence or floating-point warning
        return est.fit(X, y, sample_weight=w).result_


def _rows(est):
    return [7] if isinstance(est, Huber) else [7, 11, 19, 30, 44]


# five values near the largest double overflow the least-squares start's sums, and proposal
# 2's scale needs more than max_iter steps down from 1e300: bisquare's five to 1e100
CASES = [(est, v) for est in ESTIMATORS for v in MAGNITUDES if isinstance(est, Huber) or v <= 1e100]


@pytest.mark.parametrize(("est", "value"), CASES, ids=[f"{e!r}-{v:.3g}" for e, v in CASES])
def test_gross_outliers_do_not_move_the_fit(est, value):
    X, y = _data()
    rows = _rows(est)
    ref_y = y.copy()
    ref_y[rows] = 1e4
    ref = _fit_quietly(est, X, ref_y)
    for sign in (1.0, -1.0):
        yy = y.copy()
        yy[rows] = sign * value * np.linspace(1.0, 0.5, len(rows))
        res = _fit_quietly(est, X, yy)
        if sign > 0:
            np.testing.assert_allclose(res.params, ref.params, rtol=0, atol=ATOL)
            assert res.scale == pytest.approx(ref.scale, abs=ATOL)
        assert res.converged
        assert not res.extra["exact_fit"]
        assert np.isfinite(res.bse("H1")).all() and np.isfinite(res.bse("sandwich")).all()


@pytest.mark.parametrize("est", ESTIMATORS, ids=repr)
def test_gross_outlier_fit_is_close_to_the_clean_fit(est):
    # bounded influence: Huber's outlier still pulls by ~k s / n, bisquare's not at all
    X, y = _data()
    clean = _fit_quietly(est, X, y)
    yy = y.copy()
    yy[_rows(est)] = 1e14
    res = _fit_quietly(est, X, yy)
    np.testing.assert_allclose(res.params, clean.params, atol=0.15)
    assert 0.7 < res.scale / clean.scale < 1.4


@pytest.mark.parametrize("est", ESTIMATORS[:4], ids=repr)
def test_gross_outliers_with_case_weights(est):
    X, y = _data()
    w = np.random.default_rng(3).uniform(0.5, 2.0, y.size)
    ref_y = y.copy()
    ref_y[7] = 1e4
    ref = _fit_quietly(est, X, ref_y, w)
    yy = y.copy()
    yy[7] = 1e36
    res = _fit_quietly(est, X, yy, w)
    np.testing.assert_allclose(res.params, ref.params, atol=ATOL)
    assert res.converged


def test_fit_many_with_gross_outliers_is_per_replication():
    X, y = _data()
    Y = np.tile(y, (4, 1))
    Y[1, 7], Y[2, 7], Y[3, 7] = 1e12, 1e36, 1e300
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        many = Huber().fit_many(X, Y)
    ref = Huber().fit(X, np.where(np.arange(50) == 7, 1e4, y)).result_
    np.testing.assert_allclose(many.params[1:], np.tile(ref.params, (3, 1)), atol=ATOL)
    assert many.converged.all()


@pytest.mark.parametrize("method", ["newton", "irls"])
def test_overflow_is_a_failure_not_a_perfect_fit(method):
    # y at the largest double: r / s overflows; the fit must not claim an exact fit nor a
    # silent number (issue 12, item 11)
    X, y = _data()
    y[7] = BIG
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = Huber(method=method).fit(X, y).result_
    assert not any(issubclass(w.category, ExactFitWarning) for w in caught)
    assert not res.extra["exact_fit"]
    if not res.converged:
        assert any(
            issubclass(w.category, ConvergenceWarning) and "overflow" in str(w.message)
            for w in caught
        )
    else:
        ref_y = y.copy()
        ref_y[7] = 1e4
        np.testing.assert_allclose(res.params, Huber().fit(X, ref_y).result_.params, atol=ATOL)


def test_irls_overflow_flag():
    X, y = _data()
    Xc = np.column_stack([np.ones(50), X])
    y[7] = BIG
    res = irls(Xc, y[None], HuberLoss(1.345), newton=True)
    assert res.overflow is not None and res.overflow[0]
    assert not res.converged[0] and not res.exact_fit[0] and not res.singular[0]


def test_exact_fit_level_ignores_outliers():
    # 45 of 50 points on a line and 5 gross outliers: a true exact fit at any magnitude
    g = np.random.default_rng(4)
    x = g.standard_normal(50)
    y = 2.0 + 3.0 * x
    y[:5] = 1e36 * g.uniform(1, 2, 5)
    with pytest.warns(ExactFitWarning):
        est = Bisquare().fit(x[:, None], y)
    np.testing.assert_allclose([est.intercept_, est.coef_[0]], [2.0, 3.0], rtol=1e-9)
