r"""Ordinary least squares by QR: minimises :math:`\sum r_i^2/2`, the Gaussian MLE of beta."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import theory
from .._linalg import Design, lstsq, lstsq_qr
from .._validation import check_design, check_positive
from ..inference.covariance import CovContext, standard_errors
from ..inference.results import FitResult, ManyFits
from ..losses import Squared
from ..theory import Target
from ._base import BaseRegressor

__all__ = ["OLS", "lstsq", "lstsq_qr"]


class OLS(BaseRegressor):
    r"""Ordinary or weighted least squares, :math:`\min_\beta \sum_i w_i(y_i - x_i^\top\beta)^2`.

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

    **Observation weights** (``sample_weight``) are R's ``lm(weights=)``: weighted least
    squares, i.e. inverse-variance (precision) weights, :math:`\operatorname{Var} e_i =
    \sigma^2/w_i`. The fit is least squares on the rows :math:`(\sqrt{w_i}x_i,
    \sqrt{w_i}y_i)` and so is every covariance kind, which gives ``sandwich``'s conventions
    for a weighted ``lm``: :math:`s^2 = \sum_i w_ir_i^2/(n-k)` with :math:`n` the number of
    rows (of positive weight), classical :math:`s^2(X^\top WX)^{-1}`; HC0–HC3
    :math:`(X^\top WX)^{-1}[\sum_i\omega_i(w_ir_i)^2x_ix_i^\top](X^\top WX)^{-1}` with
    leverages :math:`h_i = w_ix_i^\top(X^\top WX)^{-1}x_i` and HC1's factor :math:`n/(n-k)`;
    HAC the Bartlett long-run variance of the scores :math:`w_ir_ix_i` in row order (R's
    ``estfun.lm``). ``result_.resid`` are the unweighted residuals :math:`y_i - x_i^\top\hat
    \beta` (R's ``residuals()``) and ``result_.extra["sample_weight"]`` the weights.
    Integer weights give the same coefficients as repeating row :math:`i` :math:`w_i` times,
    but *not* the same scale, covariances or degrees of freedom: ``lm`` counts rows, not
    :math:`\sum w_i` (``tests/reference/modelling.json``, ``frequency_weights``).
    ``fit_many`` with (R, n) weights equals ``fit`` per replication (a weight of 0 drops the
    row, so HAC's lags then run over the remaining rows).
    """

    _cov_kinds = ("classical", "HC0", "HC1", "HC2", "HC3", "HAC", "cluster")
    study_name = "ols"
    objective_doc = "residual sum of squares (weighted: sum of w_i r_i^2)"
    use_t = True
    use_t_doc = "t with n - k degrees of freedom, exact under normal errors (summary.lm)"
    supports_sample_weight = True
    #: the rank is checked from the QR the fit computes anyway (the lean single-fit path)
    _checks_rank = True

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
        sw = None if sample_weight is None else np.sqrt(sample_weight)
        Xw = X if sw is None else X * sw[:, None]
        yw = y if sw is None else y * sw
        # one QR serves the rank check, the coefficients and (X'WX)^-1 (as lstsq_qr and
        # xtx_inv compute them: the same bits)
        q, r = np.linalg.qr(Xw)
        check_design(Xw, names, min_extra_rows=self._min_extra_rows, r_factor=r)
        beta = np.linalg.solve(r, (yw[None, :] @ q).T).T[0]
        resid = y - X @ beta
        rw = resid if sw is None else resid * sw
        n, k = X.shape
        rss = rw @ rw
        s = float(np.sqrt(rss / (n - k)))
        ctx = CovContext(
            X=Xw,
            resid=rw,
            scale=s,
            loss=Squared(),
            options=self._options(),
            gram_inv=_gram_inv_from_r(r),
        )
        extra = None if sample_weight is None else {"sample_weight": sample_weight}
        return self._result(beta, names, ctx, scale=s, objective=rss, extra=extra, resid=resid)

    def _fit_many(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        names: list[str],
        kinds: tuple[str, ...],
        sample_weight: np.ndarray | None = None,
    ) -> ManyFits:
        if sample_weight is not None and not np.all(sample_weight > 0):
            # a zero weight removes the row (HAC's lags, n - k): one fit per replication
            return super()._fit_many(X, Y, names, kinds, sample_weight=sample_weight)
        if sample_weight is None:
            Xw, Yw = X, Y
        else:
            sw = np.sqrt(sample_weight)
            if sw.ndim == 1 and X.ndim == 2:
                Xw = X * sw[:, None]
            else:
                Xw = X * (sw if sw.ndim == 2 else sw[None, :])[..., None]
            Yw = Y * sw
        beta, gram_inv = lstsq(Xw, Yw, with_gram_inv=True)
        resid = Y - Design(X).fitted(beta)
        rw = resid if sample_weight is None else resid * np.sqrt(sample_weight)
        n, k = X.shape[-2:]
        s = np.sqrt(np.einsum("ij,ij->i", rw, rw) / (n - k))
        ctx = CovContext(
            X=Xw,
            resid=rw,
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


def _gram_inv_from_r(r: np.ndarray) -> np.ndarray:
    """:math:`(X^\\top X)^{-1} = R^{-1}R^{-\\top}` from the QR's R factor (as ``xtx_inv``)."""
    rinv = np.linalg.inv(r)
    return rinv @ rinv.T
