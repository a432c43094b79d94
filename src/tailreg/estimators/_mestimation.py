r"""The M-estimation core shared by Huber, bisquare, MM and the Student-t fits.

An M-estimator of regression solves :math:`\sum_i \psi(r_i/s)\,x_i = 0`, :math:`r = y - X\beta`.
With the IRLS weights :math:`w_i = \psi(u_i)/u_i` this is the weighted normal equation
:math:`X^\top W (y - X\beta) = 0`, solved by iterating weighted least squares (Holland & Welsch
1977; Huber 1981, sec. 7.8). :func:`irls` runs that iteration for R replications at once —
no Python loop over replications: each sweep forms the R weighted Gram matrices with one
matrix product, solves them in one batched call and drops the replications that have
converged (active-set masking).

Conventions follow ``MASS::rlm`` (Venables & Ripley 2002, sec. 6.5) so that the fits land on
the fixed point R reaches with ``acc = 1e-13``:

* start at least squares (or ``beta0``);
* each sweep first updates the scale from the current residuals (``"mad"``:
  :math:`\operatorname{median}|r_i|/0.6745`, about 0; ``"proposal2"``: one step of
  :func:`~tailreg.scale.huber_proposal2_step`), then takes one weighted-least-squares step
  with :math:`w_i = w(r_i/s)`;
* stop when the relative change of the residual vector,
  :math:`\|r^{\text{old}} - r^{\text{new}}\|_2 / \max(10^{-20}, \|r^{\text{old}}\|_2^2)^{1/2}`
  (MASS's ``irls.delta``), is at most ``tol``.

The reported scale is the one used for the last weights, and the residuals are those after
the last step (MASS's ``s`` and ``wresid``); at convergence the two are consistent.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .. import theory
from .._linalg import lstsq
from ..exceptions import ConvergenceWarning, ExactFitWarning
from ..inference.covariance import REGISTRY, CovContext, covariance, weighted_gram
from ..inference.results import FitResult, ManyFits
from ..losses import Loss
from ..scale import MASS_MAD_CONSTANT, R_MAD_FACTOR, huber_proposal2_step
from ..theory import Target

__all__ = [
    "ExactFitWarning",
    "IRLSResult",
    "MEstimatorMixin",
    "check_scale_rule",
    "irls",
    "m_cov_context",
    "m_fit_result",
    "m_many_fits",
    "m_scores_jacobian",
    "warn_irls",
]

#: the iteration stops as an exact fit when the scale falls below this fraction of RMS(y)
#: (the rounding floor of residuals is ~1e-15 RMS(y))
_EXACT_FIT_RTOL = 1e-12
#: a converged fit is also flagged exact when its scale is below this fraction of the RMS of
#: its starting residuals: the residual-change test can be met while the scale of the points
#: fitted exactly is still shrinking toward the rounding floor
_EXACT_FIT_START_RTOL = 1e-10
#: Newton steps in :func:`irls` add the MAD scale's derivative once the squared relative
#: residual change is below this (see the loop)
_JOINT_NEWTON_DELTA2 = 1e-6
#: MASS's default ``k2`` for proposal 2 when the loss is not Huber's
_DEFAULT_K2 = 1.345


@dataclass(frozen=True)
class IRLSResult:
    """Output of :func:`irls` for R replications.

    Attributes
    ----------
    beta : ndarray (R, k)
    scale : ndarray (R,)
        Scale used for the final weights (0 for exact fits).
    n_iter : ndarray of int (R,)
        Weighted-least-squares steps taken.
    converged : ndarray of bool (R,)
        The residual change met ``tol`` (exact fits count as converged, as in MASS).
    weights : ndarray (R, n)
        Final IRLS weights :math:`w(r_i/s)`.
    resid : ndarray (R, n)
        Residuals after the final step.
    exact_fit : ndarray of bool (R,)
        The scale collapsed: below 1e-12 RMS(y) during the iteration (which then stops, as
        MASS does at a zero scale), or below 1e-10 times the RMS of the starting residuals at
        convergence (see :class:`ExactFitWarning`). Never set for a fixed scale.
    singular : ndarray of bool (R,)
        A weighted Gram matrix was singular (e.g. a redescending psi gave zero weight to too
        many rows); the iteration stopped there with ``converged=False``.
    gram_inv : ndarray (R, k, k) or None
        :math:`(X^\\top X)^{-1}` when the least-squares start computed it (stacked designs).
    """

    beta: np.ndarray
    scale: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    weights: np.ndarray
    resid: np.ndarray
    exact_fit: np.ndarray
    singular: np.ndarray
    gram_inv: np.ndarray | None = None


# --------------------------------------------------------------------------------------
# the iteration


def check_scale_rule(scale: Any) -> str | float:
    """Validate a ``scale`` hyperparameter: ``"mad"``, ``"proposal2"`` or a positive float."""
    if isinstance(scale, str):
        if scale in ("mad", "proposal2"):
            return scale
        raise ValueError(f"scale must be 'mad', 'proposal2' or a positive number, got {scale!r}")
    if isinstance(scale, bool) or not isinstance(scale, Real):
        raise ValueError(f"scale must be 'mad', 'proposal2' or a positive number, got {scale!r}")
    v = float(scale)
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"a fixed scale must be a positive finite number, got {scale!r}")
    return v


def _fitted(X: np.ndarray, beta: np.ndarray) -> np.ndarray:
    if X.ndim == 2:
        return beta @ X.T
    return (X @ beta[..., None])[..., 0]


def _batched_solve(G: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``G z = g`` for a stack of systems; flag the singular ones instead of failing all."""
    try:
        z = np.linalg.solve(G, g[..., None])[..., 0]
        bad = ~np.isfinite(z).all(axis=-1)
    except np.linalg.LinAlgError:
        z = np.zeros_like(g)
        bad = np.zeros(g.shape[0], dtype=bool)
        for i in range(g.shape[0]):
            try:
                z[i] = np.linalg.solve(G[i], g[i])
            except np.linalg.LinAlgError:
                bad[i] = True
        bad |= ~np.isfinite(z).all(axis=-1)
    z[bad] = 0.0
    return z, bad


