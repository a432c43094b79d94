"""OLS: R references, statsmodels covariance kinds, equivariance, fit_many, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils.estimator_checks import parametrize_with_checks
from statsmodels.stats import sandwich_covariance as sw

from _sklearn_checks import pending_checks
from tailreg.estimators.ols import OLS, lstsq, lstsq_qr
from tailreg.inference.covariance import hac_default_maxlags

# R 4.2, lm(stack.loss ~ ., stackloss); sandwich 3.0 vcovHC(type = "HC0" / "HC3")
R_COEF = [-39.919674420124, 0.715640200485283, 1.29528612438857, -0.152122519148653]
R_SE = [11.8959968506443, 0.134858185355372, 0.368024265272704, 0.156294043248621]
R_SIGMA = 3.24336391818523
R_HC0 = [6.41164946484018, 0.158944260529498, 0.446527688634606, 0.0864294755695947]
R_HC3 = [9.00110510894892, 0.21342119811652, 0.588753796732082, 0.120580229004299]

HC_KINDS = ["HC0", "HC1", "HC2", "HC3"]
ALL_KINDS = ["classical", *HC_KINDS, "HAC"]


def _scaled_close(a, b, atol):
    """Covariance matrices equal relative to sqrt(b_ii b_jj) entry by entry."""
    d = np.sqrt(np.outer(np.diag(b), np.diag(b)))
    np.testing.assert_allclose(np.asarray(a) / d, np.asarray(b) / d, rtol=0, atol=atol)


@pytest.fixture
def hetero_data(rng):
    """Heteroscedastic, autocorrelated errors (AR(1), rho = 0.6), n = 120, p = 2."""
    n = 120
    X = pd.DataFrame(rng.standard_normal((n, 2)) * [1.0, 3.0] + [0.0, 5.0], columns=["a", "b"])
    e = np.empty(n)
    e[0] = rng.standard_normal()
    for t in range(1, n):
        e[t] = 0.6 * e[t - 1] + rng.standard_normal()
    y = pd.Series(1.0 + X @ [0.5, -0.2] + e * (1 + np.abs(X["a"])), name="y")
    return X, y


@pytest.fixture(params=["stackloss", "engel", "hetero"])
def data(request, stackloss_data, engel_data, hetero_data):
    return {"stackloss": stackloss_data, "engel": engel_data, "hetero": hetero_data}[request.param]


# -- R reference values ------------------------------------------------------------------
def test_stackloss_matches_r(stackloss_data):
    X, y = stackloss_data
    res = OLS().fit(X, y).result_
    np.testing.assert_allclose(res.params, R_COEF, rtol=1e-6)
    np.testing.assert_allclose(res.bse(), R_SE, rtol=1e-6)
    np.testing.assert_allclose(res.bse("classical"), R_SE, rtol=1e-6)
    assert res.scale == pytest.approx(R_SIGMA, rel=1e-6)
    np.testing.assert_allclose(res.bse("HC0"), R_HC0, rtol=1e-6)
    np.testing.assert_allclose(res.bse("HC3"), R_HC3, rtol=1e-6)
    assert res.df_resid == 17 and res.nobs == 21
    assert res.converged and res.n_iter == 0
    assert res.objective == pytest.approx(R_SIGMA**2 * 17, rel=1e-6)


# -- statsmodels -------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["classical", *HC_KINDS])
def test_covariance_kinds_equal_statsmodels(data, kind):
    X, y = data
    res = OLS().fit(X, y).result_
    sm_res = sm.OLS(y, sm.add_constant(X)).fit(
        cov_type="nonrobust" if kind == "classical" else kind
    )
    np.testing.assert_allclose(res.params, sm_res.params, rtol=1e-10)
    _scaled_close(res.cov(kind), sm_res.cov_params(), 1e-10)
    np.testing.assert_allclose(res.bse(kind), sm_res.bse, rtol=1e-10)


@pytest.mark.parametrize("maxlags", [1, 3, 7])
def test_hac_given_maxlags_equals_statsmodels(data, maxlags):
    """statsmodels' cov_type="HAC": Bartlett kernel, no small-sample correction by default."""
    X, y = data
    res = OLS(hac_maxlags=maxlags).fit(X, y).result_
    sm_res = sm.OLS(y, sm.add_constant(X)).fit(cov_type="HAC", cov_kwds={"maxlags": maxlags})
    _scaled_close(res.cov("HAC"), sm_res.cov_params(), 1e-10)
    np.testing.assert_allclose(res.bse("HAC"), sm_res.bse, rtol=1e-10)


