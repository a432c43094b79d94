"""Truth columns: pseudo-true targets, theoretical n*Var and the CRLB per parameter."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tailreg import theory
from tailreg.distributions import make
from tailreg.losses import Huber
from tailreg.simulation import Study
from tailreg.simulation.targets import cell_targets
from tailreg.theory import s_functional, t_mle_functional

NAMES = ("const", "x1")


def _cell(law: dict, design: dict | None = None, est: dict | None = None):
    s = Study.from_dict(
        {
            "name": "t",
            "seed": 1,
            "replications": 2,
            "sample_sizes": [10],
            "design": design or {"x": "normal", "beta": [2.0], "intercept": 1.0},
            "errors": [law],
            "estimators": [est or {"name": "ols"}],
        }
    )
    return s.cells()[0], s.estimators[0]


def test_ols_under_uniform_regressors():
    cell, est = _cell({"law": "laplace"}, {"x": "uniform", "beta": [2.0]})
    t = cell_targets(cell, est, NAMES, 2)
    mu, var = 0.5, 1 / 12
    np.testing.assert_allclose(t["true_value"], [1.0, 2.0])
    np.testing.assert_allclose(t["pseudo_true"], [1.0, 2.0])
    # M^{-1} of (1, x): diag (1 + mu^2/var, 1/var); Laplace variance 2, information 1
    np.testing.assert_allclose(t["avar"], [2 * (1 + mu**2 / var), 2 / var], rtol=1e-8)
    np.testing.assert_allclose(t["crlb"], [1 + mu**2 / var, 1 / var], rtol=1e-6)


def test_skewed_law_targets_per_estimator():
    law = {"law": "lognormal", "s": 1.0, "center": "mean"}
    median = 1 - math.exp(0.5)
    for est, target in [
        ({"name": "ols"}, 0.0),
        ({"name": "lad"}, median),
        ({"name": "quantile", "tau": 0.9}, math.exp(stats.norm.ppf(0.9)) - math.exp(0.5)),
    ]:
        cell, e = _cell(law, est=est)
        t = cell_targets(cell, e, NAMES, 2)
        assert t["pseudo_true"][0] == pytest.approx(1.0 + target, rel=1e-8), est
        assert t["pseudo_true"][1] == 2.0
    cell, e = _cell(law, est={"name": "huber"})
    t = cell_targets(cell, e, NAMES, 2)
    mf = theory.m_functional(Huber(1.345), make("lognormal", s=1.0, center="mean"), "estimated")
    assert t["pseudo_true"][0] == pytest.approx(1.0 + mf.location, rel=1e-10)
    # slope: fixed-scale variance at the joint limit; intercept: the joint variance
    vfix = mf.scale**2 * mf.e_psi2 / mf.e_dpsi**2
    np.testing.assert_allclose(t["avar"], [mf.avar, vfix], rtol=1e-10)
    assert mf.avar > 1.5 * vfix  # the scale estimate roughly doubles the intercept's variance


def test_mm_and_student_t_limits():
    normal = make("normal")
    loc, s = s_functional(normal, 1.547645, 0.5)
    assert loc == pytest.approx(0.0, abs=1e-7) and s == pytest.approx(1.0, rel=1e-6)
    t3 = make("t", df=3)
    assert t_mle_functional(t3, 3.0) == pytest.approx((0.0, 1.0), abs=1e-9)
    t3iqr = make("t", df=3, scale="iqr")
    iqr = stats.t(3).ppf(0.75) - stats.t(3).ppf(0.25)
    assert t_mle_functional(t3iqr, 3.0)[1] == pytest.approx(1 / iqr, rel=1e-8)
    cell, e = _cell({"law": "t", "df": 3}, est={"name": "student_t", "df": 3})
    t = cell_targets(cell, e, (*NAMES, "sigma"), 2)
    # the t MLE at its own law attains the Cramer-Rao bound (nu + 3)/(nu + 1)
    np.testing.assert_allclose(t["avar"][:2], [1.5, 1.5], rtol=1e-8)
    np.testing.assert_allclose(t["crlb"][:2], [1.5, 1.5], rtol=1e-6)
    assert np.isnan(t["pseudo_true"][2])
    cell, e = _cell({"law": "lognormal", "s": 1.0, "center": "mean"}, est={"name": "mm"})
    t = cell_targets(cell, e, NAMES, 2)
    assert np.isfinite(t["pseudo_true"][0]) and np.isnan(t["avar"][0])
    assert np.isfinite(t["avar"][1])


def test_non_iid_targets():
    het = {
        "law": "laplace",
        "center": "median",
        "heteroscedastic": {"scale_fn": "linear", "a": 1.0, "b": 1.0},
    }
    cell, e = _cell(het, est={"name": "lad"})
    t = cell_targets(cell, e, NAMES, 2)
    np.testing.assert_allclose(t["pseudo_true"], [1.0, 2.0])  # T(F_u) = 0
    assert np.isnan(t["avar"]).all() and np.isnan(t["crlb"]).all()
    skew = {**het, "law": "gamma", "shape": 2.0, "center": "mean"}
    cell, e = _cell(skew, est={"name": "lad"})  # x normal: the median line is not linear
    assert np.isnan(cell_targets(cell, e, NAMES, 2)["pseudo_true"][1])
    ar = {"law": "gamma", "shape": 2.0, "ar1": {"phi": 0.5}}
    cell, e = _cell(ar, est={"name": "ols"})
    t = cell_targets(cell, e, NAMES, 2)
    assert t["pseudo_true"][0] == pytest.approx(1.0 + 2.0 / 0.5)  # mean 2 / (1 - phi)
    cell, e = _cell(ar, est={"name": "lad"})
    assert np.isnan(cell_targets(cell, e, NAMES, 2)["pseudo_true"][0])


def test_gaussian_mle_sigma2_target():
    cell, e = _cell({"law": "laplace"}, est={"name": "gaussian_mle"})
    t = cell_targets(cell, e, (*NAMES, "sigma2"), 2)
    assert t["true_value"][2] == pytest.approx(2.0) and t["pseudo_true"][2] == pytest.approx(2.0)
