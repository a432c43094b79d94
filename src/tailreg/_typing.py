"""Type aliases of the package's annotations (no runtime behaviour).

numpy's typing cannot express shapes, so docstrings state them; the aliases name the dtype:
``FloatArray`` (float64), ``IntArray`` and ``BoolArray``. ``SeedLike`` is everything
:func:`~tailreg._validation.check_random_state` turns into a ``Generator``.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["ArrayLike", "BoolArray", "FloatArray", "IntArray", "SeedLike"]

ArrayLike: TypeAlias = npt.ArrayLike
FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.intp]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
SeedLike: TypeAlias = int | np.random.SeedSequence | np.random.Generator | None
