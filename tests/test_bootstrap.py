"""Bootstrap covariance kinds: R boot.rq parity on given draws, seeds, batching, coverage."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from _reference import load_data, load_reference
from tailreg import LAD, MM, Bisquare, Huber, QuantileRegression
from tailreg.inference.bootstrap import akj_density, bootstrap_draws, fhh_weights
from tailreg.losses import Check
from tailreg.solvers.frisch_newton_many import vertex_polish_many
from tailreg.solvers.quantile_lp import solve_quantile_one

REF = load_reference("quantile_weights")


@pytest.fixture(scope="module")
def hetero():
    df = load_data("hetero")
    f = df["f"].to_numpy()
    X = np.column_stack([df.x1, df.x2, df.x3, f == "b", f == "c", f == "d"]).astype(float)
    return X, df["y"].to_numpy(), df["w"].to_numpy()


def _given(method: str, block: dict) -> np.ndarray:
    if method == "xy":
        return np.array(REF["U_xy"]).T - 1  # quantreg's U is n x B, 1-based
    if method == "pwy":
        return np.array(REF["U_pwy"]).T
    return np.array(block["W_wild"]).T


def _problem(ctx, method: str, U: np.ndarray, b: int, tau: float):
    """Replication b's LP data (the resample, or the pwy-augmented problem)."""
    X, y = ctx.X, ctx.options["y"]
    if method == "xy":
        return X[U[b]], y[U[b]]
    if method == "pwy":
        Wp = ((U[b] < tau) - tau) @ X
        return np.vstack([X, Wp / tau]), np.r_[y, len(y) * np.abs(y).max()]
    return None, None


CASES = [
    ("weighted", "tau0.5"),
    ("weighted", "tau0.25"),
    ("unweighted", "tau0.5"),
    ("unweighted", "tau0.75"),
]


def test_akj_matches_quantreg():
    a = REF["akj"]
    x = np.array(a["x"])
    np.testing.assert_allclose(akj_density(x, 0.0), a["at0"], rtol=1e-12)
    np.testing.assert_allclose(akj_density(x, 1.0), a["at1"], rtol=1e-12)


@pytest.mark.parametrize("method", ["xy", "pwy", "wild"])
@pytest.mark.parametrize(("group", "key"), CASES)
def test_quantile_bootstrap_matches_boot_rq_on_the_same_draws(hetero, group, key, method):
    """boot.rq with the same index matrix / uniforms / wild weights, replication by replication.

    Every replication's coefficients are optimal for its LP (objective equal to R's); they
    equal R's to 1e-6 wherever the vertex is the unique optimum (resamples with repeated
    rows and the pwy problems are often degenerate: then any optimal vertex is right), and
    the bootstrap covariance matches where every replication is unique.
    """
    X, y, w = hetero
    block = REF[group][key]
    tau = block["tau"]
    fit = QuantileRegression(tau=tau).fit(X, y, sample_weight=w if group == "weighted" else None)
    np.testing.assert_allclose(
        fit.result_.params.to_numpy(), list(block["coef"].values()), atol=1e-9
    )
    ctx = fit.result_.cov_context
    U = _given(method, block)
    ours = bootstrap_draws(ctx, method, U)
    theirs = np.array(block[method]["B"])
    check = Check(tau)
    all_unique = True
    for b in range(U.shape[0]):
        Xb, yb = _problem(ctx, method, U, b, tau)
        if Xb is None:  # wild: the design is X, the response rebuilt from both solutions
            same = np.allclose(ours[b], theirs[b], rtol=0, atol=1e-6)
            all_unique &= same
            continue
        o_ours = check.rho(yb - Xb @ ours[b]).sum()
        o_r = check.rho(yb - Xb @ theirs[b]).sum()
        np.testing.assert_allclose(o_ours, o_r, rtol=1e-10)
        _, cert, _, unique = vertex_polish_many(Xb, yb[None], tau, ours[b][None])
        if cert[0] and unique[0]:
            np.testing.assert_allclose(ours[b], theirs[b], rtol=0, atol=1e-6)
        else:
            all_unique = False
    if all_unique:
        np.testing.assert_allclose(
            np.cov(ours, rowvar=False), np.array(block[method]["cov"]), rtol=1e-6, atol=1e-12
        )
    if group == "weighted" and method in ("xy", "wild"):
        # continuous weights: no ties between distinct rows, every replication's optimum is
        # unique (a repeated row makes the vertex degenerate, so the flag above cannot tell)
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
        np.testing.assert_allclose(
            np.cov(ours, rowvar=False), np.array(block[method]["cov"]), rtol=1e-6, atol=1e-12
        )


