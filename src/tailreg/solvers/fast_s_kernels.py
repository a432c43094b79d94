r"""Compiled fast-S kernels (numba): elemental fits and the candidate search, one loop per fit.

The numpy implementation in :mod:`tailreg.solvers.s_estimation` processes the candidates of
one fit as stacked arrays; each of its passes walks a (candidates, n) array, and the batched
4x4 solves of numpy call LAPACK once per matrix, so that at n = 100 most of the time is loop
and call overhead (benchmarks/README.md, "MM"). These kernels do the same arithmetic one
candidate at a time in compiled loops — residuals, the MAD start, the one-step scale, the
weighted least-squares step, the screening against the current worst of the best scales and
the M-scale solve — and loop over the replications of ``fit_many`` as well. The search
follows robustbase's ``fast_s`` (``src/lmrob.c``) in the conventions of the numpy path: the
same candidates (the subsets are drawn by the caller from the same generator), the MAD start
:math:`1.4826\,\mathrm{median}|r|`, the safeguarded Newton M-scale solve to 1e-10, the
``best_r`` smallest M-scales kept (ties to the earlier subset) and refined to ``refine_tol``.
Sums are accumulated in a different order than numpy's, so the two paths agree to rounding
(about 1e-14 relative on the final fits), not bit for bit.

Used when numba is importable and ``TAILREG_NO_NUMBA`` is not set (tests run both paths).
"""

from __future__ import annotations

import os

import numpy as np

try:  # pragma: no cover - exercised by whichever path the environment has
    import numba

    HAVE_NUMBA = not os.environ.get("TAILREG_NO_NUMBA")
except ImportError:  # pragma: no cover
    numba = None  # type: ignore[assignment]
    HAVE_NUMBA = False

__all__ = ["HAVE_NUMBA", "elemental_fits_many", "fast_s_many"]

_MAD_CONSTANT = 1.4826
_FAST = {"reassoc", "contract", "nsz", "arcp"}

if numba is not None:
    _jit = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=_FAST)
else:  # pragma: no cover

    def _jit(f):
        return f


@_jit
def _solve_small(A, rhs, out):
    """Gaussian elimination with partial pivoting of a k x k system (A, rhs are overwritten).

    Returns False when a pivot is exactly zero (singular).
    """
    k = A.shape[0]
    for col in range(k):
        piv = col
        big = abs(A[col, col])
        for i in range(col + 1, k):
            v = abs(A[i, col])
            if v > big:
                big = v
                piv = i
        if big == 0.0:
            return False
        if piv != col:
            for j in range(k):
                tmp = A[col, j]
                A[col, j] = A[piv, j]
                A[piv, j] = tmp
            tmp = rhs[col]
            rhs[col] = rhs[piv]
            rhs[piv] = tmp
        inv = 1.0 / A[col, col]
        for i in range(col + 1, k):
            f = A[i, col] * inv
            if f != 0.0:
                for j in range(col + 1, k):
                    A[i, j] -= f * A[col, j]
                rhs[i] -= f * rhs[col]
    for i in range(k - 1, -1, -1):
        acc = rhs[i]
        for j in range(i + 1, k):
            acc -= A[i, j] * out[j]
        out[i] = acc / A[i, i]
    return True


