r"""Iteratively reweighted least squares: the M-estimation core of Huber, bisquare, MM and t.

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
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np

from .._linalg import Design, batched_solve, lstsq
from .._typing import BoolArray, FloatArray, IntArray
from ..exceptions import ConvergenceWarning, ExactFitWarning
from ..losses import Loss
from ..scale import (
    MASS_MAD_CONSTANT,
    R_MAD_FACTOR,
    huber_proposal2_step,
    mad_with_gradient,
    median_abs,
    proposal2_gamma,
    weighted_mad_with_gradient,
    weighted_median_abs,
    weighted_proposal2_step,
)

__all__ = [
    "IRLSResult",
    "check_scale_rule",
    "irls",
    "warn_irls",
]

#: the iteration stops as an exact fit when the scale falls below this fraction of the
#: median |y_i| (the rounding floor of the residuals of the rows fitted exactly is ~1e-16 of
#: their |y_i|; a median, so that gross outliers in y do not raise it — an RMS or a mean of
#: |y| would, and turned one y of 1e12 into a false exact fit)
_EXACT_FIT_RTOL = 1e-12
#: in the residual-change test a residual counts at most this many scales: MASS's
#: :math:`\|\Delta r\| / \|r\|` is otherwise dominated by one gross outlier, which made the
#: test pass after the first steps with one y of 1e12 (see :func:`_advance`)
_DELTA_RESID_CAP = 1e3
#: the residuals are updated incrementally, :math:`r \leftarrow r - X\delta`; they are
#: recomputed from the data, :math:`y - X\beta`, once the accumulated rounding bound of those
#: updates exceeds this fraction of the scale (after the large steps from a start that a gross
#: outlier carried away; never in a regular fit)
_RESID_REFRESH_RTOL = 2.0**-40
#: Newton steps in :func:`irls` add the MAD scale's derivative once the squared relative
#: residual change is below this (see :func:`_sweep`)
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
        The scale collapsed: below 1e-12 times the median :math:`|y_i|` during the iteration
        (which then stops, as MASS does at a zero scale; see
        :class:`~tailreg.exceptions.ExactFitWarning`). Never set for a fixed scale, nor for a
        fit whose arithmetic overflowed.
    singular : ndarray of bool (R,)
        A weighted Gram matrix was singular (e.g. a redescending psi gave zero weight to too
        many rows); the iteration stopped there with ``converged=False``.
    gram_inv : ndarray (R, k, k) or None
        :math:`(X^\\top X)^{-1}` when the least-squares start computed it (stacked designs).
    """

    beta: FloatArray
    scale: FloatArray
    n_iter: IntArray
    converged: BoolArray
    weights: FloatArray
    resid: FloatArray
    exact_fit: BoolArray
    singular: BoolArray
    gram_inv: FloatArray | None = None
    #: the arithmetic overflowed (non-finite coefficients, scale or residuals): the fit failed
    #: (``converged=False``), whatever the other flags said; None from older callers
    overflow: BoolArray | None = None


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


# --------------------------------------------------------------------------------------
# the state of an iteration


@dataclass(frozen=True)
class _Rule:
    """The iteration's fixed settings."""

    loss: Loss
    mode: str  # "mad", "proposal2" or "fixed"
    k2: float  # proposal 2's constant
    half: int  # (n - 1) // 2, for the MAD
    dof: int  # n - k, for proposal 2
    min_inside: int  # rows with psi' > 0 a Newton step needs
    tol: float


