"""Acceptance: a scipy law reproduces the built-in law's theory targets where both exist.

Issue 11 ("a study with a scipy law reproduces the built-in law's theory targets"), at the
theory level: the same law given as ``scipy.stats:NAME`` and by its built-in name has the
same location functionals, asymptotic variances, S- and t-likelihood functionals and
estimator targets.
"""

from __future__ import annotations

import math
import warnings

import pytest

from tailreg import MM, Bisquare, Huber, StudentTMLE, losses, theory
from tailreg import distributions as D

PAIRS = {
    "t3": (D.make("scipy.stats:t", df=3), D.make("t", df=3)),
    "t3 median/iqr": (
        D.make("scipy.stats:t", df=3, center="median", scale="iqr"),
        D.make("t", df=3, center="median", scale="iqr"),
    ),
    "lognormal mean/iqr": (
        D.make("scipy.stats:lognorm", s=1.0, center="mean", scale="iqr"),
        D.make("lognormal", s=1.0, center="mean", scale="iqr"),
    ),
    "laplace": (D.make("scipy.stats:laplace"), D.make("laplace")),
    "gennorm(2) = N(0, 1/2)": (D.make("scipy.stats:gennorm", beta=2.0), D.Normal(0, 0.5**0.5)),
}

CASES = [
    (losses.Squared(), 1.0),
    (losses.Absolute(), 1.0),
    (losses.Check(0.25), 1.0),
    (losses.Huber(1.345), 1.0),
    (losses.Huber(1.345), "mad"),
    (losses.Huber(1.345), "estimated"),
    (losses.Bisquare(4.685), 0.9),
    (losses.Bisquare(4.685), "estimated"),
    (losses.StudentT(3.0), 1.2),
]


def _close(a: float, b: float, rel: float = 1e-8) -> bool:
    if math.isinf(a) or math.isinf(b) or math.isnan(a) or math.isnan(b):
        return a == b or (math.isnan(a) and math.isnan(b))
    return abs(a - b) <= rel * max(abs(a), abs(b), 1.0)


@pytest.mark.parametrize("pair", list(PAIRS))
def test_scipy_law_states_the_same_facts(pair):
    sc, bi = PAIRS[pair]
    assert sc.symmetric is bi.symmetric
    assert sc.tail_index == bi.tail_index
    assert _close(sc.median(), bi.median(), 1e-12)


@pytest.mark.parametrize("pair", list(PAIRS))
@pytest.mark.parametrize(("loss", "scale"), CASES, ids=[f"{c[0]!r}-{c[1]}" for c in CASES])
def test_location_functionals_and_variances_agree(pair, loss, scale):
    sc, bi = PAIRS[pair]
    a, b = theory.m_functional(loss, sc, scale), theory.m_functional(loss, bi, scale)
    assert _close(a.location, b.location), (a, b)
    assert _close(a.avar, b.avar), (a, b)
    assert _close(a.scale, b.scale), (a, b)


@pytest.mark.parametrize("pair", list(PAIRS))
def test_information_and_scale_functionals_agree(pair):
    sc, bi = PAIRS[pair]
    assert _close(theory.fisher_information(sc), theory.fisher_information(bi), 1e-7)
    for x, y in zip(
        theory.s_functional(sc, 1.54764, 0.5), theory.s_functional(bi, 1.54764, 0.5), strict=True
    ):
        assert _close(x, y)
    for x, y in zip(
        theory.t_mle_functional(sc, 3.0), theory.t_mle_functional(bi, 3.0), strict=True
    ):
        assert _close(x, y)


@pytest.mark.parametrize("pair", list(PAIRS))
def test_estimator_targets_agree(pair):
    sc, bi = PAIRS[pair]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for est in (Huber(), Huber(scale=0.8), Bisquare(), MM(), StudentTMLE(df=3.0)):
            a, b = est.target(sc), est.target(bi)
            assert a is not None and b is not None
            for f in ("location", "avar", "avar_slopes", "scale"):
                assert _close(getattr(a, f), getattr(b, f)), (est, f, a, b)
            assert a.kind == b.kind
