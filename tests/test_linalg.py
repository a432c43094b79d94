"""Designs and the shared linear algebra: every product against its per-fit definition."""

from __future__ import annotations

import numpy as np
import pytest

from tailreg._linalg import (
    GRAM_COND_MAX,
    Design,
    EinsumDesign,
    TransposedDesign,
    batched_solve,
    full_rank,
    inverse_pd,
    lstsq,
    lstsq_qr,
    weighted_gram,
    xtx_inv,
)
from tailreg._validation import column_scaled_rank

KINDS = [Design, EinsumDesign, TransposedDesign]


def _problem(rng, shared, R=5, n=17, k=3):
    X = rng.standard_normal((n, k) if shared else (R, n, k))
    beta = rng.standard_normal((R, k))
    u = rng.standard_normal((R, n))
    w = rng.uniform(0.1, 2.0, (R, n))
    return X, beta, u, w


def _row(X, r):
    return X if X.ndim == 2 else X[r]


@pytest.mark.parametrize("kind", KINDS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("shared", [True, False], ids=["shared", "stacked"])
def test_products_equal_their_per_fit_definitions(rng, kind, shared):
    X, beta, u, w = _problem(rng, shared)
    des = kind(X)
    assert des.shared is shared and (des.n, des.k) == (17, 3)
    fitted, tdot, gram = des.fitted(beta), des.tdot(u), des.gram(w)
    assert fitted.shape == (5, 17) and tdot.shape == (5, 3) and gram.shape == (5, 3, 3)
    for r in range(5):
        Xr = _row(X, r)
        np.testing.assert_allclose(fitted[r], Xr @ beta[r], rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(tdot[r], Xr.T @ u[r], rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(gram[r], Xr.T @ (w[r][:, None] * Xr), rtol=1e-13)
        np.testing.assert_allclose(gram[r], gram[r].T, rtol=1e-14)  # both triangles filled


@pytest.mark.parametrize("kind", KINDS, ids=lambda c: c.__name__)
def test_take_keeps_a_shared_design_and_selects_stacked_ones(rng, kind):
    X, beta, _, w = _problem(rng, shared=True)
    shared = kind(X)
    assert shared.take(np.array([0, 2])) is shared
    Xs = rng.standard_normal((5, 17, 3))
    stacked = kind(Xs)
    keep = np.array([True, False, True, True, False])
    sub = stacked.take(keep)
    assert isinstance(sub, kind)
    np.testing.assert_array_equal(sub.X, Xs[keep])
    # a taken design computes what a fresh one does
    np.testing.assert_array_equal(sub.gram(w[keep]), kind(Xs[keep]).gram(w[keep]))
    np.testing.assert_array_equal(sub.fitted(beta[keep]), kind(Xs[keep]).fitted(beta[keep]))


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "stacked"])
def test_rows_picks_gathers_and_repeats(rng, shared):
    X, _, _, _ = _problem(rng, shared)
    des = Design(X)
    j = np.array([0, 16, 3, 3, 8])
    h = np.array([[0, 1], [5, 2], [16, 0], [3, 3], [7, 9]])
    for r in range(5):
        np.testing.assert_array_equal(des.row(r), _row(X, r))
        np.testing.assert_array_equal(des.pick(j)[r], _row(X, r)[j[r]])
        np.testing.assert_array_equal(des.gather(h)[r], _row(X, r)[h[r]])
    rep = des.repeat(2)
    if shared:
        assert rep is des
    else:
        np.testing.assert_array_equal(rep.X, np.concatenate([X, X]))


def test_q_factor_and_xtx_inv(rng):
    X = rng.standard_normal((4, 20, 3))
    des = Design(X)
    q = des.q_factor
    assert q is des.q_factor  # computed once
    np.testing.assert_allclose(
        np.swapaxes(q, 1, 2) @ q, np.broadcast_to(np.eye(3), (4, 3, 3)), atol=1e-14
    )
    np.testing.assert_allclose(des.xtx_inv(), np.linalg.inv(np.swapaxes(X, 1, 2) @ X), rtol=1e-10)
    np.testing.assert_allclose(Design(X[0]).xtx_inv(), np.linalg.inv(X[0].T @ X[0]), rtol=1e-12)


def test_transposed_design_column_sums(rng):
    X = rng.standard_normal((3, 11, 2))
    np.testing.assert_allclose(TransposedDesign(X).colsum(), X.sum(axis=1), rtol=1e-14)
    np.testing.assert_allclose(TransposedDesign(X[0]).colsum(), X[0].sum(axis=0), rtol=1e-14)


def test_design_rejects_other_shapes():
    with pytest.raises(ValueError, match=r"\(n, k\) or \(R, n, k\)"):
        Design(np.ones(4))


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "stacked"])
def test_lstsq_equals_numpy(rng, shared):
    X, _, Y, _ = _problem(rng, shared)
    beta, gram_inv = lstsq(X, Y, with_gram_inv=True)
    assert (gram_inv is None) is shared
    for r in range(5):
        ref = np.linalg.lstsq(_row(X, r), Y[r], rcond=None)[0]
        np.testing.assert_allclose(beta[r], ref, rtol=1e-12)
        np.testing.assert_allclose(lstsq_qr(X, Y)[r], ref, rtol=1e-12)
        if not shared:
            np.testing.assert_allclose(gram_inv[r], np.linalg.inv(X[r].T @ X[r]), rtol=1e-10)


