"""Huber M-regression: MASS rlm references, statsmodels RLM, closed forms, vectorised fits."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import optimize
from sklearn.utils.estimator_checks import parametrize_with_checks

from _sklearn_checks import pending_checks
from tailreg.estimators.huber import Huber
from tailreg.estimators.ols import OLS
from tailreg.exceptions import ConvergenceWarning, ExactFitWarning
from tailreg.losses import Huber as HuberLoss
from tailreg.solvers.irls import irls

RTOL_R = 1e-6  # issue 2: R 4.2 / MASS 7.3 references, rlm(acc = 1e-13, maxit = 1000)


# --------------------------------------------------------------------------------------
# R references


def test_stackloss_mad_matches_mass(stackloss_data):
    X, y = stackloss_data
    res = Huber().fit(X, y).result_
    np.testing.assert_allclose(
        res.params,
        [-41.026485373295, 0.829385770253849, 0.926059415548633, -0.127846317965419],
        rtol=RTOL_R,
    )
    np.testing.assert_allclose(
        res.bse(),
        [9.80687229435335, 0.111174962319929, 0.303393403349562, 0.128846345686815],
        rtol=RTOL_R,
    )
    assert res.scale == pytest.approx(2.4404890459929, rel=RTOL_R)
    assert res.converged
    assert list(res.params.index) == ["const", "AIRFLOW", "WATERTEMP", "ACIDCONC"]


def test_stackloss_proposal2_matches_mass(stackloss_data):
    X, y = stackloss_data
    res = Huber(scale="proposal2").fit(X, y).result_
    np.testing.assert_allclose(
        res.params,
        [-41.1408784130752, 0.81673244834453, 0.983794408112937, -0.131433292637775],
        rtol=RTOL_R,
    )
    assert res.scale == pytest.approx(2.85513271973978, rel=RTOL_R)


def test_engel_mad_matches_mass(engel_data):
    X, y = engel_data
    res = Huber().fit(X, y).result_
    np.testing.assert_allclose(res.params, [99.4282005392644, 0.536837949482791], rtol=RTOL_R)
    np.testing.assert_allclose(res.bse("H1"), [12.1246979386103, 0.0109160359519624], rtol=RTOL_R)
    assert res.scale == pytest.approx(81.4547767134507, rel=RTOL_R)


# --------------------------------------------------------------------------------------
# statsmodels RLM


def _sm_h1_to_mass(sm_res, sresid, loss, n, k):
    """statsmodels' H1 uses var(psi') with ddof=0, MASS (and tailreg) ddof=1: rescale K^2."""
    d = loss.psi_prime(sresid)
    m = d.mean()
    k_sm = 1 + k / n * d.var() / m**2
    k_mass = 1 + k / n * d.var(ddof=1) / m**2
    return np.asarray(sm_res.bcov_scaled) * (k_mass / k_sm) ** 2


@pytest.mark.parametrize("k", [1.345, 2.0])
def test_fixed_scale_equals_statsmodels_rlm(stackloss_data, k):
    X, y = stackloss_data
    s = 3.0
    ours = Huber(k=k, scale=s).fit(X, y).result_
    Xc = sm.add_constant(X.to_numpy())
    ref = sm.RLM(y.to_numpy(), Xc, M=sm.robust.norms.HuberT(t=k)).fit(
        start_scale=s, update_scale=False, conv="coefs", tol=1e-14, maxiter=1000
    )
    assert ref.scale == s
    np.testing.assert_allclose(ours.params, ref.params, rtol=1e-8)
    cov = _sm_h1_to_mass(ref, ref.sresid, HuberLoss(k), len(y), Xc.shape[1])
    np.testing.assert_allclose(ours.cov("H1"), cov, rtol=1e-8)


def test_mad_scale_equals_statsmodels_rlm_with_mass_mad(engel_data):
    """statsmodels RLM with MASS's MAD (0.6745, about 0) re-estimated each step: same point."""
    X, y = engel_data
    ours = Huber().fit(X, y).result_
    ref = sm.RLM(y.to_numpy(), sm.add_constant(X.to_numpy()), M=sm.robust.norms.HuberT()).fit(
        scale_est=lambda model, r: np.median(np.abs(r)) / 0.6745,
        conv="coefs",
        tol=1e-13,
        maxiter=1000,
    )
    np.testing.assert_allclose(ours.params, ref.params, rtol=1e-8)
    assert ours.scale == pytest.approx(ref.scale, rel=1e-8)