@_jit
def elemental_fits_many(Xn, Y, idx, solve_tol):
    """Exact fits through the subsets ``idx`` (R, m, k) of designs ``Xn`` (Rx, n, k).

    ``Xn`` has unit-norm columns (Rx = 1: shared by the R fits). A subset is singular when
    the ratio of its extreme singular values is below ``solve_tol`` (the numpy path's
    test); the ratio is bracketed by the Frobenius norms of the subset matrix and its
    inverse, :math:`1/(\\|A\\|_F\\|A^{-1}\\|_F) \\le \\sigma_k/\\sigma_1 \\le
    k/(\\|A\\|_F\\|A^{-1}\\|_F)`, and a subset whose bracket straddles the threshold is
    returned as undecided (status 2) for the caller to settle with an SVD.

    Returns betas (R, m, k) and status (R, m): 0 non-singular, 1 singular, 2 undecided.
    """
    R, m, k = idx.shape
    Rx = Xn.shape[0]
    betas = np.zeros((R, m, k))
    status = np.zeros((R, m), dtype=np.int8)
    A = np.empty((k, k))
    inv = np.empty((k, k))
    e = np.empty(k)
    col = np.empty(k)
    for r in range(R):
        X = Xn[r if Rx > 1 else 0]
        for j in range(m):
            fa = 0.0
            for a in range(k):
                row = idx[r, j, a]
                for b in range(k):
                    v = X[row, b]
                    fa += v * v
            # inverse column by column (k solves of the factorised matrix would be cheaper,
            # but k is small and the subsets are drawn once)
            fi = 0.0
            ok = True
            for c in range(k):
                for a in range(k):
                    row = idx[r, j, a]
                    for b in range(k):
                        A[a, b] = X[row, b]
                    e[a] = 1.0 if a == c else 0.0
                if not _solve_small(A, e, col):
                    ok = False
                    break
                for a in range(k):
                    inv[a, c] = col[a]
                    fi += col[a] * col[a]
            if not ok or not np.isfinite(fi):
                status[r, j] = 1
                continue
            prod = np.sqrt(fa * fi)
            lo = 1.0 / prod
            hi = k / prod
            if lo > solve_tol * 1.0001:
                status[r, j] = 0
            elif hi < solve_tol * 0.9999:
                status[r, j] = 1
                continue
            else:
                status[r, j] = 2
                continue
            for a in range(k):
                acc = 0.0
                for b in range(k):
                    acc += inv[a, b] * Y[r, idx[r, j, b]]
                betas[r, j, a] = acc
    return betas, status


@_jit
def _resid(XT, y, beta, out):
    """``out = y - X beta`` with the design transposed, ``XT`` (k, n) (contiguous columns)."""
    k, n = XT.shape
    for i in range(n):
        out[i] = y[i]
    for a in range(k):
        ba = beta[a]
        xa = XT[a]
        for i in range(n):
            out[i] -= xa[i] * ba


