"""FitResult and ManyFits: immutability, inference tables, information criteria."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from tailreg.estimators.ols import OLS
from tailreg.inference.covariance import CovContext
from tailreg.inference.results import FitResult, ManyFits


@pytest.fixture
def ols_result(stackloss_data) -> FitResult:
    return OLS().fit(*stackloss_data).result_


@pytest.fixture
def sm_ols(stackloss_data):
    X, y = stackloss_data
    return sm.OLS(y, sm.add_constant(X)).fit()


def _likelihood_result(loglik=-10.0, nobs=30, k_params=None) -> FitResult:
    X = np.column_stack([np.ones(nobs), np.arange(nobs, dtype=float)])
    return FitResult(
        params=pd.Series([1.0, 2.0, 0.5], index=["const", "x1", "sigma2"]),
        cov_context=CovContext(X=X, resid=np.zeros(nobs), jacobian=np.eye(3) * 4.0),
        cov_kinds=("oim",),
        cov_kind="oim",
        nobs=nobs,
        df_resid=nobs - 2,
        scale=np.sqrt(0.5),
        n_iter=3,
        converged=True,
        resid=np.zeros(nobs),
        estimator="Test",
        loglik=loglik,
        k_params=k_params,
    )


# -- with_cov ----------------------------------------------------------------------------
def test_with_cov_returns_new_object(ols_result):
    before = ols_result.bse()
    new = ols_result.with_cov("HC3")
    assert new is not ols_result
    assert new.cov_kind == "HC3"
    assert ols_result.cov_kind == "classical"  # original default untouched
    pd.testing.assert_series_equal(new.bse(), ols_result.bse("HC3"))
    pd.testing.assert_series_equal(ols_result.bse(), before)
    pd.testing.assert_series_equal(new.bse("classical"), before)
    pd.testing.assert_series_equal(new.params, ols_result.params)
    assert new.with_cov("classical").cov_kind == "classical"
    assert new.cov_kind == "HC3"


def test_results_are_frozen(ols_result):
    with pytest.raises(dataclasses.FrozenInstanceError):
        ols_result.cov_kind = "HC0"
    with pytest.raises(dataclasses.FrozenInstanceError):
        ols_result.params = None


def test_unavailable_kind_raises(ols_result):
    for call in (ols_result.cov, ols_result.bse, ols_result.with_cov, ols_result.summary):
        with pytest.raises(ValueError, match=r"'oim' is not available for OLS; choose one of"):
            call("oim")
    with pytest.raises(ValueError, match="not available"):
        ols_result.conf_int(kind="sandwich")
    with pytest.raises(ValueError, match="not available"):
        dataclasses.replace(ols_result, cov_kind="bogus")


def test_cov_is_symmetric_frame(ols_result):
    cov = ols_result.cov("HC1")
    assert isinstance(cov, pd.DataFrame)
    assert list(cov.index) == list(cov.columns) == list(ols_result.params.index)
    # b M b is symmetric up to rounding (~1e-13 relative measured), not bit-for-bit
    np.testing.assert_allclose(cov, cov.T, rtol=1e-11)
    np.testing.assert_allclose(ols_result.bse("HC1"), np.sqrt(np.diag(cov)), rtol=1e-15)


# -- tests, intervals, summary -----------------------------------------------------------
def test_summary_columns_t(ols_result):
    summ = ols_result.summary()
    assert list(summ.columns) == ["coef", "std err", "t", "P>|t|", "[0.025", "0.975]"]
    assert list(summ.index) == list(ols_result.params.index)
    assert list(ols_result.summary(alpha=0.1).columns)[-2:] == ["[0.05", "0.95]"]


def test_summary_columns_z():
    summ = _likelihood_result().summary()
    assert list(summ.columns) == ["coef", "std err", "z", "P>|z|", "[0.025", "0.975]"]


def test_t_reference_matches_statsmodels(ols_result, sm_ols):
    np.testing.assert_allclose(ols_result.tvalues(), sm_ols.tvalues, rtol=1e-10)
    np.testing.assert_allclose(ols_result.pvalues(), sm_ols.pvalues, rtol=1e-8)
    for alpha in (0.05, 0.1, 0.01):
        ci = ols_result.conf_int(alpha)
        np.testing.assert_allclose(ci.to_numpy(), sm_ols.conf_int(alpha).to_numpy(), rtol=1e-10)


@pytest.mark.parametrize("use_t", [True, False])
def test_conf_int_reference_distribution(ols_result, use_t):
    res = dataclasses.replace(ols_result, use_t=use_t)
    q = stats.t.ppf(0.95, res.df_resid) if use_t else stats.norm.ppf(0.95)
    ci = res.conf_int(alpha=0.1, kind="HC0")
    np.testing.assert_allclose(ci["upper"], res.params + q * res.bse("HC0"), rtol=1e-14)
    np.testing.assert_allclose(ci["lower"], res.params - q * res.bse("HC0"), rtol=1e-14)
    t = res.tvalues("HC0")
    ref = stats.t(res.df_resid) if use_t else stats.norm
    np.testing.assert_allclose(res.pvalues("HC0"), 2 * ref.sf(np.abs(t)), rtol=1e-14)
    assert t.name == ("t" if use_t else "z")


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1, 1.5])
def test_conf_int_bad_alpha(ols_result, alpha):
    with pytest.raises(ValueError, match="alpha must lie in"):
        ols_result.conf_int(alpha)


# -- information criteria ----------------------------------------------------------------
def test_aic_bic_formulas():
    res = _likelihood_result(loglik=-10.0, nobs=30)
    assert res.aic == pytest.approx(20.0 + 2 * 3)
    assert res.bic == pytest.approx(20.0 + np.log(30) * 3)
    res = _likelihood_result(loglik=-10.0, nobs=30, k_params=2)
    assert res.aic == pytest.approx(24.0)
    assert res.bic == pytest.approx(20.0 + np.log(30) * 2)


def test_aic_needs_likelihood(ols_result):
    assert ols_result.loglik is None
    with pytest.raises(AttributeError, match="OLS is not a likelihood fit"):
        ols_result.aic
    with pytest.raises(AttributeError, match="not a likelihood fit"):
        ols_result.bic


def test_oim_from_context():
    res = _likelihood_result()
    np.testing.assert_allclose(res.bse(), [0.5, 0.5, 0.5])


# -- ManyFits ----------------------------------------------------------------------------
def test_many_fits_container():
    params = np.arange(12.0).reshape(4, 3)
    many = ManyFits(
        params=params,
        param_names=("const", "x1", "sigma2"),
        n_coef=2,
        se={"oim": np.ones((4, 3))},
        scale=np.ones(4),
        converged=np.ones(4, dtype=bool),
        n_iter=np.zeros(4, dtype=int),
    )
    assert len(many) == 4
    np.testing.assert_array_equal(many.coef, params[:, :2])
    with pytest.raises(dataclasses.FrozenInstanceError):
        many.n_coef = 3


# -- covariance options ------------------------------------------------------------------
def test_cov_options_are_stored_and_shown(ols_result):
    res = ols_result.with_cov("HAC", maxlags=2)
    assert res.cov_kind == "HAC" and dict(res.cov_options) == {"maxlags": 2}
    assert dict(ols_result.cov_options) == {}
    np.testing.assert_array_equal(res.cov(), ols_result.cov("HAC", maxlags=2))
    np.testing.assert_array_equal(res.bse(), ols_result.bse("HAC", maxlags=2))
    # the default kind's options also apply when that kind is named; others get none
    np.testing.assert_array_equal(res.cov("HAC"), res.cov())
    np.testing.assert_array_equal(res.cov("HC1"), ols_result.cov("HC1"))
    assert "Covariance:             HAC (maxlags=2)" in res.summary_text()
    assert str(res) == res.summary_text()
    # back to no options
    assert dict(res.with_cov("HAC").cov_options) == {}


def test_options_are_checked_when_given(ols_result):
    with pytest.raises(ValueError, match=r"'HC3' does not accept option\(s\) \['lags'\]"):
        ols_result.with_cov("HC3", lags=1)
    with pytest.raises(ValueError, match="it accepts: maxlags=None"):
        ols_result.cov("HAC", lags=1)
    with pytest.raises(ValueError, match="does not accept"):
        dataclasses.replace(ols_result, cov_kind="HAC", cov_options={"lag": 1})


def test_calls_without_options_are_unchanged(ols_result, sm_ols):
    """cov(kind), bse(kind), with_cov(kind) without options: the kinds' own numbers."""
    from tailreg.inference.covariance import covariance

    for kind in ("classical", "HC0", "HC1", "HC2", "HC3", "HAC"):
        np.testing.assert_array_equal(
            ols_result.cov(kind).to_numpy(), covariance(kind, ols_result.cov_context)
        )
        np.testing.assert_array_equal(ols_result.with_cov(kind).bse(), ols_result.bse(kind))


