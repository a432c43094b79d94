"""Quantile regression and LAD: LP optimum, R quantreg references, inference, properties."""

from __future__ import annotations

import dataclasses
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils.estimator_checks import parametrize_with_checks
from statsmodels.regression.quantile_regression import QuantReg

from _sklearn_checks import pending_checks
from tailreg.estimators.quantile import (
    LAD,
    QuantileRegression,
    solve_quantile,
)
from tailreg.exceptions import ConvergenceWarning
from tailreg.inference.covariance import covariance
from tailreg.inference.quantile_cov import bofinger, hall_sheather
from tailreg.losses import Check
from tailreg.solvers import quantile_lp
from tailreg.solvers.frisch_newton import frisch_newton, vertex_polish
from tailreg.solvers.frisch_newton_many import frisch_newton_many
from tailreg.solvers.quantile_lp import solve_quantile_one

SOLVERS = ["highs", "interior-point"]

# R 4.2, quantreg 5.94: rq(foodexp ~ income, tau, data = engel); coef and sum(rho_tau(resid))
ENGEL = {
    0.1: ((110.141574204948, 0.401765759303481), 3869.93216098663),
    0.5: ((81.4822474169362, 0.56018055120942), 8779.96632381285),
    0.9: ((67.3508720801297, 0.686299480371905), 3391.98371102825),
}
# summary.rq(fit, se = kind, hs = TRUE) at tau = 0.5
ENGEL_SE = {
    "iid": (13.2390797180804, 0.0119193295292952),
    "nid": (19.250660252106, 0.0282772096838577),
    "ker": (30.2153158527793, 0.0373170354527435),
}
STACKLOSS_OBJECTIVE = 21.0405797101449


def objective(X, y, beta, tau):
    return float(Check(tau).rho(y - X @ beta).sum())


def design(X):
    return np.column_stack([np.ones(len(X)), np.asarray(X)])


def random_problem(seed: int, n: int, p: int, *, discrete: bool = False, heavy: bool = True):
    rng = np.random.default_rng(seed)
    Z = rng.integers(0, 3, (n, p)).astype(float) if discrete else rng.standard_normal((n, p))
    X = np.column_stack([np.ones(n), Z])
    e = rng.standard_t(1.5, n) if heavy else rng.integers(0, 5, n).astype(float)
    y = X @ rng.normal(size=p + 1) + e
    return X, y


# -- R references ------------------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("tau", sorted(ENGEL))
def test_engel_coef_and_objective_match_quantreg(engel_data, tau, solver):
    X, y = engel_data
    fit = QuantileRegression(tau=tau, solver=solver).fit(X, y)
    coef, obj = ENGEL[tau]
    np.testing.assert_allclose(fit.result_.params.to_numpy(), coef, rtol=1e-6)
    np.testing.assert_allclose(fit.result_.objective, obj, rtol=1e-6)
    assert list(fit.result_.params.index) == ["const", "income"]
    assert fit.result_.converged and fit.result_.extra["tau"] == tau


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", sorted(ENGEL_SE))
def test_engel_standard_errors_match_summary_rq(engel_data, kind, solver):
    X, y = engel_data
    fit = QuantileRegression(tau=0.5, solver=solver).fit(X, y)
    np.testing.assert_allclose(fit.result_.bse(kind).to_numpy(), ENGEL_SE[kind], rtol=1e-4)


def test_default_kind_is_iid_with_t_reference(engel_data):
    X, y = engel_data
    res = LAD().fit(X, y).result_
    assert res.cov_kind == "iid" and res.use_t and res.df_resid == 233
    table = res.summary()
    assert "t" in table.columns
    np.testing.assert_allclose(table["std err"].to_numpy(), ENGEL_SE["iid"], rtol=1e-4)
    np.testing.assert_allclose(res.with_cov("ker").bse().to_numpy(), ENGEL_SE["ker"], rtol=1e-4)


