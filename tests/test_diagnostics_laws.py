"""Fitted error laws: references (closed forms, scipy, the package's t-MLE), consistency, AIC."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import optimize, stats

import tailreg
from tailreg.diagnostics import laws as L


def _seeded(label: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([16, label]))


def test_closed_forms_equal_scipy_fits():
    x = _seeded(1).laplace(0.5, 2.0, 400)
    nf = L.fit_law(x, "normal")
    assert (nf.params["loc"], nf.params["scale"]) == pytest.approx(stats.norm.fit(x), rel=1e-13)
    lf = L.fit_law(x, "laplace")
    assert (lf.params["loc"], lf.params["scale"]) == pytest.approx(stats.laplace.fit(x), rel=1e-12)
    assert nf.loglik == pytest.approx(stats.norm.logpdf(x, *stats.norm.fit(x)).sum(), rel=1e-13)
    assert lf.loglik == pytest.approx(
        stats.laplace.logpdf(x, *stats.laplace.fit(x)).sum(), rel=1e-13
    )


def test_t_fit_equals_the_package_t_mle():
    """Independent implementation: StudentTMLE (EM + Newton) on an intercept-only design."""
    x = 0.3 + 2.0 * _seeded(2).standard_t(4, 2000)
    f = L.fit_law(x, "t")
    m = tailreg.StudentTMLE(fit_intercept=False, df_bounds=L.DF_BOUNDS).fit(np.ones((x.size, 1)), x)
    p = m.result_.params
    assert f.loglik == pytest.approx(m.result_.loglik, rel=1e-11)
    assert f.params["loc"] == pytest.approx(p.iloc[0], rel=1e-6)
    assert f.params["scale"] == pytest.approx(p["sigma"], rel=1e-6)
    assert f.params["df"] == pytest.approx(p["df"], rel=1e-5)
    assert f.loglik == pytest.approx(
        stats.t.logpdf(x, f.params["df"], f.params["loc"], f.params["scale"]).sum(), rel=1e-14
    )


def test_t_fit_at_least_as_good_as_scipy():
    x = 1.0 + _seeded(3).standard_t(3, 800)
    f = L.fit_law(x, "t")
    ref = stats.t.fit(x)
    assert f.loglik >= stats.t.logpdf(x, *ref).sum() - 1e-8


def test_skewnormal_fit_is_a_stationary_point_and_beats_scipy():
    x = stats.skewnorm.rvs(4.0, loc=-1.0, scale=2.0, size=1500, random_state=_seeded(4))
    f = L.fit_law(x, "skewnormal")
    p = f.params
    assert f.loglik == pytest.approx(
        stats.skewnorm.logpdf(x, p["a"], p["loc"], p["scale"]).sum(), rel=1e-10
    )
    ref = stats.skewnorm.fit(x)
    assert f.loglik >= stats.skewnorm.logpdf(x, *ref).sum() - 1e-8
    grad = optimize.approx_fprime(
        np.array([p["loc"], p["scale"], p["a"]]),
        lambda q: stats.skewnorm.logpdf(x, q[2], q[0], q[1]).sum() / x.size,
        1e-7,
    )
    assert np.abs(grad).max() < 1e-4


def test_analytic_gradients_match_finite_differences():
    x = 1.0 + 2.0 * _seeded(5).standard_t(4, 300)
    for fun, th in (
        (L._t_objective, np.array([0.9, 0.5, 1.2])),
        (L._sn_objective, np.array([0.2, 0.4, 1.5])),
    ):
        num = optimize.approx_fprime(th, lambda t, f=fun: f(t, x)[0], 1e-7)
        np.testing.assert_allclose(fun(th, x)[1], num, rtol=1e-5, atol=1e-7)


def test_t_df_consistent_on_large_t5_sample():
    x = _seeded(6).standard_t(5, 20_000)
    f = L.fit_law(x, "t")
    # observed-information SE is about 0.17 at n = 20000
    assert 0.1 < f.se["df"] < 0.3
    assert abs(f.params["df"] - 5.0) < 0.6
    assert abs(f.params["df"] - 5.0) < 3 * f.se["df"]


def test_lognormal_parameters_recovered():
    z = _seeded(7).standard_normal(5000)
    x = -2.0 + np.exp(0.4 + 0.6 * z)  # shift -2, mu 0.4, s 0.6
    f = L.fit_law(x, "lognormal")
    for name, truth in (("shift", -2.0), ("mu", 0.4), ("s", 0.6)):
        assert abs(f.params[name] - truth) < 4 * f.se[name], name
    p = f.params
    assert f.loglik == pytest.approx(
        stats.lognorm.logpdf(x, p["s"], p["shift"], math.exp(p["mu"])).sum(), rel=1e-12
    )


@pytest.mark.parametrize("family", ["normal", "t", "laplace", "skewnormal", "lognormal"])
def test_returned_law_is_the_fitted_law(family):
    x = np.exp(0.5 * _seeded(8).standard_normal(600)) - 1.2
    f = L.fit_law(x, family)
    assert isinstance(f.law, tailreg.distributions.ErrorLaw)
    assert float(f.law.logpdf(x).sum()) == pytest.approx(f.loglik, rel=1e-12)
    assert f.aic == pytest.approx(2 * f.k_params - 2 * f.loglik)
    assert f.bic == pytest.approx(f.k_params * math.log(x.size) - 2 * f.loglik)
    draws = f.law.sample(100_000, np.random.default_rng(0))
    assert np.median(draws) == pytest.approx(float(f.law.median()), abs=0.02)


def test_location_scale_image_is_exact():
    f = L.fit_law(2.0 + 3.0 * _seeded(9).standard_t(6, 1000), "t")
    law, p = f.law, f.params
    assert law.median() == pytest.approx(p["loc"], rel=1e-12)
    expected_var = p["scale"] ** 2 * p["df"] / (p["df"] - 2)
    assert law.var() == pytest.approx(expected_var, rel=1e-12)
    assert law.tail_index == pytest.approx(p["df"])


LARGE = {
    "normal": lambda g, n: 1.0 + 2.0 * g.standard_normal(n),
    "t": lambda g, n: 0.5 * g.standard_t(3, n),
    "laplace": lambda g, n: g.laplace(0.3, 2.0, n),
    "skewnormal": lambda g, n: stats.skewnorm.rvs(4, loc=-1, scale=2, size=n, random_state=g),
    "lognormal": lambda g, n: np.exp(0.6 * g.standard_normal(n)) - 1.2,
}


@pytest.mark.parametrize("family", list(LARGE))
def test_aic_picks_the_true_family_on_large_samples(family):
    x = LARGE[family](_seeded(10 + list(LARGE).index(family)), 5000)
    comp = L.fit_error_laws(x)
    assert comp.best.family == family
    frame = comp.to_frame()
    assert frame["chosen"].sum() == 1 and frame["dAIC"].min() == 0


def test_normal_chosen_on_most_normal_samples():
    """The parsimony rule: the nesting t and skew-normal must win by more than 2 AIC units.

    Measured: normal chosen in 97 of 100 samples of n = 500 (the rest skew-normal)."""
    picks = [
        L.fit_error_laws(np.random.default_rng(s).standard_normal(500)).best.family
        for s in np.random.SeedSequence(77).spawn(20)
    ]
    assert picks.count("normal") >= 17


def _fake(family: str, k: int, aic: float) -> L.LawFit:
    return L.LawFit(family, {}, {}, (2 * k - aic) / 2, k, aic, aic, law=None, label=family)


def test_choose_by_aic_rule():
    a, b, c = _fake("normal", 2, 99.5), _fake("t", 3, 98.5), _fake("skewnormal", 3, 97.9)
    assert L.choose_by_aic([a, b, c]).family == "normal"  # 99.5 within 2 of 97.9
    d = _fake("t", 3, 97.4)
    assert L.choose_by_aic([a, d]).family == "t"  # normal 2.1 units worse
    assert L.choose_by_aic([b, c]).family == "skewnormal"  # equal k: smaller AIC


def test_lognormal_only_for_right_skew():
    x = -(np.exp(0.6 * _seeded(11).standard_normal(500)))  # left-skewed
    comp = L.fit_error_laws(x)
    assert "lognormal" in comp.skipped and "skewness" in comp.skipped["lognormal"]
    assert "lognormal" not in {f.family for f in comp.fits}
    with pytest.raises(ValueError, match="right-skewed"):
        L.fit_law(x, "lognormal")


def test_t_df_at_bound_on_normal_data_is_noted():
    x = _seeded(12).standard_normal(3000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning at the bound
        f = L.fit_law(x, "t")
    if f.params["df"] >= L.DF_BOUNDS[1] * (1 - 1e-9):
        assert "upper bound" in f.note and math.isnan(f.se["df"])
    else:
        assert f.params["df"] > 30


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.ones(20), "normal"), "all equal"),
        ((np.arange(5.0), "normal"), "too few"),
        ((np.arange(20.0), "gamma"), "unknown family"),
        ((np.array([np.nan] * 20), "t"), "NaN"),
    ],
)
def test_bad_input_is_named(args, message):
    with pytest.raises(ValueError, match=message):
        L.fit_law(*args)
    with pytest.raises(ValueError, match="families"):
        L.fit_error_laws(np.arange(20.0), families=("normal", "weibull"))
