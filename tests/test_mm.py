"""MM-estimator (fast-S start + bisquare M-step) against R robustbase 0.95 and known properties.

References: R 4.2, robustbase 0.95, ``lmrob(y ~ ., data)`` with its defaults (method "SM",
bisquare, tuning.chi 1.54764, tuning.psi 4.685061, bb 0.5, cov ``.vcov.avar1``); values from
issue 5. robustbase stops its M-step IRLS at a relative change of 1e-7 (``rel.tol``) and its
S refinements at 1e-7 (``refine.tol``), so agreement beyond ~1e-7 is not expected; the
issue asks for 1e-4 (coef, scale) and 1e-3 (se) — the measured gaps are ~4e-7 (stackloss)
and ~1e-7 (engel), and the tolerances below are 2e-6.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from _sklearn_checks import pending_checks
from tailreg.estimators.mm import MM
from tailreg.estimators.ols import OLS
from tailreg.exceptions import ConvergenceWarning, ExactFitWarning
from tailreg.inference.covariance import REGISTRY
from tailreg.solvers.s_estimation import (
    BISQUARE_CHI_C50,
    BISQUARE_PSI_C95,
    bisquare_c_for_breakdown,
    bisquare_c_for_efficiency,
    chi,
    fast_s,
    m_scale,
)

RTOL_R = 2e-6

STACKLOSS_COEF = [-41.5246165066485, 0.938845343539216, 0.579553226691258, -0.112921825357488]
STACKLOSS_SCALE = 1.91235465079078
STACKLOSS_SE = [5.29779752417321, 0.117429192506713, 0.262963496541787, 0.0698898570563238]
ENGEL_COEF = [85.5235000213225, 0.553883450506649]
ENGEL_SCALE = 76.3278981622508
ENGEL_SE = [22.4933134770897, 0.0305181683954126]


# -- R references -------------------------------------------------------------------------


def test_stackloss_matches_robustbase(stackloss_data):
    X, y = stackloss_data
    res = MM(random_state=0).fit(X, y).result_
    assert list(res.params.index) == ["const", "AIRFLOW", "WATERTEMP", "ACIDCONC"]
    np.testing.assert_allclose(res.params, STACKLOSS_COEF, rtol=RTOL_R)
    np.testing.assert_allclose(res.scale, STACKLOSS_SCALE, rtol=RTOL_R)
    np.testing.assert_allclose(res.bse(), STACKLOSS_SE, rtol=RTOL_R)
    np.testing.assert_allclose(res.bse("avar1"), STACKLOSS_SE, rtol=RTOL_R)
    assert res.converged
    assert res.cov_kind == "avar1"


def test_engel_matches_robustbase(engel_data):
    X, y = engel_data
    res = MM(random_state=0).fit(X, y).result_
    np.testing.assert_allclose(res.params, ENGEL_COEF, rtol=RTOL_R)
    np.testing.assert_allclose(res.scale, ENGEL_SCALE, rtol=RTOL_R)
    np.testing.assert_allclose(res.bse(), ENGEL_SE, rtol=RTOL_R)
    assert res.converged


@pytest.mark.parametrize("data", ["stackloss_data", "engel_data"])
def test_same_estimate_for_every_seed(data, request):
    """Well-posed data: every seed's search finds the same S-minimum, hence the same MM fit."""
    X, y = request.getfixturevalue(data)
    fits = [MM(random_state=seed).fit(X, y).result_ for seed in (0, 1, 7, 2026, 12345)]
    for res in fits[1:]:
        # different subsets stop the S refinement (tol 1e-7) at slightly different points
        np.testing.assert_allclose(res.params, fits[0].params, rtol=1e-6)
        np.testing.assert_allclose(res.scale, fits[0].scale, rtol=1e-6)


