"""Deprecated location: the S- and t-likelihood functionals live in :mod:`tailreg.theory`.

Kept as a re-export while ``tailreg.estimators`` still imports it; use
``tailreg.theory.s_functional`` and ``tailreg.theory.t_mle_functional``.
"""

from .theory.scale_functionals import s_functional, t_mle_functional

__all__ = ["s_functional", "t_mle_functional"]