# --------------------------------------------------------------------------------------
# closed forms and equivalences


def test_intercept_only_fixed_scale_is_root_of_psi_sum(rng):
    y = rng.standard_t(2, size=41) * 3 + 10
    s, k = 2.5, 1.345
    m = Huber(k=k, scale=s, fit_intercept=False).fit(np.ones((41, 1)), y).coef_[0]
    root = optimize.brentq(
        lambda mu: HuberLoss(k).psi((y - mu) / s).sum(), y.min(), y.max(), xtol=1e-14
    )
    assert m == pytest.approx(root, rel=1e-10)


def test_intercept_only_mad_solves_estimating_equation(rng):
    y = rng.standard_t(2, size=40) * 3 + 10
    res = Huber(fit_intercept=False).fit(np.ones((40, 1)), y).result_
    mu, s = res.params.iloc[0], res.scale
    assert s == pytest.approx(np.median(np.abs(y - mu)) / 0.6745, rel=1e-10)
    assert abs(HuberLoss(1.345).psi((y - mu) / s).sum()) < 1e-9


@pytest.mark.parametrize("k", [1e10, np.inf])
def test_huge_k_is_ols(stackloss_data, k):
    X, y = stackloss_data
    ours = Huber(k=k).fit(X, y).result_
    ols = OLS().fit(X, y).result_
    np.testing.assert_allclose(ours.params, ols.params, rtol=1e-10)
    # the sandwich of the squared loss is White's HC0, whatever the scale
    np.testing.assert_allclose(ours.cov("sandwich"), ols.cov("HC0"), rtol=1e-9)


def test_result_api(stackloss_data):
    X, y = stackloss_data
    est = Huber().fit(X, y)
    res = est.result_
    assert res.cov_kind == "H1"
    table = res.summary()
    assert list(table.columns[:3]) == ["coef", "std err", "z"]
    alt = res.with_cov("sandwich")
    assert alt.cov_kind == "sandwich" and res.cov_kind == "H1"
    assert np.all(alt.bse() > 0)
    np.testing.assert_allclose(est.predict(X), X.to_numpy() @ est.coef_ + est.intercept_)
    with pytest.raises(ValueError, match="not available"):
        res.bse("oim")  # HC0-HC3, HAC and cluster are available (issue 13)


# --------------------------------------------------------------------------------------
# equivariance (hypothesis)


def _data(seed: int, n: int, p: int):
    g = np.random.default_rng(seed)
    X = g.standard_normal((n, p))
    y = 1.0 + X @ np.arange(1, p + 1) + g.standard_t(3, size=n)
    return X, y


_eq_settings = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
_seeds = st.integers(0, 2**31 - 1)
_n = st.integers(12, 40)
_p = st.integers(1, 3)


def _close(a, b, scale_ref):
    np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-8 * scale_ref)


@pytest.mark.parametrize("scale", ["mad", "proposal2"])
@_eq_settings
@given(seed=_seeds, n=_n, p=_p, shift=st.floats(-100, 100))
def test_regression_equivariance(scale, seed, n, p, shift):
    X, y = _data(seed, n, p)
    gamma = shift * np.linspace(-1.0, 1.0, p + 1)
    a = Huber(scale=scale).fit(X, y)
    b = Huber(scale=scale).fit(X, y + gamma[0] + X @ gamma[1:])
    ref = 1 + abs(shift)
    _close(b.intercept_, a.intercept_ + gamma[0], ref)
    _close(b.coef_, a.coef_ + gamma[1:], ref)
    _close(b.result_.scale, a.result_.scale, ref)


@pytest.mark.parametrize("scale", ["mad", "proposal2"])
@_eq_settings
@given(
    seed=_seeds,
    n=_n,
    p=_p,
    c=st.floats(0.01, 100) | st.floats(-100, -0.01),
)
def test_scale_equivariance(scale, seed, n, p, c):
    X, y = _data(seed, n, p)
    a = Huber(scale=scale).fit(X, y)
    b = Huber(scale=scale).fit(X, c * y)
    ref = abs(c) * (1 + np.abs(a.coef_).max())
    _close(b.coef_, c * a.coef_, ref)
    _close(b.intercept_, c * a.intercept_, ref)
    assert b.result_.scale == pytest.approx(abs(c) * a.result_.scale, rel=1e-7)
    np.testing.assert_allclose(b.result_.bse(), abs(c) * a.result_.bse(), rtol=1e-6)