def test_reproducible_for_fixed_seed(stackloss_data):
    X, y = stackloss_data
    a = MM(random_state=3).fit(X, y).result_
    b = MM(random_state=3).fit(X, y).result_
    np.testing.assert_array_equal(a.params, b.params)
    assert a.scale == b.scale
    gen = MM(random_state=np.random.default_rng(3)).fit(X, y).result_
    np.testing.assert_array_equal(gen.params, a.params)


# -- the S-step ---------------------------------------------------------------------------


def test_tuning_constants():
    """E_Phi chi_c = 1/2 at c = 1.54764; 95% efficiency at c = 4.685061 (robustbase's roundings)."""
    assert bisquare_c_for_breakdown(0.5) == pytest.approx(BISQUARE_CHI_C50, abs=1e-5)
    assert bisquare_c_for_efficiency(0.95) == pytest.approx(BISQUARE_PSI_C95, abs=1e-5)
    # monotone: less breakdown -> larger c; more efficiency -> larger c
    assert bisquare_c_for_breakdown(0.25) > bisquare_c_for_breakdown(0.5)
    assert bisquare_c_for_efficiency(0.85) < bisquare_c_for_efficiency(0.95)
    # chi is the bisquare rho normalised to [0, 1]
    u = np.linspace(-3, 3, 13)
    expected = np.where(np.abs(u) <= 1.5, 1 - (1 - (u / 1.5) ** 2) ** 3, 1.0)
    np.testing.assert_allclose(chi(u, 1.5), expected, rtol=1e-14)


def test_m_scale_solves_its_equation(rng):
    R = rng.standard_t(3, size=(4, 50))
    s, conv, _ = m_scale(R, BISQUARE_CHI_C50, 0.5, np.full(4, 10.0), n_coef=2)
    assert conv.all()
    lhs = chi(R / s[:, None], BISQUARE_CHI_C50).sum(axis=1) / (50 - 2)
    np.testing.assert_allclose(lhs, 0.5, rtol=1e-12)
    # scale equivariance
    s3, _, _ = m_scale(3.0 * R, BISQUARE_CHI_C50, 0.5, np.full(4, 0.01), n_coef=2)
    np.testing.assert_allclose(s3, 3.0 * s, rtol=1e-10)


def test_s_estimate_scale_is_the_m_scale_of_its_residuals(stackloss_data):
    X, y = stackloss_data
    design = np.column_stack([np.ones(len(y)), X.to_numpy()])
    fit = fast_s(design, y.to_numpy(), rng=np.random.default_rng(0))
    assert fit.converged
    lhs = chi(fit.resid / fit.scale, BISQUARE_CHI_C50).sum() / (len(y) - 4)
    assert lhs == pytest.approx(0.5, rel=1e-6)  # robustbase stops refining at 1e-7


# -- robustness and efficiency ------------------------------------------------------------


def test_breakdown_with_30_percent_bad_leverage_points():
    """30% bad leverage points (x and y contaminated): MM's slope stays near 2, OLS's does not.

    Clean part: y = 1 + 2x + N(0, 0.5^2) with x ~ N(0, 1), so the clean-data slope has a
    standard error of about 0.03; the 60 bad points sit at x ~ 10, y ~ -10.
    """
    rng = np.random.default_rng(11)
    n, n_bad = 200, 60
    x = rng.normal(size=n)
    y = 1.0 + 2.0 * x + 0.5 * rng.normal(size=n)
    x[:n_bad] = rng.normal(10.0, 0.5, n_bad)
    y[:n_bad] = rng.normal(-10.0, 1.0, n_bad)
    X = x[:, None]
    mm = MM(random_state=0).fit(X, y)
    ols_slope = OLS().fit(X, y).coef_[0]
    assert abs(mm.coef_[0] - 2.0) < 0.1
    assert abs(ols_slope - 2.0) > 1.0
    # the bad points get zero weight, so the fit is (nearly) MM on the clean part alone
    assert mm.result_.extra["weights"][:n_bad].max() == 0.0
    clean = MM(random_state=0).fit(X[n_bad:], y[n_bad:])
    assert abs(mm.coef_[0] - clean.coef_[0]) < 0.02


