"""Tests of the law table (names, parameter domains, validation in make) and of the one
``symmetric`` property of every law."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tailreg import distributions as D
from tailreg.distributions import Domain, law_names, make, parameters


def test_law_names_and_parameters_cover_the_table():
    assert law_names() == tuple(D.LAWS)
    assert {"normal", "t", "stable", "contaminated"} <= set(law_names())
    assert dict(parameters("normal")) == {}
    assert list(parameters("contaminated")) == ["eps", "c"]
    beta = parameters("stable")["beta"]
    assert beta.default == 0.0 and not beta.required and str(beta) == "[-1, 1]"
    assert parameters("t")["df"].required and str(parameters("t")["df"]) == "(0, inf)"
    assert str(parameters("skewnormal")["a"]) == "(-inf, inf)"
    with pytest.raises(ValueError, match="unknown error law 'student'"):
        parameters("student")
    with pytest.raises(TypeError):
        parameters("t")["nu"] = Domain()  # read-only


@pytest.mark.parametrize(
    ("domain", "inside", "outside"),
    [
        (Domain(), [1e-300, 3, 1e300], [0, -1, math.inf, math.nan, True, "1"]),
        (Domain(0.0, 1.0, low_closed=True), [0, 0.5], [1, -1e-300]),
        (Domain(0.0, 2.0, high_closed=True), [2, 1e-9], [0, 2.0000001]),
        (Domain(-math.inf, math.inf), [-1e300, 0, 1e300], [math.inf, -math.inf, math.nan]),
    ],
)
def test_domain_membership(domain, inside, outside):
    for v in inside:
        assert v in domain and domain.check(v, "x") == float(v)
    for v in outside:
        assert v not in domain
        with pytest.raises(ValueError, match="x must"):
            domain.check(v, "x")


@pytest.mark.parametrize(
    ("name", "params", "match"),
    [
        ("t", {"df": 0}, r"law 't': df must be a positive finite number \(domain \(0, inf\)\)"),
        ("contaminated", {"eps": 1.0, "c": 3}, r"eps must lie in \[0, 1\), got 1.0"),
        ("stable", {"alpha": 1.5, "beta": 2}, r"beta must lie in \[-1, 1\], got 2"),
        ("skewnormal", {"a": math.inf}, r"a must lie in \(-inf, inf\)"),
        ("stable", {}, r"needs parameter\(s\) 'alpha'"),
    ],
)
def test_make_names_the_key_and_the_domain(name, params, match):
    with pytest.raises(ValueError, match=match):
        make(name, **params)


def test_every_table_domain_is_enforced_by_the_constructor_too():
    # the table and the classes agree: a value the table accepts builds, the edges it
    # rejects are rejected by the class as well
    for name in law_names():
        doms = parameters(name)
        good = {k: (d.default if d.default is not None else _inside(d)) for k, d in doms.items()}
        assert isinstance(make(name, **good), D.ErrorLaw)
        entry = D.LAWS[name]
        for k, d in doms.items():
            for bad in _edges_outside(d):
                with pytest.raises(ValueError):
                    entry.constructor(**{**good, k: bad})


def _inside(d: Domain) -> float:
    if math.isinf(d.high):
        return max(d.low, 0.0) + 1.5 if math.isfinite(d.low) else 0.5
    return (d.low + d.high) / 2


def _edges_outside(d: Domain) -> list[float]:
    out = []
    if math.isfinite(d.low) and not d.low_closed:
        out.append(d.low)
    if math.isfinite(d.high) and not d.high_closed:
        out.append(d.high)
    return out


SYMMETRY = [
    (D.Normal(1.0, 2.0), True),
    (D.StudentT(1.5), True),
    (D.Laplace(), True),
    (D.Logistic(), True),
    (D.ContaminatedNormal(0.1, 5.0), True),
    (D.Stable(1.5), True),
    (D.Stable(2.0, 0.7), True),  # alpha = 2 is N(0, 2) whatever beta
    (D.Stable(1.5, 0.5), False),
    (D.SkewNormal(0.0), True),
    (D.SkewNormal(2.0), False),
    (D.AsymmetricLaplace(0.5), True),
    (D.AsymmetricLaplace(0.3), False),
    (D.LogNormal(1.0), False),
    (D.Gamma(2.0), False),
    (D.Gumbel(), False),
    (D.Lomax(3.0), False),
    (D.StudentT(3).standardized("median", "iqr"), True),
    (D.Gamma(2.0).standardized("mean", "sd"), False),
    (D.Mixture([D.Normal(), D.Laplace(), D.StudentT(3)], [0.5, 0.3, 0.2]), True),
    (D.Mixture([D.Normal(), D.Normal(1.0)], [0.5, 0.5]), False),  # different centres
    (D.Mixture([D.Normal(), D.Gumbel()], [0.9, 0.1]), False),
    (D.Mixture([D.Normal(), D.Gumbel()], [1.0, 0.0]), True),  # zero weight does not count
]


@pytest.mark.parametrize(("law", "symmetric"), SYMMETRY, ids=[law.label for law, _ in SYMMETRY])
def test_symmetric_is_stated_exactly(law, symmetric):
    assert law.symmetric is symmetric
    # and it is true: quantiles are mirror images about the median (checked where claimed)
    if symmetric:
        p = np.array([1e-4, 0.01, 0.1, 0.3])
        m = law.median()
        gap = (law.ppf(p) - m) + (law.ppf(1 - p) - m)
        assert np.abs(gap).max() <= 1e-7 * law.iqr()


def test_symmetric_laws_have_the_median_as_mad_centre():
    # the closed-form MAD of a symmetric law equals the root-found one
    for law in (D.ContaminatedNormal(0.2, 3.0), D.Stable(2.0, 0.5)):
        m = law.median()
        d = law.mad()
        assert float(law.cdf(m + d) - law.cdf(m - d)) == pytest.approx(0.5, abs=1e-12)