@dataclass
class _Active:
    """Working copies for the replications still iterating.

    Rows are written back to the full arrays (:class:`_Fits`) when they leave (converged,
    exact, singular), so that no sweep scatters the whole set. ``d`` and ``dd`` are the column
    equilibration (the Gram matrices are solved as :math:`DGD z = Dg`, step :math:`Dz`).
    """

    idx: IntArray
    design: Design
    d: FloatArray  # (m, k)
    dd: FloatArray  # (m, k, k)
    beta: FloatArray
    resid: FloatArray
    scale: FloatArray
    exact_tol: FloatArray
    #: IRLS weights of the last step; None after an all-Newton step (computed when leaving)
    weights: FloatArray | None
    #: standardised residuals of the last step
    u: FloatArray | None
    #: still taking Newton steps
    newton: BoolArray
    #: previous squared relative residual change
    prev: FloatArray
    #: the data (m, n), for recomputing the residuals
    y: FloatArray
    #: bound on the rounding error the incremental residual updates accumulated (m,)
    err: FloatArray
    #: r/s overflowed in the last step
    over: BoolArray | None = None
    #: case weights (m, n) (zeros: absent rows), None for an unweighted iteration
    v: FloatArray | None = None
    #: with case weights: :math:`\sum_i v_i - k` (proposal 2's degrees of freedom) (m,)
    dof: FloatArray | None = None
    #: with case weights: rows with a positive weight a Newton step needs inside (m,)
    min_inside: IntArray | None = None

    @property
    def empty(self) -> bool:
        return self.idx.size == 0

    def keep(self, keep: BoolArray) -> None:
        """Shrink the working arrays to the replications ``keep``."""
        self.idx, self.design = self.idx[keep], self.design.take(keep)
        self.d, self.dd = self.d[keep], self.dd[keep]
        self.beta, self.resid, self.scale = self.beta[keep], self.resid[keep], self.scale[keep]
        self.exact_tol = self.exact_tol[keep]
        self.weights = self.weights[keep] if self.weights is not None else None
        self.u = self.u[keep] if self.u is not None else None
        self.newton, self.prev = self.newton[keep], self.prev[keep]
        self.y, self.err = self.y[keep], self.err[keep]
        if self.v is not None:
            assert self.dof is not None and self.min_inside is not None
            self.v, self.dof = self.v[keep], self.dof[keep]
            self.min_inside = self.min_inside[keep]


@dataclass
class _Fits:
    """The full (R,) and (R, n) outputs, filled as replications leave the active set."""

    beta: FloatArray
    resid: FloatArray
    scale: FloatArray
    weights: FloatArray
    n_iter: IntArray
    converged: BoolArray
    exact: BoolArray
    singular: BoolArray
    #: a residual, step or scale of the iteration was not finite
    overflow: BoolArray

    def retire(self, act: _Active, leave: BoolArray, it: int, loss: Loss) -> None:
        """Write the replications ``leave`` back after ``it`` steps and drop them from ``act``."""
        rows = act.idx[leave]
        self.beta[rows] = act.beta[leave]
        self.resid[rows] = act.resid[leave]
        self.scale[rows] = act.scale[leave]
        if act.weights is not None:
            self.weights[rows] = act.weights[leave]
        else:
            assert act.u is not None
            self.weights[rows] = loss.weight(act.u[leave])
        self.n_iter[rows] = it
        act.keep(~leave)


# --------------------------------------------------------------------------------------
# one sweep


def _rescale(act: _Active, rule: _Rule, joint: bool) -> FloatArray | None:
    """Update the scale from the current residuals; the MAD's gradient in a joint sweep."""
    if act.v is not None:
        return _rescale_weighted(act, rule, joint)
    if joint:
        act.scale, sgrad = mad_with_gradient(act.resid, act.design, rule.half)
        return sgrad
    if rule.mode == "mad":
        act.scale = median_abs(act.resid, rule.half) / MASS_MAD_CONSTANT
    elif rule.mode == "proposal2":
        act.scale = _finite_p2(
            huber_proposal2_step(act.resid, act.scale, rule.k2, rule.dof), act, rule
        )
    return None


def _finite_p2(new: FloatArray, act: _Active, rule: _Rule) -> FloatArray:
    r"""Proposal 2's step in units of the old scale where the squares overflowed.

    :math:`s_\text{new} = s\,(\sum_i v_i\min(u_i^2, k^2) / (\mathrm{dof}\,\gamma))^{1/2}`,
    :math:`u = r/s`: the same number, without squaring residuals near the largest double.
    """
    bad = ~np.isfinite(new) & np.isfinite(act.scale) & (act.scale > 0)
    if bad.any():
        s = act.scale[bad]
        u2 = np.minimum((act.resid[bad] / s[:, None]) ** 2, rule.k2**2)
        dof = rule.dof if act.dof is None else act.dof[bad]
        vs = np.ones_like(u2) if act.v is None else act.v[bad]
        new = new.copy()
        new[bad] = s * np.sqrt(np.einsum("ij,ij->i", vs, u2) / (dof * proposal2_gamma(rule.k2)))
    return new