def test_lstsq_takes_qr_for_ill_conditioned_stacked_designs(rng):
    n = 40
    t = rng.standard_normal(n)
    good = np.column_stack([np.ones(n), t])
    bad = np.column_stack([np.ones(n), 1e5 + 1e-1 * t])  # cond(X)^2 far above GRAM_COND_MAX
    X = np.stack([good, bad])
    Y = np.stack([1 + t, 2 - t]) + 0.01 * rng.standard_normal((2, n))
    beta = lstsq(X, Y)
    G = bad.T @ bad
    assert np.linalg.cond(G, 1) > GRAM_COND_MAX
    for r in range(2):
        np.testing.assert_allclose(beta[r], np.linalg.lstsq(X[r], Y[r], rcond=None)[0], rtol=1e-9)


def test_weighted_gram_broadcasts_a_shared_design(rng):
    X = rng.standard_normal((9, 2))
    w = rng.uniform(size=(3, 9))
    G = weighted_gram(X, w)
    for r in range(3):
        np.testing.assert_allclose(G[r], X.T @ np.diag(w[r]) @ X, rtol=1e-13)


def test_batched_solve_flags_singular_systems(rng):
    G = np.stack([np.eye(2) * 2.0, np.zeros((2, 2)), np.array([[2.0, 1.0], [1.0, 3.0]])])
    g = rng.standard_normal((3, 2))
    z, bad = batched_solve(G, g)
    np.testing.assert_array_equal(bad, [False, True, False])
    np.testing.assert_array_equal(z[1], 0.0)
    np.testing.assert_allclose(z[2], np.linalg.solve(G[2], g[2]), rtol=1e-14)


def test_inverse_pd_flags_matrices_that_are_not_positive_definite():
    G = np.stack([np.array([[2.0, 1.0], [1.0, 2.0]]), np.array([[1.0, 2.0], [2.0, 1.0]])])
    inv, ok = inverse_pd(G)
    np.testing.assert_array_equal(ok, [True, False])
    np.testing.assert_allclose(inv[0], np.linalg.inv(G[0]), rtol=1e-14)


def test_xtx_inv_batched_matches_single(rng):
    X = rng.standard_normal((6, 30, 4))
    inv = xtx_inv(X)
    for r in range(6):
        np.testing.assert_allclose(inv[r], xtx_inv(X[r]), rtol=1e-10)


def test_full_rank_is_the_column_scaled_rank_of_every_replication(rng):
    X = rng.normal(size=(6, 30, 3)) * [1e-10, 1.0, 1e10]  # badly scaled, full rank
    X[1, :, 2] = X[1, :, 0] * 1e20  # collinear, at another scale
    X[3, :, 1] = 0.0  # a zero column
    X[4, :, 2] = X[4, :, 1] + 1e-9 * X[4, :, 2] / 1e10  # nearly collinear: cond ~1e9, full
    W = np.ones((6, 30))
    W[5, 3:] = 0.0  # three rows left: still rank 3
    expected = [column_scaled_rank(X[r]) == 3 for r in range(6)]
    np.testing.assert_array_equal(full_rank(X), expected)
    assert list(full_rank(X)) == [True, False, True, False, True, True]
    ok = full_rank(X, W)
    assert ok[5] and not ok[1]
    W[5, 2] = 0.0  # two rows for three columns
    assert not full_rank(X, W)[5]
    assert full_rank(X[0]).shape == (1,)