def test_efficiency_at_the_normal():
    """Monte Carlo: MSE(OLS) / MSE(MM) of all 4 coefficients, n = 500, within 3 MCSE of 0.95.

    100 replications (about 4 s of CPU). The MCSE is the delta-method standard error of the
    ratio of means, computed from the replications themselves; pooling the four
    coefficients (x independent standard normal) brings it to about 0.02, so the test
    detects an efficiency off by more than about 0.06.
    """
    rng = np.random.default_rng(20261128)
    reps, n = 100, 500
    beta = np.array([1.0, 2.0, -1.0, 0.5])
    X = rng.normal(size=(reps, n, 3))
    Y = beta[0] + X @ beta[1:] + rng.normal(size=(reps, n))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mm = MM(random_state=0).fit_many(X, Y)
    ols = OLS().fit_many(X, Y)
    assert mm.converged.all()
    d_mm = ((mm.coef - beta) ** 2).sum(axis=1)
    d_ols = ((ols.coef - beta) ** 2).sum(axis=1)
    eff = d_ols.mean() / d_mm.mean()
    influence = (d_ols - eff * d_mm) / d_mm.mean()
    mcse = influence.std(ddof=1) / np.sqrt(reps)
    assert mcse < 0.03
    assert abs(eff - 0.95) < 3 * mcse, (eff, mcse)


# -- inference ----------------------------------------------------------------------------


def test_sandwich_kind_is_the_m_sandwich_at_the_s_scale(stackloss_data):
    X, y = stackloss_data
    res = MM(random_state=0).fit(X, y).result_
    design = np.column_stack([np.ones(len(y)), X.to_numpy()])
    u = res.resid / res.scale
    c = BISQUARE_PSI_C95
    t2 = (u / c) ** 2
    psi = np.where(t2 <= 1, u * (1 - t2) ** 2, 0.0)
    dpsi = np.where(t2 <= 1, (1 - t2) * (1 - 5 * t2), 0.0)
    jinv = np.linalg.inv(design.T @ (dpsi[:, None] * design))
    expected = res.scale**2 * jinv @ (design.T @ (psi[:, None] ** 2 * design)) @ jinv
    np.testing.assert_allclose(res.cov("sandwich").to_numpy(), expected, rtol=1e-10)
    assert "avar1" in REGISTRY
    assert {"avar1", "sandwich", "bootstrap"} <= set(res.cov_kinds)  # and HC0-HC3, HAC, cluster
    assert res.use_t and res.df_resid == len(y) - 4


def test_avar1_batched_equals_single(stackloss_data, engel_data):
    """fit_many (loop over fits, batched covariance registry) equals separate fits."""
    X, y = engel_data
    Xn = X.to_numpy()
    rng = np.random.default_rng(5)
    Y = np.vstack([y.to_numpy(), y.to_numpy() + rng.normal(0, 30, len(y))])
    many = MM(random_state=1).fit_many(Xn, Y, kinds=("avar1", "sandwich"))
    for r in range(2):
        single = MM(random_state=1).fit(Xn, Y[r]).result_
        np.testing.assert_allclose(many.coef[r], single.params, rtol=1e-12)
        np.testing.assert_allclose(many.se["avar1"][r], single.bse("avar1"), rtol=1e-12)
        np.testing.assert_allclose(many.se["sandwich"][r], single.bse("sandwich"), rtol=1e-12)
        assert many.scale[r] == single.scale


def test_posdefify_repairs_negative_eigenvalues():
    """robustbase's posdefify: negative eigenvalues to 0, diagonal kept; PSD input untouched."""
    from tailreg.inference.robust_cov import posdefify as _posdefify

    V = np.array([[4.0, 3.0], [3.0, 1.0]])  # eigenvalues 5.85, -0.85
    fixed = _posdefify(np.stack([V, np.eye(2)]))
    np.testing.assert_allclose(np.diag(fixed[0]), np.diag(V), rtol=1e-14)
    assert np.linalg.eigvalsh(fixed[0]).min() > -1e-12
    # rank one after the repair: |corr| = 1
    assert abs(fixed[0, 0, 1]) == pytest.approx(2.0, rel=1e-12)
    np.testing.assert_array_equal(fixed[1], np.eye(2))