def test_hac_default_maxlags_equals_statsmodels(data):
    X, y = data
    n = len(y)
    res = OLS().fit(X, y).result_
    lags = hac_default_maxlags(n)
    assert lags == int(np.floor(4 * (n / 100) ** (2 / 9)))
    sm_fit = sm.OLS(y, sm.add_constant(X)).fit()
    sm_res = sm_fit.get_robustcov_results(cov_type="HAC", maxlags=lags)
    _scaled_close(res.cov("HAC"), sm_res.cov_params(), 1e-10)
    # and statsmodels' own default rule (nlags=None) in cov_hac_simple
    _scaled_close(
        res.cov("HAC"), sw.cov_hac_simple(sm_fit, nlags=None, use_correction=False), 1e-10
    )


def test_hac_default_rule_values():
    assert [hac_default_maxlags(n) for n in (21, 100, 235, 1000)] == [2, 4, 4, 6]


# -- closed forms ------------------------------------------------------------------------
def test_intercept_only_is_the_mean(engel_data):
    _, y = engel_data
    n = len(y)
    est = OLS(fit_intercept=False).fit(np.ones((n, 1)), y)
    assert est.coef_[0] == pytest.approx(y.mean(), rel=1e-13)
    assert est.result_.bse().iloc[0] == pytest.approx(y.std(ddof=1) / np.sqrt(n), rel=1e-12)
    assert est.result_.scale == pytest.approx(y.std(ddof=1), rel=1e-12)


def test_lstsq_qr_against_numpy(rng):
    X = rng.standard_normal((30, 4))
    Y = rng.standard_normal((5, 30))
    np.testing.assert_allclose(lstsq_qr(X, Y), np.linalg.lstsq(X, Y.T)[0].T, rtol=1e-12)
    Xs = rng.standard_normal((5, 30, 4))
    expect = np.stack([np.linalg.lstsq(Xs[r], Y[r])[0] for r in range(5)])
    np.testing.assert_allclose(lstsq_qr(Xs, Y), expect, rtol=1e-12)


# -- equivariance (hypothesis) -----------------------------------------------------------
def _design(seed, n=20, p=2):
    g = np.random.default_rng(seed)
    X = g.standard_normal((n, p))
    y = X @ g.normal(size=p) + 1.0 + g.standard_t(3, size=n)
    return X, y


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shift=st.lists(st.floats(-10, 10), min_size=3, max_size=3))
def test_regression_equivariance(seed, shift):
    X, y = _design(seed)
    g = np.asarray(shift)
    base = OLS().fit(X, y).result_
    moved = OLS().fit(X, y + g[0] + X @ g[1:]).result_
    np.testing.assert_allclose(
        moved.params, base.params + g, rtol=1e-10, atol=1e-10 * (1 + abs(g).max())
    )
    for kind in ALL_KINDS:
        np.testing.assert_allclose(moved.bse(kind), base.bse(kind), rtol=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    c=st.floats(1e-3, 1e3).flatmap(lambda a: st.sampled_from([a, -a])),
)
def test_scale_equivariance(seed, c):
    X, y = _design(seed)
    base = OLS().fit(X, y).result_
    scaled = OLS().fit(X, c * y).result_
    np.testing.assert_allclose(scaled.params, c * base.params, rtol=1e-10, atol=1e-13 * abs(c))
    assert scaled.scale == pytest.approx(abs(c) * base.scale, rel=1e-10)
    for kind in ALL_KINDS:
        np.testing.assert_allclose(scaled.bse(kind), abs(c) * base.bse(kind), rtol=1e-10)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    a=st.lists(st.floats(-3, 3), min_size=4, max_size=4).filter(
        lambda v: abs(v[0] * v[3] - v[1] * v[2]) > 0.1
    ),
)
def test_affine_equivariance(seed, a):
    """X -> X A gives beta -> A^{-1} beta; Cov -> A^{-1} Cov A^{-T} for every kind."""
    X, y = _design(seed)
    A = np.asarray(a).reshape(2, 2)
    base = OLS().fit(X, y)
    new = OLS().fit(X @ A, y)
    np.testing.assert_allclose(A @ new.coef_, base.coef_, rtol=1e-8, atol=1e-9)
    assert new.intercept_ == pytest.approx(base.intercept_, rel=1e-8, abs=1e-9)
    T = np.eye(3)
    T[1:, 1:] = A
    for kind in ALL_KINDS:
        _scaled_close(T @ new.result_.cov(kind).to_numpy() @ T.T, base.result_.cov(kind), 1e-8)