# -- immutability (issue 12 item 7) ------------------------------------------------------
def test_params_cannot_be_edited_in_place(stackloss_data):
    est = OLS().fit(*stackloss_data)
    res = est.result_
    before = res.summary()
    p = res.params
    p.iloc[1] = 99.0  # edits a copy
    p["const"] = -5.0
    assert res.params.iloc[1] == est.coef_[0] != 99.0
    arr = res.params.to_numpy()
    try:  # a read-only view under pandas' copy-on-write (pandas 3), a copy before it
        arr[0] = 1.0
    except ValueError as exc:
        assert "read-only" in str(exc)
    assert res.params.iloc[0] == est.intercept_
    pd.testing.assert_frame_equal(res.summary(), before)


def test_arrays_inside_results_are_read_only(stackloss_data):
    from tailreg import MM, Huber

    for est in (OLS(), Huber(), MM(random_state=0)):
        res = est.fit(*stackloss_data).result_
        with pytest.raises(ValueError, match="read-only"):
            res.resid[0] = 0.0
        ctx = res.cov_context
        for a in (ctx.X, ctx.resid, ctx.scores, ctx.jacobian):
            if a is not None:
                with pytest.raises(ValueError, match="read-only"):
                    a[0] = 0.0
        for key, value in res.extra.items():
            if isinstance(value, np.ndarray):
                with pytest.raises(ValueError, match="read-only"):
                    value[0] = 0
            if isinstance(value, pd.Series):
                value.iloc[0] = 123.0  # a copy
                assert res.extra[key].iloc[0] != 123.0
        with pytest.raises(TypeError):
            res.extra["weights"] = None
        cov = res.cov()
        cov.iloc[0, 0] = -1.0  # a copy: the memoised matrix is untouched
        assert res.cov().iloc[0, 0] > 0
        assert res.bse().iloc[0] > 0