def test_weighted_wild_reference_is_unique_and_f0_matches(hetero):
    X, y, w = hetero
    block = REF["weighted"]["tau0.25"]
    fit = QuantileRegression(tau=0.25).fit(X, y, sample_weight=w)
    r = fit.result_.cov_context.resid
    r = np.where(np.abs(r) < 1.5e-8 * np.median(np.abs(r)), 0.0, r)
    np.testing.assert_allclose(akj_density(r), block["wild"]["f0"], rtol=1e-12)


@pytest.mark.parametrize("method", ["xy", "pwy", "wild"])
def test_fixed_seed_gives_a_fixed_result(method):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 2))
    y = X @ [1.0, -0.5] + rng.standard_t(3, 80)
    se = [
        LAD(random_state=11, n_boot=60, boot_method=method).fit(X, y).result_.bse("bootstrap")
        for _ in range(2)
    ]
    np.testing.assert_array_equal(se[0], se[1])
    other = LAD(random_state=12, n_boot=60, boot_method=method).fit(X, y).result_.bse("bootstrap")
    assert not np.array_equal(se[0], other)
    # recomputing a result's covariance gives the same matrix (the seed is drawn at fit time)
    res = LAD(n_boot=60, boot_method=method).fit(X, y).result_
    a = res.bse("bootstrap")
    b = res.with_cov("iid").with_cov("bootstrap")
    b._cache.clear()
    np.testing.assert_array_equal(a, b.bse("bootstrap"))


@pytest.mark.parametrize("method", ["xy", "pwy", "wild"])
@pytest.mark.parametrize("tau", [0.3, 0.5])
def test_serial_refits_equal_the_batched_refit(method, tau):
    rng = np.random.default_rng(5)
    n = 60
    X = rng.normal(size=(n, 2))
    y = 1 + X @ [1.0, -0.5] + rng.normal(size=n)
    fit = QuantileRegression(tau=tau).fit(X, y)
    ctx = fit.result_.cov_context
    g = np.random.default_rng(0)
    U = {
        "xy": g.integers(0, n, (25, n)),
        "pwy": g.random((25, n)),
        "wild": fhh_weights(g, (25, n), tau),
    }[method]
    batched = bootstrap_draws(ctx, method, U)
    serial = np.stack(
        [
            bootstrap_draws(
                ctx.__class__(
                    **{**ctx.__dict__, "refit": lambda X_, Y_, W_: _serial(X_, Y_, W_, tau)}
                ),
                method,
                U[b : b + 1],
            )[0]
            for b in range(U.shape[0])
        ]
    )
    check = Check(tau)
    for b in range(U.shape[0]):
        Xb, yb = _problem(ctx, method, U, b, tau)
        if Xb is None:
            Xb, yb = ctx.X, None
        if yb is not None:
            np.testing.assert_allclose(
                check.rho(yb - Xb @ batched[b]).sum(),
                check.rho(yb - Xb @ serial[b]).sum(),
                rtol=1e-10,
            )
    # generic (continuous) problems have unique optima: the solutions themselves agree
    if method != "pwy":
        np.testing.assert_allclose(batched, serial, atol=1e-8)


def _serial(X, Y, W, tau):
    Xs = np.broadcast_to(X, (Y.shape[0], *X.shape[-2:]))
    if W is not None:  # the xy resample as counts: rows scaled by them (rq's weights)
        Xs, Y = W[:, :, None] * Xs, W * Y
    return np.stack([solve_quantile_one(Xs[b], Y[b], tau).beta for b in range(Y.shape[0])])


def test_bootstrap_kinds_in_fit_many_equal_fit():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(50, 1))
    Y = 1 + 0.5 * X[:, 0] + rng.standard_t(3, (3, 50))
    est = LAD(random_state=4, n_boot=30)
    many = est.fit_many(X, Y, kinds=("bootstrap", "iid"))
    assert np.all(np.isfinite(many.se["bootstrap"]))
    assert many.se["bootstrap"].shape == (3, 2)


def test_bootstrap_options_are_checked():
    with pytest.raises(ValueError, match="bootstrap method"):
        LAD(boot_method="pairs").fit(np.arange(10.0)[:, None], np.arange(10.0))


