r"""Wald tests across quantiles: are the slopes the same at every :math:`\tau`?

Koenker & Bassett (1982) test of equal slopes, as R quantreg's ``anova.rq(..., test = "Wald")``
(``anova.rqlist``) computes it. With :math:`m` distinct quantiles
:math:`\tau_1 < \dots < \tau_m` fitted on one design, the stacked estimate
:math:`\hat b = (\hat\beta(\tau_1)^\top, \dots, \hat\beta(\tau_m)^\top)^\top` has the joint
covariance with blocks

.. math::
    W_{ij} = (\tau_i \wedge \tau_j - \tau_i\tau_j)\, H_i^{-1} J H_j^{-1},
    \qquad H_i = X^\top \operatorname{diag}(\hat f_i) X,\quad J = X^\top X,

:math:`\hat f_i` the Hendricks–Koenker (``nid``) density estimates at :math:`\tau_i` (each
diagonal block is the ``nid`` covariance of that fit). For the hypothesis :math:`D b = 0`,
:math:`D` the consecutive differences :math:`\beta_S(\tau_{i+1}) - \beta_S(\tau_i)` of the
tested coefficients :math:`S`,

.. math::
    T_n = \frac{(D\hat b)^\top (D W D^\top)^{-1} (D\hat b)}{q},\qquad
    q = |S|(m-1),

referred to :math:`F(q, nm - q)` (``joint=True``); ``joint=False`` tests each coefficient on
its own (:math:`|S| = 1`, :math:`q = m - 1`, denominator :math:`nm - (m-1)`).
Non-positive density estimates (crossing quantile fits at :math:`\tau_i \pm h`) are set to
zero with a warning, as quantreg's ``summary.rq`` does.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .quantile_cov import QuantileNID
from .results import FitResult

__all__ = ["equal_slopes_wald", "stacked_covariance"]


def stacked_covariance(results: Sequence[FitResult]) -> np.ndarray:
    """The joint ``nid`` covariance :math:`W` of the stacked coefficients (mk, mk).

    ``results`` are fits of one design at distinct quantiles (``extra["tau"]``).
    """
    taus = np.array([float(r.extra["tau"]) for r in results])
    X = results[0].cov_context.X
    J = X.T @ X
    nid = QuantileNID()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        hinv = [nid.bread(r.cov_context) for r in results]
    for w in caught:  # re-issued from here, once each, as summary.rq warns once per fit
        warnings.warn(str(w.message), w.category, stacklevel=3)
    omega = np.minimum.outer(taus, taus) - np.outer(taus, taus)
    m, k = taus.size, X.shape[1]
    W = np.empty((m * k, m * k))
    for i in range(m):
        left = hinv[i] @ J
        for j in range(m):
            W[i * k : (i + 1) * k, j * k : (j + 1) * k] = omega[i, j] * left @ hinv[j]
    return W


def equal_slopes_wald(
    results: Sequence[FitResult], params: Sequence[str], *, joint: bool = True
) -> pd.DataFrame:
    """Wald test that the coefficients ``params`` are equal at every fitted quantile.

    Parameters
    ----------
    results : sequence of FitResult
        Quantile regression fits of one design at distinct, increasing quantiles.
    params : sequence of str
        Coefficient names to test (quantreg: every slope, the intercept excluded).
    joint : bool
        One joint test of all ``params`` (``anova.rq(joint = TRUE)``), or one test per
        coefficient (``joint = FALSE``).

    Returns
    -------
    pandas.DataFrame
        Index ``"joint"`` or the coefficient names; columns ``statistic`` (:math:`T_n`),
        ``df_num``, ``df_denom`` and ``pvalue`` (quantreg's ``Tn``, ``ndf``, ``ddf``,
        ``pvalue``).
    """
    if len(results) < 2:
        raise ValueError("the equal-slopes test needs at least two quantiles")
    names = list(results[0].params.index)
    unknown = [p for p in params if p not in names]
    if unknown or not params:
        raise ValueError(f"params must be coefficient names among {names}, got {list(params)}")
    m, k = len(results), len(names)
    n = int(results[0].nobs)
    b = np.concatenate([r.params.to_numpy()[:k] for r in results])
    W = stacked_covariance(results)
    diff = np.diff(np.eye(m), axis=0)  # (m - 1, m): consecutive differences
    groups = [list(params)] if joint else [[p] for p in params]
    rows = []
    for group in groups:
        E = np.zeros((len(group), k))
        E[np.arange(len(group)), [names.index(p) for p in group]] = 1.0
        D = np.kron(diff, E)
        Db = D @ b
        q = D.shape[0]
        stat = float(Db @ np.linalg.solve(D @ W @ D.T, Db)) / q
        ddf = n * m - q
        rows.append((stat, q, ddf, float(stats.f.sf(stat, q, ddf))))
    index = ["joint"] if joint else list(params)
    return pd.DataFrame(rows, index=index, columns=["statistic", "df_num", "df_denom", "pvalue"])