@pytest.mark.parametrize("solver", SOLVERS)
def test_stackloss_objective(stackloss_data, solver):
    X, y = stackloss_data
    fit = LAD(solver=solver).fit(X, y)
    np.testing.assert_allclose(fit.result_.objective, STACKLOSS_OBJECTIVE, rtol=1e-10)
    np.testing.assert_allclose(
        objective(
            np.column_stack([np.ones(len(y)), X]), y.to_numpy(), fit.result_.params.to_numpy(), 0.5
        ),
        STACKLOSS_OBJECTIVE,
        rtol=1e-10,
    )


def test_bandwidths_match_bandwidth_rq():
    # quantreg::bandwidth.rq(0.5, 235) and bandwidth.rq(0.5, 235, hs = FALSE), closed forms
    z = 1.959963984540054
    phi0 = 1.0 / np.sqrt(2.0 * np.pi)
    assert hall_sheather(0.5, 235) == pytest.approx(
        235 ** (-1 / 3) * z ** (2 / 3) * (1.5 * phi0**2) ** (1 / 3), rel=1e-14
    )
    assert bofinger(0.5, 235) == pytest.approx(235**-0.2 * (4.5 * phi0**4) ** 0.2, rel=1e-14)


# -- the LP optimum ------------------------------------------------------------------------

CASES = [
    (50, 1, 0.5, False),
    (200, 3, 0.1, False),
    (500, 5, 0.9, False),
    (1000, 10, 0.25, False),
    (300, 2, 0.5, True),
    (100, 4, 0.75, True),
    (7, 2, 0.03, True),
]


@pytest.mark.parametrize(("n", "p", "tau", "discrete"), CASES)
def test_highs_and_interior_point_agree(n, p, tau, discrete):
    X, y = random_problem(n * 31 + p, n, p, discrete=discrete)
    a = solve_quantile_one(X, y, tau, "highs")
    b = solve_quantile_one(X, y, tau, "interior-point")
    assert a.converged and b.converged
    np.testing.assert_allclose(b.objective, a.objective, rtol=1e-8)
    assert a.objective == pytest.approx(objective(X, y, a.beta, tau), rel=1e-14)


def test_frisch_newton_alone_reaches_the_optimum():
    X, y = random_problem(5, 1000, 4)
    fn = frisch_newton(X, y, 0.3)
    exact = solve_quantile_one(X, y, 0.3, "highs").objective
    assert fn.converged
    np.testing.assert_allclose(objective(X, y, fn.beta, 0.3), exact, rtol=1e-8)
    vertex, certified, _ = vertex_polish(X, y, 0.3, fn.beta)
    assert certified
    np.testing.assert_allclose(objective(X, y, vertex, 0.3), exact, rtol=1e-12)
    # a vertex interpolates k observations
    assert np.sum(np.abs(y - X @ vertex) < 1e-9 * np.abs(y).max()) >= X.shape[1]


@pytest.mark.parametrize("tau", [0.1, 0.5, 0.8])
def test_objective_never_above_statsmodels(engel_data, stackloss_data, tau):
    for Xdf, ydf in (engel_data, stackloss_data):
        X = np.column_stack([np.ones(len(ydf)), Xdf.to_numpy()])
        y = ydf.to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sm_beta = QuantReg(y, X).fit(q=tau, max_iter=5000).params
        ours = objective(X, y, solve_quantile(X, y, tau), tau)
        assert ours <= objective(X, y, sm_beta, tau) * (1.0 + 1e-12)


