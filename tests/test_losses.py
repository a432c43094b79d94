"""The loss family: derivatives, IRLS weights, and the densities whose MLE each loss is."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

from tailreg.losses import Absolute, Bisquare, Check, Huber, Loss, Squared, StudentT

LOSSES = [
    Squared(),
    Absolute(),
    Check(0.25),
    Check(0.9),
    Huber(1.345),
    Huber(0.5),
    Bisquare(4.685),
    Bisquare(1.54764),
    StudentT(4.0),
    StudentT(1.5),
]
SYMMETRIC = [loss for loss in LOSSES if not isinstance(loss, Check)]
WITH_DENSITY = [loss for loss in LOSSES if loss.has_density]


def _kinks(loss: Loss) -> list[float]:
    """Points where psi or psi' is not differentiable (excluded from finite differences)."""
    if isinstance(loss, Absolute | Check):
        return [0.0]
    if isinstance(loss, Huber):
        return [-loss.k, loss.k]
    if isinstance(loss, Bisquare):
        return [-loss.c, loss.c]
    return []


def _grid(loss: Loss) -> np.ndarray:
    u = np.linspace(-7.0, 7.0, 281) + 0.0123  # offset: avoid landing on 0 and kinks exactly
    for kink in _kinks(loss):
        u = u[np.abs(u - kink) > 1e-3]
    return u


ids = [repr(loss) for loss in LOSSES]