# -- fit_many ----------------------------------------------------------------------------
def _assert_many_equals_fits(many, fits, kinds):
    for r, res in enumerate(fits):
        np.testing.assert_allclose(many.params[r], res.params.to_numpy(), rtol=1e-10)
        for kind in kinds:
            np.testing.assert_allclose(many.se[kind][r], res.bse(kind).to_numpy(), rtol=1e-10)
        assert many.scale[r] == pytest.approx(res.scale, rel=1e-10)
    assert many.converged.all() and (many.n_iter == 0).all()


def test_fit_many_shared_design(stackloss_data, rng):
    X, y = stackloss_data
    X = X.to_numpy()
    Y = y.to_numpy() + rng.standard_t(3, size=(50, len(y))) * 3.0
    many = OLS(hac_maxlags=2).fit_many(X, Y, kinds=ALL_KINDS)
    assert many.params.shape == (50, 4) and many.param_names == ("const", "x1", "x2", "x3")
    assert len(many) == 50
    fits = [OLS(hac_maxlags=2).fit(X, Y[r]).result_ for r in range(50)]
    _assert_many_equals_fits(many, fits, ALL_KINDS)


def test_fit_many_stacked_designs(rng):
    R, n = 40, 30
    X = rng.standard_normal((R, n, 3)) + np.array([0.0, 2.0, -1.0])
    Y = X @ np.array([1.0, -1.0, 0.5]) + rng.standard_normal((R, n)) * (1 + X[..., 0] ** 2)
    many = OLS().fit_many(X, Y, kinds=ALL_KINDS)
    fits = [OLS().fit(X[r], Y[r]).result_ for r in range(R)]
    _assert_many_equals_fits(many, fits, ALL_KINDS)


def test_fit_many_default_kind_and_1d_y(rng):
    X = rng.standard_normal((15, 2))
    y = rng.standard_normal(15)
    many = OLS().fit_many(X, y)
    assert set(many.se) == {"classical"} and many.params.shape == (1, 3)
    np.testing.assert_allclose(many.params[0], OLS().fit(X, y).result_.params, rtol=1e-12)


# -- bad input ---------------------------------------------------------------------------
def _xy(rng, n=10, p=2):
    return rng.standard_normal((n, p)), rng.standard_normal(n)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (
            lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X), y),
            "X contains NaN",
        ),
        (lambda X, y: (X, np.r_[y[:-1], np.inf]), "y contains infinity"),
        (lambda X, y: (X, y[:-1]), "inconsistent numbers of samples"),
        (lambda X, y: (X[:2], y[:2]), r"too few rows: n_samples=2 .* 3 coefficient"),
        (
            lambda X, y: (np.column_stack([X, X[:, 0] * 2 - X[:, 1]]), y),
            r"rank-deficient design: rank 3 < 4 columns \(const, x1, x2, x3\)",
        ),
        (lambda X, y: (np.column_stack([X, np.ones(len(y))]), y), "rank-deficient design"),
    ],
    ids=["nan", "inf", "shape", "few-rows", "collinear", "second-constant"],
)
def test_bad_input_fit(rng, mutate, match):
    X, y = mutate(*_xy(rng))
    with pytest.raises(ValueError, match=match):
        OLS().fit(X, y)


def test_bad_input_fit_many(rng):
    X, y = _xy(rng)
    Y = np.vstack([y, y])
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        OLS().fit_many(Xn, Y)
    with pytest.raises(ValueError, match="Input Y contains infinity"):
        OLS().fit_many(X, np.where(Y > 1, np.inf, Y))
    with pytest.raises(ValueError, match=r"Y must be \(R, 10\) .* got \(2, 9\)$"):
        OLS().fit_many(X, Y[:, :-1])
    with pytest.raises(ValueError, match=r"Y must be \(3, 10\) .* got \(2, 10\)"):
        OLS().fit_many(np.stack([X, X, X]), Y)
    with pytest.raises(ValueError, match=r"X must be \(n, p\) shared by all fits or \(R, n, p\)"):
        OLS().fit_many(X[:, 0], Y)
    with pytest.raises(ValueError, match="n_samples=2"):
        OLS().fit_many(X[:2], Y[:, :2])
    with pytest.raises(ValueError, match="rank-deficient"):
        OLS().fit_many(np.column_stack([X, X.sum(axis=1)]), Y)
    with pytest.raises(ValueError, match="'sandwich' is not available for OLS"):
        OLS().fit_many(X, Y, kinds=["sandwich"])