def _middle_abs(r: np.ndarray, half: int) -> tuple[np.ndarray, np.ndarray]:
    """The two middle order statistics of each row of ``|r|`` (R, n); equal for odd n.

    A full sort wins for short rows; for long rows one partition at the upper middle, with
    the lower middle the maximum of the left part (a two-index partition costs ~4x one).
    """
    a = np.abs(r)
    n = a.shape[1]
    if n <= 256:
        a.sort(axis=1)
        return (a[:, half], a[:, half]) if n % 2 else (a[:, half], a[:, half + 1])
    if n % 2:
        a.partition(half, axis=1)
        m = a[:, half].copy()
        return m, m
    a.partition(half + 1, axis=1)
    return a[:, : half + 1].max(axis=1), a[:, half + 1].copy()


def _median_abs(r: np.ndarray, half: int) -> np.ndarray:
    """Row medians of ``|r|`` (R, n) — np.median's result, a few times faster on small rows."""
    lo, hi = _middle_abs(r, half)
    return hi if r.shape[1] % 2 else 0.5 * (lo + hi)


def _mad_with_gradient(r: np.ndarray, X: np.ndarray, half: int) -> tuple[np.ndarray, np.ndarray]:
    r"""``median|r|/0.6745`` per row and its gradient with respect to beta.

    With :math:`r = y - X\beta` the median of :math:`|r|` is :math:`|r_m|` for the middle
    observation m (the mean of the two middle ones for even n), so locally
    :math:`\partial s/\partial\beta = -\operatorname{sign}(r_m)\,x_m / 0.6745`.

    Parameters
    ----------
    r : ndarray (R, n)
    X : ndarray (n, k) shared or (R, n, k)
    half : int
        ``(n - 1) // 2``.

    Returns
    -------
    scale : ndarray (R,)
    grad : ndarray (R, k)
    """
    a = np.abs(r)
    rows = np.arange(r.shape[0])

    def term(m: np.ndarray) -> np.ndarray:
        # the middle observation found by its value (a partition plus a compare is cheaper
        # than an argpartition); with ties any of them gives a valid subgradient
        j = np.argmax(a == m[:, None], axis=1)
        xj = X[j] if X.ndim == 2 else X[rows, j]
        return np.sign(r[rows, j])[:, None] * xj

    lo, hi = _middle_abs(r, half)
    if r.shape[1] % 2:
        med, g = hi, term(hi)
    else:
        med, g = 0.5 * (lo + hi), 0.5 * (term(lo) + term(hi))
    return med / MASS_MAD_CONSTANT, -g / MASS_MAD_CONSTANT