@pytest.mark.parametrize("loss", LOSSES, ids=ids)
def test_psi_is_derivative_of_rho(loss):
    u = _grid(loss)
    h = 1e-6
    num = (loss.rho(u + h) - loss.rho(u - h)) / (2 * h)
    np.testing.assert_allclose(loss.psi(u), num, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("loss", LOSSES, ids=ids)
def test_psi_prime_is_derivative_of_psi(loss):
    u = _grid(loss)
    h = 1e-6
    num = (loss.psi(u + h) - loss.psi(u - h)) / (2 * h)
    np.testing.assert_allclose(loss.psi_prime(u), num, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("loss", LOSSES, ids=ids)
def test_weight_is_psi_over_u(loss):
    u = _grid(loss)
    np.testing.assert_allclose(loss.weight(u), loss.psi(u) / u, rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("loss", LOSSES, ids=ids)
def test_weight_limit_at_zero(loss):
    w0 = float(loss.weight(np.array([0.0]))[0])
    if not loss.smooth:
        # sign(u)/u and (tau - 1{u<0})/u diverge at 0
        assert w0 == np.inf
        return
    tiny = np.array([-1e-7, 1e-7])
    np.testing.assert_allclose(loss.psi(tiny) / tiny, w0, rtol=1e-10)
    assert w0 == pytest.approx(float(loss.psi_prime(np.zeros(1))[0]), rel=1e-14)
    # also through the scalar path and mixed arrays
    np.testing.assert_allclose(loss.weight(np.array([0.0, 1.0])), [w0, loss.psi(1.0) / 1.0])


def test_weight_at_zero_values():
    assert Squared().weight(0.0) == 1.0
    assert Huber(1.0).weight(0.0) == 1.0
    assert Bisquare().weight(0.0) == 1.0
    assert StudentT(4.0).weight(0.0) == pytest.approx(5.0 / 4.0)


# -- densities ---------------------------------------------------------------------------
@pytest.mark.parametrize("loss", WITH_DENSITY, ids=repr)
def test_pdf_integrates_to_one(loss):
    lo, _ = integrate.quad(lambda x: float(loss.pdf(x)), -np.inf, 0.0, epsabs=1e-13)
    hi, _ = integrate.quad(lambda x: float(loss.pdf(x)), 0.0, np.inf, epsabs=1e-13)
    assert lo + hi == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("loss", WITH_DENSITY, ids=repr)
def test_loss_is_negative_log_density(loss):
    """rho(u) = -log f(u) + const: minimising sum(rho) is maximum likelihood."""
    u = _grid(loss)
    const = loss.rho(u) + loss.logpdf(u)
    np.testing.assert_allclose(const, const[0], rtol=1e-12, atol=1e-12)


def _asymmetric_laplace(tau):
    # f(u) = tau (1 - tau) exp(-rho_tau(u)) in scipy's (kappa, scale) parametrisation
    kappa = np.sqrt(tau / (1 - tau))
    return stats.laplace_asymmetric(kappa, scale=1 / np.sqrt(tau * (1 - tau)))


@pytest.mark.parametrize(
    ("loss", "law", "name"),
    [
        (Squared(), stats.norm(), "normal"),
        (Absolute(), stats.laplace(), "laplace"),
        (Check(0.25), _asymmetric_laplace(0.25), "asymmetric_laplace"),
        (Check(0.9), _asymmetric_laplace(0.9), "asymmetric_laplace"),
        (Check(0.5), stats.laplace(scale=2.0), "asymmetric_laplace"),
        (StudentT(4.0), stats.t(4.0), "t"),
        (StudentT(1.5), stats.t(1.5), "t"),
        (StudentT(1.0), stats.cauchy(), "t"),
        (Huber(np.inf), stats.norm(), "huber_least_favourable"),
    ],
    ids=repr,
)
def test_logpdf_equals_known_density(loss, law, name):
    u = np.linspace(-8, 8, 161)
    np.testing.assert_allclose(loss.logpdf(u), law.logpdf(u), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(loss.pdf(u), law.pdf(u), rtol=1e-12, atol=1e-300)
    assert loss.density_name == name


@pytest.mark.parametrize("k", [0.5, 1.0, 1.345, 2.0, 3.0])
def test_huber_least_favourable_density(k):
    """f = (1 - eps) phi on |u| <= k, 1/(1 - eps) = 2 Phi(k) - 1 + 2 phi(k)/k (Huber 1964)."""
    loss = Huber(k)
    total = 2 * stats.norm.cdf(k) - 1 + 2 * stats.norm.pdf(k) / k
    assert loss.epsilon == pytest.approx(1 - 1 / total, rel=1e-13)

    def part(a, b):
        return integrate.quad(lambda x: np.exp(-float(loss.rho(x))), a, b, epsabs=1e-14)[0]

    # split at the kinks +-k so that quad sees smooth pieces
    numeric = part(-np.inf, -k) + part(-k, k) + part(k, np.inf)
    assert numeric / np.sqrt(2 * np.pi) == pytest.approx(total, rel=1e-12)
    inner = np.linspace(-k, k, 21)
    np.testing.assert_allclose(
        loss.pdf(inner), (1 - loss.epsilon) * stats.norm.pdf(inner), rtol=1e-12
    )
    # exponential tails beyond k: f(u) = (1 - eps) phi(k) exp(-k (|u| - k))
    outer = k + np.linspace(0.1, 5, 11)
    expect = (1 - loss.epsilon) * stats.norm.pdf(k) * np.exp(-k * (outer - k))
    np.testing.assert_allclose(loss.pdf(outer), expect, rtol=1e-12)
    np.testing.assert_allclose(loss.pdf(-outer), expect, rtol=1e-12)


def test_huber_epsilon_decreases_with_k():
    eps = [Huber(k).epsilon for k in (0.5, 1.0, 1.345, 2.0, 3.0)]
    assert all(a > b for a, b in itertools.pairwise(eps))
    assert Huber(np.inf).epsilon == 0.0


def test_bisquare_has_no_density():
    loss = Bisquare()
    assert not loss.has_density
    with pytest.raises(ValueError, match="not integrable"):
        loss.logpdf(np.zeros(3))
    with pytest.raises(ValueError, match="not integrable"):
        loss.pdf(np.zeros(3))
    assert loss.density_name == "none"


def test_bisquare_bounded_and_redescending():
    loss = Bisquare(2.0)
    assert loss.rho_max == pytest.approx(4.0 / 6.0)
    far = np.array([-10.0, -2.5, 2.01, 50.0])
    np.testing.assert_allclose(loss.rho(far), loss.rho_max)
    np.testing.assert_array_equal(loss.psi(far), 0.0)
    np.testing.assert_array_equal(loss.weight(far), 0.0)
    assert loss.rho(2.0) == pytest.approx(loss.rho_max)  # continuous at c


def test_student_t_tends_to_squared():
    u = np.linspace(-3, 3, 13)
    big = StudentT(1e9)
    np.testing.assert_allclose(big.rho(u), Squared().rho(u), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(big.psi(u), Squared().psi(u), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(big.logpdf(u), Squared().logpdf(u), rtol=1e-7)


@pytest.mark.parametrize("df", [2.5, 30.0, 999.0, 1000.0, 1000.5, 1e4, 1e6, 1e9, 1e15])
def test_student_t_normaliser_accurate_for_large_df(df):
    """log of sqrt(df) B(df/2, 1/2), continuous across the switch to the asymptotic series."""
    expect = 0.5 * np.log(df) + special.betaln(df / 2, 0.5)
    if df > 1e5:  # betaln itself loses ~1e-10 there; the series is exact to rounding
        expect = 0.5 * np.log(2 * np.pi) + 0.25 / df - 1 / (24 * df**3)
    assert StudentT(df).log_normalizer() == pytest.approx(expect, rel=1e-12)


def test_huber_tends_to_squared_and_absolute():
    u = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(Huber(np.inf).rho(u), Squared().rho(u))
    small = Huber(1e-8)
    np.testing.assert_allclose(small.rho(u) / 1e-8, Absolute().rho(u), rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize(
    ("loss", "convex", "smooth", "has_density"),
    [
        (Squared(), True, True, True),
        (Absolute(), True, False, True),
        (Check(0.3), True, False, True),
        (Huber(), True, True, True),
        (Bisquare(), False, True, False),
        (StudentT(), False, True, True),
    ],
    ids=repr,
)
def test_flags(loss, convex, smooth, has_density):
    assert (loss.convex, loss.smooth, loss.has_density) == (convex, smooth, has_density)
    if convex:
        assert np.all(loss.psi_prime(np.linspace(-5, 5, 101)) >= 0)


def test_vectorised_over_any_shape():
    u = np.arange(24.0).reshape(2, 3, 4) - 12
    for loss in LOSSES:
        for f in (loss.rho, loss.psi, loss.psi_prime, loss.weight):
            assert f(u).shape == u.shape
        assert np.ndim(loss.rho(1.5)) == 0


# -- parameters --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Check(0.0), "tau must lie in"),
        (lambda: Check(1.0), "tau must lie in"),
        (lambda: Check(-0.1), "tau must lie in"),
        (lambda: Check(1.5), "tau must lie in"),
        (lambda: Check(np.nan), "tau must lie in"),
        (lambda: Check("0.5"), "tau must be a number"),
        (lambda: Huber(0.0), "k must be a positive"),
        (lambda: Huber(-1.0), "k must be a positive"),
        (lambda: Huber(np.nan), "k must be a positive"),
        (lambda: Huber(True), "k must be a positive"),
        (lambda: Bisquare(0.0), "c must be a positive"),
        (lambda: Bisquare(-4.685), "c must be a positive"),
        (lambda: Bisquare(np.inf), "c must be a positive finite"),
        (lambda: StudentT(0.0), "df must be a positive"),
        (lambda: StudentT(-3), "df must be a positive"),
        (lambda: StudentT(np.inf), "df must be a positive finite"),
    ],
)
def test_bad_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_equality_hash_repr():
    assert Huber(1.345) == Huber(1.345)
    assert Huber(1.345) != Huber(2.0)
    assert Huber(1.0) != Bisquare(1.0)
    assert hash(Check(0.3)) == hash(Check(0.3))
    assert len({Squared(), Squared(), Absolute()}) == 2
    assert repr(Check(0.25)) == "Check(tau=0.25)"
    assert repr(Squared()) == "Squared()"


# -- properties (hypothesis) -------------------------------------------------------------
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(u=finite, i=st.integers(0, len(LOSSES) - 1))
def test_rho_nonnegative_and_zero_at_zero(u, i):
    loss = LOSSES[i]
    assert loss.rho(u) >= 0
    assert loss.rho(0.0) == 0
    assert loss.weight(u) >= 0
    assert loss.psi(u) * u >= 0  # psi has the sign of u: rho decreases towards 0


@settings(max_examples=200, deadline=None)
@given(u=finite, i=st.integers(0, len(SYMMETRIC) - 1))
def test_symmetric_losses(u, i):
    loss = SYMMETRIC[i]
    assert loss.rho(-u) == loss.rho(u)
    assert loss.psi(-u) == -loss.psi(u)
    assert loss.weight(-u) == loss.weight(u)


@settings(max_examples=200, deadline=None)
@given(u=finite, tau=st.floats(0.01, 0.99))
def test_check_loss_mirror(u, tau):
    """rho_tau(-u) = rho_{1-tau}(u): the tau and 1 - tau quantiles are mirror images."""
    assert Check(tau).rho(-u) == pytest.approx(Check(1 - tau).rho(u), rel=1e-12, abs=1e-300)


# -- what the theory reads from a loss: functional, tau, kinks, rho_max, chi, rejection point
def test_theory_attributes_of_the_losses():
    assert Squared().functional == "mean"
    assert Absolute().functional == "quantile" and Absolute().tau == 0.5
    assert Check(0.3).functional == "quantile" and Check(0.3).tau == 0.3
    for loss in (Huber(), Bisquare(), StudentT(3.0)):
        assert loss.functional == "m"
    assert Huber(1.5).kinks == (-1.5, 1.5) and Huber(np.inf).kinks == ()
    assert Bisquare(4.0).kinks == (-4.0, 4.0) and Squared().kinks == ()
    assert StudentT(4.0).kinks == (-2.0, 2.0)
    assert Bisquare(3.0).rejection_point == 3.0 and np.isinf(Huber().rejection_point)
    assert np.isinf(Squared().rho_max) and Bisquare(3.0).rho_max == 1.5


@pytest.mark.parametrize("c", [1.54764, 2.5, 4.685061])
def test_bisquare_chi_is_the_normalised_rho(c):
    loss = Bisquare(c)
    u = np.linspace(-2 * c, 2 * c, 401)
    chi = loss.chi(u)
    np.testing.assert_allclose(chi, loss.rho(u) / loss.rho_max, rtol=1e-14, atol=1e-15)
    assert chi.min() == 0.0 and chi.max() == 1.0 and (chi[np.abs(u) >= c] == 1.0).all()
    # chi' = psi / sup rho (central differences)
    h = 1e-6
    num = (loss.chi(u + h) - loss.chi(u - h)) / (2 * h)
    np.testing.assert_allclose(loss.chi_prime(u), num, atol=1e-7)


def test_bisquare_chi_is_bit_identical_to_the_s_estimation_chi():
    # the S-estimator's chi (robustbase's Mchi) and the loss's are one function, bit for bit,
    # so the solvers can use the loss's
    from tailreg.estimators._sestimation import chi as s_chi

    u = np.random.default_rng(5).standard_normal(10_000) * 3
    for c in (1.54764, 4.685061):
        np.testing.assert_array_equal(Bisquare(c).chi(u), s_chi(u, c))


def test_chi_of_an_unbounded_loss_is_refused():
    with pytest.raises(ValueError, match="unbounded"):
        Huber().chi(np.zeros(2))
