"""Type aliases of the package's annotations (no runtime behaviour).

numpy's typing cannot express shapes, so docstrings state them; the aliases name the dtype
kind: ``FloatArray`` (float64 in practice), ``IntArray`` and ``BoolArray``. ``SeedLike`` is
everything :func:`~tailreg._validation.check_random_state` turns into a ``Generator``.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["ArrayLike", "BoolArray", "FloatArray", "IntArray", "SeedLike"]

ArrayLike: TypeAlias = npt.ArrayLike
FloatArray: TypeAlias = npt.NDArray[np.floating[Any]]
IntArray: TypeAlias = npt.NDArray[np.integer[Any]]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
SeedLike: TypeAlias = int | np.random.SeedSequence | np.random.Generator | None