def test_regression_and_scale_equivariance(stackloss_data):
    """Same seed, same subsets: y -> a y + X g gives beta -> a beta + g, scale -> |a| scale."""
    X, y = stackloss_data
    g = np.array([3.0, -0.5, 0.25, 1.0])
    design = np.column_stack([np.ones(len(y)), X.to_numpy()])
    base = MM(random_state=4).fit(X, y).result_
    moved = MM(random_state=4).fit(X, -2.5 * y + design @ g).result_
    np.testing.assert_allclose(moved.params, -2.5 * base.params + g, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(moved.scale, 2.5 * base.scale, rtol=1e-6)
    np.testing.assert_allclose(moved.bse(), 2.5 * base.bse(), rtol=1e-5)


def test_no_intercept_and_other_tuning(engel_data):
    X, y = engel_data
    res = MM(random_state=0, fit_intercept=False).fit(X, y).result_
    assert list(res.params.index) == ["income"]
    assert res.converged
    eff85 = MM(random_state=0, efficiency=0.85, breakdown=0.25).fit(X, y).result_
    assert eff85.extra["c_psi"] == pytest.approx(bisquare_c_for_efficiency(0.85))
    assert eff85.extra["c_chi"] == pytest.approx(bisquare_c_for_breakdown(0.25))
    assert eff85.converged


def test_unconverged_s_step_is_flagged(stackloss_data):
    X, y = stackloss_data
    with pytest.warns(ConvergenceWarning, match="s_max_iter"):
        res = MM(random_state=0, s_max_iter=2).fit(X, y).result_
    assert not res.converged
    assert not res.extra["s_converged"]


def test_exact_fit_warns():
    rng = np.random.default_rng(2)
    x = rng.normal(size=30)
    y = 1.0 + 2.0 * x
    y[:10] += rng.normal(0, 5, 10)
    with pytest.warns(ExactFitWarning):
        res = MM(random_state=0).fit(x[:, None], y).result_
    np.testing.assert_allclose(res.params, [1.0, 2.0], rtol=1e-10)
    assert res.scale == 0.0
    assert np.isnan(res.bse("avar1")).all()
    assert np.isnan(res.bse("sandwich")).all()


# -- API ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"breakdown": 0.0}, "breakdown"),
        ({"breakdown": 0.6}, "breakdown"),
        ({"breakdown": -0.1}, "breakdown"),
        ({"breakdown": "half"}, "breakdown"),
        ({"efficiency": 0.0}, "efficiency"),
        ({"efficiency": 1.0}, "efficiency"),
        ({"efficiency": 1.5}, "efficiency"),
        ({"n_subsamples": 0}, "n_subsamples"),
        ({"s_max_iter": 2.5}, "s_max_iter"),
        ({"max_iter": 0}, "max_iter"),
        ({"tol": -1.0}, "tol"),
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_bad_input(params, match, engel_data):
    X, y = engel_data
    with pytest.raises(ValueError, match=match):
        MM(**params).fit(X, y)


def test_bad_data(engel_data):
    X, y = engel_data
    Xbad = X.to_numpy().copy()
    Xbad[3, 0] = np.nan
    with pytest.raises(ValueError):
        MM().fit(Xbad, y)
    with pytest.raises(ValueError, match="n_samples=2"):
        MM().fit(X.iloc[:2], y.iloc[:2])


# check_estimator: every check passes; check_array_api_input skips itself (SCIPY_ARRAY_API
# is not set in this environment), which pytest reports as a named skip.
@parametrize_with_checks([MM(random_state=0)], expected_failed_checks=pending_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
