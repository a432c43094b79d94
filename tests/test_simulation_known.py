"""Known answers: Monte Carlo results of the engine against exact theory."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tailreg import theory
from tailreg.distributions import make
from tailreg.losses import Huber
from tailreg.simulation import Study, run_study


def _study(name, law, n, reps, estimators, beta=(1.0, -0.5)):
    return Study.from_dict(
        {
            "name": name,
            "seed": 20261128,
            "replications": reps,
            "sample_sizes": [n],
            "seed_block": 200,
            "design": {"x": "normal", "beta": list(beta), "intercept": 1.0},
            "errors": [law],
            "estimators": estimators,
        }
    )


def test_ols_classical_coverage_under_normal_errors():
    s = _study("cov", {"law": "normal"}, 30, 4000, [{"name": "ols", "kinds": ["classical"]}])
    summ = run_study(s, progress=False).summary(bootstrap=0)
    assert len(summ) == 3
    for _, row in summ.iterrows():
        assert abs(row.coverage_classical - 0.95) <= 3 * row.coverage_classical_mcse, row
        assert abs(row.bias) <= 3 * row.bias_mcse
        # mean SE / SD is about 1 (E s < sigma by a factor c4 close to 1 at n = 30)
        assert abs(row.se_sd_classical - 1) <= 3 * row.se_sd_classical_mcse + 0.01


def test_t3_slope_variances_match_theory_at_n800():
    s = _study(
        "t3",
        {"law": "t", "df": 3},
        800,
        400,
        [
            {"name": "ols", "kinds": []},
            {"name": "lad", "solver": "interior-point", "kinds": []},
            {"name": "huber", "kinds": []},
        ],
        beta=(1.0,),
    )
    summ = run_study(s, progress=False).summary(bootstrap=0)
    slopes = summ[summ.parameter == "x1"].set_index("estimator")
    # the theory columns are the textbook values (Q = Cov(x) = 1)
    law = make("t", df=3)
    assert slopes.loc["ols", "avar"] == pytest.approx(3.0, rel=1e-6)
    assert slopes.loc["lad", "avar"] == pytest.approx(0.25 / stats.t(3).pdf(0) ** 2, rel=1e-6)
    assert slopes.loc["huber", "avar"] == pytest.approx(
        theory.asymptotic_variance(Huber(1.345), law, "estimated"), rel=1e-6
    )
    for est, row in slopes.iterrows():
        gap = abs(row.nvar_ratio - 1)
        assert gap <= max(3 * row.nvar_ratio_mcse, 0.10), (est, row.nvar, row.avar)
    # Huber and LAD beat OLS under t3 (ARE > 1), as the theory says
    assert slopes.loc["huber", "rel_eff"] > 1 and slopes.loc["lad", "rel_eff"] > 1


def test_lad_intercept_targets_the_median_under_centred_lognormal():
    # The sample median of this law has an O(1/n) bias of about 2.7/n; with R replications
    # the MCSE is about 1.25/sqrt(nR), so a large n and a modest R keep that bias below
    # half an MCSE (n = 3200, R = 100: bias ~ 0.0008, MCSE ~ 0.0022).
    s = _study(
        "lognormal",
        {"law": "lognormal", "s": 1.0, "center": "mean"},
        3200,
        100,
        [{"name": "ols", "kinds": []}, {"name": "lad", "solver": "interior-point", "kinds": []}],
        beta=(1.0,),
    )
    summ = run_study(s, progress=False).summary(bootstrap=0)
    const = summ[summ.parameter == "const"].set_index("estimator")
    median = 1.0 - math.exp(0.5)  # median of exp(Z) - E exp(Z)
    assert const.loc["lad", "pseudo_true"] == pytest.approx(1.0 + median, rel=1e-8)
    assert const.loc["ols", "pseudo_true"] == pytest.approx(1.0, abs=1e-8)
    lad, ols = const.loc["lad"], const.loc["ols"]
    assert abs(lad.bias_pseudo) <= 3 * lad.bias_pseudo_mcse
    assert abs(lad.bias) > 20 * lad.bias_mcse  # against the nominal intercept it is biased
    assert abs(ols.bias) <= 3 * ols.bias_mcse
    # the slope is unaffected by the skewness
    slope = summ[(summ.parameter == "x1") & (summ.estimator == "lad")].iloc[0]
    assert abs(slope.bias) <= 3 * slope.bias_mcse
    assert np.isfinite(summ.rate).sum() == 0  # one sample size: no rate


def test_heteroscedastic_lad_slope_targets_the_conditional_median_line():
    s = Study.from_dict(
        {
            "name": "het",
            "seed": 5,
            "replications": 100,
            "sample_sizes": [800],
            "seed_block": 100,
            "design": {"x": "uniform", "beta": [1.0], "intercept": 1.0},
            "errors": [
                {
                    "law": "lognormal",
                    "s": 1.0,
                    "center": "mean",
                    "heteroscedastic": {"scale_fn": "linear", "a": 1.0, "b": 2.0},
                },
                {"law": "normal", "ar1": {"phi": 0.5}},
            ],
            "estimators": [
                {"name": "ols", "kinds": ["HC0"]},
                {"name": "lad", "solver": "interior-point", "kinds": []},
            ],
        }
    )
    summ = run_study(s, progress=False).summary(bootstrap=0)
    het = summ[summ.law.str.contains("het")].set_index(["estimator", "parameter"])
    T = 1.0 - math.exp(0.5)  # median of the mean-centred lognormal
    assert het.loc[("lad", "x1"), "pseudo_true"] == pytest.approx(1.0 + 2.0 * T, rel=1e-8)
    assert het.loc[("lad", "const"), "pseudo_true"] == pytest.approx(1.0 + T, rel=1e-8)
    assert het.loc[("ols", "x1"), "pseudo_true"] == pytest.approx(1.0, abs=1e-8)
    for key in [("lad", "x1"), ("lad", "const"), ("ols", "x1")]:
        row = het.loc[key]
        assert abs(row.bias_pseudo) <= 3 * row.bias_pseudo_mcse, key
    assert abs(het.loc[("lad", "x1"), "bias"]) > 10 * het.loc[("lad", "x1"), "bias_mcse"]
    assert np.isnan(het["avar"]).all()  # no i.i.d. theory for these errors
    ar = summ[summ.law.str.contains("ar1")].set_index(["estimator", "parameter"])
    assert ar.loc[("ols", "const"), "pseudo_true"] == pytest.approx(1.0)
    assert abs(ar.loc[("ols", "x1"), "bias"]) <= 3 * ar.loc[("ols", "x1"), "bias_mcse"]
