"""Tests of from_scipy / FromScipy (symmetry and tail-index rules) and of factory laws."""

from __future__ import annotations

import math
import pickle
import textwrap

import numpy as np
import pytest
from scipy import stats

from tailreg import distributions as D
from tailreg.distributions import FromScipy, from_factory, from_scipy, make
from tailreg.distributions.scipy_laws import SYMMETRIC, TAIL_INDEX, scipy_shapes

#: shapes at which each table entry is exercised (symmetric ones at a symmetric point)
EXAMPLE_SHAPES = {
    "beta": {"a": 2.5, "b": 2.5},
    "betaprime": {"a": 2.0, "b": 3.0},
    "burr": {"c": 3.0, "d": 2.0},
    "burr12": {"c": 2.0, "d": 1.5},
    "chi": {"df": 3.0},
    "chi2": {"df": 3.0},
    "dgamma": {"a": 1.5},
    "dweibull": {"c": 1.5},
    "exponnorm": {"K": 1.5},
    "exponweib": {"a": 2.0, "c": 1.5},
    "f": {"dfn": 5.0, "dfd": 7.0},
    "fisk": {"c": 3.0},
    "foldcauchy": {"c": 0.5},
    "foldnorm": {"c": 1.0},
    "gamma": {"a": 2.0},
    "genextreme": {"c": -0.4},
    "gengamma": {"a": 2.0, "c": -1.5},
    "genhyperbolic": {"p": 0.5, "a": 1.5, "b": 0.0},
    "genlogistic": {"c": 1.0},
    "gennorm": {"beta": 1.2},
    "genpareto": {"c": 0.4},
    "gompertz": {"c": 1.0},
    "invgamma": {"a": 2.5},
    "invgauss": {"mu": 0.5},
    "invweibull": {"c": 2.5},
    "jf_skew_t": {"a": 2.0, "b": 2.0},
    "johnsonsb": {"a": 0.0, "b": 1.5},
    "johnsonsu": {"a": 0.0, "b": 1.5},
    "laplace_asymmetric": {"kappa": 1.0},
    "levy_stable": {"alpha": 1.5, "beta": 0.0},
    "loggamma": {"c": 2.0},
    "loglaplace": {"c": 3.0},
    "lognorm": {"s": 1.0},
    "lomax": {"c": 2.5},
    "mielke": {"k": 2.0, "s": 3.0},
    "nakagami": {"nu": 1.5},
    "nct": {"df": 4.0, "nc": 0.0},
    "norminvgauss": {"a": 1.5, "b": 0.0},
    "pareto": {"b": 2.5},
    "powernorm": {"c": 1.0},
    "rdist": {"c": 3.0},
    "rice": {"b": 1.0},
    "skewcauchy": {"a": 0.0},
    "skewnorm": {"a": 0.0},
    "t": {"df": 3.0},
    "trapezoid": {"c": 0.2, "d": 0.8},
    "triang": {"c": 0.5},
    "truncnorm": {"a": -1.0, "b": 1.0},
    "tukeylambda": {"lam": -0.25},
    "weibull_max": {"c": 2.0},
    "weibull_min": {"c": 2.0},
}

# levy_stable's quantiles come from slow numerical inversion
_SLOW = {"levy_stable"}


def test_every_table_entry_names_a_scipy_distribution_and_its_shapes():
    for name in set(SYMMETRIC) | set(TAIL_INDEX):
        dist = getattr(stats, name)
        assert isinstance(dist, stats.rv_continuous), name
        assert set(EXAMPLE_SHAPES.get(name, {})) == set(scipy_shapes(dist)), name


@pytest.mark.parametrize("name", sorted(set(SYMMETRIC) - _SLOW))
def test_listed_symmetric_families_are_symmetric(name):
    law = from_scipy(name, **EXAMPLE_SHAPES.get(name, {}))
    assert law.symmetric
    p = np.array([1e-5, 1e-3, 0.05, 0.2, 0.4])
    m = law.median()
    lo, hi = law.ppf(p), law.ppf(1 - p)
    assert (np.abs((lo - m) + (hi - m)) <= 1e-7 * (hi - lo)).all()


@pytest.mark.parametrize(
    ("name", "shapes"),
    [
        ("skewnorm", {"a": 3.0}),
        ("beta", {"a": 2.0, "b": 3.0}),
        ("nct", {"df": 4.0, "nc": 1.0}),
        ("gumbel_r", {}),
        ("weibull_min", {"c": 1.5}),
        ("kstwobign", {}),  # not in the table: never assumed symmetric
    ],
)
def test_asymmetric_or_unknown_families_are_not_claimed_symmetric(name, shapes):
    assert not from_scipy(name, **shapes).symmetric


