"""Tests of tailreg.processes: heteroscedastic and stationary AR(1) errors."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from tailreg.distributions import Laplace, Normal, StudentT, make
from tailreg.processes import AR1, Heteroscedastic, make_process


def _sigma_from_x(X):
    """Module-level scale function (picklable): 1 + the Euclidean norm of the row."""
    return 1.0 + np.sqrt((np.asarray(X) ** 2).sum(axis=-1))


# ---------------------------------------------------------------- heteroscedastic
def test_heteroscedastic_scale_functions_are_exact():
    X = np.array([[0.0, 5.0], [-1.0, 2.0], [2.0, -3.0], [0.5, 0.0]])
    lin = Heteroscedastic(Normal(), "linear", a=0.5, b=2.0)
    assert np.array_equal(lin.scale(X), 0.5 + 2.0 * np.abs(X[:, 0]))
    pw = Heteroscedastic(Normal(), "power", a=1.0, exponent=1.5, column=1)
    assert np.allclose(pw.scale(X), (1.0 + np.abs(X[:, 1])) ** 1.5, rtol=1e-15)
    fn = Heteroscedastic(Normal(), _sigma_from_x)
    assert np.allclose(fn.scale(X), _sigma_from_x(X))
    # a 1-d X is the regressor itself
    assert np.array_equal(lin.scale(X[:, 0]), lin.scale(X))


def test_heteroscedastic_errors_are_scaled_innovations():
    # two design points repeated: the error sd at x = 3 is (1 + 3 b)/(1 + 0 b) times the one at 0
    n = 400_000
    x = np.repeat([0.0, 3.0], n // 2)[:, None]
    proc = Heteroscedastic(Laplace(), "linear", a=1.0, b=0.5)
    e = proc.sample(x, np.random.default_rng(1))
    assert e.shape == (n,)
    sd0, sd3 = e[: n // 2].std(), e[n // 2 :].std()
    # Var of a sample variance under Laplace: (mu4 - sigma^4)/m with excess kurtosis 3
    rel_mcse = math.sqrt((3 + 2) / (n // 2)) / 2
    assert sd0 == pytest.approx(math.sqrt(2.0), rel=5 * rel_mcse)
    assert sd3 == pytest.approx(2.5 * math.sqrt(2.0), rel=5 * rel_mcse)
    # exactly u * sigma: the same rng stream gives the innovations
    u = Laplace().sample(n, np.random.default_rng(1))
    assert np.array_equal(e, proc.scale(x) * u)


def test_heteroscedastic_batches_and_reproducibility():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 2))
    proc = Heteroscedastic(make("t", df=3, center="median", scale="iqr"), "power", exponent=0.5)
    a = proc.sample(X, np.random.default_rng(9), reps=7)
    b = proc.sample(X, np.random.default_rng(9), reps=7)
    assert a.shape == (7, 50) and np.array_equal(a, b)
    Xs = rng.normal(size=(4, 50, 2))
    e = proc.sample(Xs, np.random.default_rng(9))
    assert e.shape == (4, 50)
    u = proc.law.sample((4, 50), np.random.default_rng(9))
    assert np.allclose(e, (1 + np.abs(Xs[..., 0])) ** 0.5 * u, rtol=1e-15)
    clone = pickle.loads(pickle.dumps(proc))
    assert clone.key == proc.key
    assert np.array_equal(clone.sample(X, np.random.default_rng(9), reps=7), a)
    fn = pickle.loads(pickle.dumps(Heteroscedastic(Normal(), _sigma_from_x)))
    assert fn.key == "hetero(fn=test_processes._sigma_from_x)|normal"


def test_heteroscedastic_keys_and_errors():
    proc = Heteroscedastic(StudentT(3), "linear", a=1, b=2)
    assert proc.key == "hetero(linear,a=1,b=2,col=0)|t(df=3)"
    assert proc.law == StudentT(3)
    with pytest.raises(ValueError, match="scale_fn must be"):
        Heteroscedastic(Normal(), "quadratic")
    with pytest.raises(ValueError, match="b must lie in"):
        Heteroscedastic(Normal(), "linear", b=-1)
    with pytest.raises(ValueError, match="cannot both be 0"):
        Heteroscedastic(Normal(), "linear", a=0, b=0)
    with pytest.raises(ValueError, match="law must be"):
        Heteroscedastic("normal")
    with pytest.raises(ValueError, match="column 0 of X is constant"):
        Heteroscedastic(Normal()).sample(np.ones((5, 2)), np.random.default_rng(0))
    with pytest.raises(ValueError, match="column=3"):
        Heteroscedastic(Normal(), column=3).scale(np.zeros((5, 2)) + np.arange(5)[:, None])
    with pytest.raises(ValueError, match="finite positive"):
        Heteroscedastic(Normal(), lambda X: X[:, 0]).sample(
            np.array([[1.0], [-1.0]]), np.random.default_rng(0)
        )
    with pytest.raises(ValueError, match="unknown parameter"):
        make_process("heteroscedastic", Normal(), phi=0.5)


# ---------------------------------------------------------------- AR(1)
@pytest.mark.parametrize("law", [Normal(), Laplace(), StudentT(6)], ids=lambda v: v.label)
@pytest.mark.parametrize("phi", [0.6, -0.4])
def test_ar1_is_stationary_with_autocorrelation_phi(law, phi):
    R, n = 4000, 250
    proc = AR1(law, phi)
    e = proc.sample(np.zeros((n, 1)), np.random.default_rng(11), reps=R)
    assert e.shape == (R, n)
    v = proc.stationary_var()
    assert v == pytest.approx(law.var() / (1 - phi**2))
    # stationary from the first observation on: Var(e_1) across replications
    k = law.kurtosis()
    # kurtosis of the stationary AR(1): excess k (1 - phi^2)^2 / (1 - phi^4)
    k_e = k * (1 - phi**2) ** 2 / (1 - phi**4)
    se_v = math.sqrt((k_e + 2) / R) * v
    for t in (0, 1, n - 1):
        assert e[:, t].var() == pytest.approx(v, abs=5 * se_v)
        assert abs(e[:, t].mean()) < 5 * math.sqrt(v / R)
    # lag-1 and lag-2 autocorrelations pooled over replications (known mean 0); their MCSE
    # is Bartlett's w_hh / N, free of the innovation kurtosis for a linear process
    # (Brockwell & Davis 1991, Thm 7.2.1): w_11 = 1 - phi^2, w_22 = (1 + phi^2)^2 - 4 phi^4
    den = (e * e).mean()
    r1 = (e[:, 1:] * e[:, :-1]).mean() / den
    r2 = (e[:, 2:] * e[:, :-2]).mean() / den
    assert r1 == pytest.approx(phi, abs=5 * math.sqrt((1 - phi**2) / e.size))
    assert r2 == pytest.approx(phi**2, abs=5 * math.sqrt(((1 + phi**2) ** 2 - 4 * phi**4) / e.size))
    assert proc.autocorrelation(2) == pytest.approx(phi**2)


def test_ar1_exact_gaussian_start_and_mean():
    phi = 0.9
    proc = AR1(Normal(1.0, 2.0), phi)
    assert proc.burn_in == 0
    R = 200_000
    e1 = proc.sample(np.zeros((1, 1)), np.random.default_rng(5), reps=R)[:, 0]
    # e_1 = mu/(1 - phi) + (u_1 - mu)/sqrt(1 - phi^2) exactly
    u1 = Normal(1.0, 2.0).sample((R, 1), np.random.default_rng(5))[:, 0]
    assert np.allclose(e1, 10.0 + (u1 - 1.0) / math.sqrt(1 - phi**2), rtol=1e-14)
    assert proc.stationary_mean() == pytest.approx(10.0)
    e = proc.sample(np.zeros((3, 1)), np.random.default_rng(5), reps=R)
    assert np.allclose(
        e[:, 1], phi * e[:, 0] + Normal(1.0, 2.0).sample((R, 3), np.random.default_rng(5))[:, 1]
    )
    assert e[:, 2].mean() == pytest.approx(10.0, abs=5 * math.sqrt(4 / (1 - phi**2) / R))
    assert e[:, 2].var() == pytest.approx(4 / (1 - phi**2), rel=5 * math.sqrt(2 / R))


def test_ar1_burn_in_and_heavy_tails():
    proc = AR1(StudentT(1), 0.5)
    assert proc.burn_in == 53  # 0.5^53 = 2^-53
    assert AR1(Laplace(), 0.9).burn_in == math.ceil(53 * math.log(2) / -math.log(0.9))
    assert AR1(Laplace(), 0.0).burn_in == 0
    e = proc.sample(np.zeros((3, 1)), np.random.default_rng(2), reps=100_000)
    # stationary Cauchy AR(1): e_t is Cauchy with scale 1/(1 - |phi|) = 2 -> median |e| = 2
    assert np.median(np.abs(e[:, 0])) == pytest.approx(2.0, rel=0.02)
    assert math.isnan(proc.stationary_var())


def test_ar1_reproducible_picklable_and_validated():
    proc = AR1(make("lognormal", s=1, center="mean", scale="sd"), 0.3)
    X = np.zeros((40, 2))
    a = proc.sample(X, np.random.default_rng(8))
    assert a.shape == (40,)
    assert np.array_equal(a, proc.sample(X, np.random.default_rng(8)))
    clone = pickle.loads(pickle.dumps(proc))
    assert clone.key == proc.key == "ar1(phi=0.3)|lognormal(s=1)|center=mean|scale=sd"
    assert np.array_equal(clone.sample(X, np.random.default_rng(8)), a)
    stacked = proc.sample(np.zeros((5, 40, 2)), np.random.default_rng(8))
    assert stacked.shape == (5, 40)
    for bad in (1.0, -1.0, 1.5):
        with pytest.raises(ValueError, match="phi must lie in"):
            AR1(Normal(), bad)
    with pytest.raises(ValueError, match="reps=3 does not match"):
        proc.sample(np.zeros((5, 40, 2)), np.random.default_rng(8), reps=3)
    assert make_process("ar1", "t", phi=0.5, law_params={"df": 5}).key == "ar1(phi=0.5)|t(df=5)"
    with pytest.raises(ValueError, match="needs parameter 'phi'"):
        make_process("ar1", Normal())
    with pytest.raises(ValueError, match="unknown error process"):
        make_process("garch", Normal())