@pytest.mark.parametrize("bad", [0, -1, "3", True, np.nan])
def test_bad_hac_maxlags(rng, bad):
    with pytest.raises(ValueError, match="hac_maxlags"):
        OLS(hac_maxlags=bad).fit(*_xy(rng))


def test_unavailable_kind(stackloss_data):
    res = OLS().fit(*stackloss_data).result_
    with pytest.raises(ValueError, match="'oim' is not available for OLS"):
        res.bse("oim")


# -- pandas and scikit-learn -------------------------------------------------------------
def test_pandas_names_in_and_out(stackloss_data):
    X, y = stackloss_data
    est = OLS().fit(X, y)
    names = ["const", "AIRFLOW", "WATERTEMP", "ACIDCONC"]
    assert list(est.feature_names_in_) == names[1:]
    assert list(est.result_.params.index) == names
    assert list(est.result_.cov().index) == names and list(est.result_.cov().columns) == names
    assert list(est.result_.summary().index) == names
    assert list(est.result_.conf_int().columns) == ["lower", "upper"]
    np.testing.assert_allclose(est.predict(X), y - est.result_.resid, rtol=1e-12)
    assert est.intercept_ == pytest.approx(R_COEF[0], rel=1e-6)
    np.testing.assert_allclose(est.coef_, R_COEF[1:], rtol=1e-6)


def test_numpy_names(stackloss_data):
    X, y = stackloss_data
    res = OLS().fit(X.to_numpy(), y.to_numpy()).result_
    assert list(res.params.index) == ["const", "x1", "x2", "x3"]
    res = OLS(fit_intercept=False).fit(X.to_numpy(), y.to_numpy()).result_
    assert list(res.params.index) == ["x1", "x2", "x3"]


#: scikit-learn's weights-vs-repeated-rows check fits 15 rows of 30 columns (at most 15
#: distinct rows, whatever the repetitions): least squares is not identified there and OLS
#: rejects the design as rank-deficient. The equivalence itself is tested on an identified
#: design (test_integer_weights_equal_repeated_rows).
_UNIDENTIFIED = {
    "check_sample_weight_equivalence_on_dense_data": "p > n: the check's design is rank-deficient"
}


# sklearn's own check_array_api_input skips itself unless SCIPY_ARRAY_API is set.
@parametrize_with_checks(
    [OLS(), OLS(fit_intercept=False, hac_maxlags=2)],
    expected_failed_checks=lambda est: pending_checks(est, _UNIDENTIFIED),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# -- batched least squares: corrected semi-normal equations with a QR fallback ----------
def test_lstsq_stacked_matches_per_replication_lstsq(rng):
    R, n, k = 40, 50, 4
    X = rng.standard_normal((R, n, k))
    X[:, :, 0] = 1.0
    X[:, :, 3] *= 1e3  # badly scaled column: the equilibration takes care of it
    Y = rng.standard_normal((R, n))
    expect = np.stack([np.linalg.lstsq(X[r], Y[r], rcond=None)[0] for r in range(R)])
    beta, gram_inv = lstsq(X, Y, with_gram_inv=True)
    np.testing.assert_allclose(beta, expect, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        gram_inv, np.linalg.inv(np.swapaxes(X, -1, -2) @ X), rtol=1e-10, atol=1e-16
    )


def test_lstsq_ill_conditioned_replications_go_through_qr(rng):
    # cond(X) ~ 1e7: the normal equations (cond ~ 1e14) would lose ~14 digits, QR ~7
    R, n = 6, 40
    X = rng.standard_normal((R, n, 3))
    X[:3, :, 2] = X[:3, :, 1] + 1e-7 * rng.standard_normal((3, n))
    Y = rng.standard_normal((R, n))
    expect = np.stack([np.linalg.lstsq(X[r], Y[r], rcond=None)[0] for r in range(R)])
    np.testing.assert_allclose(lstsq(X, Y), expect, rtol=1e-6)
    np.testing.assert_allclose(lstsq(X, Y), lstsq_qr(X, Y), rtol=1e-12, atol=1e-12)


def test_lstsq_shared_design_uses_qr(rng):
    X = rng.standard_normal((30, 3))
    Y = rng.standard_normal((4, 30))
    beta, gram_inv = lstsq(X, Y, with_gram_inv=True)
    assert gram_inv is None
    np.testing.assert_array_equal(beta, lstsq_qr(X, Y))
