"""Inference: immutable fit results and the registry of covariance kinds."""

from .covariance import REGISTRY, CovarianceKind, CovContext, covariance, register
from .results import FitResult, ManyFits

__all__ = [
    "REGISTRY",
    "CovContext",
    "CovarianceKind",
    "FitResult",
    "ManyFits",
    "covariance",
    "register",
]
