"""HC0-HC3 and HAC (Newey-West) for the M-estimators and MM, and the HAC lag option:
R parity (vcovHC/NeweyWest for lm and rlm), conventions, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import statsmodels.api as sm

import tailreg
from _reference import load_reference
from tailreg.inference.covariance import covariance, hac_default_maxlags, m_leverage
from test_cluster import ar1, hetero, hetero_wls, mat

MOD = load_reference("modelling")
COV = load_reference("covopts")
RTOL = 1e-6  # acceptance tolerance; measured agreement ~1e-12 (IRLS stops at acc = 1e-13)


def _close(a, b, rtol=RTOL):
    a, b = np.asarray(a, dtype=float), mat(b)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())


# -- HC0-HC3 -----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["HC0", "HC1", "HC2", "HC3"])
def test_huber_hc_as_vcovhc_rlm(kind):
    X, y, _, _, _ = hetero()
    res = tailreg.Huber(method="irls").fit(X, y).result_
    _close(res.cov(kind), MOD["rlm_sandwich"]["huber"]["vcovHC"][kind]["value"])


@pytest.mark.parametrize("kind", ["HC0", "HC1", "HC2", "HC3"])
def test_bisquare_hc_with_the_signed_bread(kind):
    """covopts.R: sandwich's meats with the signed-psi' bread; hat values by hand (R's
    hatvalues(rlm) fails with zero IRLS weights, ours are defined)."""
    X, y, _, _, _ = hetero()
    res = tailreg.Bisquare().fit(X, y).result_
    _close(res.cov(kind), COV["bisquare"]["vcovHC"][kind])


@pytest.mark.parametrize(
    "key, est", [("huber", tailreg.Huber(method="irls")), ("bisquare", tailreg.Bisquare())]
)
def test_m_leverage_is_the_hat_of_the_last_irls_step(key, est):
    X, y, _, _, _ = hetero()
    res = est.fit(X, y).result_
    _close(m_leverage(res.cov_context), COV[key]["hatvalues"])
    if key == "huber":
        _close(m_leverage(res.cov_context), MOD["rlm_sandwich"]["huber"]["hatvalues"])
    else:  # zero IRLS weight -> zero leverage
        w = res.extra["weights"]
        assert (w == 0).sum() == MOD["rlm_sandwich"]["bisquare"]["n_zero_irls_weights"] > 0
        assert np.all(m_leverage(res.cov_context)[w == 0] == 0)


@pytest.mark.parametrize(
    "make",
    [tailreg.Huber, tailreg.Bisquare, lambda: tailreg.MM(random_state=3)],
    ids=["huber", "bisquare", "mm"],
)
def test_m_hc_relations(make, stackloss_data):
    """HC0 is the sandwich kind; HC1 = HC0 n/(n-k); HC3 >= HC2 >= HC0 on the diagonal."""
    X, y = stackloss_data
    res = make().fit(X, y).result_
    n, k = res.nobs, 4
    # same formula, other summation order (S'diag(1)S vs S'S); stackloss's X'X has
    # cond ~1e7, so rounding reaches ~1e-12 relative
    np.testing.assert_allclose(res.cov("HC0"), res.cov("sandwich"), rtol=1e-10)
    np.testing.assert_allclose(res.cov("HC1"), res.cov("HC0") * n / (n - k), rtol=1e-10)
    d0, d2, d3 = (np.diag(res.cov(kind)) for kind in ("HC0", "HC2", "HC3"))
    assert np.all(d2 >= d0) and np.all(d3 >= d2)


def test_huber_with_infinite_k_is_least_squares_hc(stackloss_data):
    """psi = identity: the M-estimator's HC kinds are OLS's."""
    X, y = stackloss_data
    hub = tailreg.Huber(k=np.inf).fit(X, y).result_
    ols = tailreg.OLS().fit(X, y).result_
    for kind in ("HC0", "HC1", "HC2", "HC3"):
        np.testing.assert_allclose(hub.cov(kind), ols.cov(kind), rtol=1e-8)
    np.testing.assert_allclose(hub.cov("HAC", maxlags=2), ols.cov("HAC", maxlags=2), rtol=1e-8)


@pytest.mark.parametrize("kind", ["HC0", "HC1", "HC2", "HC3"])
def test_weighted_ols_hc_as_vcovhc_of_weighted_lm(kind):
    Xw, yw = hetero_wls()
    res = tailreg.OLS(fit_intercept=False).fit(Xw, yw).result_
    _close(res.cov(kind), MOD["lm"]["weighted"]["vcovHC"][kind], 1e-12)


# -- HAC ---------------------------------------------------------------------------------
@pytest.mark.parametrize("lag", [1, 2, 4])
def test_hac_as_neweywest_for_lm_rlm_and_bisquare(lag):
    X, y = ar1()
    nw = MOD["newey_west"]
    ols = tailreg.OLS().fit(X, y).result_
    _close(ols.cov("HAC", maxlags=lag), nw["lm"]["NeweyWest"][f"L{lag}"], 1e-12)
    _close(
        tailreg.OLS(hac_maxlags=lag).fit(X, y).result_.cov("HAC"),
        nw["lm"]["NeweyWest"][f"L{lag}"],
        1e-12,
    )
    hub = tailreg.Huber(method="irls").fit(X, y).result_
    _close(hub.cov("HAC", maxlags=lag), nw["rlm_huber"]["NeweyWest"][f"L{lag}"])
    bis = tailreg.Bisquare().fit(X, y).result_
    _close(bis.params, list(COV["newey_west_bisquare"]["coef"].values()), 1e-9)
    _close(bis.cov("HAC", maxlags=lag), COV["newey_west_bisquare"]["signed"][f"L{lag}"])


def test_hac_matches_statsmodels_for_ols():
    X, y = ar1()
    sm_fit = sm.OLS(y, sm.add_constant(X)).fit(cov_type="HAC", cov_kwds={"maxlags": 3})
    res = tailreg.OLS().fit(X, y).result_.with_cov("HAC", maxlags=3)
    np.testing.assert_allclose(res.cov(), sm_fit.cov_params(), rtol=1e-12)


def test_hac_lag_zero_is_hc0_and_default_lags(stackloss_data):
    X, y = stackloss_data
    for est in (tailreg.OLS(), tailreg.Huber()):
        res = est.fit(X, y).result_
        # the same sum in another order (rounding ~1e-12 on stackloss's ill-conditioned X)
        np.testing.assert_allclose(res.cov("HAC", maxlags=0), res.cov("HC0"), rtol=1e-10)
        L = hac_default_maxlags(res.nobs)
        np.testing.assert_array_equal(res.cov("HAC"), res.cov("HAC", maxlags=L))


def test_hac_option_overrides_the_estimator_lags(stackloss_data):
    X, y = stackloss_data
    res = tailreg.OLS(hac_maxlags=3).fit(X, y).result_
    three = res.cov("HAC")
    assert not np.allclose(res.cov("HAC", maxlags=1), three)
    np.testing.assert_array_equal(
        res.cov("HAC", maxlags=1), tailreg.OLS(hac_maxlags=1).fit(X, y).result_.cov("HAC")
    )
    new = res.with_cov("HAC", maxlags=1)
    assert dict(new.cov_options) == {"maxlags": 1}
    np.testing.assert_array_equal(new.cov(), res.cov("HAC", maxlags=1))
    np.testing.assert_array_equal(res.cov("HAC"), three)  # the original is untouched


@pytest.mark.parametrize(
    "maxlags, match",
    [
        (21, "maxlags=21 must be smaller than the number of observations n=21"),
        (100, "smaller than the number of observations"),
        (-1, "maxlags must be >= 0"),
        (1.5, "maxlags must be an integer"),
        (True, "maxlags must be an integer"),
    ],
)
def test_bad_maxlags(stackloss_data, maxlags, match):
    X, y = stackloss_data
    for est in (tailreg.OLS(), tailreg.Huber(), tailreg.Bisquare()):
        res = est.fit(X, y).result_
        with pytest.raises(ValueError, match=match):
            res.with_cov("HAC", maxlags=maxlags)
        with pytest.raises(ValueError, match=match):
            res.cov("HAC", maxlags=maxlags)


def test_estimator_lags_beyond_n_are_rejected(stackloss_data):
    X, y = stackloss_data
    res = tailreg.OLS(hac_maxlags=50).fit(X, y).result_
    with pytest.raises(ValueError, match="must be smaller than the number of observations"):
        res.cov("HAC")


def test_hac_rejects_case_weights(stackloss_data):
    X, y = stackloss_data
    res = tailreg.Huber().fit(X, y).result_
    ctx = dataclasses.replace(res.cov_context, weights=np.ones(res.nobs))
    with pytest.raises(ValueError, match="observation weights are not supported"):
        covariance("HAC", ctx)


def test_options_of_kinds_without_options_are_rejected(stackloss_data):
    X, y = stackloss_data
    res = tailreg.Huber().fit(X, y).result_
    with pytest.raises(
        ValueError, match=r"'HC1' does not accept option\(s\) \['maxlags'\]; it accepts: no options"
    ):
        res.with_cov("HC1", maxlags=2)


def test_m_fit_many_hc_and_hac_equal_fit(rng):
    """fit_many's batched M-estimator contexts give each fit's HC and HAC standard errors."""
    X = rng.standard_normal((40, 2))
    Y = 1 + X @ np.ones(2) + rng.standard_t(3, (5, 40))
    kinds = ("HC0", "HC1", "HC2", "HC3", "HAC")
    for est in (tailreg.Huber(), tailreg.Bisquare()):
        many = est.fit_many(X, Y, kinds)
        for r in range(len(Y)):
            one = type(est)().fit(X, Y[r]).result_
            for kind in kinds:
                np.testing.assert_allclose(many.se[kind][r], one.bse(kind), rtol=1e-7)