def _scale_correction(
    gram: np.ndarray,
    z: np.ndarray,
    u: np.ndarray,
    dpsi: np.ndarray,
    X: np.ndarray,
    sgrad: np.ndarray,
    d: np.ndarray,
    rows: np.ndarray,
) -> np.ndarray:
    r"""Newton step for beta when the MAD scale moves with beta (Sherman–Morrison).

    With :math:`s = s(\beta)` the Jacobian of :math:`\sum\psi(r_i/s)x_i` is
    :math:`-(A + b g^\top)/s`, :math:`A = \sum\psi'(u_i)x_ix_i^\top`,
    :math:`b = \sum\psi'(u_i)u_ix_i`, :math:`g = \partial s/\partial\beta`, so the step
    :math:`A^{-1}c` for the right-hand side c becomes
    :math:`A^{-1}c - A^{-1}b\,g^\top A^{-1}c / (1 + g^\top A^{-1}b)`. All vectors are in the
    equilibrated coordinates of :func:`irls` (``gram``, ``z`` and ``sgrad`` already scaled by
    ``d``). Rows outside ``rows`` or with a small denominator keep ``z``.
    """
    pu = dpsi * u
    b = (pu @ X) if X.ndim == 2 else (pu[:, None, :] @ X)[:, 0, :]
    zb, bad = _batched_solve(gram, b * d)
    denom = 1.0 + np.einsum("ij,ij->i", sgrad, zb)
    ok = rows & ~bad & (np.abs(denom) > 0.1)
    corr = zb * (np.einsum("ij,ij->i", sgrad, z) / np.where(ok, denom, 1.0))[:, None]
    return np.where(ok[:, None], z - corr, z)