@_eq_settings
@given(seed=_seeds, n=_n, p=_p, mseed=_seeds)
def test_affine_equivariance(seed, n, p, mseed):
    X, y = _data(seed, n, p)
    g = np.random.default_rng(mseed)
    A = g.standard_normal((p, p)) + 3 * np.eye(p)  # well conditioned
    a = Huber().fit(X, y)
    b = Huber().fit(X @ A, y)
    ref = 1 + np.abs(a.coef_).max()
    _close(b.coef_, np.linalg.solve(A, a.coef_), ref)
    _close(b.intercept_, a.intercept_, ref)


# --------------------------------------------------------------------------------------
# fit_many


@pytest.mark.parametrize("scale", ["mad", "proposal2", 2.0])
def test_fit_many_shared_design_equals_separate_fits(rng, scale):
    n, p, R = 30, 2, 12
    X = rng.standard_normal((n, p))
    Y = 1 + X @ np.array([1.0, -2.0]) + rng.standard_t(2, size=(R, n))
    est = Huber(scale=scale)
    many = est.fit_many(X, Y, kinds=("H1", "sandwich"))
    assert many.params.shape == (R, p + 1)
    for r in range(R):
        one = Huber(scale=scale).fit(X, Y[r]).result_
        np.testing.assert_allclose(many.params[r], one.params, rtol=1e-8)
        np.testing.assert_allclose(many.se["H1"][r], one.bse("H1"), rtol=1e-8)
        np.testing.assert_allclose(many.se["sandwich"][r], one.bse("sandwich"), rtol=1e-8)
        assert many.scale[r] == pytest.approx(one.scale, rel=1e-8)
        assert many.n_iter[r] == one.n_iter
    assert many.converged.all()


def test_fit_many_stacked_designs_equals_separate_fits(rng):
    R, n, p = 8, 25, 3
    X = rng.standard_normal((R, n, p))
    Y = X.sum(axis=2) + rng.standard_cauchy((R, n))
    many = Huber().fit_many(X, Y, kinds=("H1", "sandwich"))
    for r in range(R):
        one = Huber().fit(X[r], Y[r]).result_
        np.testing.assert_allclose(many.params[r], one.params, rtol=1e-8)
        np.testing.assert_allclose(many.se["sandwich"][r], one.bse("sandwich"), rtol=1e-8)


def test_irls_fixed_scale_array(rng):
    n, R = 20, 4
    X = np.column_stack([np.ones(n), rng.standard_normal(n)])
    Y = rng.standard_normal((R, n))
    scales = np.array([0.5, 1.0, 2.0, 4.0])
    res = irls(X, Y, HuberLoss(1.345), scale=scales)
    np.testing.assert_array_equal(res.scale, scales)
    for r in range(R):
        one = irls(X, Y[r : r + 1], HuberLoss(1.345), scale=float(scales[r]))
        np.testing.assert_allclose(res.beta[r], one.beta[0], rtol=1e-12)


# --------------------------------------------------------------------------------------
# scikit-learn, bad input, failures


#: scikit-learn's sample-weight equivalence check fits 30 columns to 15 rows (27 repeated); an
#: M-estimator needs more rows than coefficients and says so with a ValueError. The same
#: property (zero weight = row removed, integer weight = row repeated) is tested on full-rank
#: designs in test_huber_weights.py (Huber and bisquare).
_P_GREATER_THAN_N = {
    "check_sample_weight_equivalence_on_dense_data": "the check's design has more columns than rows"
}


