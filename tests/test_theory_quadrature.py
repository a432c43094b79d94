"""Tests of tailreg.theory.quadrature, the one integrator: against scipy.integrate.quad,
closed forms, and its own stacked / truncated variants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate as sp_integrate
from scipy import optimize, stats

from tailreg import distributions as D
from tailreg.losses import Bisquare, Huber
from tailreg.theory import PreparedLaw, expect, integrate, normal_expectation


@pytest.mark.parametrize(
    ("g", "points", "exact"),
    [
        (lambda x: np.exp(-x), [0.0, math.inf], 1.0),
        (lambda x: 1.0 / (1.0 + x * x), [-math.inf, 0.0, math.inf], math.pi),
        (lambda x: np.abs(x) ** -2.5 * (np.abs(x) > 1), [-math.inf, -1.0, 1.0, math.inf], 4 / 3),
        (lambda x: np.sqrt(x), [0.0, 1.0], 2 / 3),  # singular derivative at 0
        (lambda x: np.cos(20 * x), [0.0, 1.0], math.sin(20.0) / 20),
        (lambda x: np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi), [-math.inf, 0.3, math.inf], 1.0),
    ],
)
def test_integrate_closed_forms(g, points, exact):
    assert integrate(g, points) == pytest.approx(exact, rel=1e-10, abs=1e-12)


def test_integrate_against_quad_for_power_tails():
    # (1 + |x|)^-3.2: QUADPACK-type tail map, checked against quad on each half line
    def f(x):
        return (1.0 + np.abs(x)) ** -3.2

    ref = sum(
        sp_integrate.quad(lambda x: float(f(x)), a, b, epsabs=1e-14, epsrel=1e-13)[0]
        for a, b in [(-np.inf, 0.0), (0.0, np.inf)]
    )
    assert integrate(f, [-math.inf, 0.0, math.inf], unit=2.0) == pytest.approx(ref, rel=1e-11)


def test_stacked_integrands_equal_separate_ones():
    law = PreparedLaw(D.make("lognormal", s=1.0, center="mean", scale="iqr"))
    loss = Huber(1.0)
    both = law.expect(
        lambda u: np.stack([loss.psi(u), loss.psi_prime(u) * u]), 0.1, 0.8, loss.kinks
    )
    one = law.expect(loss.psi, 0.1, 0.8, loss.kinks)
    two = law.expect(lambda u: loss.psi_prime(u) * u, 0.1, 0.8, loss.kinks)
    assert both.shape == (2,)
    assert both[0] == pytest.approx(one, abs=1e-12) and both[1] == pytest.approx(two, abs=1e-12)


@pytest.mark.parametrize(
    ("law", "h", "exact"),
    [
        (D.Normal(), lambda u: u * u, 1.0),
        (D.Laplace(), np.abs, 1.0),
        (D.StudentT(5), lambda u: u * u, 5 / 3),
        (D.Gamma(2.5), lambda u: u, 2.5),
        (D.Lomax(3.0), lambda u: u, 0.5),
    ],
)
def test_expect_closed_forms(law, h, exact):
    assert expect(law, h) == pytest.approx(exact, rel=1e-10)


@pytest.mark.parametrize(
    "law",
    [
        D.Normal(),
        D.make("t", df=1.5, center="median", scale="iqr"),
        D.make("chisquare", k=3, center="mean", scale="iqr"),
        D.make("contaminated", eps=0.1, c=5),
    ],
)
def test_expect_within_equals_expect_for_a_bounded_chi(law):
    chi = Bisquare(1.54764)
    full = expect(law, chi.chi, 0.2, 0.9, chi.kinks)
    inside = expect(law, chi.chi, 0.2, 0.9, chi.kinks, within=(-chi.c, chi.c))
    # the full-line integral meets its absolute tolerance 1e-12 (the t(1.5) tail is the
    # hardest); the truncated one takes the tails from the distribution function
    assert inside == pytest.approx(full, abs=3e-12)
    p_out = law.cdf(0.2 - 0.9 * chi.c) + law.sf(0.2 + 0.9 * chi.c)
    assert inside > p_out


def _quad_normal(f, c: float) -> float:
    """The former quad-based normal expectation of an even f (its independent reference)."""
    inside, _ = sp_integrate.quad(
        lambda z: 2.0 * f(z) * stats.norm.pdf(z), 0.0, c, epsabs=1e-14, epsrel=1e-13
    )
    return inside + 2.0 * stats.norm.sf(c) * float(f(np.array(c + 1.0)))


@pytest.mark.parametrize("c", [0.5, 1.54764, 2.937, 4.685061, 12.0])
def test_normal_expectation_against_quad(c):
    loss = Bisquare(c)
    for f in (loss.chi, loss.psi_prime, lambda u: loss.psi(u) ** 2):
        assert normal_expectation(f, c) == pytest.approx(_quad_normal(f, c), rel=1e-12, abs=1e-15)


def test_normal_expectation_reproduces_robustbase_tuning_constants():
    # robustbase: tuning.chi = 1.54764 (E chi = 1/2), tuning.psi = 4.685061 (95% efficiency,
    # rounded: the root of the efficiency equation is 4.6850649...)
    c50 = optimize.brentq(
        lambda c: normal_expectation(Bisquare(c).chi, c) - 0.5, 0.5, 5, xtol=1e-13
    )
    assert c50 == pytest.approx(1.54764, abs=5e-6)

    def eff(c):
        loss = Bisquare(c)
        return normal_expectation(loss.psi_prime, c) ** 2 / normal_expectation(
            lambda u: loss.psi(u) ** 2, c
        )

    c95 = optimize.brentq(lambda c: eff(c) - 0.95, 2, 10, xtol=1e-13)
    assert c95 == pytest.approx(4.685061, abs=5e-6)
    # the same root from quad-based expectations (the independent reference)
    quad_eff = optimize.brentq(
        lambda c: (
            _quad_normal(Bisquare(c).psi_prime, c) ** 2
            / _quad_normal(lambda u: Bisquare(c).psi(u) ** 2, c)
            - 0.95
        ),
        2,
        10,
        xtol=1e-13,
    )
    assert c95 == pytest.approx(quad_eff, rel=1e-11)


def test_integrator_arguments_are_checked():
    with pytest.raises(ValueError, match="finite split point"):
        integrate(np.exp, [-math.inf, math.inf])
    with pytest.raises(ValueError, match="c must be a positive"):
        normal_expectation(np.abs, 0.0)
    with pytest.raises(ValueError, match="lo < hi"):
        expect(D.Normal(), np.abs, within=(1.0, -1.0))
    with pytest.raises(TypeError, match="pdf, cdf and ppf"):
        PreparedLaw(object())
