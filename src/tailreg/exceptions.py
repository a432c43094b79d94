"""Warnings and errors raised by tailreg."""

from __future__ import annotations

from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning

__all__ = ["ConvergenceWarning", "ExactFitWarning", "MultipleOptimaWarning"]


class ConvergenceWarning(_SklearnConvergenceWarning):
    """An iterative fit stopped before meeting its tolerance.

    The fitted result still exists, but its ``converged`` flag is ``False``.
    Subclasses scikit-learn's ``ConvergenceWarning`` so that filters written
    for scikit-learn also catch it.
    """


class MultipleOptimaWarning(UserWarning):
    """A likelihood with several local optima: distinct starts reached distinct maxima."""


class ExactFitWarning(UserWarning):
    """More than half the residuals are (numerically) zero: the robust scale is 0.

    The coefficients are those of the exact fit; standard errors are not meaningful.
    """