@pytest.mark.parametrize("method", ["xy", "pwy", "wild"])
def test_quantile_bootstrap_coverage(method):
    """Seeded Monte Carlo: 95% Wald intervals with bootstrap SEs cover the LAD slope.

    Homoscedastic t3 errors, n = 100, 150 data sets of B = 100 replications; all three
    bootstraps are consistent there (Koenker 2005, sec. 3.9; Parzen, Wei & Ying 1994; Feng,
    He & Hu 2011), so coverage must lie within 3 Monte Carlo standard errors of 0.95.
    """
    rng = np.random.default_rng(20261202)
    n, R = 100, 150
    X = rng.normal(size=(n, 1))
    Y = 1.0 + 2.0 * X[:, 0] + rng.standard_t(3, (R, n))
    many = LAD(random_state=1, n_boot=100, boot_method=method).fit_many(X, Y, kinds=("bootstrap",))
    se = many.se["bootstrap"][:, 1]
    from scipy import stats

    q = stats.t(n - 2).ppf(0.975)
    cover = np.mean(np.abs(many.coef[:, 1] - 2.0) <= q * se)
    mcse = np.sqrt(0.95 * 0.05 / R)
    assert abs(cover - 0.95) <= 3 * mcse, (cover, mcse)


# -- M-estimators ---------------------------------------------------------------------------


@pytest.mark.parametrize("est", [Huber(), Bisquare()])
@pytest.mark.parametrize("method", ["xy", "wild"])
def test_m_bootstrap_reproducible_and_serial_equals_batched(est, method):
    rng = np.random.default_rng(9)
    n = 60
    X = rng.normal(size=(n, 2))
    y = X @ [1.0, 2.0] + rng.standard_t(4, n)
    res = est.fit(X, y).result_
    ctx = res.cov_context
    assert "bootstrap" in est.cov_kinds
    g = np.random.default_rng(2)
    U = (
        g.integers(0, n, (20, n))
        if method == "xy"
        else np.where(g.random((20, n)) < 0.5, -1.0, 1.0)
    )
    batched = bootstrap_draws(ctx, method, U)
    Xd = ctx.X
    serial = []
    for b in range(U.shape[0]):
        if method == "xy":
            Xb, yb = Xd[U[b]], ctx.options["y"][U[b]]
        else:
            Xb, yb = Xd, (ctx.options["y"] - ctx.resid) + U[b] * ctx.resid
        serial.append(
            est.__class__(**est.get_params()).fit(Xb[:, 1:], yb).result_.params.to_numpy()
        )
    np.testing.assert_allclose(batched, np.array(serial), rtol=1e-8, atol=1e-10)
    a = est.fit(X, y).result_.bse("bootstrap")
    b = est.fit(X, y).result_.bse("bootstrap")
    np.testing.assert_array_equal(a, b)
    # within a factor of the sandwich (same target, different estimator of the same variance)
    ratio = a / res.bse("sandwich")
    assert np.all((ratio > 0.6) & (ratio < 1.6)), ratio


def test_mm_bootstrap_runs_and_is_reproducible():
    rng = np.random.default_rng(10)
    X = rng.normal(size=(40, 1))
    y = 1 + X[:, 0] + rng.normal(size=40)
    y[:4] += 30

    def boot(res):
        # 40 replications through the kind's option (what with_cov(kind, **options) sets)
        ctx = res.cov_context
        ctx = dataclasses.replace(ctx, options={**ctx.options, "replications": 40})
        return dataclasses.replace(res, cov_context=ctx, _cache={}).bse("bootstrap")

    res = MM(random_state=0, n_subsamples=100).fit(X, y).result_
    se = boot(res)
    assert np.all(np.isfinite(se)) and np.all(se > 0)
    np.testing.assert_array_equal(se, boot(MM(random_state=0, n_subsamples=100).fit(X, y).result_))
    ratio = se / res.bse("sandwich")
    assert np.all((ratio > 0.5) & (ratio < 2.0)), ratio


def test_m_bootstrap_in_fit_many():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(40, 1))
    Y = 1 + X[:, 0] + rng.normal(size=(3, 40))
    many = Huber().fit_many(X, Y, kinds=("H1", "bootstrap"))
    assert np.all(np.isfinite(many.se["bootstrap"]))
    one = Huber().fit(X, Y[1]).result_.bse("bootstrap").to_numpy()
    np.testing.assert_array_equal(many.se["bootstrap"][1], one)
    np.testing.assert_allclose(many.se["H1"][1], Huber().fit(X, Y[1]).result_.bse("H1"), rtol=1e-12)
