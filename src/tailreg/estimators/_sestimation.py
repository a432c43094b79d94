"""Moved to :mod:`tailreg.solvers.s_estimation`; this old path re-exports its names."""

from ..solvers.s_estimation import (
    BISQUARE_CHI_C50,
    BISQUARE_PSI_C95,
    SResult,
    bisquare_c_for_breakdown,
    bisquare_c_for_efficiency,
    chi,
    fast_s,
    m_scale,
)

__all__ = [
    "BISQUARE_CHI_C50",
    "BISQUARE_PSI_C95",
    "SResult",
    "bisquare_c_for_breakdown",
    "bisquare_c_for_efficiency",
    "chi",
    "fast_s",
    "m_scale",
]
