r"""The Student-t regression log-likelihood, its scores and its Hessian (batched).

With :math:`u_i = (y_i - x_i^\top\beta)/\sigma`,
:math:`\ell(\beta, \sigma, \nu) = \sum_i \log f_\nu(u_i) - n\log\sigma` (``StudentT(df).logpdf``);
:func:`t_scores_hessian` gives the per-observation scores and the summed Hessian in
:math:`(\beta, \sigma[, \nu])`, :func:`log_param_derivatives` the gradient and Hessian in
:math:`(\beta, \log\sigma[, \log\nu])` that the Newton steps use.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ..losses import StudentT

__all__ = ["log_param_derivatives", "t_loglik", "t_scores_hessian"]


def _xw(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """:math:`\\sum_i w_i x_i` for X (n, k) or (..., n, k) and w (..., n)."""
    return np.einsum("...ij,...i->...j", X, w)


def _xwx(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.einsum("...ij,...i,...ik->...jk", X, w, X)


def t_loglik(resid: np.ndarray, sigma: np.ndarray | float, df: float) -> np.ndarray:
    r"""Log-likelihood :math:`\sum_i \log f_\nu(r_i/\sigma) - n\log\sigma` (batched).

    Parameters
    ----------
    resid : ndarray (..., n)
    sigma : float or ndarray (...)
    df : float, degrees of freedom :math:`\nu`
    """
    sigma = np.asarray(sigma, dtype=float)
    u = resid / sigma[..., None]
    return StudentT(df).logpdf(u).sum(axis=-1) - resid.shape[-1] * np.log(sigma)


def t_scores_hessian(
    X: np.ndarray, resid: np.ndarray, sigma: np.ndarray | float, df: float, with_df: bool
) -> tuple[np.ndarray, np.ndarray]:
    r"""Per-observation scores and Hessian of the t log-likelihood in :math:`(\beta,\sigma,\nu)`.

    With :math:`u = r/\sigma`, :math:`\psi(u) = (\nu+1)u/(\nu+u^2)` and
    :math:`c(\nu) = \log\Gamma(\frac{\nu+1}2) - \log\Gamma(\frac\nu2) - \frac12\log(\nu\pi)`,

    .. math::
        s_{\beta} = \psi(u)\,x/\sigma,\quad s_\sigma = (u\psi(u) - 1)/\sigma,\quad
        s_\nu = c'(\nu) - \tfrac12\log(1 + u^2/\nu) + u\psi(u)/(2\nu),

    and the second derivatives (summed over observations)

    .. math::
        H_{\beta\beta} = -\sum\psi'(u)xx^\top/\sigma^2,\;
        H_{\beta\sigma} = -\sum x(u\psi' + \psi)/\sigma^2,\;
        H_{\sigma\sigma} = \sum(1 - 2u\psi - u^2\psi')/\sigma^2,

        H_{\beta\nu} = \sum x\,\frac{u(u^2-1)}{\sigma(\nu+u^2)^2},\;
        H_{\sigma\nu} = \sum\frac{u^2(u^2-1)}{\sigma(\nu+u^2)^2},\;
        H_{\nu\nu} = \sum\Big[c''(\nu) + \frac{u^2}{2\nu(\nu+u^2)}
            - \frac{u^2(\nu^2 + 2\nu + u^2)}{2\nu^2(\nu+u^2)^2}\Big].

    Parameters
    ----------
    X : ndarray (n, k) or (..., n, k)
    resid : ndarray (..., n)
    sigma : float or ndarray (...)
    df : float
    with_df : bool
        Include the :math:`\nu` score and Hessian row (``q = k + 2``), else ``q = k + 1``.

    Returns
    -------
    scores : ndarray (..., n, q)
    hessian : ndarray (..., q, q)
    """
    loss = StudentT(df)
    nu = float(df)
    sigma = np.asarray(sigma, dtype=float)
    s = sigma[..., None]
    u = resid / s
    psi, dpsi = loss.psi(u), loss.psi_prime(u)
    k = X.shape[-1]
    q = k + 1 + int(with_df)
    lead = resid.shape[:-1]
    n = resid.shape[-1]
    scores = np.empty((*lead, n, q))
    scores[..., :k] = (psi / s)[..., None] * X
    scores[..., k] = (u * psi - 1.0) / s
    hess = np.empty((*lead, q, q))
    s2 = (sigma**2)[..., None, None]
    hess[..., :k, :k] = -_xwx(X, dpsi) / s2
    hbs = -_xw(X, u * dpsi + psi) / s2[..., 0]
    hess[..., :k, k] = hbs
    hess[..., k, :k] = hbs
    hess[..., k, k] = (1.0 - 2.0 * u * psi - u * u * dpsi).sum(axis=-1) / sigma**2
    if with_df:
        u2 = u * u
        c1 = 0.5 * (special.digamma((nu + 1.0) / 2.0) - special.digamma(nu / 2.0)) - 0.5 / nu
        c2 = (
            0.25 * (special.polygamma(1, (nu + 1.0) / 2.0) - special.polygamma(1, nu / 2.0))
            + 0.5 / nu**2
        )
        scores[..., k + 1] = c1 - 0.5 * np.log1p(u2 / nu) + u * psi / (2.0 * nu)
        d = (nu + u2) ** 2
        hbn = _xw(X, u * (u2 - 1.0) / d) / s
        hess[..., :k, k + 1] = hbn
        hess[..., k + 1, :k] = hbn
        hsn = (u2 * (u2 - 1.0) / d).sum(axis=-1) / sigma
        hess[..., k, k + 1] = hsn
        hess[..., k + 1, k] = hsn
        hess[..., k + 1, k + 1] = (
            c2 + u2 / (2.0 * nu * (nu + u2)) - u2 * (nu * nu + 2.0 * nu + u2) / (2.0 * nu**2 * d)
        ).sum(axis=-1)
    return scores, hess


def log_param_derivatives(
    X: np.ndarray, resid: np.ndarray, sigma: np.ndarray, df: float, with_df: bool
) -> tuple[np.ndarray, np.ndarray]:
    r"""Gradient and Hessian in :math:`\phi = (\beta, \log\sigma[, \log\nu])` by the chain rule.

    :math:`g_\phi = D g_\theta`, :math:`H_\phi = D H_\theta D + \operatorname{diag}(g_\theta \odot
    \theta_{\log})` with :math:`D = \operatorname{diag}(1, \sigma[, \nu])`.
    """
    scores, hess = t_scores_hessian(X, resid, sigma, df, with_df)
    g = scores.sum(axis=-2)
    k = X.shape[-1]
    d = np.ones(g.shape)
    d[..., k] = sigma
    if with_df:
        d[..., k + 1] = df
    gphi = g * d
    hphi = hess * d[..., :, None] * d[..., None, :]
    idx = np.arange(k, g.shape[-1])
    hphi[..., idx, idx] += gphi[..., k:]
    return gphi, hphi