def _rescale_weighted(act: _Active, rule: _Rule, joint: bool) -> FloatArray | None:
    """:func:`_rescale` with case weights: MASS's ``wmad`` and weighted proposal 2."""
    assert act.v is not None and act.dof is not None
    if joint:
        act.scale, sgrad = weighted_mad_with_gradient(act.resid, act.v, act.design)
        return sgrad
    if rule.mode == "mad":
        act.scale = weighted_median_abs(act.resid, act.v) / MASS_MAD_CONSTANT
    elif rule.mode == "proposal2":
        act.scale = _finite_p2(
            weighted_proposal2_step(act.resid, act.scale, rule.k2, act.v, act.dof), act, rule
        )
    return None


def _scale_correction(
    gram: FloatArray,
    z: FloatArray,
    u: FloatArray,
    dpsi: FloatArray,
    design: Design,
    sgrad: FloatArray,
    d: FloatArray,
    rows: BoolArray,
) -> FloatArray:
    r"""Newton step for beta when the MAD scale moves with beta (Sherman–Morrison).

    With :math:`s = s(\beta)` the Jacobian of :math:`\sum\psi(r_i/s)x_i` is
    :math:`-(A + b g^\top)/s`, :math:`A = \sum\psi'(u_i)x_ix_i^\top`,
    :math:`b = \sum\psi'(u_i)u_ix_i`, :math:`g = \partial s/\partial\beta`, so the step
    :math:`A^{-1}c` for the right-hand side c becomes
    :math:`A^{-1}c - A^{-1}b\,g^\top A^{-1}c / (1 + g^\top A^{-1}b)`. All vectors are in the
    equilibrated coordinates of :func:`irls` (``gram``, ``z`` and ``sgrad`` already scaled by
    ``d``). Rows outside ``rows`` or with a small denominator keep ``z``.
    """
    b = design.tdot(dpsi * u)
    zb, bad = batched_solve(gram, b * d)
    denom = 1.0 + np.einsum("ij,ij->i", sgrad, zb)
    ok = rows & ~bad & (np.abs(denom) > 0.1)
    corr = zb * (np.einsum("ij,ij->i", sgrad, z) / np.where(ok, denom, 1.0))[:, None]
    return np.where(ok[:, None], z - corr, z)


def _step(
    act: _Active, rule: _Rule, joint: bool, near: BoolArray, sgrad: FloatArray | None
) -> tuple[FloatArray, BoolArray, BoolArray]:
    """The increment of one sweep: a weighted-least-squares or Newton step per replication.

    Gram weights are :math:`\\psi'(u)` for a Newton step and :math:`w(u)` for an IRLS step;
    the right-hand side :math:`w_i r_i = s\\psi(u_i)` is the same. A Newton step needs a
    well-posed :math:`X^\\top\\Psi'X`: at least a quarter of the rows (and 2k) inside the
    region where :math:`\\psi' > 0` — always true with the MAD scale and k >= 0.6745 (half the
    :math:`|r|` are below the MAD); otherwise the replication takes an IRLS step.

    Returns the step (m, k), the singular flags (m,) and which replications took a Newton step.
    """
    loss = rule.loss
    u = act.resid / act.scale[:, None]
    newton_now = act.newton
    dpsi = None
    if act.newton.any():
        dpsi = loss.psi_prime(u)
        if act.v is None:
            newton_now = act.newton & (np.count_nonzero(dpsi, axis=1) >= rule.min_inside)
        else:
            inside = np.count_nonzero(np.where(act.v > 0, dpsi, 0.0), axis=1)
            newton_now = act.newton & (inside >= act.min_inside)
    if newton_now.all():
        # the IRLS weights themselves are only needed for the rows that leave (reported
        # weights), so they are computed then
        act.weights = None
        wr = loss.psi(u) * act.scale[:, None]
        gw = dpsi
    else:
        act.weights = loss.weight(u)
        wr = act.weights * act.resid
        gw = act.weights
        if newton_now.any():
            assert dpsi is not None
            gw = np.where(newton_now[:, None], dpsi, act.weights)
    assert gw is not None
    act.u = u
    if act.v is not None:  # case weights: row i counts v_i times in both sums
        gw, wr = gw * act.v, wr * act.v
    gram = act.design.gram(gw) * act.dd
    rhs = act.design.tdot(wr) * act.d
    z, bad = batched_solve(gram, rhs)
    retry = bad & newton_now
    if retry.any():  # X'Psi'X singular all the same: weighted least squares from now on
        act.newton[retry] = False
        newton_now = newton_now & ~retry
        w_retry = act.weights[retry] if act.weights is not None else loss.weight(u[retry])
        if act.v is not None:
            w_retry = w_retry * act.v[retry]
        g2 = act.design.take(retry).gram(w_retry)
        z[retry], bad[retry] = batched_solve(g2 * act.dd[retry], rhs[retry])
    if joint:
        assert sgrad is not None
        z = _scale_correction(
            gram, z, u, gw, act.design, sgrad * act.d, act.d, near & newton_now & ~bad
        )
    return z * act.d, bad, newton_now


