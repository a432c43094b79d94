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

__all__ = ["log_param_derivatives", "t_em_weight", "t_loglik", "t_scores_hessian"]

DfLike = float | np.ndarray


def _nu(df: DfLike) -> float | np.ndarray:
    """df as a float, or an array (...) broadcast against the observation axis (..., 1)."""
    if np.ndim(df) == 0:
        return float(df)
    return np.asarray(df, dtype=float)[..., None]


def _wsum(a: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """:math:`\\sum_i w_i a_i` over the last axis (plain sum without weights)."""
    return a.sum(axis=-1) if w is None else (w * a).sum(axis=-1)


def _log_normalizer(nu: np.ndarray) -> np.ndarray:
    """:meth:`StudentT.log_normalizer` for an array of df (the same two branches)."""
    with np.errstate(all="ignore"):
        series = 0.5 * np.log(2.0 * np.pi) + 0.25 / nu - 1.0 / (24.0 * nu**3)
        exact = (
            special.gammaln(nu / 2.0) + 0.5 * np.log(nu * np.pi) - special.gammaln((nu + 1.0) / 2.0)
        )
    return np.where(nu > 1e3, series, exact)


#: standardised residuals are clipped here in the derivatives: every product stays finite
#: for a residual near the overflow threshold, and the terms that matter there (u psi(u),
#: u^2 psi'(u), the df terms) are at their limits to rounding
U_CLIP = 1e50


def _log1p_u2(u: np.ndarray, nu: float | np.ndarray) -> np.ndarray:
    """:math:`\\log(1 + u^2/\\nu)` without overflow (:math:`2\\log|u| - \\log\\nu` for huge u)."""
    big = np.abs(u) > 1e100
    with np.errstate(divide="ignore"):
        tail = 2.0 * np.log(np.abs(u)) - np.log(nu)
    return np.where(big, tail, np.log1p(np.where(big, 0.0, u) ** 2 / nu))


def t_em_weight(u: np.ndarray, df: DfLike) -> np.ndarray:
    """EM weight :math:`(\\nu+1)/(\\nu+u^2)` (``StudentT(df).weight``, df may be an array (...))."""
    nu = _nu(df)
    with np.errstate(over="ignore"):  # u^2 = inf: weight 0, as it should be
        return (nu + 1.0) / (nu + u * u)


def _xw(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """:math:`\\sum_i w_i x_i` for X (n, k) or (..., n, k) and w (..., n)."""
    if X.ndim == 2:
        return w @ X
    return np.einsum("...ij,...i->...j", X, w)


def _xwx(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """:math:`\\sum_i w_i x_ix_i^\\top` (..., k, k); one matrix product for a shared X."""
    if X.ndim == 2:
        n, k = X.shape
        pairs = (X[:, :, None] * X[:, None, :]).reshape(n, k * k)
        return (w @ pairs).reshape(*w.shape[:-1], k, k)
    return np.einsum("...ij,...i,...ik->...jk", X, w, X)


def t_loglik(
    resid: np.ndarray,
    sigma: np.ndarray | float,
    df: DfLike,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    r"""Log-likelihood :math:`\sum_i w_i[\log f_\nu(r_i/\sigma) - \log\sigma]` (batched).

    Parameters
    ----------
    resid : ndarray (..., n)
    sigma : float or ndarray (...)
    df : float, or ndarray (...) one per problem: degrees of freedom :math:`\nu`
    weights : ndarray (n,) or (..., n), optional
        Observation weights :math:`w_i` (1 without; 0 drops a row).
    """
    sigma = np.asarray(sigma, dtype=float)
    u = resid / sigma[..., None]
    if np.ndim(df) == 0 and weights is None and not np.any(np.abs(u) > 1e100):
        return StudentT(float(df)).logpdf(u).sum(axis=-1) - resid.shape[-1] * np.log(sigma)
    nu = _nu(df)
    lognorm = _log_normalizer(np.asarray(nu, dtype=float))
    logpdf = -0.5 * (nu + 1.0) * _log1p_u2(u, nu) - lognorm
    n_eff = resid.shape[-1] if weights is None else weights.sum(axis=-1)
    return _wsum(logpdf, weights) - n_eff * np.log(sigma)


def t_scores_hessian(
    X: np.ndarray,
    resid: np.ndarray,
    sigma: np.ndarray | float,
    df: DfLike,
    with_df: bool,
    weights: np.ndarray | None = None,
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
    df : float, or ndarray (...) one per problem
    with_df : bool
        Include the :math:`\nu` score and Hessian row (``q = k + 2``), else ``q = k + 1``.
    weights : ndarray (n,) or (..., n), optional
        Observation weights of the weighted log-likelihood :math:`\sum_i w_i\log f(e_i)`.

    Returns
    -------
    scores : ndarray (..., n, q)
        Per-observation (unit) contributions, whatever the weights.
    hessian : ndarray (..., q, q)
        The weighted sum :math:`\sum_i w_i\,\partial^2\ell_i`.
    """
    scores, _, hess = _derivatives(X, resid, sigma, df, with_df, weights, True)
    assert scores is not None
    return scores, hess


def _derivatives(
    X: np.ndarray,
    resid: np.ndarray,
    sigma: np.ndarray | float,
    df: DfLike,
    with_df: bool,
    weights: np.ndarray | None,
    want_scores: bool,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Scores (or None), the weighted gradient and the weighted Hessian (see above)."""
    nu = _nu(df)
    w = None if weights is None else np.asarray(weights, dtype=float)

    def wt(a: np.ndarray) -> np.ndarray:
        return a if w is None else w * a

    sigma = np.asarray(sigma, dtype=float)
    s = sigma[..., None]
    u_true = resid / s
    # StudentT(df).psi and .psi_prime, written out so that df may be one value per problem
    # (u clipped: a residual near the overflow threshold contributes its limit, not NaN)
    u = np.clip(u_true, -U_CLIP, U_CLIP)
    u2 = u**2
    psi = (nu + 1.0) * u / (nu + u2)
    dpsi = (nu + 1.0) * (nu - u2) / (nu + u2) ** 2
    k = X.shape[-1]
    q = k + 1 + int(with_df)
    lead = resid.shape[:-1]
    n = resid.shape[-1]
    scores = np.empty((*lead, n, q)) if want_scores else None
    grad = np.empty((*lead, q))
    if scores is not None:
        scores[..., :k] = (psi / s)[..., None] * X
        scores[..., k] = (u * psi - 1.0) / s
    grad[..., :k] = _xw(X, wt(psi)) / s
    grad[..., k] = _wsum(u * psi - 1.0, w) / sigma
    hess = np.empty((*lead, q, q))
    s2 = (sigma**2)[..., None, None]
    hess[..., :k, :k] = -_xwx(X, wt(dpsi)) / s2
    hbs = -_xw(X, wt(u * dpsi + psi)) / s2[..., 0]
    hess[..., :k, k] = hbs
    hess[..., k, :k] = hbs
    hess[..., k, k] = _wsum(1.0 - 2.0 * u * psi - u2 * dpsi, w) / sigma**2
    if with_df:
        c1 = 0.5 * (special.digamma((nu + 1.0) / 2.0) - special.digamma(nu / 2.0)) - 0.5 / nu
        c2 = (
            0.25 * (special.polygamma(1, (nu + 1.0) / 2.0) - special.polygamma(1, nu / 2.0))
            + 0.5 / nu**2
        )
        s_nu = c1 - 0.5 * _log1p_u2(u_true, nu) + u * psi / (2.0 * nu)
        if scores is not None:
            scores[..., k + 1] = s_nu
        grad[..., k + 1] = _wsum(s_nu, w)
        d = (nu + u2) ** 2
        hbn = _xw(X, wt(u * (u2 - 1.0) / d)) / s
        hess[..., :k, k + 1] = hbn
        hess[..., k + 1, :k] = hbn
        hsn = _wsum(u2 * (u2 - 1.0) / d, w) / sigma
        hess[..., k, k + 1] = hsn
        hess[..., k + 1, k] = hsn
        hess[..., k + 1, k + 1] = _wsum(
            c2 + u2 / (2.0 * nu * (nu + u2)) - u2 * (nu * nu + 2.0 * nu + u2) / (2.0 * nu**2 * d),
            w,
        )
    return scores, grad, hess


def log_param_derivatives(
    X: np.ndarray,
    resid: np.ndarray,
    sigma: np.ndarray,
    df: DfLike,
    with_df: bool,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Gradient and Hessian in :math:`\phi = (\beta, \log\sigma[, \log\nu])` by the chain rule.

    :math:`g_\phi = D g_\theta`, :math:`H_\phi = D H_\theta D + \operatorname{diag}(g_\theta \odot
    \theta_{\log})` with :math:`D = \operatorname{diag}(1, \sigma[, \nu])`.
    """
    _, g, hess = _derivatives(X, resid, sigma, df, with_df, weights, False)
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