def test_editing_the_input_copy_of_params_does_not_leak():
    X = np.column_stack([np.ones(5), np.arange(5.0)])
    values = np.array([1.0, 2.0])
    res = FitResult(
        params=pd.Series(values, index=["const", "x1"]),
        cov_context=CovContext(X=X, resid=np.ones(5), scale=1.0),
        cov_kinds=("classical",),
        cov_kind="classical",
        nobs=5,
        df_resid=3,
        scale=1.0,
        n_iter=0,
        converged=True,
        resid=np.ones(5),
    )
    values[0] = 50.0
    assert res.params.iloc[0] == 1.0


def test_results_pickle_and_stay_read_only(stackloss_data):
    import pickle

    res = OLS().fit(*stackloss_data).result_.with_cov("HAC", maxlags=1)
    back = pickle.loads(pickle.dumps(res))
    pd.testing.assert_series_equal(back.params, res.params)
    np.testing.assert_array_equal(back.cov(), res.cov())
    assert dict(back.cov_options) == {"maxlags": 1}
    with pytest.raises(ValueError, match="read-only"):
        back.resid[0] = 0.0


# -- units of y (issue 12 item 2) --------------------------------------------------------
@pytest.mark.parametrize("power", range(-30, 31))
def test_ols_and_mle_kinds_scale_with_y(stackloss_data, power):
    """y * 10^k scales every standard error by 10^k (sigma2's by 10^2k) to 1e-8 relative."""
    from tailreg import GaussianMLE

    X, y = stackloss_data
    c = 10.0**power
    g = np.repeat(np.arange(7), 3)
    for est, kinds in (
        (OLS(), ("classical", "HC0", "HC1", "HC2", "HC3", "HAC", "cluster")),
        (GaussianMLE(), ("oim", "sandwich", "cluster")),
    ):
        base = type(est)().fit(X, y).result_
        scaled = type(est)().fit(X, y * c).result_
        factor = np.where(base.params.index == "sigma2", c * c, c)
        for kind in kinds:
            opts = {"groups": g} if kind == "cluster" else {}
            np.testing.assert_allclose(
                scaled.bse(kind, **opts), base.bse(kind, **opts) * factor, rtol=1e-8
            )