@parametrize_with_checks(
    [Huber(), Huber(scale="proposal2"), Huber(k=2.0, scale=1.5)],
    expected_failed_checks=lambda est: pending_checks(est, _P_GREATER_THAN_N),
)
def test_sklearn_compatible(estimator, check):
    # no check is skipped; check_array_api_input skips itself unless SCIPY_ARRAY_API is set
    check(estimator)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"k": 0}, "k must be"),
        ({"k": -1.0}, "k must be"),
        ({"k": np.nan}, "k must be"),
        ({"k": "big"}, "k must be"),
        ({"scale": "huber"}, "scale must be"),
        ({"scale": -2.0}, "fixed scale"),
        ({"scale": 0.0}, "fixed scale"),
        ({"tol": 0.0}, "tol"),
        ({"max_iter": 0}, "max_iter"),
    ],
)
def test_bad_hyperparameters(stackloss_data, params, match):
    X, y = stackloss_data
    with pytest.raises(ValueError, match=match):
        Huber(**params).fit(X, y)
    with pytest.raises(ValueError, match=match):
        Huber(**params).fit_many(X.to_numpy(), y.to_numpy())


def test_bad_data(stackloss_data):
    X, y = stackloss_data
    Xn = X.to_numpy().copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Huber().fit(Xn, y)
    with pytest.raises(ValueError, match="n_samples=4"):
        Huber().fit(X.iloc[:4], y.iloc[:4])


def test_max_iter_one_warns(stackloss_data):
    X, y = stackloss_data
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = Huber(max_iter=1).fit(X, y).result_
    assert not res.converged and res.n_iter == 1
    Y = np.vstack([y, y[::-1]])
    with pytest.warns(ConvergenceWarning, match="2 of 2"):
        many = Huber(max_iter=1).fit_many(X.to_numpy(), Y)
    assert not many.converged.any()


def test_exact_fit_warns_not_silent_nan(rng):
    n = 20
    x = rng.standard_normal(n)
    y = 2.0 + 3.0 * x
    y[:3] += 50.0  # three outliers, the other 17 points on the line
    with pytest.warns(ExactFitWarning, match="exact"):
        est = Huber().fit(x[:, None], y)
    np.testing.assert_allclose([est.intercept_, est.coef_[0]], [2.0, 3.0], rtol=1e-8)
    with pytest.warns(ExactFitWarning, match="1 of 2"):
        many = Huber().fit_many(x[:, None], np.vstack([y, y + rng.standard_normal(n)]))
    assert np.isnan(many.se["H1"][0]).all() and np.isfinite(many.se["H1"][1]).all()


def test_all_points_on_a_line_is_an_exact_fit(rng):
    x = rng.standard_normal(15)
    with pytest.warns(ExactFitWarning):
        est = Huber().fit(x[:, None], 4.0 - x)
    np.testing.assert_allclose([est.intercept_, est.coef_[0]], [4.0, -1.0], rtol=1e-12)
    assert est.result_.converged


def test_small_noise_at_a_large_level_is_not_an_exact_fit(rng):
    x = rng.standard_normal(30)
    y = 1e6 + 1e-3 * x + 1e-4 * rng.standard_normal(30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = Huber().fit(x[:, None], y).result_
    assert 1e-5 < res.scale < 1e-3 and res.converged


def test_no_warning_on_regular_fit(engel_data):
    X, y = engel_data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Huber().fit(X, y)


# --------------------------------------------------------------------------------------
# the two iterations


@pytest.mark.parametrize("scale", ["mad", "proposal2"])
def test_irls_method_reaches_the_newton_fit(stackloss_data, engel_data, scale):
    for X, y in (stackloss_data, engel_data):
        irls_fit = Huber(scale=scale, method="irls").fit(X, y)
        newton_fit = Huber(scale=scale).fit(X, y)
        np.testing.assert_allclose(newton_fit.result_.params, irls_fit.result_.params, rtol=1e-10)
        assert newton_fit.result_.scale == pytest.approx(irls_fit.result_.scale, rel=1e-10)
        np.testing.assert_allclose(newton_fit.result_.bse(), irls_fit.result_.bse(), rtol=1e-8)
        assert newton_fit.n_iter_ < irls_fit.n_iter_


def test_irls_method_matches_mass(stackloss_data):
    X, y = stackloss_data
    res = Huber(method="irls").fit(X, y).result_
    np.testing.assert_allclose(
        res.params,
        [-41.026485373295, 0.829385770253849, 0.926059415548633, -0.127846317965419],
        rtol=RTOL_R,
    )


def test_unknown_method(stackloss_data):
    X, y = stackloss_data
    with pytest.raises(ValueError, match="method must be 'newton' or 'irls'"):
        Huber(method="lbfgs").fit(X, y)
