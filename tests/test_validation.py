"""Boundary checks: random states, parameters, designs."""

from __future__ import annotations

import numpy as np
import pytest

from tailreg._validation import (
    add_constant,
    check_design,
    check_finite,
    check_in_range,
    check_many,
    check_positive,
    check_random_state,
    default_names,
)


# -- random state ------------------------------------------------------------------------
def test_check_random_state_kinds():
    g = np.random.default_rng(3)
    assert check_random_state(g) is g
    assert isinstance(check_random_state(None), np.random.Generator)
    a = check_random_state(42).standard_normal(5)
    b = check_random_state(42).standard_normal(5)
    np.testing.assert_array_equal(a, b)
    ss = np.random.SeedSequence(7)
    np.testing.assert_array_equal(
        check_random_state(ss).standard_normal(3),
        np.random.default_rng(np.random.SeedSequence(7)).standard_normal(3),
    )
    assert isinstance(check_random_state(np.int64(5)), np.random.Generator)


def test_check_random_state_leaves_global_state_alone():
    # the legacy global state is read on purpose: it must not move
    state = np.random.get_state()  # noqa: NPY002
    check_random_state(None).standard_normal(10)
    check_random_state(1).standard_normal(10)
    after = np.random.get_state()  # noqa: NPY002
    assert state[0] == after[0]
    np.testing.assert_array_equal(state[1], after[1])
    assert state[2:] == after[2:]


@pytest.mark.parametrize("bad", [1.5, "1", np.random.RandomState(0), [1, 2]])
def test_check_random_state_rejects(bad):
    with pytest.raises(ValueError, match="random_state must be None, an int, a numpy SeedSeq"):
        check_random_state(bad)


# -- parameters --------------------------------------------------------------------------
def test_check_positive():
    assert check_positive("k", 2) == 2.0
    assert isinstance(check_positive("k", 2), float)
    assert check_positive("k", np.inf, allow_inf=True) == np.inf
    for bad in (0, -1, np.nan, np.inf):
        with pytest.raises(ValueError, match="k must be a positive finite number"):
            check_positive("k", bad)
    for bad in ("1", None, True):
        with pytest.raises(ValueError, match="k must be a positive number"):
            check_positive("k", bad)


def test_check_in_range():
    assert check_in_range("tau", 0.5, 0, 1) == 0.5
    assert check_in_range("p", 1.0, 0, 1, high_closed=True) == 1.0
    assert check_in_range("p", 0.0, 0, 1, low_closed=True) == 0.0
    with pytest.raises(ValueError, match=r"tau must lie in \(0.0, 1.0\), got 1"):
        check_in_range("tau", 1, 0.0, 1.0)
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\], got 1.5"):
        check_in_range("p", 1.5, 0, 1, low_closed=True, high_closed=True)
    with pytest.raises(ValueError, match="tau must lie in"):
        check_in_range("tau", np.nan, 0, 1)
    with pytest.raises(ValueError, match="tau must be a number"):
        check_in_range("tau", "0.5", 0, 1)


def test_check_finite():
    check_finite("X", np.ones(3))
    with pytest.raises(ValueError, match="Input X contains NaN; remove or impute"):
        check_finite("X", np.array([1.0, np.nan, np.inf]))
    with pytest.raises(ValueError, match="Input y contains infinity"):
        check_finite("y", np.array([1.0, -np.inf]))


# -- designs -----------------------------------------------------------------------------
def test_add_constant_and_names():
    X = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(add_constant(X, True), np.column_stack([np.ones(3), X]))
    assert add_constant(X, False) is X
    Xs = np.arange(12.0).reshape(2, 3, 2)
    out = add_constant(Xs, True)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out[..., 0], 1.0)
    assert default_names(3) == ["x1", "x2", "x3"]
    assert default_names(0) == []


def test_check_design_accepts_full_rank(rng):
    check_design(add_constant(rng.standard_normal((5, 2)), True), ["const", "x1", "x2"])


@pytest.mark.parametrize(
    ("n", "k", "extra", "needed"),
    [(2, 3, 0, 3), (3, 3, 1, 4), (1, 1, 0, 2), (4, 4, 1, 5)],
)
def test_check_design_too_few_rows(rng, n, k, extra, needed):
    X = rng.standard_normal((n, k))
    names = default_names(k)
    with pytest.raises(
        ValueError,
        match=rf"too few rows: n_samples={n} but the model has {k} coefficient\(s\); "
        rf"need at least {needed} rows",
    ):
        check_design(X, names, min_extra_rows=extra)


def test_check_design_rank_deficient(rng):
    X = rng.standard_normal((10, 2))
    design = add_constant(np.column_stack([X, X[:, 0] - 3 * X[:, 1]]), True)
    with pytest.raises(
        ValueError,
        match=r"rank-deficient design: rank 3 < 4 columns \(const, a, b, c\); "
        r"drop collinear or constant regressors",
    ):
        check_design(design, ["const", "a", "b", "c"])
    with pytest.raises(ValueError, match="rank 1 < 2 columns"):
        check_design(add_constant(np.full((10, 1), 2.0), True), ["const", "x1"])
    with pytest.raises(ValueError, match="rank 1 < 2"):
        check_design(np.column_stack([X[:, 0], 1e-3 * X[:, 0]]), ["x1", "x2"])


# -- fit_many's shapes ---------------------------------------------------------------------
def test_check_many_takes_y_replications_first(rng):
    X = rng.standard_normal((10, 2))
    Y = rng.standard_normal((4, 10))
    assert check_many(X, Y) is Y
    assert check_many(X, Y[0]).shape == (1, 10)  # a 1-D y is one fit
    Xs = rng.standard_normal((4, 10, 2))
    assert check_many(Xs, Y) is Y
    assert check_many(Xs[:1], Y[0]).shape == (1, 10)


def test_check_many_names_a_transposed_y(rng):
    X = rng.standard_normal((10, 2))
    Y = rng.standard_normal((4, 10))
    with pytest.raises(ValueError, match=r"Y must be \(R, 10\).*got \(10, 4\); Y looks transposed"):
        check_many(X, Y.T)
    with pytest.raises(ValueError, match=r"Y must be \(4, 10\).*Y looks transposed"):
        check_many(rng.standard_normal((4, 10, 2)), Y.T)


@pytest.mark.parametrize(
    ("X_shape", "Y_shape", "match"),
    [
        ((10, 2), (4, 9), r"Y must be \(R, 10\) \(replications first\), got \(4, 9\)$"),
        ((3, 10, 2), (4, 10), r"X is \(3, 10, 2\) \(R, n, p\), so Y must be \(3, 10\)"),
        ((3, 10, 2), (10,), r"Y must be \(3, 10\) .* got \(1, 10\)"),
        ((10, 2), (2, 10, 1), r"got shape \(2, 10, 1\)"),
        ((10,), (10,), r"X must be \(n, p\) shared by all fits or \(R, n, p\)"),
    ],
)
def test_check_many_rejects(X_shape, Y_shape, match):
    with pytest.raises(ValueError, match=match):
        check_many(np.zeros(X_shape), np.zeros(Y_shape))
