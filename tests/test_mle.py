"""GaussianMLE: a separate likelihood code path that must land on OLS (Issue 2)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.utils.estimator_checks import parametrize_with_checks

from _sklearn_checks import pending_checks
from tailreg.estimators.mle import GaussianMLE, gaussian_scores_information
from tailreg.estimators.ols import OLS
from tailreg.exceptions import ConvergenceWarning


def _data_sets(stackloss_data, engel_data):
    return {"stackloss": stackloss_data, "engel": engel_data}


@pytest.fixture(params=["stackloss", "engel"])
def data(request, stackloss_data, engel_data):
    return _data_sets(stackloss_data, engel_data)[request.param]


def _scaled_close(a, b, rtol):
    """Covariance matrices equal relative to the scale sqrt(a_ii a_jj) of each entry."""
    d = np.sqrt(np.outer(np.diag(b), np.diag(b)))
    np.testing.assert_allclose(a / d, b / d, rtol=0, atol=rtol)


# -- the equivalences of the issue -------------------------------------------------------
def test_beta_equals_ols_and_sigma2_is_rss_over_n(data):
    X, y = data
    mle = GaussianMLE().fit(X, y)
    ols = OLS().fit(X, y)
    res = mle.result_
    k = X.shape[1] + 1
    # issue asks 1e-7; measured ~1e-14
    np.testing.assert_allclose(res.params.iloc[:k], ols.result_.params, rtol=1e-10)
    np.testing.assert_allclose(mle.coef_, ols.coef_, rtol=1e-10)
    np.testing.assert_allclose(mle.intercept_, ols.intercept_, rtol=1e-10)
    rss = float(ols.result_.resid @ ols.result_.resid)
    n = len(y)
    assert res.params["sigma2"] == pytest.approx(rss / n, rel=1e-12)
    assert res.scale == pytest.approx(np.sqrt(rss / n), rel=1e-12)
    assert res.converged
    assert res.n_iter >= 1
    assert list(res.params.index) == ["const", *X.columns, "sigma2"]
    np.testing.assert_allclose(mle.predict(X), ols.predict(X), rtol=1e-10)


def test_loglik_aic_bic_match_statsmodels(data):
    X, y = data
    res = GaussianMLE().fit(X, y).result_
    sm_res = sm.OLS(y, sm.add_constant(X)).fit()
    n, q = len(y), len(res.params)
    assert res.loglik == pytest.approx(sm_res.llf, rel=1e-12)
    sigma = np.sqrt(res.params["sigma2"])
    assert res.loglik == pytest.approx(stats.norm.logpdf(res.resid, scale=sigma).sum(), rel=1e-12)
    # R's AIC(lm) counts sigma; statsmodels does not (its k = number of coefficients)
    assert res.aic == pytest.approx(-2 * sm_res.llf + 2 * q, rel=1e-12)
    assert res.aic == pytest.approx(sm_res.aic + 2, rel=1e-12)
    assert res.bic == pytest.approx(sm_res.bic + np.log(n), rel=1e-12)


def test_aic_counts_sigma_like_r(stackloss_data):
    # R's AIC(lm): n (log(2 pi RSS/n) + 1) + 2 (k + 1), sigma counted as a parameter
    X, y = stackloss_data
    res = GaussianMLE().fit(X, y).result_
    n = len(y)
    rss = float(res.resid @ res.resid)
    assert res.aic == pytest.approx(n * (np.log(2 * np.pi * rss / n) + 1) + 2 * 5, rel=1e-12)
    assert res.bic == pytest.approx(
        n * (np.log(2 * np.pi * rss / n) + 1) + np.log(n) * 5, rel=1e-12
    )


def test_oim_covariance(data):
    X, y = data
    res = GaussianMLE().fit(X, y).result_
    ols = OLS().fit(X, y).result_
    n, k = len(y), X.shape[1] + 1
    cov = res.cov("oim").to_numpy()
    _scaled_close(cov[:k, :k], ols.cov("classical").to_numpy() * (n - k) / n, 1e-10)
    s2 = res.params["sigma2"]
    assert cov[k, k] == pytest.approx(2 * s2**2 / n, rel=1e-10)
    # beta and sigma2 are orthogonal at the MLE
    np.testing.assert_allclose(cov[:k, k] / np.sqrt(np.diag(cov)[:k] * cov[k, k]), 0, atol=1e-10)
    assert res.cov_kind == "oim"
    np.testing.assert_array_equal(res.bse(), res.bse("oim"))


def test_sandwich_is_hc0_for_beta(data):
    X, y = data
    res = GaussianMLE().fit(X, y).result_
    ols = OLS().fit(X, y).result_
    n, k = len(y), X.shape[1] + 1
    cov = res.cov("sandwich").to_numpy()
    _scaled_close(cov[:k, :k], ols.cov("HC0").to_numpy(), 1e-10)
    # sigma2 entry: sum (r_i^2 - s2)^2 / n^2 (White 1982 for the variance parameter)
    r2 = ols.resid**2
    s2 = res.params["sigma2"]
    assert cov[k, k] == pytest.approx(np.sum((r2 - s2) ** 2) / n**2, rel=1e-10)


def test_scores_and_information_are_derivatives(rng):
    """Scores sum to the gradient of the log-likelihood; J is minus its Hessian."""
    n, k = 30, 3
    X = np.column_stack([np.ones(n), rng.standard_normal((n, k - 1))])
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.standard_normal(n)
    theta = np.array([0.9, -1.8, 0.4, 1.3])  # not the MLE: cross terms are nonzero

    def loglik(t):
        r = y - X @ t[:k]
        return stats.norm.logpdf(r, scale=np.sqrt(t[k])).sum()

    def grad(t):
        scores, _ = gaussian_scores_information(X, y - X @ t[:k], t[k])
        return scores.sum(axis=0)

    h = 1e-6
    eye = np.eye(k + 1)
    num_grad = np.array([(loglik(theta + h * e) - loglik(theta - h * e)) / (2 * h) for e in eye])
    np.testing.assert_allclose(grad(theta), num_grad, rtol=1e-6, atol=1e-6)
    num_hess = np.array([(grad(theta + h * e) - grad(theta - h * e)) / (2 * h) for e in eye])
    _, info = gaussian_scores_information(X, y - X @ theta[:k], theta[k])
    np.testing.assert_allclose(info, -num_hess, rtol=1e-6, atol=1e-5)


def test_summary_uses_normal_reference(stackloss_data):
    X, y = stackloss_data
    res = GaussianMLE().fit(X, y).result_
    summ = res.summary()
    assert list(summ.columns) == ["coef", "std err", "z", "P>|z|", "[0.025", "0.975]"]
    assert list(summ.index) == ["const", "AIRFLOW", "WATERTEMP", "ACIDCONC", "sigma2"]
    z = stats.norm.ppf(0.975)
    np.testing.assert_allclose(summ["0.975]"], res.params + z * res.bse(), rtol=1e-14)


def test_numpy_input_names_and_no_intercept(stackloss_data):
    X, y = stackloss_data
    mle = GaussianMLE(fit_intercept=False).fit(X.to_numpy(), y.to_numpy())
    ols = OLS(fit_intercept=False).fit(X.to_numpy(), y.to_numpy())
    assert list(mle.result_.params.index) == ["x1", "x2", "x3", "sigma2"]
    assert mle.intercept_ == 0.0
    np.testing.assert_allclose(mle.coef_, ols.coef_, rtol=1e-10)


# -- failures ----------------------------------------------------------------------------
def test_perfect_fit_raises_clear_error(rng):
    X = rng.standard_normal((20, 2))
    with pytest.raises(ValueError, match="perfect fit: residual variance is zero"):
        GaussianMLE().fit(X, 1.0 + X @ np.array([2.0, -1.0]))
    with pytest.raises(ValueError, match="perfect fit"):
        GaussianMLE().fit(X, np.full(20, 3.0))


def test_perfect_fit_in_fit_many_gives_nan(rng):
    X = rng.standard_normal((20, 2))
    Y = np.vstack([X[:, 0], X[:, 1] + rng.standard_normal(20)])
    with pytest.warns(ConvergenceWarning, match="1 of 2 fits"):
        many = GaussianMLE().fit_many(X, Y, kinds=["oim", "sandwich"])
    assert np.isnan(many.params[0]).all() and not many.converged[0]
    assert np.isfinite(many.params[1]).all() and many.converged[1]
    assert np.isnan(many.se["sandwich"][0]).all() and np.isfinite(many.se["sandwich"][1]).all()


def test_too_few_rows_for_beta_and_sigma(rng):
    # k = 3 coefficients plus sigma need n >= 4
    with pytest.raises(ValueError, match="n_samples=3"):
        GaussianMLE().fit(rng.standard_normal((3, 2)), rng.standard_normal(3))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"tol": 0.0}, "tol"),
        ({"tol": -1}, "tol"),
        ({"max_iter": 0}, "max_iter"),
        ({"max_iter": 2.5}, "max_iter"),
    ],
)
def test_bad_hyperparameters(params, match, rng):
    with pytest.raises(ValueError, match=match):
        GaussianMLE(**params).fit(rng.standard_normal((10, 2)), rng.standard_normal(10))


def test_convergence_warning(stackloss_data):
    X, y = stackloss_data
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = GaussianMLE(max_iter=1).fit(X, y).result_
    assert res.converged is False
    assert np.all(np.isfinite(res.params))
    Y = np.vstack([y, y[::-1]])
    with pytest.warns(ConvergenceWarning, match="2 of 2 fits did not converge"):
        many = GaussianMLE(max_iter=1).fit_many(X.to_numpy(), Y)
    assert not many.converged.any()


def test_no_warning_when_converged(stackloss_data):
    X, y = stackloss_data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GaussianMLE().fit(X, y)


@pytest.mark.parametrize("shift", [1e3, 1e5])
def test_ill_conditioned_uncentred_regressor(shift, rng):
    """A regressor with mean >> sd (cond(X) ~ 1e10) still lands on OLS."""
    n = 50
    x = shift + rng.standard_normal((n, 2))
    y = 1.0 + x @ np.array([1.0, 2.0]) + 0.5 * rng.standard_normal(n)
    mle = GaussianMLE().fit(x, y)
    ols = OLS().fit(x, y)
    assert mle.result_.converged
    np.testing.assert_allclose(mle.coef_, ols.coef_, rtol=1e-7)
    np.testing.assert_allclose(mle.intercept_, ols.intercept_, rtol=1e-7)


# -- equivariance (hypothesis) -----------------------------------------------------------
def _design(seed, n=25, p=2):
    g = np.random.default_rng(seed)
    X = g.standard_normal((n, p))
    y = X @ g.normal(size=p) + 1.0 + g.standard_t(3, size=n)
    return X, y


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shift=st.lists(st.floats(-10, 10), min_size=3, max_size=3))
def test_regression_equivariance(seed, shift):
    X, y = _design(seed)
    g = np.asarray(shift)
    base = GaussianMLE().fit(X, y).result_.params.to_numpy()
    moved = GaussianMLE().fit(X, y + g[0] + X @ g[1:]).result_.params.to_numpy()
    np.testing.assert_allclose(moved[:3], base[:3] + g, rtol=1e-9, atol=1e-9 * (1 + abs(g).max()))
    assert moved[3] == pytest.approx(base[3], rel=1e-9)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    c=st.floats(1e-3, 1e3).flatmap(lambda a: st.sampled_from([a, -a])),
)
def test_scale_equivariance(seed, c):
    X, y = _design(seed)
    base = GaussianMLE().fit(X, y).result_.params.to_numpy()
    scaled = GaussianMLE().fit(X, c * y).result_.params.to_numpy()
    np.testing.assert_allclose(scaled[:3], c * base[:3], rtol=1e-9, atol=1e-12 * abs(c))
    assert scaled[3] == pytest.approx(c**2 * base[3], rel=1e-9)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    a=st.lists(st.floats(-3, 3), min_size=4, max_size=4).filter(
        lambda v: abs(v[0] * v[3] - v[1] * v[2]) > 0.1
    ),
)
def test_affine_equivariance(seed, a):
    X, y = _design(seed)
    A = np.asarray(a).reshape(2, 2)
    base = GaussianMLE().fit(X, y)
    new = GaussianMLE().fit(X @ A, y)
    np.testing.assert_allclose(A @ new.coef_, base.coef_, rtol=1e-8, atol=1e-9)
    assert new.intercept_ == pytest.approx(base.intercept_, rel=1e-8, abs=1e-9)
    assert new.result_.params["sigma2"] == pytest.approx(base.result_.params["sigma2"], rel=1e-9)


# -- fit_many ----------------------------------------------------------------------------
def _assert_many_equals_fits(many, fits, kinds):
    for r, res in enumerate(fits):
        np.testing.assert_allclose(many.params[r], res.params.to_numpy(), rtol=1e-10)
        for kind in kinds:
            np.testing.assert_allclose(many.se[kind][r], res.bse(kind).to_numpy(), rtol=1e-9)
        assert many.scale[r] == pytest.approx(res.scale, rel=1e-10)
    assert many.converged.all()


def test_fit_many_shared_design_equals_separate_fits(stackloss_data, rng):
    X, y = stackloss_data
    X = X.to_numpy()
    Y = y.to_numpy() + rng.standard_t(3, size=(40, len(y))) * 3.0
    kinds = ("oim", "sandwich")
    many = GaussianMLE().fit_many(X, Y, kinds=kinds)
    assert many.params.shape == (40, 5)
    assert many.param_names == ("const", "x1", "x2", "x3", "sigma2")
    assert many.coef.shape == (40, 4)
    fits = [GaussianMLE().fit(X, Y[r]).result_ for r in range(40)]
    _assert_many_equals_fits(many, fits, kinds)
    # default kind only when none requested
    assert set(GaussianMLE().fit_many(X, Y).se) == {"oim"}


def test_fit_many_stacked_designs_equals_separate_fits(rng):
    R, n = 30, 40
    X = rng.standard_normal((R, n, 2)) * [1.0, 10.0] + [0.0, 50.0]
    Y = 2.0 + X @ np.array([1.0, -0.3]) + rng.exponential(size=(R, n))
    kinds = ("oim", "sandwich")
    many = GaussianMLE().fit_many(X, Y, kinds=kinds)
    fits = [GaussianMLE().fit(X[r], Y[r]).result_ for r in range(R)]
    _assert_many_equals_fits(many, fits, kinds)


def test_fit_many_equals_ols(rng):
    n, R = 60, 200
    X = rng.standard_normal((n, 3))
    Y = X @ np.array([1.0, 0.0, -1.0]) + rng.standard_normal((R, n))
    many = GaussianMLE().fit_many(X, Y)
    ols = OLS().fit_many(X, Y)
    np.testing.assert_allclose(many.coef, ols.coef, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(many.scale**2, ols.scale**2 * (n - 4) / n, rtol=1e-10)


def test_fit_many_rejects_unknown_kind(rng):
    with pytest.raises(ValueError, match="not available for GaussianMLE"):
        GaussianMLE().fit_many(
            rng.standard_normal((10, 1)), rng.standard_normal((2, 10)), kinds=["HC0"]
        )


# -- scikit-learn ------------------------------------------------------------------------
_EXPECTED_FAILED = {
    "check_regressors_no_decision_function": (
        "fits y = X[:, 0], an exact linear fit whose Gaussian likelihood is unbounded; "
        "GaussianMLE raises a ValueError there by design (the absence of decision_function "
        "is tested in test_no_decision_function)"
    ),
    "check_sample_weights_shape": "its data are an exact linear fit: the perfect-fit ValueError",
    "check_sample_weights_not_overwritten": (
        "its data are an exact linear fit: the perfect-fit ValueError"
    ),
    "check_sample_weight_equivalence_on_dense_data": (
        "after dropping the zero-weight rows 27 rows remain for 31 coefficients and a scale: "
        "the too-few-rows ValueError"
    ),
}


def _zero_weight_message_says_zero() -> bool:
    from tailreg._validation import check_weights

    try:
        check_weights(np.zeros(3), (3,))
    except ValueError as e:
        return "zero" in str(e)
    return False


if not _zero_weight_message_says_zero():
    # the message of tailreg._validation.check_weights (shared, fixed on other branches)
    _EXPECTED_FAILED["check_all_zero_sample_weights_error"] = "the message lacks 'zero'"


@parametrize_with_checks(
    [GaussianMLE()], expected_failed_checks=lambda est: pending_checks(est, _EXPECTED_FAILED)
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_no_decision_function(rng):
    est = GaussianMLE().fit(rng.standard_normal((10, 4)), rng.standard_normal(10))
    for name in ("decision_function", "predict_proba", "predict_log_proba"):
        assert not hasattr(est, name)


def test_result_is_frame_friendly(stackloss_data):
    X, y = stackloss_data
    res = GaussianMLE().fit(X, y).result_
    assert isinstance(res.params, pd.Series)
    assert res.cov().shape == (5, 5)
    assert res.with_cov("sandwich").cov_kind == "sandwich"
    assert res.cov_kind == "oim"


# -- observation weights (issue 13 item 2) -------------------------------------------------
def _weighted_data(seed: int = 5, n: int = 40):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = 1.0 + X @ [0.5, -2.0] + rng.standard_t(4, size=n)
    w = rng.integers(1, 5, size=n).astype(float)
    return X, y, w


def test_weighted_coef_equals_statsmodels_wls():
    import statsmodels.api as sm

    X, y, w = _weighted_data()
    res = GaussianMLE().fit(X, y, sample_weight=w).result_
    wls = sm.WLS(y, sm.add_constant(X), weights=w).fit()
    np.testing.assert_allclose(res.params.iloc[:3], wls.params, rtol=1e-8)
    r = wls.resid
    np.testing.assert_allclose(res.params["sigma2"], (w * r**2).sum() / w.sum(), rtol=1e-8)
    # the oim beta block is sigma2_MLE (X'WX)^-1
    Xc = sm.add_constant(X)
    ref = res.params["sigma2"] * np.linalg.inv(Xc.T @ (w[:, None] * Xc))
    np.testing.assert_allclose(res.cov("oim").to_numpy()[:3, :3], ref, rtol=1e-6)


def test_frequency_weights_equal_repeated_rows():
    X, y, w = _weighted_data()
    rep = np.repeat(np.arange(len(y)), w.astype(int))
    a = GaussianMLE().fit(X, y, sample_weight=w).result_
    b = GaussianMLE().fit(X[rep], y[rep]).result_
    np.testing.assert_allclose(a.params, b.params, rtol=1e-8)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-10)
    va, vb = a.cov("oim").to_numpy(), b.cov("oim").to_numpy()
    # the beta-sigma2 block is zero at the MLE: compare to rounding of the largest entry
    np.testing.assert_allclose(va, vb, rtol=1e-6, atol=1e-12 * np.abs(vb).max())


@pytest.mark.parametrize("shared", [True, False])
def test_weighted_fit_many_equals_fit_per_replication(shared):
    rng = np.random.default_rng(11)
    R, n = 5, 30
    Xs = rng.normal(size=(R, n, 2))
    X = Xs[0] if shared else Xs
    Y = 1.0 + np.einsum("rnk,k->rn", np.broadcast_to(X, (R, n, 2)), [1.0, 2.0])
    Y = Y + rng.standard_t(3, size=(R, n))
    W = rng.uniform(0.2, 3.0, size=(R, n))
    W[:, :4] = 0.0
    many = GaussianMLE().fit_many(X, Y, kinds=("oim",), sample_weight=W)
    for r in range(R):
        res = GaussianMLE().fit(X if shared else X[r], Y[r], sample_weight=W[r]).result_
        np.testing.assert_allclose(many.params[r], res.params.to_numpy(), rtol=1e-8)
        np.testing.assert_allclose(many.se["oim"][r], res.bse("oim"), rtol=1e-6)
