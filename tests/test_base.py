"""The estimator base class: declared conventions, fit_many's one orientation, the builders."""

from __future__ import annotations

import numpy as np
import pytest

import tailreg
from tailreg.estimators import BaseRegressor

ESTIMATORS = [
    tailreg.OLS(),
    tailreg.GaussianMLE(),
    tailreg.Huber(),
    tailreg.Bisquare(),
    tailreg.QuantileRegression(tau=0.3),
    tailreg.LAD(),
    tailreg.MM(random_state=0),
    tailreg.StudentTMLE(df=4.0),
]


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_conventions_are_declared_and_reach_the_result(est, stackloss_data):
    assert isinstance(est, BaseRegressor)
    assert est.study_name and est.objective_doc and est.use_t_doc and est.cov_kinds
    res = est.fit(*stackloss_data).result_
    assert res.use_t is type(est).use_t
    assert res.estimator == type(est).__name__
    assert res.cov_kinds == est.cov_kinds and res.cov_kind == est.default_cov_kind
    assert res.nobs == 21 and res.df_resid == 21 - 4
    np.testing.assert_array_equal(res.resid, res.cov_context.resid)


@pytest.mark.parametrize("est", ESTIMATORS[:6], ids=lambda e: type(e).__name__)
def test_fit_many_takes_y_replications_first_for_both_designs(est, rng):
    n, R = 40, 3
    X = rng.standard_normal((n, 2))
    Y = 1.0 + X @ [1.0, -1.0] + rng.standard_t(3, (R, n))
    shared = est.fit_many(X, Y)
    stacked = est.fit_many(np.broadcast_to(X, (R, n, 2)), Y)
    assert shared.params.shape == stacked.params.shape == (R, len(shared.param_names))
    np.testing.assert_allclose(shared.params, stacked.params, rtol=1e-8, atol=1e-10)
    one = est.fit_many(X, Y[1])  # a 1-D y is one fit
    np.testing.assert_allclose(one.params[0], shared.params[1], rtol=1e-8, atol=1e-10)


def test_fit_many_names_a_transposed_y(rng):
    X = rng.standard_normal((30, 2))
    Y = rng.standard_normal((5, 30))
    with pytest.raises(ValueError, match=r"Y looks transposed .* pass Y.T"):
        tailreg.OLS().fit_many(X, Y.T)
    with pytest.raises(ValueError, match=r"so Y must be \(5, 30\)"):
        tailreg.Huber().fit_many(rng.standard_normal((5, 30, 2)), Y[:4])


def test_fit_many_does_not_depend_on_the_memory_layout(rng):
    X = rng.standard_normal((50, 2))
    Y = rng.standard_normal((50, 8)).T  # (8, 50), Fortran order
    a = tailreg.Huber().fit_many(X, Y)
    b = tailreg.Huber().fit_many(X, np.ascontiguousarray(Y))
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.se["H1"], b.se["H1"])
