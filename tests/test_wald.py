"""result_.wald_test and result_.t_test: R's hand-computed Wald statistic, statsmodels'
wald_test/t_test on OLS under the same covariance, the constraint parser, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

import tailreg
from _reference import load_reference
from tailreg.inference.hypothesis import constraint_matrix
from test_cluster import hetero, hetero_wls

MOD = load_reference("modelling")


def test_wald_as_computed_by_hand_in_r():
    """Weighted lm, V = vcovHC(HC1), H0: x1 = 0, x2 = x3 (modelling.json "wald")."""
    ref = MOD["wald"]
    Xw, yw = hetero_wls()
    res = tailreg.OLS(fit_intercept=False).fit(Xw, yw).result_.with_cov("HC1")
    assert list(res.params.index) == ref["coef_names"]
    test = res.wald_test(ref["hypothesis"])
    np.testing.assert_allclose(test.R, ref["R"])
    np.testing.assert_allclose(test.q, ref["q"])
    np.testing.assert_allclose(test.chi2, ref["statistic"], rtol=1e-10)
    np.testing.assert_allclose(test.statistic, ref["F"], rtol=1e-10)
    assert test.distribution == "F" and test.df == tuple(ref["F_df"])
    np.testing.assert_allclose(test.pvalue, ref["p_value_F"], rtol=1e-10)
    # the same through (R, q), and as chi-square for a normal-reference result
    again = res.wald_test((np.array(ref["R"]), np.array(ref["q"])))
    assert again.statistic == test.statistic
    z = dataclasses.replace(res, use_t=False).wald_test(ref["hypothesis"])
    assert z.distribution == "chi2" and z.df == (2,) and z.df_denom is None
    np.testing.assert_allclose(z.statistic, ref["statistic"], rtol=1e-10)
    np.testing.assert_allclose(z.pvalue, ref["p_value_chisq"], rtol=1e-10)


@pytest.mark.parametrize("kind", ["classical", "HC0", "HC1", "HC3", "HAC"])
def test_wald_and_t_test_match_statsmodels(kind, stackloss_data):
    X, y = stackloss_data
    cov_type = {"classical": "nonrobust"}.get(kind, kind)
    kw = {"cov_kwds": {"maxlags": 2}} if kind == "HAC" else {}
    sm_fit = sm.OLS(y, sm.add_constant(X)).fit(cov_type=cov_type, **kw)
    opts = {"maxlags": 2} if kind == "HAC" else {}
    res = tailreg.OLS().fit(X, y).result_.with_cov(kind, **opts)
    hyp = "AIRFLOW = 0, WATERTEMP = 2*ACIDCONC"
    ours = res.wald_test(hyp)
    theirs = sm_fit.wald_test(hyp, use_f=True, scalar=True)
    np.testing.assert_allclose(ours.statistic, theirs.statistic, rtol=1e-10)
    np.testing.assert_allclose(ours.pvalue, theirs.pvalue, rtol=1e-8)
    assert ours.df == (int(theirs.df_num), int(theirs.df_denom))
    tt = res.t_test("WATERTEMP - ACIDCONC = 1")
    st = sm_fit.t_test("WATERTEMP - ACIDCONC = 1", use_t=True)
    np.testing.assert_allclose(tt.estimate, np.ravel(st.effect), rtol=1e-12)
    np.testing.assert_allclose(tt.se, np.ravel(st.sd), rtol=1e-10)
    np.testing.assert_allclose(tt.statistic, np.ravel(st.tvalue), rtol=1e-10)
    np.testing.assert_allclose(tt.pvalue, np.ravel(st.pvalue), rtol=1e-8)
    np.testing.assert_allclose(tt.conf_int, st.conf_int(), rtol=1e-10)


def test_cluster_wald_matches_statsmodels():
    X, y, g, _, _ = hetero()
    sm_fit = sm.OLS(y, sm.add_constant(X)).fit(cov_type="cluster", cov_kwds={"groups": g})
    res = tailreg.OLS().fit(X, y).result_.with_cov("cluster", groups=g)
    ours = res.wald_test("x1 = 0, fb = fc, fd = 0")
    theirs = sm_fit.wald_test("x1 = 0, fb = fc, fd = 0", use_f=True, scalar=True)
    # statsmodels' cluster F uses df_denom = G - 1 (Stata); ours keeps n - k
    np.testing.assert_allclose(ours.statistic, theirs.statistic, rtol=1e-10)


def test_t_test_is_the_coefficient_table_for_unit_rows(stackloss_data):
    X, y = stackloss_data
    res = tailreg.Huber().fit(X, y).result_.with_cov("HC1")
    tt = res.t_test("AIRFLOW, WATERTEMP")
    summ = res.summary()
    np.testing.assert_allclose(tt.estimate, summ["coef"].iloc[1:3])
    np.testing.assert_allclose(tt.se, summ["std err"].iloc[1:3])
    np.testing.assert_allclose(tt.statistic, summ["z"].iloc[1:3])
    np.testing.assert_allclose(tt.pvalue, summ["P>|z|"].iloc[1:3])
    assert tt.distribution == "z" and tt.df is None
    frame = tt.summary_frame()
    assert list(frame.columns) == ["estimate", "std err", "z", "P>|z|", "[0.025", "0.975]"]
    # one restriction: the Wald chi-square is the squared z
    w = res.wald_test("AIRFLOW = 0")
    np.testing.assert_allclose(w.statistic, tt.statistic[0] ** 2, rtol=1e-12)
    np.testing.assert_allclose(w.pvalue, tt.pvalue[0], rtol=1e-10)


def test_tests_use_the_kind_asked_for(stackloss_data):
    X, y = stackloss_data
    res = tailreg.OLS().fit(X, y).result_
    a = res.wald_test("AIRFLOW = 0", kind="HC3")
    b = res.with_cov("HC3").wald_test("AIRFLOW = 0")
    assert a.statistic == b.statistic and a.cov_kind == "HC3"
    hac = res.with_cov("HAC", maxlags=1).wald_test("AIRFLOW = 0")
    assert hac.cov_options == {"maxlags": 1}
    d = res.params["AIRFLOW"]
    v = res.cov("HAC", maxlags=1).loc["AIRFLOW", "AIRFLOW"]
    np.testing.assert_allclose(hac.chi2, d**2 / v, rtol=1e-12)
    assert hac.pvalue == pytest.approx(stats.f.sf(d**2 / v, 1, res.df_resid), rel=1e-10)


# -- the parser -----------------------------------------------------------------------------
NAMES = ["const", "x1", "x2", "x12", "C(g)[T.b]", "np.log(z)"]


@pytest.mark.parametrize(
    "text, R, q",
    [
        ("x1 = 0", [[0, 1, 0, 0, 0, 0]], [0]),
        ("x1 = 0, x2 = x12", [[0, 1, 0, 0, 0, 0], [0, 0, 1, -1, 0, 0]], [0, 0]),
        ("2*x1 - x2 = 1", [[0, 2, -1, 0, 0, 0]], [1]),
        ("x1 + x2", [[0, 1, 1, 0, 0, 0]], [0]),
        ("-x1*3 + 2 = x2 - 0.5e1", [[0, -3, -1, 0, 0, 0]], [-7]),
        ("C(g)[T.b] = np.log(z); const = 1.5", [[0, 0, 0, 0, 1, -1], [1, 0, 0, 0, 0, 0]], [0, 1.5]),
        ("x12 - x1 = 0", [[0, -1, 0, 1, 0, 0]], [0]),
        ("x1 + x1 = 2 * 2", [[0, 2, 0, 0, 0, 0]], [4]),
    ],
)
def test_parse(text, R, q):
    Rm, qm = constraint_matrix(text, NAMES)
    np.testing.assert_array_equal(Rm, R)
    np.testing.assert_array_equal(qm, q)


@pytest.mark.parametrize(
    "text, match",
    [
        ("x3 = 0", "unknown parameter 'x3'"),
        ("x123 = 0", "unknown parameter"),
        ("x1 x2", "'\\+' or '-' expected"),
        ("x1*x2 = 0", "not linear"),
        ("= 1", "empty side"),
        ("x1 == 0", "more than one '='"),
        ("1 = 2", "without parameters"),
        ("x1 = 0,", "empty side"),
        ("x1 = 0 & x2 = 0", "unexpected '&'"),
    ],
)
def test_parse_errors(text, match):
    with pytest.raises(ValueError, match=match):
        constraint_matrix(text, NAMES)


def test_array_constraints():
    R, q = constraint_matrix(np.eye(6)[1], NAMES)
    assert R.shape == (1, 6) and q.tolist() == [0.0]
    R, q = constraint_matrix((np.eye(6)[1:3], [1, 2]), NAMES)
    assert q.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="R must have 6 columns"):
        constraint_matrix(np.eye(3), NAMES)
    with pytest.raises(ValueError, match="finite"):
        constraint_matrix((np.eye(6)[:1], np.nan), NAMES)


def test_dependent_restrictions_are_an_error(stackloss_data):
    X, y = stackloss_data
    res = tailreg.OLS().fit(X, y).result_
    with pytest.raises(ValueError, match="linearly dependent"):
        res.wald_test("AIRFLOW = 0, 2*AIRFLOW = 0")


def test_wald_on_nuisance_parameters_of_a_likelihood(stackloss_data):
    """Gaussian MLE: sigma2 is a parameter of params and of the covariance."""
    X, y = stackloss_data
    res = tailreg.GaussianMLE().fit(X, y).result_
    s2 = res.params["sigma2"]
    w = res.wald_test(f"sigma2 = {float(s2) / 2!r}")
    se = res.bse()["sigma2"]
    np.testing.assert_allclose(w.statistic, ((s2 - s2 / 2) / se) ** 2, rtol=1e-10)
    assert isinstance(str(w), str) and "chi2(1)" in str(w)
    assert isinstance(res.t_test("AIRFLOW = 0").summary_frame(), pd.DataFrame)
