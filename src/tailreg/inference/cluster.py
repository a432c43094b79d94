r"""Cluster-robust covariance (Liang & Zeger 1986; Arellano 1987), one- and two-way.

Registers the ``cluster`` kind for every estimator that supplies scores and a Jacobian
(M-estimators, likelihoods) and for least squares:

.. math::
    V = c\,B\Bigl(\sum_{g=1}^{G} S_g S_g^\top\Bigr)B^\top, \qquad
    S_g = \sum_{i\in g} v_i s_i,

with the bread :math:`B` and scores :math:`s_i` of
:func:`~tailreg.inference.covariance.score_pieces` (the ``sandwich`` kind's) and the case
weights :math:`v_i` (1 without). The small-sample factor :math:`c` follows
``sandwich::vcovCL``: ``type="HC0"`` gives :math:`c = G/(G-1)` and ``type="HC1"``
:math:`c = G/(G-1)\cdot(n-1)/(n-k)` (Stata's CR1). The default is ``"HC1"`` for least
squares (OLS; ``vcovCL(lm, type = "HC1")``) and ``"HC0"`` for estimators with scores
(``vcovCL(rlm, type = "HC0")``; a likelihood's scores likewise). With case weights
:math:`n = \sum_i v_i`, and a cluster whose weights are all 0 does not count.

Two-way clustering (Cameron, Gelbach & Miller 2011) takes ``groups`` as two label arrays
(a pair, or an (n, 2) array): :math:`V = V_1 + V_2 - V_{12}` with :math:`V_{12}` clustered
on the intersections, each term with its own :math:`G` in :math:`c` (``vcovCL`` with
``multi0 = FALSE``); a non-positive-definite result is returned as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .covariance import CovarianceKind, CovContext, case_count, register, score_pieces
from .quantile_cov import QuantileCluster

#: quantile fits have no smooth scores; their cluster covariance is Parente & Santos Silva's
_QUANTILE = QuantileCluster()

__all__ = ["Cluster", "cluster_codes"]

_TYPES = ("HC0", "HC1")


def cluster_codes(groups: Any, n: int) -> np.ndarray:
    """Integer codes 0..G-1 (n,) of one label array, or (n, 2) for two-way clustering.

    Labels may be of any type ``numpy.unique`` orders (numbers, strings); a missing label
    (NaN, None) or a length other than ``n`` is a ``ValueError``.
    """
    if isinstance(groups, tuple | list) and len(groups) == 2 and np.ndim(groups[0]) == 1:
        return np.column_stack([cluster_codes(g, n) for g in groups])
    arr = np.asarray(getattr(groups, "to_numpy", lambda: groups)())
    if arr.ndim == 2 and arr.shape[1] == 2 and arr.shape[0] == n:
        return np.column_stack([cluster_codes(arr[:, j], n) for j in range(2)])
    if arr.ndim != 1:
        raise ValueError(
            f"cluster: groups must be one label per observation (shape ({n},)) or two "
            f"label arrays for two-way clustering, got shape {arr.shape}"
        )
    if arr.shape[0] != n:
        raise ValueError(
            f"cluster: groups has {arr.shape[0]} labels but the fit has {n} observations "
            "(rows of weight 0 and dropped rows are not part of the fit)"
        )
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError("cluster: groups contains NaN or infinite labels")
    if arr.dtype == object and any(v is None or v != v for v in arr):
        raise ValueError("cluster: groups contains missing labels (None or NaN)")
    codes = np.unique(arr, return_inverse=True)[1].reshape(-1)
    out = codes.astype(np.intp)
    out.flags.writeable = False
    return out


@register
class Cluster(CovarianceKind):
    """Cluster-robust sandwich (see the module notes for the formula and its conventions).

    Options: ``groups`` (one label per observation, or two for two-way clustering; default
    ``result_.extra["groups"]``, set by ``tailreg.fit_formula(..., groups=)``) and ``type``
    (``"HC0"``: :math:`G/(G-1)`; ``"HC1"``: also :math:`(n-1)/(n-k)`; default ``"HC1"`` for
    least squares and ``"HC0"`` for estimators with scores). Quantile fits (their context
    carries ``tau``) get Parente & Santos Silva's form instead
    (:class:`tailreg.inference.quantile_cov.QuantileCluster`; ``type`` does not apply).
    """

    name = "cluster"
    description = "cluster-robust sandwich, sum over clusters of the scores"
    uses_scores = True
    options: ClassVar[Mapping[str, Any]] = {"groups": None, "type": None}
    options_from_extra: ClassVar[Mapping[str, str]] = {"groups": "groups"}
    requires: ClassVar[tuple[str, ...]] = ("groups",)

    def validate_options(self, options: dict[str, Any], ctx: CovContext) -> dict[str, Any]:
        if options.get("groups") is None:  # groups the estimator put in its context
            options["groups"] = ctx.options.get("groups")
        if options.get("groups") is None:
            raise ValueError(
                "the cluster kind needs groups=: pass with_cov('cluster', groups=labels), or "
                "fit with tailreg.fit_formula(..., groups=...)"
            )
        codes = cluster_codes(options["groups"], ctx.nobs)
        fewest = min(len(np.unique(c)) for c in codes.reshape(ctx.nobs, -1).T)
        if fewest < 2:
            raise ValueError("cluster: groups must hold at least 2 distinct clusters")
        options["groups"] = codes
        kind = options.get("type")
        if kind is not None and kind not in _TYPES:
            raise ValueError(f"cluster: type must be one of {list(_TYPES)}, got {kind!r}")
        return options

    @staticmethod
    def _is_quantile(ctx: CovContext) -> bool:
        return ctx.options.get("tau") is not None

    def bread(self, ctx: CovContext) -> np.ndarray:
        if self._is_quantile(ctx):
            return _QUANTILE.bread(ctx)
        return score_pieces(ctx)[0]

    def compute_many(self, ctx: CovContext) -> np.ndarray:
        if self._is_quantile(ctx):
            return _QUANTILE.compute_many(ctx)
        return super().compute_many(ctx)

    def compute(self, ctx: CovContext) -> np.ndarray:
        if ctx.options.get("groups") is None:
            raise ValueError("the cluster kind needs groups= (see with_cov)")
        if self._is_quantile(ctx):
            return _QUANTILE.compute(ctx)
        codes = np.asarray(ctx.options["groups"])
        if codes.dtype.kind not in "iu":  # labels not yet checked (a direct CovContext)
            codes = cluster_codes(codes, ctx.nobs)
        kind = ctx.options.get("type")
        if kind is None:
            kind = "HC1" if ctx.scores is None or ctx.jacobian is None else "HC0"
        bread, scores = score_pieces(ctx)
        v = None if ctx.weights is None else np.asarray(ctx.weights, dtype=float)
        if v is not None:
            scores = scores * v[..., None]
        if codes.ndim == 1:
            meat = _clustered_meat(scores, codes, v)
        else:
            both = np.unique(codes, axis=0, return_inverse=True)[1].reshape(-1)
            meat = (
                _clustered_meat(scores, codes[:, 0], v)
                + _clustered_meat(scores, codes[:, 1], v)
                - _clustered_meat(scores, both, v)
            )
        if kind == "HC1":
            n = np.asarray(case_count(ctx), dtype=float)[..., None, None]
            meat = meat * ((n - 1.0) / (n - ctx.k))
        return bread @ meat @ np.swapaxes(bread, -1, -2)


def _clustered_meat(scores: np.ndarray, codes: np.ndarray, v: np.ndarray | None) -> np.ndarray:
    r""":math:`G/(G-1)\sum_g S_g S_g^\top` (..., q, q) with :math:`S_g` the cluster sums.

    ``scores`` (..., n, q) are already multiplied by the case weights ``v``; clusters whose
    weights are all 0 do not count in :math:`G`.
    """
    n_groups = int(codes.max()) + 1
    onehot = np.zeros((codes.shape[0], n_groups))
    onehot[np.arange(codes.shape[0]), codes] = 1.0
    sums = np.swapaxes(onehot, 0, 1) @ scores  # (..., G, q)
    if v is None:
        G = np.asarray(float(n_groups))
    else:
        G = ((v > 0).astype(float) @ onehot > 0).sum(axis=-1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        adj = np.where(G > 1, G / (G - 1.0), np.nan)
    return adj[..., None, None] * (np.swapaxes(sums, -1, -2) @ sums)
