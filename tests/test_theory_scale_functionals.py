"""Tests of the S- and Student-t likelihood functionals (tailreg.theory.scale_functionals):
against an independent scipy.integrate.quad computation, invariances and closed forms."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import integrate as sp_integrate
from scipy import optimize

from tailreg import distributions as D
from tailreg.losses import Bisquare, StudentT
from tailreg.theory import m_scale_functional, normal_expectation, s_functional, t_mle_functional

C50 = 1.54764

LAWS = {
    "normal": D.make("normal", center="median", scale="iqr"),
    "t1.5": D.make("t", df=1.5, center="median", scale="iqr"),
    "lognormal": D.make("lognormal", s=1.0, center="mean", scale="iqr"),
    "chisquare": D.make("chisquare", k=3, center="mean", scale="iqr"),
    "contaminated": D.make("contaminated", eps=0.1, c=5, center="median", scale="iqr"),
}


def _quad(law, h, T: float, s: float, kinks) -> float:
    """E h((e - T)/s) by scipy's quad on pieces split at the kinks and quartiles."""
    lo, hi = law.support
    inner = {T, *(T + s * k for k in kinks), *(float(q) for q in law.ppf([0.25, 0.5, 0.75]))}
    edges = [lo, *sorted(p for p in inner if lo < p < hi), hi]
    return sum(
        sp_integrate.quad(
            lambda x: h((x - T) / s) * float(law.pdf(x)),
            a,
            b,
            epsabs=1e-15,
            epsrel=1e-13,
            limit=500,
        )[0]
        for a, b in itertools.pairwise(edges)
    )


@pytest.mark.parametrize("name", list(LAWS))
def test_s_scale_solves_the_m_scale_equation_by_quad(name):
    law = LAWS[name]
    chi = Bisquare(C50)
    T, s = s_functional(law, C50, 0.5)
    # E chi((e - T)/s) = 1/2 and E chi'((e - T)/s) = 0 (the minimum of s(T)), by quad
    assert _quad(law, lambda u: float(chi.chi(u)), T, s, chi.kinks) == pytest.approx(0.5, abs=1e-12)
    slope = _quad(law, lambda u: float(chi.psi(u)), T, s, chi.kinks)
    assert abs(slope) < 1e-10
    # and s(T) is larger on either side
    for d in (-0.05, 0.05):
        assert m_scale_functional(law, C50, 0.5, T + d) > s


def test_s_functional_at_the_normal_is_consistent():
    # c with E_Phi chi_c = 1/2 makes the S-scale of N(0, 1) equal to 1
    c = optimize.brentq(lambda c: normal_expectation(Bisquare(c).chi, c) - 0.5, 1, 2, xtol=1e-14)
    loc, s = s_functional(D.Normal(), c, 0.5)
    assert loc == pytest.approx(0.0, abs=1e-12) and s == pytest.approx(1.0, rel=1e-11)
    # location-scale equivariance
    loc2, s2 = s_functional(D.Normal(3.0, 2.0), c, 0.5)
    assert loc2 == pytest.approx(3.0, abs=1e-11) and s2 == pytest.approx(2.0, rel=1e-11)


def test_s_functional_accepts_a_bounded_loss_and_refuses_an_unbounded_one():
    law = LAWS["lognormal"]
    assert s_functional(law, Bisquare(C50), 0.5) == pytest.approx(s_functional(law, C50, 0.5))
    with pytest.raises(ValueError, match="bounded loss"):
        m_scale_functional(law, StudentT(3.0), 0.5, 0.0)


@pytest.mark.parametrize("name", list(LAWS))
def test_t_mle_functional_solves_the_likelihood_equations_by_quad(name):
    law = LAWS[name]
    loss = StudentT(3.0)
    T, s = t_mle_functional(law, 3.0)
    e1 = _quad(law, lambda u: float(loss.psi(u)), T, s, loss.kinks)
    e2 = _quad(law, lambda u: float(loss.psi(u) * u), T, s, loss.kinks)
    assert abs(e1) < 1e-11 and e2 == pytest.approx(1.0, abs=1e-11)


@pytest.mark.parametrize("df", [1.0, 3.0, 10.0])
def test_t_mle_functional_at_its_own_law(df):
    # the t(df) law is the model: (T, s) = (0, 1); scaled by IQR: s = 1 / IQR
    assert t_mle_functional(D.StudentT(df), df) == pytest.approx((0.0, 1.0), abs=1e-11)
    law = D.make("t", df=df, center="median", scale="iqr")
    assert t_mle_functional(law, df)[1] == pytest.approx(1.0 / D.StudentT(df).iqr(), rel=1e-11)


def test_results_are_cached_per_law():
    law = D.make("laplace", center="median", scale="iqr")
    first = s_functional(law, C50, 0.5)
    assert s_functional(D.make("laplace", center="median", scale="iqr"), C50, 0.5) is first
    assert np.isfinite(first).all()
    assert math.isfinite(t_mle_functional(law, 4.0)[1])
