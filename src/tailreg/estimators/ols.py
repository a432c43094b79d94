r"""Ordinary least squares by QR: minimises :math:`\sum r_i^2/2`, the Gaussian MLE of beta."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import theory
from .._linalg import Design, lstsq, lstsq_qr
from .._validation import check_positive
from ..inference.covariance import CovContext, standard_errors
from ..inference.results import FitResult, ManyFits
from ..losses import Squared
from ..theory import Target
from ._base import BaseRegressor

__all__ = ["OLS", "lstsq", "lstsq_qr"]


class OLS(BaseRegressor):
    r"""Ordinary least squares, :math:`\hat\beta = \arg\min \sum_i (y_i - x_i^\top\beta)^2`.

    Solved by a Householder QR of the design (no normal equations); :meth:`fit_many` on stacked
    designs uses the corrected semi-normal equations when they are well-conditioned
    (:func:`~tailreg._linalg.lstsq`). Under i.i.d. errors with
    finite variance :math:`\sigma^2`, :math:`\sqrt n(\hat\beta - \beta) \to N(0, \sigma^2 Q^{-1})`
    whatever the error law; it is also the Gaussian MLE of :math:`\beta` (see
    :class:`~tailreg.GaussianMLE` for the separate likelihood code path).

    Parameters
    ----------
    fit_intercept : bool, default True
    hac_maxlags : int or None
        Lags of the ``HAC`` kind; ``None`` uses :math:`\lfloor 4(n/100)^{2/9}\rfloor`
        (Newey & West 1994).

    Notes
    -----
    Covariance kinds: ``classical`` :math:`s^2(X^\top X)^{-1}` with
    :math:`s^2 = RSS/(n-k)` (default; t reference), ``HC0``–``HC3`` (White 1980; MacKinnon &
    White 1985), ``HAC`` (Newey & West 1987, Bartlett kernel).
    """

    _cov_kinds = ("classical", "HC0", "HC1", "HC2", "HC3", "HAC", "cluster")
    study_name = "ols"
    objective_doc = "residual sum of squares"
    use_t = True
    use_t_doc = "t with n - k degrees of freedom, exact under normal errors (summary.lm)"

    def __init__(self, fit_intercept: bool = True, hac_maxlags: int | None = None) -> None:
        self.fit_intercept = fit_intercept
        self.hac_maxlags = hac_maxlags

    def _check_params(self) -> None:
        if self.hac_maxlags is not None:
            check_positive("hac_maxlags", self.hac_maxlags)

    @property
    def loss(self) -> Squared:
        """Least squares: the squared loss."""
        return Squared()

    def target(self, law: Any) -> Target:
        """The mean of the law: least squares estimates :math:`E[y|x]`."""
        return theory.target(Squared(), law, 1.0)

    def _options(self) -> dict:
        return {} if self.hac_maxlags is None else {"maxlags": int(self.hac_maxlags)}

    def _fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        names: list[str],
        sample_weight: np.ndarray | None = None,
    ) -> FitResult:
        beta = lstsq_qr(X, y[None, :])[0]
        resid = y - X @ beta
        n, k = X.shape
        s = float(np.sqrt(resid @ resid / (n - k)))
        ctx = CovContext(X=X, resid=resid, scale=s, loss=Squared(), options=self._options())
        return self._result(beta, names, ctx, scale=s, objective=resid @ resid)

    def _fit_many(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        names: list[str],
        kinds: tuple[str, ...],
        sample_weight: np.ndarray | None = None,
    ) -> ManyFits:
        beta, gram_inv = lstsq(X, Y, with_gram_inv=True)
        resid = Y - Design(X).fitted(beta)
        n, k = X.shape[-2:]
        s = np.sqrt(np.einsum("ij,ij->i", resid, resid) / (n - k))
        ctx = CovContext(
            X=X,
            resid=resid,
            scale=s,
            loss=Squared(),
            options=self._options(),
            gram_inv=gram_inv,
        )
        R = Y.shape[0]
        return self._many(
            beta,
            names,
            k,
            standard_errors(ctx, kinds),
            scale=s,
            converged=np.ones(R, dtype=bool),
            n_iter=np.zeros(R, dtype=int),
        )