def _advance(
    act: _Active,
    step: FloatArray,
    bad: BoolArray,
    newton_now: BoolArray,
    tol: float,
    s_prev: FloatArray | None = None,
    p2: bool = False,
) -> BoolArray:
    r"""Take the step; return the replications whose residual change met ``tol``.

    The test is MASS's ``irls.delta``, :math:`\|\Delta r\|_2 / \|r\|_2 \le` ``tol``, with two
    changes that leave it as it is for a regular fit: a residual beyond
    :data:`_DELTA_RESID_CAP` scales counts as that many scales in :math:`\|r\|` (a gross
    outlier must not make every change look small), and MASS's absolute floor
    :math:`\|r\|^2 \ge 10^{-20}` is the smallest positive double instead (an absolute floor
    breaks the equivariance to the units of y). With case weights the sums count row i
    :math:`v_i` times. A proposal-2 fit (``p2``; the scale is a fixed-point iteration of its
    own), and any fit with such gross residuals, must also have a settled scale,
    :math:`|s - s_\text{prev}| \le` ``tol`` :math:`s` (``s_prev``, the scale of the previous
    sweep): from a start an outlier carried away, proposal 2's scale shrinks slowly while the
    coefficients barely move.
    """
    dfit = act.design.fitted(step)
    v = act.v
    if v is None:
        num = np.einsum("ij,ij->i", dfit, dfit)
        den = np.einsum("ij,ij->i", act.resid, act.resid)
    else:  # each row counted v_i times (rows of weight 0 are absent)
        num = np.einsum("ij,ij->i", v * dfit, dfit)
        den = np.einsum("ij,ij->i", v * act.resid, act.resid)
    amax = np.max(np.abs(act.resid), axis=1)
    # r/s beyond the largest double: this step's weights were not computable (see _sweep)
    act.over = ~np.isfinite(amax / act.scale)
    gross = amax > _DELTA_RESID_CAP * act.scale
    gross |= ~(np.isfinite(num) & np.isfinite(den))
    if gross.any():  # in units of the scale: nothing is squared near the largest double
        s = act.scale[gross][:, None]
        dg = (dfit[gross] / s) ** 2
        rg = np.minimum((act.resid[gross] / s) ** 2, _DELTA_RESID_CAP**2)
        if v is not None:
            dg, rg = v[gross] * dg, v[gross] * rg
        num[gross], den[gross] = dg.sum(axis=1), rg.sum(axis=1)
    delta2 = num / np.maximum(np.finfo(float).tiny, den)
    unsettled = np.zeros_like(gross)
    if s_prev is not None:
        unsettled = ~(np.abs(act.scale - s_prev) <= tol * act.scale)
        if not p2:
            unsettled &= gross
    act.beta = act.beta + step
    act.resid = act.resid - dfit
    # each update rounds by up to eps |r_i - dfit_i|; the bulk of |r| is of the order of the
    # scale (the rows far out do not matter: their psi saturates or vanishes)
    act.err = act.err + np.finfo(float).eps * (2.0 * act.scale + np.max(np.abs(dfit), axis=1))
    # a Newton step that does not shrink the residual change hands over to IRLS
    act.newton &= ~newton_now | (delta2 < act.prev)
    act.prev = delta2
    return (delta2 <= tol * tol) & ~bad & ~unsettled