def _local_tail_index(law, p: float) -> float:
    """-d log P(beyond x) / d log x at the p-quantile of each power tail (the heavier one)."""
    out = math.inf
    med = law.median()
    lo_edge = law.support[0]
    for left, x, tail in (
        (False, float(law.ppf(1 - p)), law.sf),
        (True, float(law.ppf(p)), law.cdf),
    ):
        if left and (math.isfinite(lo_edge) or x >= min(med, 0.0)):
            continue  # no left power tail: bounded below
        if not left and (math.isfinite(law.support[1]) or x <= max(med, 0.0)):
            continue  # no right power tail: bounded above
        if not math.isfinite(x) or x == 0.0:
            continue
        with np.errstate(all="ignore"):
            t1, t2 = float(tail(x)), float(tail(x * 1.01))
        if t1 > 0 and t2 > 0:
            out = min(out, -math.log(t2 / t1) / math.log(1.01))
    return out


@pytest.mark.parametrize(
    "name", sorted(n for n in TAIL_INDEX if math.isfinite(TAIL_INDEX[n](EXAMPLE_SHAPES.get(n, {}))))
)
def test_listed_tail_indices_match_the_tail_slope(name):
    if name in _SLOW:
        pytest.skip("levy_stable: the built-in Stable law's tails are tested instead")
    law = from_scipy(name, **EXAMPLE_SHAPES.get(name, {}))
    alpha = law.tail_index
    # P(X > x) = x^-alpha L(x): the local slope far out tends to alpha (slowly for some)
    assert _local_tail_index(law, 1e-10) == pytest.approx(alpha, rel=0.1)


def test_from_scipy_keys_standardisation_and_pickling():
    law = make("scipy.stats:gennorm", beta=1.2, center="median", scale="iqr")
    assert law.key == "scipy.gennorm(beta=1.2)|center=median|scale=iqr"
    assert law.median() == 0.0 and law.iqr() == pytest.approx(1.0, rel=1e-14)
    assert law.symmetric and law.tail_index == math.inf
    back = pickle.loads(pickle.dumps(law))
    assert back == law and back.pdf(0.3) == law.pdf(0.3)
    assert from_scipy(stats.gennorm, beta=1.2).key == from_scipy("gennorm", beta=1.2).key
    frozen = from_scipy(stats.t(3, loc=1.0))
    assert frozen.median() == pytest.approx(1.0) and frozen.tail_index == 3.0


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("nosuchlaw",), {}, "no continuous distribution 'nosuchlaw'"),
        (("poisson",), {"mu": 3}, "no continuous distribution 'poisson'"),
        (("gennorm",), {}, r"needs shape parameter\(s\) 'beta'"),
        (("gennorm",), {"beta": 1, "loc": 2}, r"unknown parameter\(s\) 'loc'.*frozen"),
        (("gennorm",), {"beta": "x"}, "beta must be a finite number"),
        (("gennorm",), {"beta": -1.0}, "outside the distribution's domain"),
        ((stats.t(3),), {"df": 3}, "cannot be combined with a frozen"),
        ((3.0,), {}, "expected a scipy.stats continuous distribution"),
    ],
)
def test_from_scipy_errors_name_the_problem(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        from_scipy(*args, **kwargs)


def test_a_symmetry_assertion_is_checked():
    assert FromScipy(stats.kstwobign()).symmetric is False
    law = FromScipy(stats.gennorm(1.2), symmetric=True)
    assert law.symmetric
    with pytest.raises(ValueError, match="not symmetric about its median"):
        FromScipy(stats.gumbel_r(), symmetric=True)
    assert FromScipy(stats.norm(), symmetric=False).symmetric is False


@pytest.fixture
def plugin_module(tmp_path, monkeypatch):
    (tmp_path / "tailreg_test_laws.py").write_text(
        textwrap.dedent(
            """
            from scipy import stats
            from tailreg.distributions import StudentT

            def frozen_gennorm(beta):
                return stats.gennorm(beta)

            def builtin_t(df=3.0):
                return StudentT(df)

            def broken():
                raise RuntimeError("boom")

            def not_a_law():
                return 42

            NOT_CALLABLE = 1
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return "tailreg_test_laws"


def test_factory_laws(plugin_module):
    law = make(f"{plugin_module}:frozen_gennorm", beta=2.0, center="median", scale="iqr")
    assert isinstance(law.base, FromScipy) and law.symmetric
    t = from_factory(f"{plugin_module}:builtin_t", df=4.0)
    assert t == D.StudentT(4.0)
    assert make(f"{plugin_module}:builtin_t").key == "t(df=3)"


@pytest.mark.parametrize(
    ("path", "match"),
    [
        ("no_such_module_xyz:f", "cannot import module 'no_such_module_xyz'"),
        ("{m}:missing", "has no attribute 'missing'"),
        ("{m}:NOT_CALLABLE", "is not callable"),
        ("{m}:broken", "failed: RuntimeError"),
        ("{m}:not_a_law", "returned 42"),
        ("{m}", "expected 'package.module:callable'"),
    ],
)
def test_factory_errors_name_the_law(plugin_module, path, match):
    with pytest.raises(ValueError, match=match):
        from_factory(path.format(m=plugin_module))
    if ":" in path:
        with pytest.raises(ValueError, match=match):
            make(path.format(m=plugin_module))
