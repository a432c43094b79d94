"""Hill estimator: its formula on a hand example, consistency, invariances, the plot data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tailreg.diagnostics.tails import (
    MIN_RELIABLE_K,
    default_k,
    hill,
    hill_path,
    tail_diagnostics,
)

# nine values, median 5: upper excesses 95, 15, 3, 1 and lower excesses 4, 3, 2, 1
HAND = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 20.0, 100.0])


def test_hand_example_upper_tail():
    # k = 3: gamma = (log 95 + log 15 + log 3)/3 - log 1
    h = hill(HAND, k=3)
    gamma = (math.log(95) + math.log(15) + math.log(3)) / 3 - math.log(1)
    assert h.alpha == pytest.approx(1 / gamma, rel=1e-14)
    assert h.threshold == 1.0 and h.n_tail == 4 and h.n == 9
    z = stats.norm.ppf(0.975)
    assert h.upper == pytest.approx(h.alpha * (1 + z / math.sqrt(3)), rel=1e-14)
    assert h.lower == max(0.0, h.alpha * (1 - z / math.sqrt(3)))
    assert h.se == pytest.approx(h.alpha / math.sqrt(3))
    # k = 2: gamma = (log 95 + log 15)/2 - log 3
    h2 = hill(HAND, k=2)
    assert h2.alpha == pytest.approx(1 / ((math.log(95) + math.log(15)) / 2 - math.log(3)))


def test_hand_example_lower_tail_and_default_k():
    # lower excesses 4, 3, 2, 1; default k = floor(sqrt(9)) = 3
    h = hill(HAND, tail="lower")
    gamma = (math.log(4) + math.log(3) + math.log(2)) / 3 - math.log(1)
    assert h.k == 3 and h.alpha == pytest.approx(1 / gamma, rel=1e-14)
    assert "floor(sqrt(n)) = 3" in h.k_rule
    assert not h.reliable and "not reliable" in h.note


def test_hand_example_path_matches_pointwise():
    p = hill_path(HAND)
    assert list(p.k) == [2, 3]
    assert p.alpha[0] == hill(HAND, k=2).alpha and p.alpha[1] == hill(HAND, k=3).alpha


def test_default_k_rule_and_cap():
    assert [default_k(n) for n in (3, 9, 99, 100, 100_000)] == [2, 3, 9, 10, 316]
    x = np.array([-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 5.0, 9.0, 20.0, 30.0, 40.0])
    h = hill(x)  # median 2: 5 positive excesses, floor(sqrt(11)) = 3
    assert h.k == 3
    y = np.array([0.0] * 10 + [1.0, 2.0, 3.0, 4.0] + [-1.0] * 2)  # 4 excesses over median 0
    assert hill(y).k == 3 and "capped" in hill(y).k_rule


def test_invariant_to_location_and_scale(rng):
    x = rng.standard_t(3, 500)
    a = tail_diagnostics(x)
    b = tail_diagnostics(7.0 + 3.5 * x)
    assert b.upper.alpha == pytest.approx(a.upper.alpha, rel=1e-12)
    assert b.lower.alpha == pytest.approx(a.lower.alpha, rel=1e-12)
    # the lower tail of x is the upper tail of -x
    assert hill(-x, tail="upper").alpha == pytest.approx(a.lower.alpha, rel=1e-12)


def test_consistent_on_large_t3_sample():
    """n = 1e5, k = 316: SE = alpha/sqrt(k) = 0.17; the t3 bias at this k is about -0.06."""
    x = np.random.default_rng(np.random.SeedSequence(16_3)).standard_t(3, 100_000)
    d = tail_diagnostics(x)
    for h in (d.upper, d.lower):
        assert h.k == 316 and h.reliable
        assert abs(h.alpha - 3.0) < 3 * h.se
        assert h.lower < 3.0 < h.upper


def test_consistent_on_large_pareto_sample():
    """Classical Hill (centre 0) of a Pareto(3) sample: k*gamma/gamma0 ~ Gamma(k, 1) exactly."""
    x = 1.0 + np.random.default_rng(np.random.SeedSequence(16_4)).pareto(3.0, 100_000)
    h = hill(x, center=0.0)
    assert abs(h.alpha - 3.0) < 3 * 3.0 / math.sqrt(h.k)


def test_normal_tails_look_light_and_cauchy_heavy():
    rng = np.random.default_rng(np.random.SeedSequence(16_5))
    normal = tail_diagnostics(rng.standard_normal(20_000))
    cauchy = tail_diagnostics(rng.standard_cauchy(20_000))
    assert normal.heavier.lower > 4.0  # no power tail: alpha-hat grows with n
    assert cauchy.heavier.upper < 2.0 and cauchy.heavier.lower > 0.5


def test_path_band_and_length(rng):
    x = rng.standard_t(2, 401)
    p = hill_path(x, tail="lower")
    n_tail = int(np.sum(np.median(x) - x > 0))
    assert p.k[0] == 2 and p.k[-1] == n_tail - 1
    z = stats.norm.ppf(0.975)
    np.testing.assert_allclose(p.upper, p.alpha * (1 + z / np.sqrt(p.k)))
    assert np.all(p.lower >= 0)
    assert hill_path(x, k_max=10).k[-1] == 10


def test_small_sample_flagged_unreliable(rng):
    h = hill(rng.standard_t(3, 300))
    assert h.k == 17 < MIN_RELIABLE_K and not h.reliable


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x": np.array([1.0, 2.0, 3.0, 4.0])}, "needs at least 3"),
        ({"x": HAND, "k": 4}, r"k must be an integer in \[1, 3\]"),
        ({"x": HAND, "k": 0}, "k must be"),
        ({"x": HAND, "tail": "left"}, "tail must be"),
        ({"x": np.array([1.0, np.inf, 2.0, 3.0, 4.0, 5.0, 6.0])}, "infinity"),
        ({"x": HAND, "level": 95}, "level"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        hill(**kwargs)