def test_lad_intercept_only_is_a_median(rng):
    for n in (11, 12):
        y = rng.standard_t(2, n)
        ones = np.ones((n, 1))
        for solver in SOLVERS:
            fit = LAD(solver=solver, fit_intercept=False).fit(ones, y)
            m = fit.coef_[0]
            np.testing.assert_allclose(
                fit.result_.objective,
                objective(ones, y, np.array([np.median(y)]), 0.5),
                rtol=1e-12,
            )
            if n % 2:
                assert m == np.median(y)
            else:
                s = np.sort(y)
                assert s[n // 2 - 1] <= m <= s[n // 2]


@pytest.mark.parametrize("tau", [0.1, 0.5])
def test_asymmetric_laplace_loglik(engel_data, tau):
    X, y = engel_data
    res = QuantileRegression(tau=tau).fit(X, y).result_
    n = len(y)
    sigma = ENGEL[tau][1] / n
    assert res.scale == pytest.approx(sigma, rel=1e-12)
    closed_form = n * np.log(tau * (1 - tau) / sigma) - n
    assert res.loglik == pytest.approx(closed_form, rel=1e-10)
    assert res.aic == pytest.approx(-2 * closed_form + 2 * 3, rel=1e-10)


def test_lad_equals_quantile_regression_at_one_half(engel_data):
    X, y = engel_data
    a = LAD().fit(X, y)
    b = QuantileRegression(0.5).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.intercept_ == b.intercept_
    assert "tau" not in a.get_params()


# -- equivariance (Koenker & Bassett 1978, Theorem 3.2) ------------------------------------


def _fit_objective(X, y, tau, solver="highs"):
    fit = QuantileRegression(tau=tau, solver=solver).fit(X, y)
    return fit, fit.result_.objective


problem = st.tuples(
    st.integers(0, 2**32 - 1),
    st.integers(8, 60),
    st.integers(1, 3),
    st.floats(0.05, 0.95),
    st.booleans(),
)


@settings(max_examples=20, deadline=None)
@given(problem, st.sampled_from(SOLVERS))
def test_regression_equivariance(prob, solver):
    seed, n, p, tau, discrete = prob
    X, y = random_problem(seed, n, p, discrete=discrete)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        return
    gamma = np.random.default_rng(seed).normal(size=p + 1)
    fit, obj = _fit_objective(X[:, 1:], y, tau, solver)
    _, obj2 = _fit_objective(X[:, 1:], y + X @ gamma, tau, solver)
    np.testing.assert_allclose(obj2, obj, rtol=1e-8, atol=1e-10)
    # beta + gamma is optimal for the shifted data
    shifted = np.r_[fit.intercept_, fit.coef_] + gamma
    np.testing.assert_allclose(objective(X, y + X @ gamma, shifted, tau), obj2, rtol=1e-8)


@settings(max_examples=20, deadline=None)
@given(problem, st.floats(0.01, 100.0), st.booleans(), st.sampled_from(SOLVERS))
def test_scale_equivariance(prob, c, negative, solver):
    seed, n, p, tau, discrete = prob
    X, y = random_problem(seed, n, p, discrete=discrete)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        return
    c = -c if negative else c
    tau_c = 1.0 - tau if negative else tau  # rho_tau(c r) = |c| rho_{1-tau}(r) for c < 0
    fit, obj = _fit_objective(X[:, 1:], y, tau_c, solver)
    _, obj2 = _fit_objective(X[:, 1:], c * y, tau, solver)
    np.testing.assert_allclose(obj2, abs(c) * obj, rtol=1e-8, atol=1e-10)
    scaled = c * np.r_[fit.intercept_, fit.coef_]
    np.testing.assert_allclose(objective(X, c * y, scaled, tau), obj2, rtol=1e-8, atol=1e-10)


@settings(max_examples=20, deadline=None)
@given(problem, st.sampled_from(SOLVERS))
def test_affine_equivariance(prob, solver):
    seed, n, p, tau, discrete = prob
    X, y = random_problem(seed, n, p, discrete=discrete)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        return
    rng = np.random.default_rng(seed + 1)
    A = rng.normal(size=(p, p)) + 3.0 * np.eye(p)
    shift = rng.normal(size=p)
    fit, obj = _fit_objective(X[:, 1:], y, tau, solver)
    _, obj2 = _fit_objective(X[:, 1:] @ A + shift, y, tau, solver)
    np.testing.assert_allclose(obj2, obj, rtol=1e-8, atol=1e-10)
    # fitted values are equivariant: X A (A^-1 b) + shift-adjusted intercept
    beta_z = np.linalg.solve(A, fit.coef_)
    fitted_original = fit.predict(X[:, 1:])
    mapped_fit = (X[:, 1:] @ A + shift) @ beta_z + (fit.intercept_ - shift @ beta_z)
    np.testing.assert_allclose(mapped_fit, fitted_original, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(
        objective(
            np.column_stack([np.ones(n), X[:, 1:] @ A + shift]),
            y,
            np.r_[fit.intercept_ - shift @ beta_z, beta_z],
            tau,
        ),
        obj2,
        rtol=1e-8,
        atol=1e-10,
    )


# -- many fits, bootstrap -----------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_fit_many_equals_separate_fits(rng, solver):
    n, p, R = 40, 2, 5
    X = rng.standard_normal((n, p))
    Y = (X @ rng.normal(size=(p, R)) + rng.standard_t(2, (n, R))).T  # (R, n)
    est = QuantileRegression(tau=0.3, solver=solver)
    many = est.fit_many(X, Y, kinds=["iid", "ker"])
    X3 = rng.standard_normal((R, n, p))
    many3 = est.fit_many(X3, Y)
    for r in range(R):
        single = QuantileRegression(tau=0.3, solver=solver).fit(X, Y[r]).result_
        np.testing.assert_allclose(many.params[r], single.params.to_numpy(), rtol=1e-10)
        np.testing.assert_allclose(many.se["iid"][r], single.bse("iid").to_numpy(), rtol=1e-10)
        np.testing.assert_allclose(many.se["ker"][r], single.bse("ker").to_numpy(), rtol=1e-10)
        single3 = QuantileRegression(tau=0.3, solver=solver).fit(X3[r], Y[r]).result_
        np.testing.assert_allclose(many3.coef[r], single3.params.to_numpy(), rtol=1e-10)
    assert many.converged.all() and many.coef.shape == (R, p + 1)


def test_kinds_accept_stacked_replications(rng):
    n, R = 60, 3
    X = rng.standard_normal((n, 1))
    Y = X[:, 0, None] + rng.standard_t(3, (n, R))
    fits = [QuantileRegression(tau=0.4, n_boot=5, random_state=1).fit(X, Y[:, r]) for r in range(R)]
    ctx = fits[0].result_.cov_context
    stacked = dataclasses.replace(
        ctx,
        resid=np.stack([f.result_.resid for f in fits]),
        options={**ctx.options, "y": Y.T},
    )
    for kind in ("iid", "nid", "ker", "bootstrap"):
        cov = covariance(kind, stacked)
        assert cov.shape == (R, 2, 2)
        for r in range(R):
            single = dataclasses.replace(
                fits[r].result_.cov_context, options=ctx.options | {"y": Y[:, r]}
            )
            np.testing.assert_allclose(cov[r], covariance(kind, single), rtol=1e-12)


def test_bootstrap_is_reproducible(engel_data):
    X, y = engel_data
    se = [
        QuantileRegression(n_boot=25, random_state=seed, solver="interior-point")
        .fit(X, y)
        .result_.bse("bootstrap")
        .to_numpy()
        for seed in (7, 7, 8)
    ]
    np.testing.assert_array_equal(se[0], se[1])
    assert not np.array_equal(se[0], se[2])
    # same order of magnitude as the nid sandwich (both robust to heteroscedasticity)
    assert np.all(se[0] / np.asarray(ENGEL_SE["nid"]) < 3.0)
    assert np.all(se[0] / np.asarray(ENGEL_SE["nid"]) > 1 / 3.0)


def test_bootstrap_with_generator_and_pickle(engel_data):
    X, y = engel_data
    fit = LAD(n_boot=10, random_state=np.random.default_rng(3), solver="interior-point").fit(X, y)
    first = fit.result_.bse("bootstrap").to_numpy()
    again = pickle.loads(pickle.dumps(fit)).result_.bse("bootstrap").to_numpy()
    np.testing.assert_array_equal(first, again)


# -- failures are reported ----------------------------------------------------------------


def test_unconverged_solver_warns_and_flags(monkeypatch, engel_data):
    X, y = engel_data
    k = X.shape[1] + 1

    def stuck(X, y, tau):
        return frisch_newton(X, y, tau, max_iter=1)

    monkeypatch.setattr(quantile_lp, "frisch_newton", stuck)
    monkeypatch.setattr(
        quantile_lp, "vertex_polish", lambda X, y, tau, beta, **kw: (beta, False, None)
    )
    with pytest.warns(ConvergenceWarning, match="converged=False"):
        fit = QuantileRegression(solver="interior-point").fit(X, y)
    assert not fit.result_.converged and fit.coef_.shape == (k - 1,)
    with pytest.warns(ConvergenceWarning):
        solve_quantile(np.column_stack([np.ones(len(y)), X]), y.to_numpy(), 0.5, "interior-point")


def test_nid_bandwidth_outside_unit_interval_raises(rng):
    X = rng.standard_normal((30, 1))
    y = X[:, 0] + rng.standard_normal(30)
    res = QuantileRegression(tau=0.02).fit(X, y).result_
    with pytest.raises(ValueError, match="tau"):
        res.bse("nid")


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("tau", [0.0, 1.0, -0.2, 1.5, np.nan, "0.5", None])
def test_tau_outside_unit_interval(engel_data, tau):
    X, y = engel_data
    with pytest.raises(ValueError, match="tau"):
        QuantileRegression(tau=tau).fit(X, y)
    with pytest.raises(ValueError, match="tau"):
        solve_quantile(np.ones((5, 1)), np.arange(5.0), tau)


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"solver": "simplex"}, "solver"),
        ({"bandwidth": "silverman"}, "bandwidth"),
        ({"n_boot": 1}, "n_boot"),
        ({"n_boot": 2.5}, "n_boot"),
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_bad_hyperparameters(engel_data, params, word):
    X, y = engel_data
    with pytest.raises(ValueError, match=word):
        fit = QuantileRegression(**params).fit(X, y)
        fit.result_.bse("bootstrap")


