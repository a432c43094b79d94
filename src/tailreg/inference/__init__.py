"""Inference: immutable fit results and the registry of covariance kinds.

Importing the package registers every kind: least squares, M-estimation and likelihood
(:mod:`.covariance`), cluster-robust (:mod:`.cluster`), quantile regression
(:mod:`.quantile_cov`) and MM (:mod:`.robust_cov`).
"""

from . import cluster, quantile_cov, robust_cov
from .covariance import REGISTRY, CovarianceKind, CovContext, covariance, register
from .results import FitResult, ManyFits

__all__ = [
    "REGISTRY",
    "CovContext",
    "CovarianceKind",
    "FitResult",
    "ManyFits",
    "cluster",
    "covariance",
    "quantile_cov",
    "register",
    "robust_cov",
]
