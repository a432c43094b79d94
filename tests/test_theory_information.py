"""Fisher information and the Cramér-Rao bound in extreme tails (issue 12 item 8)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import integrate, stats

from tailreg.theory import cramer_rao_bound, fisher_information


def _lognormal_info_log_space(s: float) -> float:
    r"""Independent quadrature in :math:`t = \log x`: the location score of the lognormal is
    :math:`(1 + t/s^2)/x`, so :math:`I = \int (1 + t/s^2)^2 e^{-2t}\phi(t/s)/s\,dt` (the
    exponents combined so that nothing overflows)."""

    def g(t: float) -> float:
        return (
            (1.0 + t / s**2) ** 2 * np.exp(-2.0 * t - 0.5 * (t / s) ** 2) / (s * np.sqrt(2 * np.pi))
        )

    peak = -2.0 * s * s  # the integrand is a Gaussian bump centred here
    pts = [peak - 12 * s, peak - 4 * s, peak, peak + 4 * s, peak + 12 * s]
    parts = [integrate.quad(g, -np.inf, pts[0], epsabs=0, epsrel=1e-13, limit=200)[0]]
    for a, b in itertools.pairwise(pts):
        parts.append(integrate.quad(g, a, b, epsabs=0, epsrel=1e-13, limit=200)[0])
    parts.append(integrate.quad(g, pts[-1], np.inf, epsabs=0, epsrel=1e-13, limit=200)[0])
    return float(sum(parts))


@pytest.mark.parametrize("s", [0.5, 1.0, 2.0, 2.5, 2.8, 3.0])
def test_lognormal_information_matches_log_space_quadrature(s):
    info = fisher_information(stats.lognorm(s))
    ref = _lognormal_info_log_space(s)
    # and the closed form exp(2 s^2) (1 + 1/s^2) that both should equal
    np.testing.assert_allclose(ref, np.exp(2 * s * s) * (1 + 1 / s**2), rtol=1e-9)
    np.testing.assert_allclose(info, ref, rtol=1e-8)
    assert cramer_rao_bound(stats.lognorm(s)) == pytest.approx(1.0 / ref, rel=1e-8)


def test_lognormal_s3_numbers_of_the_issue():
    law = stats.lognorm(3.0)
    assert fisher_information(law) == pytest.approx(7.2956e7, rel=1e-4)
    assert cramer_rao_bound(law) == pytest.approx(1.3707e-8, rel=1e-4)


@pytest.mark.parametrize("s", [3.5, 4.0, 6.0])
def test_lognormal_beyond_double_precision_is_a_clear_error(s):
    with pytest.raises(ValueError, match="cannot be computed reliably"):
        fisher_information(stats.lognorm(s))
    with pytest.raises(ValueError, match="cannot be computed reliably"):
        cramer_rao_bound(stats.lognorm(s))


@pytest.mark.parametrize(
    ("law", "expected"),
    [
        (stats.gamma(3.0), 1.0),  # 1 / (shape - 2)
        (stats.gamma(12.0), 0.1),
        (stats.t(0.5), 1.5 / 3.5),  # (nu + 1) / (nu + 3) at an extreme nu
        (stats.t(200.0), 201.0 / 203.0),
        (stats.logistic(scale=1e-3), 1e6 / 3.0),
        (stats.norm(scale=1e6), 1e-12),
    ],
)
def test_information_at_extreme_parameters(law, expected):
    assert fisher_information(law) == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("law", [stats.gamma(1.5), stats.gamma(2.0), stats.weibull_min(1.5)])
def test_non_regular_edges_are_infinite_not_a_number(law):
    # f ~ d^p with p <= 1 at the support edge: (f')^2 / f is not integrable
    assert fisher_information(law) == np.inf
    assert cramer_rao_bound(law) == 0.0