def _sweep(act: _Active, fits: _Fits, rule: _Rule, it: int) -> None:
    """One sweep of :func:`irls`: scale update, exact-fit test, step, convergence test."""
    # the scale's own derivative enters only near the fixed point: from afar the joint
    # step can jump to another root of the (non-convex) beta-and-MAD system than the one
    # MASS's iteration reaches
    near = act.newton & (act.prev <= _JOINT_NEWTON_DELTA2)
    joint = rule.mode == "mad" and bool(near.any())
    s_prev = act.scale
    sgrad = _rescale(act, rule, joint)
    # the rounding of the incremental updates measured against the new scale (a step from a
    # start carried away by a gross outlier shrinks the residuals by orders of magnitude)
    refresh = ~(act.err <= _RESID_REFRESH_RTOL * act.scale)
    if refresh.any():
        act.resid[refresh] = act.y[refresh] - act.design.take(refresh).fitted(act.beta[refresh])
        act.err[refresh] = 0.0
        act.scale = s_prev
        sgrad = _rescale(act, rule, joint)
    if rule.mode != "fixed":
        # a scale that overflowed is no exact fit: it leaves as a failure (see irls)
        ex = (act.scale <= act.exact_tol) | ~np.isfinite(act.scale)
        if ex.any():
            fits.exact[act.idx[ex]] = True
            fits.converged[act.idx[ex]] = True
            fits.retire(act, ex, it - 1, rule.loss)
            near, s_prev = near[~ex], s_prev[~ex]
            sgrad = sgrad[~ex] if sgrad is not None else None
            if act.empty:
                return
    step, bad, newton_now = _step(act, rule, joint, near, sgrad)
    done = _advance(
        act,
        step,
        bad,
        newton_now,
        rule.tol,
        s_prev if rule.mode != "fixed" else None,
        rule.mode == "proposal2",
    )
    # |y - X beta| beyond the largest double: the iteration cannot go on (a failure)
    assert act.over is not None
    if np.isfinite(rule.loss.rejection_point):  # psi vanishes far out: r/s = inf is harmless
        act.over[:] = False
    over = act.over | ~np.isfinite(act.resid).all(axis=1) | ~np.isfinite(act.beta).all(axis=1)
    done &= ~over
    leave = done | bad | over
    if leave.any():
        fits.converged[act.idx[done]] = True
        fits.singular[act.idx[bad & ~over]] = True
        fits.overflow[act.idx[over]] = True
        fits.retire(act, leave, it, rule.loss)


# --------------------------------------------------------------------------------------
# the iteration


