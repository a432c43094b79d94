"""Tests of tailreg.theory.population: pseudo-true lines of discretised populations against
the theory's functionals, closed forms, and dispatch on the estimators' stated capabilities."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from tailreg import (
    LAD,
    MM,
    OLS,
    Bisquare,
    GaussianMLE,
    Huber,
    QuantileRegression,
    StudentTMLE,
    losses,
    theory,
)
from tailreg import distributions as D
from tailreg.processes import AR1, Heteroscedastic

SKEWED = D.make("chisquare", k=3, center="mean", scale="iqr")


def _pop(law=SKEWED, process=None, x_nodes=16, u_strata=2000):
    x, wx = theory.uniform_nodes(0.0, 1.0, x_nodes)
    return theory.discretise(
        law, x, wx, intercept=1.0, beta=[2.0], process=process, u_strata=u_strata
    )


def test_discretised_population_layout():
    pop = _pop(x_nodes=8, u_strata=100)
    assert pop.X.shape == (800, 1) and pop.y.shape == pop.w.shape == (800,)
    assert pop.w.sum() == pytest.approx(1.0, abs=1e-14)
    # x moments of U(0, 1) from the Gauss-Legendre rule
    assert pop.w @ pop.X[:, 0] == pytest.approx(0.5, abs=1e-14)
    assert pop.w @ pop.X[:, 0] ** 2 == pytest.approx(1 / 3, abs=1e-14)
    with pytest.raises(ValueError, match="do not fit together"):
        theory.discretise(SKEWED, *theory.uniform_nodes(0, 1, 4), intercept=0.0, beta=[1.0, 2.0])
    with pytest.raises(ValueError, match="independent across rows"):
        _pop(process=AR1(SKEWED, 0.5))


def test_least_squares_line_is_the_mean_line():
    # mean-zero errors: the nominal line, also under heteroscedasticity
    for proc in (None, Heteroscedastic(SKEWED, "linear", a=0.5, b=1.0)):
        np.testing.assert_allclose(theory.least_squares_line(_pop(process=proc)), [1, 2], atol=2e-4)


def test_quantile_line_closed_form_equals_the_population_equations():
    proc = Heteroscedastic(SKEWED, "linear", a=0.5, b=1.0)
    pop = _pop(process=proc)
    assert pop.affine_sigma is not None
    for tau in (0.25, 0.5, 0.8):
        closed = theory.quantile_line(pop, tau)
        q = float(SKEWED.ppf(tau))
        np.testing.assert_allclose(closed, [1.0 + 0.5 * q, 2.0 + 1.0 * q], rtol=1e-14)
        # the same line from the population check-loss equations (no affine shortcut)
        generic = theory.quantile_line(_replace_affine(pop), tau)
        np.testing.assert_allclose(generic, closed, atol=1e-10)


def _replace_affine(pop):
    from dataclasses import replace

    return replace(pop, affine_sigma=None)


def test_quantile_line_for_a_nonlinear_scale_solves_its_equations():
    proc = Heteroscedastic(SKEWED, "power", a=0.5, exponent=2.0)
    pop = _pop(process=proc)
    assert pop.affine_sigma is None
    th = theory.quantile_line(pop, 0.5)
    # population check-loss equations: sum_j w_j x_j [tau - F((x_j'th - mu_j)/sigma_j)] = 0
    xj, wj = pop.x_nodes[:, 0], pop.x_weights
    z = (th[0] + th[1] * xj - 1.0 - 2.0 * xj) / pop.sigma
    g = np.array([wj @ (0.5 - SKEWED.cdf(z)), (wj * xj) @ (0.5 - SKEWED.cdf(z))])
    assert np.max(np.abs(g)) < 1e-13


def test_m_line_matches_the_theory_iid():
    # i.i.d. errors: slope = beta, intercept = b0 + T(F) of the theory (two computations)
    for loss in (losses.Huber(1.345), losses.Bisquare(4.685)):
        line = theory.m_line(_pop(), loss)
        T = theory.location_functional(loss, SKEWED, "estimated")
        np.testing.assert_allclose(line, [1.0 + T, 2.0], atol=2e-4)
    fixed = theory.m_line(_pop(), losses.Huber(1.0), 0.7)
    T = theory.location_functional(losses.Huber(1.0), SKEWED, 0.7)
    np.testing.assert_allclose(fixed, [1.0 + T, 2.0], atol=2e-4)
    with pytest.raises(ValueError, match="scale must be"):
        theory.m_line(_pop(), losses.Huber(), "proposal2")


def test_t_line_matches_the_t_likelihood_functional_iid():
    pop = _pop(u_strata=4000)
    T, _ = theory.t_mle_functional(SKEWED, 4.0)
    np.testing.assert_allclose(theory.t_line(pop, 4.0), [1.0 + T, 2.0], atol=3e-4)
    # df estimated: still the nominal slope
    assert theory.t_line(pop)[1] == pytest.approx(2.0, abs=3e-4)


def test_weighted_median():
    # the smallest value whose cumulative weight reaches 1/2 (MASS rlm's weighted MAD rule)
    v = np.array([3.0, 1.0, 2.0, 10.0])
    assert theory.weighted_median(v, np.array([0.1, 0.2, 0.3, 0.4])) == 2.0  # 0.2 + 0.3
    assert theory.weighted_median(v, np.array([0.3, 0.2, 0.1, 0.4])) == 3.0  # 0.2 + 0.1 + 0.3
    assert theory.weighted_median(v, np.full(4, 0.25)) == 2.0


class _Stated:
    """An estimator never named in the package: only what it states is read."""

    def __init__(self, **attrs):
        self.__dict__.update(attrs)


def test_population_line_dispatches_on_capabilities():
    pop = _pop(x_nodes=8, u_strata=400)
    ls = theory.least_squares_line(pop)
    np.testing.assert_array_equal(theory.population_line(pop, _Stated(loss=losses.Squared())), ls)
    np.testing.assert_array_equal(
        theory.population_line(pop, _Stated(loss=losses.Check(0.3))), theory.quantile_line(pop, 0.3)
    )
    np.testing.assert_array_equal(
        theory.population_line(pop, _Stated(loss=losses.Huber(), scale="mad")),
        theory.m_line(pop, losses.Huber()),
    )
    for nothing in (
        _Stated(loss=losses.Huber(), scale="proposal2"),
        _Stated(loss=losses.Bisquare()),  # a bounded loss without a MAD rule (e.g. MM)
        _Stated(loss=None),
        _Stated(),
    ):
        out = theory.population_line(pop, nothing)
        assert out.shape == (2,) and np.isnan(out).all()


def test_population_line_of_the_package_estimators():
    pop = _pop(x_nodes=8, u_strata=400)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lines = {
            type(e).__name__ + str(i): theory.population_line(pop, e)
            for i, e in enumerate(
                [OLS(), GaussianMLE(), LAD(), QuantileRegression(0.3), Huber(), Bisquare(), MM()]
            )
        }
        t_est = theory.population_line(pop, StudentTMLE(df=4.0))
    np.testing.assert_array_equal(lines["OLS0"], lines["GaussianMLE1"])
    np.testing.assert_array_equal(lines["LAD2"], theory.quantile_line(pop, 0.5))
    np.testing.assert_array_equal(lines["QuantileRegression3"], theory.quantile_line(pop, 0.3))
    np.testing.assert_array_equal(lines["Huber4"], theory.m_line(pop, losses.Huber(1.345)))
    assert np.isnan(lines["MM6"]).all()
    np.testing.assert_array_equal(t_est, theory.t_line(pop, 4.0))


def test_heteroscedastic_affine_coefficients():
    h = Heteroscedastic(SKEWED, "linear", a=0.5, b=2.0, column=1)
    X = np.array([[-1.0, 0.0], [3.0, 2.0]])
    a, b = h.affine_coefficients(X)
    assert a == 0.5 and b.tolist() == [0.0, 2.0]
    np.testing.assert_allclose(h.scale(X), a + X @ b)
    assert h.affine_coefficients(-X) is None  # |x| is not x there
    assert Heteroscedastic(SKEWED, "power", a=0.5).affine_coefficients(X) is None
    assert math.isfinite(theory.quantile_line(_pop(process=h.__class__(SKEWED)), 0.5)[0])
