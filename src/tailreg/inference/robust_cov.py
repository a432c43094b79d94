r"""Covariance of the MM-estimator with the S-scale's variability (robustbase ``.vcov.avar1``).

Registers the ``avar1`` kind. The context's ``options`` carry the S-step's residuals
``resid0``, its bisquare constant ``c_chi`` and right-hand side ``b``; ``loss`` is the M-step's
bisquare and ``scale`` the S-scale (NaN for an exact fit, which gives a NaN matrix).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .._linalg import weighted_gram
from ..losses import Bisquare
from ..solvers.s_estimation import chi
from .covariance import CovarianceKind, CovContext, register

__all__ = ["AVar1", "posdefify"]


@register
class AVar1(CovarianceKind):
    r"""Asymptotic covariance of an MM-estimate, robustbase's ``.vcov.avar1``.

    Croux, Dhaene & Hoorelbeke (2003) derive the covariance of the MM-estimator taking the
    variability of the S-scale into account. With :math:`u_i = r_i/\hat s` the final and
    :math:`u^0_i = r^0_i/\hat s` the S residuals, :math:`\psi` the M-step bisquare and
    :math:`\chi` the normalised S-step bisquare,

    .. math::
        A &= \hat s\,\Bigl(\sum_i \psi'(u_i)x_ix_i^\top\Bigr)^{-1}, \qquad
        a = A\,\frac{\sum_i\psi'(u_i)u_i x_i}{\operatorname{ave}_i\chi'(u^0_i)u^0_i}, \qquad
        g = \sum_i\psi(u_i)\chi(u^0_i)x_i,\\
        V &= \frac1n\Bigl[n\,A\Bigl(\sum_i\psi(u_i)^2x_ix_i^\top\Bigr)A - a\,g^\top A
             - A\,g\,a^\top + \operatorname{ave}_i\bigl(\chi(u^0_i)^2 - b^2\bigr)aa^\top\Bigr].

    A matrix with negative eigenvalues is repaired as robustbase's default
    ``posdef.meth = "posdefify"``: negative eigenvalues set to 0, then rescaled to the
    original diagonal.

    Reads ``ctx.options``: ``resid0`` (S residuals), ``c_chi`` and ``b``.
    """

    name = "avar1"
    description = "MM covariance with S-scale variability (Croux, Dhaene & Hoorelbeke 2003)"
    uses_scores = False

    @staticmethod
    def _pieces(ctx: CovContext) -> tuple[np.ndarray, np.ndarray, float, float]:
        opts = ctx.options
        s = np.asarray(ctx.scale, dtype=float)[..., None]
        u = ctx.resid / s
        u0 = np.asarray(opts["resid0"], dtype=float) / s
        return u, u0, float(opts["c_chi"]), float(opts["b"])

    def bread(self, ctx: CovContext) -> np.ndarray:
        u, _, _, _ = self._pieces(ctx)
        s = np.asarray(ctx.scale, dtype=float)[..., None, None]
        return np.linalg.inv(weighted_gram(ctx.X, ctx.loss.psi_prime(u))) * s

    def compute(self, ctx: CovContext) -> np.ndarray:
        X = ctx.X
        n = ctx.nobs
        scale = np.asarray(ctx.scale, dtype=float)
        bad = ~(np.isfinite(scale) & (scale > 0))
        if bad.any():
            # exact fits (scale 0, passed as NaN): no meaningful covariance
            good = np.where(bad, 1.0, scale)
            ctx = replace(ctx, scale=good)
            return np.where(bad[..., None, None], np.nan, self.compute(ctx))
        u, u0, c_chi, b = self._pieces(ctx)
        chi_loss = Bisquare(c_chi)
        A = self.bread(ctx)
        dchi0 = chi_loss.psi(u0) / chi_loss.rho_max
        num = np.einsum("...ij,...i->...j", X, ctx.loss.psi_prime(u) * u)
        den = np.mean(dchi0 * u0, axis=-1)[..., None]
        a = np.einsum("...jk,...k->...j", A, num / den)
        psi = ctx.loss.psi(u)
        chi0 = chi(u0, c_chi)
        g = np.einsum("...ij,...i->...j", X, psi * chi0)
        u1 = n * (A @ weighted_gram(X, psi**2) @ A)
        gA = np.einsum("...k,...kj->...j", g, A)
        u2 = a[..., :, None] * gA[..., None, :]
        u4 = np.mean(chi0**2 - b * b, axis=-1)[..., None, None] * (
            a[..., :, None] * a[..., None, :]
        )
        V = (u1 - u2 - np.swapaxes(u2, -1, -2) + u4) / n
        return posdefify(0.5 * (V + np.swapaxes(V, -1, -2)))


def posdefify(V: np.ndarray) -> np.ndarray:
    """Zero negative eigenvalues, then restore the diagonal (robustbase's ``"posdefify"``)."""
    if not np.isfinite(V).all():
        return V
    lam, Q = np.linalg.eigh(V)
    neg = np.asarray((lam < 0).any(axis=-1))
    if not neg.any():
        return V
    fixed = Q @ (np.maximum(lam, 0.0)[..., :, None] * np.swapaxes(Q, -1, -2))
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.sqrt(
            np.maximum(np.diagonal(V, axis1=-2, axis2=-1), 0.0)
            / np.diagonal(fixed, axis1=-2, axis2=-1)
        )
    d = np.where(np.isfinite(d), d, 0.0)
    fixed = d[..., :, None] * fixed * d[..., None, :]
    return np.where(neg[..., None, None], fixed, V)