def irls(
    X: np.ndarray,
    Y: np.ndarray,
    loss: Loss,
    *,
    scale: str | float | np.ndarray = "mad",
    beta0: np.ndarray | None = None,
    tol: float = 1e-12,
    maxiter: int = 1000,
    k2: float | None = None,
    newton: bool = False,
) -> IRLSResult:
    r"""Iteratively reweighted least squares for R M-estimation problems at once (no checks).

    Parameters
    ----------
    X : ndarray (n, k) shared, or (R, n, k)
        Design including the constant column.
    Y : ndarray (R, n)
    loss : Loss
        Supplies the weights :math:`w(u) = \psi(u)/u`.
    scale : "mad", "proposal2", float or ndarray (R,)
        ``"mad"``: :math:`s = \operatorname{median}|r_i| / 0.6745` re-estimated every sweep
        (MASS ``scale.est="MAD"``; the 0.6745 is MASS's rounded constant,
        :data:`~tailreg.scale.MASS_MAD_CONSTANT`). ``"proposal2"``: Huber's proposal 2 updated
        jointly, one :func:`~tailreg.scale.huber_proposal2_step` per sweep with
        :math:`k_2` = ``k2`` and :math:`n - k` (MASS ``scale.est="Huber"``), started at
        ``1.4826 median|r|`` as MASS. A float or an (R,) array holds the scale fixed.
    beta0 : ndarray (R, k) or (k,), optional
        Starting coefficients; least squares (Householder QR) by default.
    tol : float
        Stop when MASS's ``irls.delta``,
        :math:`\|r^{(t-1)} - r^{(t)}\| / \|r^{(t-1)}\|`, is at most ``tol``.
    maxiter : int
        Maximum weighted-least-squares steps.
    k2 : float, optional
        Proposal-2 constant; defaults to the loss's ``k`` (Huber) or 1.345 (MASS's default).
    newton : bool, default False
        Take Newton steps, :math:`\delta = (X^\top \Psi' X)^{-1} s X^\top\psi(r/s)` with
        :math:`\Psi' = \operatorname{diag}\psi'(r_i/s)`, instead of weighted-least-squares
        steps (Huber 1981, sec. 7.8). Only for convex losses (``loss.convex``). The right-hand
        side is the same (:math:`w_i r_i = s\,\psi(u_i)`), so the fixed point — hence the fit —
        is the one IRLS reaches, in fewer sweeps (quadratic convergence at a fixed scale;
        for a piecewise-quadratic loss such as Huber's it stops once the set of residuals
        beyond :math:`\pm k s` settles). With ``scale="mad"`` the scale moves with beta; once
        the squared residual change is below 1e-6 the step also carries the MAD's derivative
        (:func:`_scale_correction`), which keeps the convergence quadratic instead of linear at
        a rate of order :math:`n^{-1/2}` (several-fold fewer sweeps under skewed errors).
        Switching it on only near the fixed point keeps the iteration on the root MASS's
        iteration reaches (the beta-and-MAD system can have several at small n). A replication
        falls back to IRLS steps for good when its :math:`X^\top\Psi' X` is singular or its
        residual change stops shrinking.

    Returns
    -------
    IRLSResult

    Notes
    -----
    Each step solves for the *increment*, :math:`\delta = (X^\top W X)^{-1} X^\top W r`,
    :math:`\beta \leftarrow \beta + \delta` — algebraically the weighted least-squares solution
    :math:`(X^\top W X)^{-1}X^\top W y`, but the rounding error of the normal equations then
    scales with :math:`\delta \to 0` rather than with :math:`\beta`, so the fixed point
    :math:`X^\top W r = 0` is reached to working precision even though the Gram matrix squares
    the condition number (columns are also equilibrated). Replications whose scale collapses
    (exact fits) or whose Gram matrix is singular leave the active set and are flagged.
    """
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[None, :]
    if newton and not loss.convex:
        raise ValueError(f"Newton steps need a convex loss; {loss!r} is not")
    R, n = Y.shape
    k = X.shape[-1]
    shared = X.ndim == 2

    if isinstance(scale, str):
        mode = check_scale_rule(scale)
        s = np.zeros(R)
    else:
        mode = "fixed"
        s = np.broadcast_to(np.asarray(scale, dtype=float), (R,)).copy()
        if not (np.isfinite(s).all() and (s > 0).all()):
            raise ValueError("a fixed scale must be positive and finite")

    gram_inv = None
    if beta0 is None:
        beta, gram_inv = lstsq(X, Y, with_gram_inv=True)
    else:
        beta = np.broadcast_to(np.asarray(beta0, dtype=float), (R, k)).copy()
    resid = Y - _fitted(X, beta)

    if mode == "proposal2":
        kk = float(k2 if k2 is not None else getattr(loss, "k", _DEFAULT_K2))
        s = R_MAD_FACTOR * np.median(np.abs(resid), axis=1)
    # row sums of squares by einsum: no (R, n) temporaries (these run once per block of fits)
    exact_tol = _EXACT_FIT_RTOL * np.sqrt(np.einsum("ij,ij->i", Y, Y) / n)
    start_rms = np.sqrt(np.einsum("ij,ij->i", resid, resid) / n)

    # equilibrate columns once: the Gram matrices are solved as D G D z = D g, delta = D z
    d = 1.0 / np.sqrt(np.maximum(np.einsum("...nk,...nk->...k", X, X), np.finfo(float).tiny))
    if shared:
        xx = (X[:, :, None] * X[:, None, :]).reshape(n, k * k)

    weights = np.ones((R, n))
    n_iter = np.zeros(R, dtype=int)
    converged = np.zeros(R, dtype=bool)
    exact = np.zeros(R, dtype=bool)
    singular = np.zeros(R, dtype=bool)

    # Working copies hold the active replications only; rows are written back to the full
    # arrays when they leave (converged, exact, singular) so no sweep scatters the whole set.
    idx = np.arange(R)
    ba, ra, sa, wa, ea = beta, resid, s, weights, exact_tol
    # u of the last step; the step's IRLS weights wa may be left uncomputed (None)
    ua: np.ndarray | None = None
    Xa = X
    da = d
    half = (n - 1) // 2
    # per active replication: still taking Newton steps, and the previous residual change
    nt = np.full(R, bool(newton))
    prev = np.full(R, np.inf)
    near = np.zeros(R, dtype=bool)
    sgrad: np.ndarray | None = None  # the MAD's gradient, in a joint sweep
    min_inside = max(2 * k, n // 4)

    def keep_only(keep: np.ndarray) -> None:
        """Shrink the working arrays to the replications still iterating."""
        nonlocal idx, ba, ra, sa, ea, wa, ua, nt, prev, near, sgrad, Xa, da
        idx, ba, ra, sa, ea = idx[keep], ba[keep], ra[keep], sa[keep], ea[keep]
        nt, prev, near = nt[keep], prev[keep], near[keep]
        wa = wa[keep] if wa is not None else None
        ua = ua[keep] if ua is not None else None
        sgrad = sgrad[keep] if sgrad is not None else None
        if not shared:
            Xa, da = Xa[keep], da[keep]

    def retire(leave: np.ndarray, it: int) -> None:
        rows = idx[leave]
        beta[rows] = ba[leave]
        resid[rows] = ra[leave]
        s[rows] = sa[leave]
        weights[rows] = wa[leave] if wa is not None else loss.weight(ua[leave])
        n_iter[rows] = it

    it = 0
    for it in range(1, maxiter + 1):
        # the scale's own derivative enters only near the fixed point: from afar the joint
        # step can jump to another root of the (non-convex) beta-and-MAD system than the one
        # MASS's iteration reaches
        near = nt & (prev <= _JOINT_NEWTON_DELTA2)
        joint = mode == "mad" and near.any()
        sgrad = None
        if joint:
            sa, sgrad = _mad_with_gradient(ra, Xa, half)
        elif mode == "mad":
            sa = _median_abs(ra, half) / MASS_MAD_CONSTANT
        elif mode == "proposal2":
            sa = huber_proposal2_step(ra, sa, kk, n - k)
        if mode != "fixed":
            ex = ~(sa > ea)
            if ex.any():
                exact[idx[ex]] = True
                converged[idx[ex]] = True
                retire(ex, it - 1)
                keep_only(~ex)
                if idx.size == 0:
                    break

        u = ra / sa[:, None]
        # Gram weights: psi'(u) for a Newton step, w(u) for a weighted-least-squares step.
        # A Newton step needs a well-posed X'Psi'X: at least a quarter of the rows (and 2k)
        # inside the region where psi' > 0 — always true with the MAD scale and k >= 0.6745
        # (half the |r| are below the MAD); otherwise this sweep takes an IRLS step.
        newton_now = nt
        if nt.any():
            dpsi = loss.psi_prime(u)
            newton_now = nt & (np.count_nonzero(dpsi, axis=1) >= min_inside)
        if newton_now.all():
            # w_i r_i = s psi(u_i): the IRLS weights themselves are only needed for the rows
            # that leave (reported weights), so they are computed then
            wa = None
            wr = loss.psi(u) * sa[:, None]
            gw = dpsi
        else:
            wa = loss.weight(u)
            wr = wa * ra
            gw = np.where(newton_now[:, None], dpsi, wa) if newton_now.any() else wa
        ua = u
        if shared:
            gram = (gw @ xx).reshape(-1, k, k)
            rhs = wr @ X
            dd = d[:, None] * d[None, :]
        else:
            gram = weighted_gram(Xa, gw)
            rhs = (wr[:, None, :] @ Xa)[:, 0, :]
            dd = da[:, :, None] * da[:, None, :]
        z, bad = _batched_solve(gram * dd, rhs * da)
        retry = bad & newton_now
        if retry.any():  # X'Psi'X singular all the same: weighted least squares from now on
            nt[retry] = False
            newton_now = newton_now & ~retry
            w_retry = wa[retry] if wa is not None else loss.weight(u[retry])
            g2 = (w_retry @ xx).reshape(-1, k, k) if shared else weighted_gram(Xa[retry], w_retry)
            ddr = dd if shared else dd[retry]
            z[retry], bad[retry] = _batched_solve(g2 * ddr, (rhs * da)[retry])
        if joint:
            z = _scale_correction(gram * dd, z, u, gw, Xa, sgrad * da, da, near & newton_now & ~bad)
        step = z * da
        dfit = _fitted(Xa, step)
        # MASS irls.delta: relative change of the residual vector
        delta2 = np.einsum("ij,ij->i", dfit, dfit) / np.maximum(
            1e-20, np.einsum("ij,ij->i", ra, ra)
        )
        ba = ba + step
        ra = ra - dfit
        # a Newton step that does not shrink the residual change hands over to IRLS
        nt &= ~newton_now | (delta2 < prev)
        prev = delta2
        done = (delta2 <= tol * tol) & ~bad
        leave = done | bad
        if leave.any():
            converged[idx[done]] = True
            singular[idx[bad]] = True
            retire(leave, it)
            keep_only(~leave)
            if idx.size == 0:
                break
    if idx.size:
        retire(np.ones(idx.size, dtype=bool), it)
    # residuals recomputed from the data (the working ones were updated incrementally)
    resid = Y - _fitted(X, beta)
    if mode != "fixed":
        exact |= converged & (s <= _EXACT_FIT_START_RTOL * start_rms)

    return IRLSResult(
        beta=beta,
        scale=s,
        n_iter=n_iter,
        converged=converged,
        weights=weights,
        resid=resid,
        exact_fit=exact,
        singular=singular,
        gram_inv=gram_inv,
    )


def warn_irls(name: str, res: IRLSResult, maxiter: int | None = None) -> None:
    """Turn the failure flags of an :class:`IRLSResult` into actionable warnings."""
    R = res.beta.shape[0]
    unconv = ~res.converged & ~res.singular
    what = "fit" if R == 1 else f"{int(unconv.sum())} of {R} fits"
    if unconv.any():
        limit = f" in max_iter={maxiter} steps" if maxiter is not None else ""
        warnings.warn(
            f"{name}: IRLS {what} did not converge{limit} (converged=False); "
            "increase max_iter or loosen tol",
            ConvergenceWarning,
            stacklevel=3,
        )
    if res.singular.any():
        what = "fit" if R == 1 else f"{int(res.singular.sum())} of {R} fits"
        warnings.warn(
            f"{name}: IRLS {what} stopped at a singular weighted design (too few rows with "
            "non-zero weight; converged=False); try a more robust start or a larger tuning "
            "constant",
            ConvergenceWarning,
            stacklevel=3,
        )
    if res.exact_fit.any():
        what = "the fit is" if R == 1 else f"{int(res.exact_fit.sum())} of {R} fits are"
        warnings.warn(
            f"{name}: {what} exact — at least half the residuals are zero, so the robust "
            "scale is 0; the coefficients are the exact fit's and the standard errors are "
            "not meaningful (NaN or 0)",
            ExactFitWarning,
            stacklevel=3,
        )


# --------------------------------------------------------------------------------------
# inference and results


def m_scores_jacobian(
    X: np.ndarray, resid: np.ndarray, scale: float | np.ndarray, loss: Loss
) -> tuple[np.ndarray, np.ndarray]:
    r"""Scores and Jacobian of the M-estimating equation for the registry's ``sandwich`` kind.

    :math:`s_i = \psi(u_i)\,x_i` and :math:`J = \sum_i \psi'(u_i)\,x_i x_i^\top / s`, with
    :math:`u_i = r_i/s`, so that ``sandwich`` gives
    :math:`s^2\left(\sum\psi' xx^\top\right)^{-1}\left(\sum\psi^2 xx^\top\right)
    \left(\sum\psi' xx^\top\right)^{-1}` (Huber 1967; Huber 1981, eq. 7.6.3 with the scale
    treated as known). For the squared loss this is HC0.

    Parameters
    ----------
    X : (n, k) or (R, n, k)
    resid : (n,) or (R, n)
    scale : float or (R,)
    loss : Loss

    Returns
    -------
    scores : (..., n, k)
    jacobian : (..., k, k)
    """
    s = np.asarray(scale, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = resid / s[..., None]
        scores = loss.psi(u)[..., None] * X
        jac = weighted_gram(X, loss.psi_prime(u)) / s[..., None, None]
    return scores, jac


def m_cov_context(
    X: np.ndarray,
    resid: np.ndarray,
    scale: float | np.ndarray,
    loss: Loss,
    options: Mapping[str, Any] | None = None,
    gram_inv: np.ndarray | None = None,
    with_scores: bool = True,
) -> CovContext:
    """The :class:`CovContext` of an M-fit: residuals, scale, loss, scores and Jacobian.

    ``with_scores=False`` leaves the scores (R, n, k) and Jacobians out (None): they cost as
    much as an IRLS sweep and only some covariance kinds read them.
    """
    scores, jac = m_scores_jacobian(X, resid, scale, loss) if with_scores else (None, None)
    return CovContext(
        X=X,
        resid=resid,
        scale=scale,
        loss=loss,
        scores=scores,
        jacobian=jac,
        options=dict(options or {}),
        gram_inv=gram_inv,
    )


def m_fit_result(
    X: np.ndarray,
    names: list[str],
    res: IRLSResult,
    loss: Loss,
    *,
    cov_kinds: tuple[str, ...],
    estimator: str,
    cov_kind: str | None = None,
    options: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> FitResult:
    """Build the :class:`FitResult` of a single (R = 1) IRLS fit on design ``X`` (n, k)."""
    beta = res.beta[0]
    resid = res.resid[0]
    s = float(res.scale[0])
    n, k = X.shape
    ctx = m_cov_context(X, resid, s, loss, options)
    with np.errstate(invalid="ignore"):  # rho of Huber(k=inf) evaluates inf - inf off-branch
        objective = float(loss.rho(resid / s).sum()) if s > 0 else None
    info = {
        "loss": repr(loss),
        "weights": res.weights[0],
        "exact_fit": bool(res.exact_fit[0]),
    }
    info.update(extra or {})
    return FitResult(
        params=pd.Series(beta, index=names, name="coef"),
        cov_context=ctx,
        cov_kinds=cov_kinds,
        cov_kind=cov_kinds[0] if cov_kind is None else cov_kind,
        nobs=n,
        df_resid=n - k,
        scale=s,
        n_iter=int(res.n_iter[0]),
        converged=bool(res.converged[0]),
        resid=resid,
        estimator=estimator,
        use_t=False,
        objective=objective,
        extra=info,
    )


def m_many_fits(
    X: np.ndarray,
    names: list[str],
    res: IRLSResult,
    loss: Loss,
    kinds: tuple[str, ...],
    options: Mapping[str, Any] | None = None,
) -> ManyFits:
    """Build :class:`ManyFits` from a batched :class:`IRLSResult` (standard errors batched too).

    Exact fits and singular stops get NaN standard errors.
    """
    bad = res.exact_fit | res.singular
    s = np.where(bad, 1.0, res.scale)
    with_scores = any(REGISTRY[kind].uses_scores for kind in kinds if kind in REGISTRY)
    ctx = m_cov_context(X, res.resid, s, loss, options, res.gram_inv, with_scores)
    se = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for kind in kinds:
            v = np.sqrt(np.diagonal(covariance(kind, ctx), axis1=-2, axis2=-1))
            se[kind] = np.where(bad[:, None], np.nan, v)
    return ManyFits(
        params=res.beta,
        param_names=tuple(names),
        n_coef=X.shape[-1],
        se=se,
        scale=res.scale,
        converged=res.converged.copy(),
        n_iter=res.n_iter,
    )


class MEstimatorMixin:
    """``_fit`` and vectorised ``_fit_many`` for any estimator solved by :func:`irls`.

    Mix in before :class:`~tailreg.estimators._base.BaseRegressor`. A subclass provides
    ``_make_loss()``, and may override ``_scale_rule()`` (default: ``self.scale``),
    ``_start(X, Y)`` (default: ``None``, least squares) and ``_cov_options()``; it must have
    ``tol`` and ``max_iter`` attributes and set ``_cov_kinds``.
    """

    _cov_kinds: ClassVar[tuple[str, ...]]
    tol: float
    max_iter: int

    def _make_loss(self) -> Loss:
        raise NotImplementedError

    @property
    def loss(self) -> Loss:
        """The M-estimator's loss (rho, psi, psi', weights)."""
        return self._make_loss()

    def target(self, law: Any) -> Target | None:
        """The M-location of the loss at the law, under the estimator's scale rule.

        ``scale="mad"`` re-estimates the MAD of the residuals at every step, which the theory's
        ``"estimated"`` convention models; a fixed scale is a known scale; proposal 2 has no
        counterpart in :mod:`tailreg.theory` (None).
        """
        rule = self._scale_rule()
        if isinstance(rule, str):
            if rule != "mad":
                return None
            return theory.target(self._make_loss(), law, "estimated")
        if np.ndim(rule) == 0 and np.isfinite(rule):
            return theory.target(self._make_loss(), law, float(rule))
        return None

    def _scale_rule(self) -> str | float | np.ndarray:
        return check_scale_rule(self.scale)  # type: ignore[attr-defined]

    def _start(self, X: np.ndarray, Y: np.ndarray) -> np.ndarray | None:
        return None

    def _cov_options(self) -> dict[str, Any]:
        return {}

    def _use_newton(self) -> bool:
        """Newton steps in :func:`irls` (convex losses only); IRLS by default."""
        return False

    def _run_irls(self, X: np.ndarray, Y: np.ndarray) -> IRLSResult:
        return irls(
            X,
            Y,
            self._make_loss(),
            scale=self._scale_rule(),
            beta0=self._start(X, Y),
            tol=float(self.tol),
            maxiter=int(self.max_iter),
            newton=self._use_newton(),
        )

    def _fit(self, X: np.ndarray, y: np.ndarray, names: list[str]) -> FitResult:
        res = self._run_irls(X, y[None, :])
        warn_irls(type(self).__name__, res, int(self.max_iter))
        return m_fit_result(
            X,
            names,
            res,
            self._make_loss(),
            cov_kinds=self._cov_kinds,
            estimator=type(self).__name__,
            options=self._cov_options(),
        )

    def _fit_many(
        self, X: np.ndarray, Y: np.ndarray, names: list[str], kinds: tuple[str, ...]
    ) -> ManyFits:
        res = self._run_irls(X, Y)
        warn_irls(type(self).__name__, res, int(self.max_iter))
        return m_many_fits(X, names, res, self._make_loss(), kinds, self._cov_options())

    def _check_irls_params(self) -> None:
        """Validate ``scale``, ``tol`` and ``max_iter`` (call from ``_check_params``)."""
        self._scale_rule()
        tol = self.tol
        if isinstance(tol, bool) or not isinstance(tol, Real) or not (0 < float(tol) < 1):
            raise ValueError(f"tol must be a number in (0, 1), got {tol!r}")
        mi = self.max_iter
        if isinstance(mi, bool) or not isinstance(mi, int | np.integer) or mi < 1:
            raise ValueError(f"max_iter must be a positive integer, got {mi!r}")