@_jit
def _select(a, tmp, kth):
    """The kth smallest of ``a`` (``a`` and the work array ``tmp`` are overwritten).

    Quickselect with a branch-free partition (every element is written to both ends of the
    other buffer and the end it belongs to advances): random residuals make the branches of
    a classical partition unpredictable, which costs more than the comparisons.
    """
    lo = 0
    hi = a.shape[0]
    src = a
    dst = tmp
    while hi - lo > 12:
        x0 = src[lo]
        x1 = src[(lo + hi) // 2]
        x2 = src[hi - 1]
        pivot = max(min(x0, x1), min(max(x0, x1), x2))  # median of three
        lt_end = lo
        ge_end = hi - 1
        for i in range(lo, hi):
            x = src[i]
            lt = 1 if x < pivot else 0
            dst[lt_end] = x
            dst[ge_end] = x
            lt_end += lt
            ge_end -= 1 - lt
        if lt_end == lo:
            # the pivot is the smallest: split off the elements equal to it
            eq_end = lo
            ge_end = hi - 1
            for i in range(lo, hi):
                x = dst[i]
                le = 1 if x <= pivot else 0
                src[eq_end] = x
                src[ge_end] = x
                eq_end += le
                ge_end -= 1 - le
            if kth < eq_end:
                return pivot
            lo = eq_end
            continue
        if kth < lt_end:
            hi = lt_end
        else:
            lo = lt_end
        src, dst = dst, src
    for i in range(lo + 1, hi):  # insertion sort of the last few
        x = src[i]
        j = i - 1
        while j >= lo and src[j] > x:
            src[j + 1] = src[j]
            j -= 1
        src[j + 1] = x
    return src[kth]


@_jit
def _median_abs(res, work, tmp):
    """``np.median(np.abs(res))`` exactly (the mean of the two middle values for even n)."""
    n = res.shape[0]
    for i in range(n):
        work[i] = abs(res[i])
    h = n // 2
    upper = _select(work, tmp, h)
    if n % 2 == 1:
        return upper
    # the lower middle value: the largest below `upper`, or `upper` itself when tied
    below = 0
    lower = -1.0
    for i in range(n):
        x = abs(res[i])
        if x < upper:
            below += 1
            lower = max(lower, x)
    if below < h:
        lower = upper
    return (lower + upper) / 2.0


@_jit
def _ave_chi(res, s, c, dof):
    r""":math:`\sum_i\chi(r_i/s)/(n - k)` with :math:`\chi = t(3 + t(-3 + t))`,
    :math:`t = \min((r/(cs))^2, 1)` (``Bisquare.chi``)."""
    acc = 0.0
    cs = c * s
    for i in range(res.shape[0]):
        t = (res[i] / cs) ** 2
        if t > 1.0:
            t = 1.0
        acc += t * (3.0 + t * (-3.0 + t))
    return acc / dof


@_jit
def _m_scale(res, c, b, s0, dof, tol, maxiter):
    """The safeguarded Newton solve of ``_solve_m_scales`` (numpy path) for one row."""
    s = s0
    if not (np.isfinite(s) and s > 0):
        return np.inf
    lo = 0.0
    hi = np.inf
    for _ in range(maxiter):
        cs = c * s
        g = 0.0
        slope = 0.0
        for i in range(res.shape[0]):
            t = (res[i] / cs) ** 2
            if t > 1.0:
                t = 1.0
            g += t * (3.0 + t * (-3.0 + t))
            slope += 6.0 * t * (1.0 - t) ** 2
        g /= dof
        slope /= dof
        up = g <= b
        if up:
            hi = s
        else:
            lo = s
        new = s * np.exp(np.log(g / b) * g / slope)
        if not np.isfinite(new) or new < lo or new > hi:
            if np.isfinite(hi) and lo > 0:
                new = np.sqrt(lo * hi)
            elif up:
                new = 0.5 * s
            else:
                new = 2.0 * s
        done = abs(new - s) <= tol * s
        s = new
        if done:
            break
    return s


@_jit
def _wls_increment(XT, res, s, c, w, G, rhs, d, delta):
    """Bisquare-weighted least-squares increment with Jacobi scaling (numpy ``_wls_step``).

    ``w`` is a work array (n,). Each Gram entry is one contiguous dot product (vectorised).
    Returns False when the scaled Gram matrix is singular (the increment then comes from a
    pseudo-inverse, as in the numpy path).
    """
    k, n = XT.shape
    cs = c * s
    for i in range(n):
        u = res[i] / cs
        t2 = u * u
        w[i] = (1.0 - t2) ** 2 if t2 <= 1.0 else 0.0
    for a in range(k):
        xa = XT[a]
        acc = 0.0
        for i in range(n):
            acc += xa[i] * (w[i] * res[i])
        rhs[a] = acc
        for b2 in range(a + 1):
            xb = XT[b2]
            acc = 0.0
            for i in range(n):
                acc += (w[i] * xa[i]) * xb[i]
            G[a, b2] = acc
            G[b2, a] = acc
    for a in range(k):
        v = np.sqrt(G[a, a])
        d[a] = v if v > 0 else 1.0
    for a in range(k):
        rhs[a] /= d[a]
        for b2 in range(k):
            G[a, b2] /= d[a] * d[b2]
    Gc = G.copy()
    rc = rhs.copy()
    if _solve_small(Gc, rc, delta):
        ok = True
        for a in range(k):
            if not np.isfinite(delta[a]):
                ok = False
        if ok:
            for a in range(k):
                delta[a] /= d[a]
            return True
    sol = np.linalg.pinv(G) @ rhs
    for a in range(k):
        delta[a] = sol[a] / d[a]
    return False


@_jit
def _refine(
    XT, y, beta, s, n_steps, c, b, zero_level, check, tol, floor, res, work, tmp, G, rhs, d, delta
):
    """I-steps from ``beta`` (overwritten) and scale ``s`` (< 0: the MAD start).

    Returns (scale, n_steps taken, converged, exact); ``res`` holds the residuals of the
    last beta whose residuals were computed (as the numpy path and robustbase).
    """
    k, n = XT.shape
    dof = n - k
    _resid(XT, y, beta, res)
    if s < 0:
        s = _MAD_CONSTANT * _median_abs(res, work, tmp)
    zeros = 0
    for i in range(n):
        if abs(res[i]) <= zero_level:
            zeros += 1
    if s <= 0 or zeros > n / 2.0:
        return 0.0, 0, True, True
    it = 0
    converged = False
    for step in range(n_steps):
        s = s * np.sqrt(_ave_chi(res, s, c, dof) / b)
        _wls_increment(XT, res, s, c, work, G, rhs, d, delta)
        it = step + 1
        if check:
            dn = 0.0
            bn = 0.0
            for a in range(k):
                dn += delta[a] * delta[a]
                bn += beta[a] * beta[a]
            dn = np.sqrt(dn)
            bn = np.sqrt(bn)
            for a in range(k):
                beta[a] += delta[a]
            if dn <= tol * max(floor, bn):
                converged = True
                break
        else:
            for a in range(k):
                beta[a] += delta[a]
        _resid(XT, y, beta, res)
    return s, it, converged, False


@_jit
def _fast_s_one(XT, y, cand, n_cand, c, b, k_fast, best_r, k_max, refine_tol, zero_level, y_size):
    k, n = XT.shape
    dof = n - k
    res = np.empty(n)
    work = np.empty(n)
    tmp = np.empty(n)
    G = np.empty((k, k))
    rhs = np.empty(k)
    d = np.empty(k)
    delta = np.empty(k)
    beta = np.empty(k)
    best_beta = np.zeros((best_r, k))
    best_s = np.full(best_r, np.inf)
    best_i = np.full(best_r, -1)
    n_best = 0
    worst = np.inf
    pos = 0
    for j in range(n_cand):
        for a in range(k):
            beta[a] = cand[j, a]
        s, _, _, exact = _refine(
            XT,
            y,
            beta,
            -1.0,
            k_fast,
            c,
            b,
            zero_level,
            False,
            0.0,
            0.0,
            res,
            work,
            tmp,
            G,
            rhs,
            d,
            delta,
        )
        if exact:
            # more than half the data fitted exactly: the elemental fit with scale 0
            out = np.empty(k)
            for a in range(k):
                out[a] = cand[j, a]
            return out, 0.0, True, 0, True
        if not (np.isfinite(s) and s > 0):
            continue
        # the M-scale is below worst iff ave chi(r / worst) < b (chi decreases in s); the
        # margin keeps rows whose M-scale equals worst up to rounding
        if np.isfinite(worst) and _ave_chi(res, worst * (1.0 + 1e-9), c, dof) > b:
            continue
        sc = _m_scale(res, c, b, s, dof, 1e-10, 200)
        if not sc < worst:
            continue
        if n_best < best_r:
            pos = n_best
            n_best += 1
        best_s[pos] = sc
        best_i[pos] = j
        for a in range(k):
            best_beta[pos, a] = beta[a]
        if n_best == best_r:
            pos = 0
            for q in range(1, best_r):
                if best_s[q] > best_s[pos] or (
                    best_s[q] == best_s[pos] and best_i[q] > best_i[pos]
                ):
                    pos = q
            worst = best_s[pos]
    # the best candidates in the order of their scales (ties: the earlier subset first)
    order = np.argsort(best_i[:n_best])
    order = order[np.argsort(best_s[:n_best][order], kind="mergesort")]
    best_scale = np.inf
    out = np.zeros(k)
    conv_all = True
    max_it = 0
    for q in order:
        for a in range(k):
            beta[a] = best_beta[q, a]
        s, it, conv, exact = _refine(
            XT,
            y,
            beta,
            best_s[q],
            k_max,
            c,
            b,
            zero_level,
            True,
            refine_tol,
            refine_tol * y_size,
            res,
            work,
            tmp,
            G,
            rhs,
            d,
            delta,
        )
        if exact:
            s = 0.0
            conv = True
        conv_all = conv_all and conv
        if it > max_it:
            max_it = it
        if s < best_scale:
            best_scale = s
            for a in range(k):
                out[a] = beta[a]
    return out, best_scale, conv_all, max_it, False


@_jit
def fast_s_many(XT3, Y, cand, n_cand, c, b, k_fast, best_r, k_max, refine_tol, zero_level, y_size):
    """Fast-S for R fits: transposed designs ``XT3`` (Rx, k, n), responses ``Y`` (R, n).

    ``cand`` (R, m, k) holds the elemental fits (the first ``n_cand[r]`` of row r are
    valid); ``zero_level`` (R,) the residual size below which a residual counts as zero.

    Returns beta (R, k), scale (R,), converged (R,), n_iter (R,), exact (R,) (a candidate
    fitted more than half the data exactly: its elemental fit, scale 0).
    """
    R = Y.shape[0]
    k = XT3.shape[1]
    Rx = XT3.shape[0]
    beta = np.zeros((R, k))
    scale = np.zeros(R)
    conv = np.zeros(R, dtype=np.bool_)
    n_iter = np.zeros(R, dtype=np.int64)
    exact = np.zeros(R, dtype=np.bool_)
    for r in range(R):
        XT = XT3[r if Rx > 1 else 0]
        bt, s, cv, it, ex = _fast_s_one(
            XT, Y[r], cand[r], n_cand[r], c, b, k_fast, best_r, k_max, refine_tol, zero_level[r],
            y_size[r],
        )  # fmt: skip
        beta[r] = bt
        scale[r] = s
        conv[r] = cv
        n_iter[r] = it
        exact[r] = ex
    return beta, scale, conv, n_iter, exact
