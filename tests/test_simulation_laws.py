"""Error laws of a study file: the law table, scipy.stats distributions and factories."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from tailreg.distributions import LAWS
from tailreg.simulation import Study, run_study
from tailreg.simulation.error_laws import scipy_law
from tailreg.simulation.generate import make_error_law
from tailreg.simulation.targets import cell_targets

HERE = Path(__file__).resolve().parent
ESTIMATORS = [
    {"name": "ols"},
    {"name": "gaussian_mle"},
    {"name": "huber"},
    {"name": "lad"},
    {"name": "quantile", "tau": 0.8},
    {"name": "bisquare"},
    {"name": "mm"},
    {"name": "student_t", "df": 3},
]


@pytest.fixture(autouse=True)
def _plugins_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))


def _study(errors, design=None, estimators=None):
    return Study.from_dict(
        {
            "name": "laws",
            "seed": 3,
            "replications": 20,
            "sample_sizes": [50],
            "seed_block": 10,
            "design": design or {"x": "uniform", "beta": [2.0]},
            "errors": errors,
            "estimators": estimators or ESTIMATORS,
        }
    )


@pytest.mark.parametrize(
    ("builtin", "scipy"),
    [
        (
            {"law": "t", "df": 3, "center": "median", "scale": "iqr"},
            {"law": "scipy.stats:t", "df": 3, "center": "median", "scale": "iqr"},
        ),
        ({"law": "normal"}, {"law": "scipy.stats:norm"}),
        ({"law": "laplace", "scale": "sd"}, {"law": "scipy.stats:laplace", "scale": "sd"}),
        (
            {"law": "lognormal", "s": 0.5, "center": "mean"},
            {"law": "scipy.stats:lognorm", "s": 0.5, "center": "mean"},
        ),
    ],
)
def test_scipy_law_reproduces_the_builtin_targets(builtin, scipy):
    s = _study([builtin, scipy])
    a, b = (c for c in s.cells())
    assert make_error_law(b.errors).symmetric == make_error_law(a.errors).symmetric
    names = ("const", "x1")
    for est in s.estimators:
        ta, tb = cell_targets(a, est, names, 2), cell_targets(b, est, names, 2)
        assert ta.theory == tb.theory, est
        for col in ("true_value", "pseudo_true", "avar", "crlb"):
            np.testing.assert_allclose(tb[col], ta[col], rtol=1e-9, atol=1e-12, err_msg=col)
    assert np.isfinite(cell_targets(b, s.estimators[0], names, 2)["avar"]).all()


def test_scipy_law_study_runs_with_its_shape_parameters():
    s = _study(
        [{"law": "scipy.stats:gennorm", "beta": 1.2, "scale": "iqr", "label": "gn"}],
        estimators=[{"name": "ols"}, {"name": "lad"}],
    )
    assert s.errors[0].key == "scipy.stats:gennorm(beta=1.2)[center=None,scale=iqr]"
    law = make_error_law(s.errors[0])
    assert law.symmetric and law.iqr() == pytest.approx(1.0)
    table = run_study(s, progress=False).replications
    assert (table["law"] == "gn").all() and np.isfinite(table["estimate"]).all()
    # symmetric about 0: every location functional is 0, so both intercepts target b0
    assert np.allclose(table.loc[table.parameter == "const", "pseudo_true"], 1.0, atol=1e-8)


def test_symmetry_is_known_or_given():
    assert scipy_law(stats.t(4)).symmetric
    assert scipy_law(stats.gennorm(0.7)).symmetric
    assert not scipy_law(stats.lognorm(0.3)).symmetric
    assert not scipy_law(stats.skewnorm(0.5)).symmetric
    # asserting symmetry is checked numerically
    with pytest.raises(ValueError):
        scipy_law(stats.lognorm(0.3), symmetric=True)
    s = _study([{"law": "scipy.stats:norm", "symmetric": False}])
    assert not make_error_law(s.errors[0]).symmetric
    s = _study([{"law": "scipy.stats:t", "df": 3, "tail_index": 3.0}])
    assert make_error_law(s.errors[0]).tail_index == 3.0


def test_factories_return_scipy_or_tailreg_laws():
    s = _study(
        [
            {"law": "sim_plugins:gumbel", "loc": 0.5, "center": "median"},
            {"law": "sim_plugins:student", "df": 4.0},
        ],
        estimators=[{"name": "ols"}],
    )
    gumbel, student = (make_error_law(e) for e in s.errors)
    assert gumbel.median() == pytest.approx(0.0, abs=1e-12) and not gumbel.symmetric
    assert student.var() == pytest.approx(2.0)
    table = run_study(s, progress=False).replications
    assert np.isfinite(table["estimate"]).all()


@pytest.mark.parametrize(
    ("errors", "match"),
    [
        ({"law": "student"}, r"errors\[0\]\.law: unknown error law 'student'"),
        ({"law": "t", "df": 0}, r"errors\[0\]\.df must be a positive"),
        ({"law": "t", "nu": 3}, r"errors\[0\]: unknown key\(s\) \['nu'\]"),
        ({"law": "t"}, r"errors\[0\] \(t\(\)\): law 't' needs parameter"),
        ({"law": "stable", "alpha": 2.5}, r"errors\[0\]\.alpha must lie in"),
        ({"law": "scipy.stats:gennorm", "b": 1.2}, r"unknown key\(s\) \['b'\].*'beta'"),
        ({"law": "scipy.stats:gennorm", "beta": -1.0}, r"errors\[0\].*outside the domain"),
        ({"law": "scipy.stats:poisson", "mu": 2.0}, r"is not a continuous scipy distribution"),
        ({"law": "scipy.stats:nosuch"}, r"errors\[0\]\.law: module 'scipy.stats' has no"),
        ({"law": "nowhere.at.all:law"}, r"errors\[0\]\.law: cannot import module"),
        ({"law": "sim_plugins:not_a_law"}, r"errors\[0\].*neither a tailreg error law"),
        ({"law": "scipy.stats:norm", "symmetric": "yes"}, r"symmetric must be true or false"),
        ({"law": "scipy.stats:cauchy", "center": "mean"}, r"center='mean' is impossible"),
    ],
)
def test_bad_laws_name_the_key(errors, match):
    with pytest.raises(ValueError, match=match):
        _study([errors])


def test_parameter_names_come_from_the_law_table():
    for name, entry in LAWS.items():
        keys = dict.fromkeys(entry.parameters, 0.5)
        if name == "chisquare":
            keys["k"] = 3.0
        if name in ("t", "lomax", "gamma", "lognormal"):
            keys = {k: 3.0 for k in keys}
        s = _study([{"law": name, **keys}], estimators=[{"name": "ols"}])
        assert dict(s.errors[0].params) == keys
        assert math.isfinite(make_error_law(s.errors[0]).median())