def _rule(
    loss: Loss,
    scale: str | float | FloatArray,
    design: Design,
    Y: FloatArray,
    k2: float | None,
    tol: float,
) -> _Rule:
    """The iteration's settings; proposal 2's constant defaults to Huber's k (else 1.345)."""
    n, k = design.n, design.k
    mode = str(check_scale_rule(scale)) if isinstance(scale, str) else "fixed"
    kk = _DEFAULT_K2
    if mode == "proposal2":
        kk = float(k2 if k2 is not None else getattr(loss, "k", _DEFAULT_K2))
    return _Rule(loss, mode, kk, (n - 1) // 2, n - k, max(2 * k, n // 4), tol)


def _start(
    design: Design,
    Y: FloatArray,
    scale: str | float | FloatArray,
    beta0: FloatArray | None,
    rule: _Rule,
    newton: bool,
    v: FloatArray | None = None,
) -> tuple[_Fits, _Active, FloatArray | None]:
    """Outputs and working set at the start, and the start's (X'X)^-1.

    With case weights ``v`` (R, n) the start is weighted least squares (MASS: ``lm.wfit``
    with the case weights), proposal 2 starts at the weighted MAD, and the exact-fit level is
    the weighted median of :math:`|y_i|`.
    """
    if v is not None:
        return _start_weighted(design, Y, scale, beta0, rule, newton, v)
    R, n = Y.shape
    k = design.k
    X = design.X
    if rule.mode == "fixed":
        s = np.broadcast_to(np.asarray(scale, dtype=float), (R,)).copy()
        if not (np.isfinite(s).all() and (s > 0).all()):
            raise ValueError("a fixed scale must be positive and finite")
    else:
        s = np.zeros(R)
    gram_inv = None
    if beta0 is None:
        beta, gram_inv = lstsq(X, Y, with_gram_inv=True)
    else:
        beta = np.broadcast_to(np.asarray(beta0, dtype=float), (R, k)).copy()
    resid = Y - design.fitted(beta)
    if rule.mode == "proposal2":
        s = R_MAD_FACTOR * np.median(np.abs(resid), axis=1)
    exact_tol = _EXACT_FIT_RTOL * _magnitude(Y, None)
    # equilibrate columns once: the Gram matrices are solved as D G D z = D g, delta = D z
    d = 1.0 / np.sqrt(np.maximum(np.einsum("...nk,...nk->...k", X, X), np.finfo(float).tiny))
    dd = d[..., :, None] * d[..., None, :]
    fits = _Fits(
        beta=beta,
        resid=resid,
        scale=s,
        weights=np.ones((R, n)),
        n_iter=np.zeros(R, dtype=int),
        converged=np.zeros(R, dtype=bool),
        exact=np.zeros(R, dtype=bool),
        singular=np.zeros(R, dtype=bool),
        overflow=np.zeros(R, dtype=bool),
    )
    act = _Active(
        idx=np.arange(R),
        design=design,
        d=np.broadcast_to(d, (R, k)),
        dd=np.broadcast_to(dd, (R, k, k)),
        beta=beta,
        resid=resid,
        scale=s,
        exact_tol=exact_tol,
        weights=fits.weights,
        u=None,
        newton=np.full(R, bool(newton)),
        prev=np.full(R, np.inf),
        y=Y,
        err=np.zeros(R),
    )
    return fits, act, gram_inv


def _magnitude(Y: FloatArray, v: FloatArray | None) -> FloatArray:
    """The robust size of each fit's y (R,): the (weighted) median of :math:`|y_i|`.

    When more than half the :math:`y_i` are 0 it is the median of the non-zero :math:`|y_i|`
    (0 when all are 0), so that the exact-fit level stays relative to the data.
    """
    ones = np.ones(Y.shape) if v is None else v
    level = median_abs(Y, (Y.shape[1] - 1) // 2) if v is None else weighted_median_abs(Y, v)
    flat = (level == 0) & ((Y != 0) & (ones > 0)).any(axis=1)
    if flat.any():
        level[flat] = weighted_median_abs(Y[flat], ones[flat] * (Y[flat] != 0))
    return level


def _start_weighted(
    design: Design,
    Y: FloatArray,
    scale: str | float | FloatArray,
    beta0: FloatArray | None,
    rule: _Rule,
    newton: bool,
    v: FloatArray,
) -> tuple[_Fits, _Active, FloatArray | None]:
    """:func:`_start` with case weights ``v`` (R, n)."""
    R = Y.shape[0]
    k = design.k
    if beta0 is None:
        sw = np.sqrt(v)
        beta = lstsq(design.X * sw[..., None], Y * sw)
    else:
        beta = np.broadcast_to(np.asarray(beta0, dtype=float), (R, k)).copy()
    # the weighted least-squares start, or beta0, gives the residuals; the rest is _start's
    fits, act, _ = _start(design, Y, scale, beta, rule, newton)
    resid = act.resid
    total = v.sum(axis=1)
    act.v = v
    act.dof = total - k
    act.min_inside = np.maximum(2 * k, np.count_nonzero(v, axis=1) // 4)
    if rule.mode == "proposal2":  # MASS (case weights): the weighted MAD of the start
        act.scale = weighted_median_abs(resid, v) / MASS_MAD_CONSTANT
        fits.scale = act.scale
    act.exact_tol = _EXACT_FIT_RTOL * _magnitude(Y, v)
    return fits, act, None


def irls(
    X: FloatArray,
    Y: FloatArray,
    loss: Loss,
    *,
    scale: str | float | FloatArray = "mad",
    beta0: FloatArray | None = None,
    tol: float = 1e-12,
    maxiter: int = 1000,
    k2: float | None = None,
    newton: bool = False,
    sample_weight: FloatArray | None = None,
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
        Starting coefficients; least squares (:func:`~tailreg._linalg.lstsq`) by default.
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
    sample_weight : ndarray (n,) shared or (R, n), optional
        Case weights :math:`v_i \ge 0` (not checked; each fit needs more than k rows of
        positive weight), as ``MASS::rlm(weights = v, wt.method = "case")``: row i counts
        :math:`v_i` times — in the weighted least-squares start, in every weighted Gram matrix
        and right-hand side (:math:`\sum_i v_i w_i x_i x_i^\top`, :math:`\sum_i v_i w_i r_i
        x_i`), in the MAD (the weighted median of :math:`|r_i|`, MASS's ``wmad``), in
        proposal 2 (:math:`\sum v_i\min(r_i^2, k_2^2s^2) = (\sum v_i - k)\gamma s^2`, started
        at the weighted MAD) and in the residual-change test. A weight of 0 makes a row absent
        (the fit equals the fit without it); integer weights give the fit of the data with
        row i repeated :math:`v_i` times. ``weights`` in the result stay the robustness weights
        :math:`w(r_i/s)` (MASS's ``fit$w`` is their product with :math:`v_i`), and
        ``gram_inv`` is None.

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
    The sweep itself is :func:`_sweep`.
    """
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[None, :]
    if newton and not loss.convex:
        raise ValueError(f"Newton steps need a convex loss; {loss!r} is not")
    design = Design(X)
    rule = _rule(loss, scale, design, Y, k2, tol)
    v = None
    if sample_weight is not None:
        v = np.broadcast_to(np.asarray(sample_weight, dtype=float), Y.shape)
    # a gross outlier near the largest double overflows squares (the residual-change test,
    # proposal 2) and the steps from a start it carried away; non-finite results are flagged
    with np.errstate(over="ignore", invalid="ignore"):
        fits, act, gram_inv = _start(design, Y, scale, beta0, rule, newton, v)
        it = 0
        for it in range(1, maxiter + 1):
            _sweep(act, fits, rule, it)
            if act.empty:
                break
        if not act.empty:
            fits.retire(act, np.ones(act.idx.size, dtype=bool), it, loss)
        # residuals recomputed from the data (the working ones were updated incrementally)
        resid = Y - design.fitted(fits.beta)
    overflow = fits.overflow | ~(np.isfinite(fits.beta).all(axis=1) & np.isfinite(fits.scale))
    overflow |= ~np.isfinite(resid).all(axis=1)
    exact = fits.exact & ~overflow
    converged = fits.converged & ~overflow

    return IRLSResult(
        beta=fits.beta,
        scale=fits.scale,
        n_iter=fits.n_iter,
        converged=converged,
        weights=fits.weights,
        resid=resid,
        exact_fit=exact,
        singular=fits.singular & ~overflow,
        gram_inv=gram_inv,
        overflow=overflow,
    )


def warn_irls(name: str, res: IRLSResult, maxiter: int | None = None) -> None:
    """Turn the failure flags of an :class:`IRLSResult` into actionable warnings."""
    R = res.beta.shape[0]
    overflow = res.overflow if res.overflow is not None else np.zeros(R, dtype=bool)
    unconv = ~res.converged & ~res.singular & ~overflow
    if overflow.any():
        what = "the fit" if R == 1 else f"{int(overflow.sum())} of {R} fits"
        warnings.warn(
            f"{name}: the arithmetic of {what} overflowed (non-finite coefficients or scale; "
            "converged=False): y or X holds values too close to the largest double; rescale "
            "the data",
            ConvergenceWarning,
            stacklevel=3,
        )
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
