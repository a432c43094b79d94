"""Scale estimators: MAD conventions and Huber's proposal 2."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats
from statsmodels.robust import scale as sm_scale

from tailreg.losses import Huber as HuberLoss
from tailreg.scale import (
    MASS_MAD_CONSTANT,
    NORMAL_MAD_CONSTANT,
    huber_proposal2,
    huber_proposal2_step,
    mad,
    proposal2_gamma,
)


def test_constants():
    assert pytest.approx(stats.norm.ppf(0.75), rel=1e-15) == NORMAL_MAD_CONSTANT
    assert MASS_MAD_CONSTANT == 0.6745


def test_mad_about_zero_both_constants(rng):
    r = rng.standard_normal(31)
    assert mad(r) == pytest.approx(np.median(np.abs(r)) / NORMAL_MAD_CONSTANT, rel=1e-15)
    got = mad(r, constant=MASS_MAD_CONSTANT)
    assert got == pytest.approx(np.median(np.abs(r)) / 0.6745, rel=1e-15)
    # statsmodels' RLM scale (centre 0, exact constant)
    assert mad(r) == pytest.approx(sm_scale.mad(r, center=0), rel=1e-14)


def test_mad_about_median_matches_scipy_and_statsmodels(rng):
    x = rng.standard_t(3, size=40) + 5.0
    got = mad(x, center="median")
    assert got == pytest.approx(stats.median_abs_deviation(x, scale="normal"), rel=1e-14)
    assert got == pytest.approx(sm_scale.mad(x), rel=1e-14)


def test_mad_batched_over_leading_axes(rng):
    r = rng.standard_normal((3, 4, 25))
    got = mad(r, center="median")
    assert got.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            assert got[i, j] == pytest.approx(mad(r[i, j], center="median"), rel=1e-15)
    np.testing.assert_allclose(mad(r, axis=1), mad(np.moveaxis(r, 1, -1)), rtol=1e-15)


def test_mad_bad_center():
    with pytest.raises(ValueError, match="center"):
        mad(np.ones(3), center="mean")


@pytest.mark.parametrize("k", [0.5, 1.345, 2.0, 5.0])
def test_proposal2_gamma_is_expected_psi_squared(k):
    psi = HuberLoss(k).psi
    val, _ = integrate.quad(lambda z: psi(np.array(z)) ** 2 * stats.norm.pdf(z), -np.inf, np.inf)
    assert proposal2_gamma(k) == pytest.approx(val, rel=1e-10)


def test_proposal2_gamma_infinite_k():
    assert proposal2_gamma(np.inf) == 1.0


def test_proposal2_step_formula(rng):
    r = rng.standard_normal((2, 30)) * 3
    s = np.array([2.0, 4.0])
    got = huber_proposal2_step(r, s, 1.345, 27)
    psi = HuberLoss(1.345).psi
    for i in range(2):
        want = s[i] * np.sqrt((psi(r[i] / s[i]) ** 2).sum() / (27 * proposal2_gamma(1.345)))
        assert got[i] == pytest.approx(want, rel=1e-14)


def test_proposal2_fixed_point_solves_its_equation(rng):
    r = rng.standard_t(3, size=(3, 50))
    s = huber_proposal2(r, k=1.5, df_resid=48)
    psi = HuberLoss(1.5).psi
    lhs = (psi(r / s[:, None]) ** 2).sum(axis=1)
    np.testing.assert_allclose(lhs, 48 * proposal2_gamma(1.5), rtol=1e-10)


def test_proposal2_normal_sample_is_consistent(rng):
    r = 2.5 * rng.standard_normal(200_000)
    assert huber_proposal2(r, k=1.345) == pytest.approx(2.5, rel=0.01)