def test_bad_data(rng):
    X = rng.standard_normal((10, 2))
    y = rng.standard_normal(10)
    Xnan = X.copy()
    Xnan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LAD().fit(Xnan, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LAD().fit(X, y[:-1])
    with pytest.raises(ValueError, match="n_samples=2"):
        LAD().fit(X[:2], y[:2])
    with pytest.raises(ValueError, match="rank-deficient"):
        LAD().fit(np.column_stack([X, X[:, 0] * 2.0]), y)
    res = LAD().fit(X, y).result_
    with pytest.raises(ValueError, match="HC0"):
        res.bse("HC0")
    with pytest.raises(ValueError, match="solver"):
        solve_quantile(np.ones((5, 1)), np.arange(5.0), 0.5, "simplex")


# -- scikit-learn compatibility ----------------------------------------------------------


def _expected_failures(est):
    # the check fits 15 rows (27 once repeated) with 30 features: more coefficients than
    # rows, which every tailreg estimator rejects (check_design). The same equivalence on
    # identified data is tested in tests/test_quantile_weights.py
    return pending_checks(
        est,
        {
            "check_sample_weight_equivalence_on_dense_data": (
                "the check's design has more columns (31) than rows (15): not identified"
            )
        },
    )


@parametrize_with_checks(
    [QuantileRegression(), QuantileRegression(tau=0.25, solver="interior-point"), LAD()],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible(estimator, check):
    # no check is skipped: check_array_api_input skips itself when SCIPY_ARRAY_API is unset
    check(estimator)


# -- the HiGHS dual LP and the batched solver ----------------------------------------------


@pytest.mark.parametrize("tau", sorted(ENGEL))
def test_highs_dual_multipliers_are_the_coefficients(engel_data, tau):
    # -eqlin.marginals of the bounded dual LP is beta, before any polish or preconditioning
    X, y = engel_data
    beta, _, ok = quantile_lp._highs(design(X), y.to_numpy(), tau)
    assert ok
    np.testing.assert_allclose(beta, ENGEL[tau][0], rtol=1e-6)


def many_problem(seed, R, n, p, *, stacked, discrete=False):
    rng = np.random.default_rng(seed)

    def one_design():
        Z = rng.integers(0, 3, (n, p)).astype(float) if discrete else rng.standard_normal((n, p))
        return Z

    Z = np.stack([one_design() for _ in range(R)]) if stacked else one_design()
    beta = rng.normal(size=p)
    fitted = Z @ beta + 1.0
    e = rng.integers(0, 5, (R, n)).astype(float) if discrete else rng.standard_t(1.5, (R, n))
    return Z, fitted + e


def test_frisch_newton_many_follows_the_single_iteration(rng):

    Z, Y = many_problem(3, 12, 80, 2, stacked=False)
    X = design(Z)
    many = frisch_newton_many(X, Y, 0.35)
    for r in range(len(Y)):
        one = frisch_newton(X, Y[r], 0.35)
        assert many.n_iter[r] == one.n_iter and many.converged[r] == one.converged
        np.testing.assert_allclose(many.beta[r], one.beta, rtol=1e-9, atol=1e-12)


@pytest.mark.filterwarnings("ignore:nid covariance")
@pytest.mark.parametrize("stacked", [False, True])
@pytest.mark.parametrize(
    ("tau", "discrete"), [(0.1, False), (0.5, False), (0.8, False), (0.5, True)]
)
def test_batched_fit_many_equals_single_fits(stacked, tau, discrete):
    R, n, p = 25, 60, 2
    Z, Y = many_problem(int(tau * 100) + stacked, R, n, p, stacked=stacked, discrete=discrete)
    est = QuantileRegression(tau=tau)
    many = est.fit_many(Z, Y, kinds=["iid", "ker", "nid"])
    assert many.converged.all() and many.coef.shape == (R, p + 1)
    for r in range(R):
        Zr = Z[r] if stacked else Z
        single = QuantileRegression(tau=tau).fit(Zr, Y[r]).result_
        X = design(Zr)
        np.testing.assert_allclose(
            objective(X, Y[r], many.params[r], tau), single.objective, rtol=1e-10
        )
        assert many.scale[r] == pytest.approx(single.scale, rel=1e-10)
        if not discrete:  # unique vertex: the same coefficients and standard errors
            np.testing.assert_allclose(many.params[r], single.params.to_numpy(), rtol=1e-8)
            for kind in ("iid", "ker", "nid"):
                np.testing.assert_allclose(many.se[kind][r], single.bse(kind).to_numpy(), rtol=1e-8)


@pytest.mark.filterwarnings("ignore:nid covariance")
def test_batched_fit_many_special_replications(rng):
    # an exact fit (y in the column space), a degenerate discrete one and a regular one
    n = 30
    Z = rng.integers(0, 3, (n, 1)).astype(float)
    Y = np.stack(
        [
            1.0 + 2.0 * Z[:, 0],
            np.round(Z[:, 0] + rng.integers(0, 3, n)),
            Z[:, 0] + rng.standard_t(2, n),
        ]
    )
    many = LAD(n_boot=10, random_state=0).fit_many(Z, Y, kinds=["iid", "nid", "bootstrap"])
    assert many.converged.all()
    for r in range(3):
        single = LAD().fit(Z, Y[r]).result_
        np.testing.assert_allclose(
            objective(design(Z), Y[r], many.params[r], 0.5),
            single.objective,
            rtol=1e-10,
            atol=1e-12,
        )
    np.testing.assert_allclose(many.params[0], [1.0, 2.0], rtol=1e-12)


@pytest.mark.filterwarnings("ignore:nid covariance")
def test_batched_bootstrap_and_nid_equal_single_fits():
    Z, Y = many_problem(11, 4, 50, 1, stacked=False)
    est = QuantileRegression(tau=0.4, n_boot=8, random_state=5)
    many = est.fit_many(Z, Y, kinds=["bootstrap", "nid"])
    for r in range(len(Y)):
        single = QuantileRegression(tau=0.4, n_boot=8, random_state=5).fit(Z, Y[r]).result_
        for kind in ("bootstrap", "nid"):
            np.testing.assert_allclose(many.se[kind][r], single.bse(kind).to_numpy(), rtol=1e-8)
