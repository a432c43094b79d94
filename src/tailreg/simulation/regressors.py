"""Laws of the regressors: independent columns from a named law, or the rows of a file.

Each law is an object with ``draw(n, p, rng, reps)``, the population moments the theory
needs (``moments(n, p)`` -> mean (p,), covariance (p, p)), ``nonnegative(j)`` and the seed
stream it draws from; :data:`X_LAWS` maps the study-file names to them and the engine asks
the object, never the name.

A design file (``x = { file = "design.csv", columns = ["x1", "x2"], sampling = "fixed" }``)
is read once when the study is read (pandas ``read_csv``); its content travels with the
study to the workers, and its identity is the sha256 of the file's bytes. ``sampling``:

* ``"fixed"`` — the file's first ``n`` rows, the same in every replication; the theory's
  :math:`E[xx^\\top]` is their sample moment (so it depends on ``n``);
* ``"resample"`` — ``n`` rows drawn with replacement in every replication (seed stream
  :data:`~tailreg.simulation.seeds.ROWS`); the rows are i.i.d. from the file's empirical law,
  whose moments (of all rows) the theory uses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from . import seeds
from ._checks import _in_range, _number, _positive, _unknown

__all__ = ["SAMPLINGS", "X_LAWS", "DesignFile", "RegressorLaw", "regressor_law"]

SAMPLINGS = ("fixed", "resample")


class RegressorLaw:
    """A law of the rows of X (the constant column excluded)."""

    #: study-file name
    name: ClassVar[str] = ""
    #: parameters and their defaults
    defaults: ClassVar[dict[str, float]] = {}
    #: the seed stream of a block's redrawn regressors
    stream: ClassVar[int] = seeds.X

    def __init__(self, **params: float) -> None:
        self.params = {**self.defaults, **params}

    @classmethod
    def validate(cls, params: Mapping[str, Any], where: str) -> dict[str, float]:
        """Numbers for every given parameter; subclasses add their domain checks."""
        _unknown(where, params, tuple(cls.defaults))
        return {k: _number(f"{where}.{k}", v) for k, v in params.items()}

    def draw(self, n: int, p: int, rng: np.random.Generator, reps: int | None) -> np.ndarray:
        """Regressors (n, p), or (reps, n, p) when ``reps`` is given."""
        raise NotImplementedError

    def moments(self, n: int | None, p: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean (p,) and covariance (p, p) of a row (for the theory targets; a design file
        in use at sample size ``n``, None: all its rows)."""
        raise NotImplementedError

    def nonnegative(self, j: int, n: int) -> bool:
        """Whether column ``j`` is never negative at sample size ``n`` (for the
        heteroscedastic targets)."""
        return False

    def check_n(self, n: int) -> None:
        """Raise ``ValueError`` if the law cannot give ``n`` rows."""


def _size(n: int, p: int, reps: int | None) -> tuple[int, ...]:
    return (n, p) if reps is None else (reps, n, p)


class NormalX(RegressorLaw):
    """N(0, 1) columns."""

    name = "normal"

    def draw(self, n, p, rng, reps):
        return rng.standard_normal(_size(n, p, reps))

    def moments(self, n, p):
        return np.zeros(p), np.eye(p)


class UniformX(RegressorLaw):
    """U(low, high) columns."""

    name = "uniform"
    defaults: ClassVar[dict[str, float]] = {"low": 0.0, "high": 1.0}

    @classmethod
    def validate(cls, params, where):
        out = super().validate(params, where)
        opts = {**cls.defaults, **out}
        if not opts["low"] < opts["high"]:
            raise ValueError(f"{where}: need low < high, got {opts}")
        return out

    def draw(self, n, p, rng, reps):
        return rng.uniform(self.params["low"], self.params["high"], _size(n, p, reps))

    def moments(self, n, p):
        lo, hi = self.params["low"], self.params["high"]
        return np.full(p, (lo + hi) / 2), (hi - lo) ** 2 / 12 * np.eye(p)

    def nonnegative(self, j, n):
        return self.params["low"] >= 0


class LognormalX(RegressorLaw):
    """exp(N(0, s^2)) columns."""

    name = "lognormal"
    defaults: ClassVar[dict[str, float]] = {"s": 1.0}

    @classmethod
    def validate(cls, params, where):
        out = super().validate(params, where)
        _positive(f"{where}.s", out.get("s", 1.0))
        return out

    def draw(self, n, p, rng, reps):
        return np.exp(self.params["s"] * rng.standard_normal(_size(n, p, reps)))

    def moments(self, n, p):
        s2 = self.params["s"] ** 2
        mu, var = float(np.exp(s2 / 2)), float((np.exp(s2) - 1) * np.exp(s2))
        return np.full(p, mu), var * np.eye(p)

    def nonnegative(self, j, n):
        return True


class LeverageX(RegressorLaw):
    """N(0, 1) columns with the first ``round(share * n)`` rows multiplied by ``scale``.

    The theory takes the share as exact: second moment :math:`(1 - s) + s\\cdot scale^2`.
    """

    name = "leverage"
    defaults: ClassVar[dict[str, float]] = {"share": 0.05, "scale": 10.0}

    @classmethod
    def validate(cls, params, where):
        out = super().validate(params, where)
        opts = {**cls.defaults, **out}
        _in_range(f"{where}.share", opts["share"], 0.0, 1.0, True, False)
        _positive(f"{where}.scale", opts["scale"])
        return out

    def draw(self, n, p, rng, reps):
        z = rng.standard_normal(_size(n, p, reps))
        m = round(self.params["share"] * n)
        z[..., :m, :] *= self.params["scale"]
        return z

    def moments(self, n, p):
        o = self.params
        return np.zeros(p), ((1 - o["share"]) + o["share"] * o["scale"] ** 2) * np.eye(p)


#: study-file name -> regressor law
X_LAWS: dict[str, type[RegressorLaw]] = {
    c.name: c for c in (NormalX, UniformX, LognormalX, LeverageX)
}


# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DesignFile:
    """Regressors read from a CSV file.

    Attributes
    ----------
    path : str
        Absolute path the file was read from (not part of the identity).
    columns : tuple of str
    sampling : {"fixed", "resample"}
    sha256 : str
        Hex digest of the file's bytes (part of the design key and so of the seeds).
    data : ndarray (N, len(columns))
    """

    path: str = field(compare=False)
    columns: tuple[str, ...]
    sampling: str
    sha256: str
    data: np.ndarray = field(compare=False, repr=False)

    @property
    def rows(self) -> int:
        """Rows in the file."""
        return int(self.data.shape[0])

    @property
    def key(self) -> str:
        """Identity in the design key: content hash, columns and sampling (never the path)."""
        return f"file(sha256={self.sha256},columns=[{','.join(self.columns)}],{self.sampling})"

    @classmethod
    def from_table(cls, d: Mapping[str, Any], where: str, base: Path | None) -> DesignFile:
        """Read and check ``{ file = ..., columns = [...], sampling = ... }``."""
        _unknown(where, d, ("file", "columns", "sampling", "sha256"))
        name = d.get("file")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}.file must be a path (relative to the study file)")
        path = Path(name).expanduser()
        if not path.is_absolute():
            path = (base or Path.cwd()) / path
        sampling = d.get("sampling", "fixed")
        if sampling not in SAMPLINGS:
            raise ValueError(f"{where}.sampling must be one of {list(SAMPLINGS)}, got {sampling!r}")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ValueError(f"{where}.file: cannot read {str(path)!r}: {exc.strerror}") from exc
        sha = hashlib.sha256(raw).hexdigest()
        if d.get("sha256") not in (None, sha):
            raise ValueError(
                f"{where}.file: {str(path)!r} has changed since the study was written "
                f"(sha256 {sha[:16]}..., expected {str(d['sha256'])[:16]}...)"
            )
        frame = pd.read_csv(path)
        columns = _columns(d.get("columns"), list(frame.columns), f"{where}.columns")
        data = _numeric(frame[list(columns)], f"{where}.file ({path.name})")
        return cls(str(path.resolve()), columns, sampling, sha, data)

    def to_table(self) -> dict[str, Any]:
        """The study-file table (absolute path, with the content hash to check on reading)."""
        return {
            "file": self.path,
            "columns": list(self.columns),
            "sampling": self.sampling,
            "sha256": self.sha256,
        }


def _columns(given: Any, present: list[str], where: str) -> tuple[str, ...]:
    if given is None:
        return tuple(str(c) for c in present)
    if isinstance(given, str) or not isinstance(given, Sequence) or not given:
        raise ValueError(f"{where} must be a non-empty list of column names, got {given!r}")
    missing = [c for c in given if c not in present]
    if missing:
        raise ValueError(f"{where}: {missing} not in the file; it has {present}")
    return tuple(str(c) for c in given)


def _numeric(frame: pd.DataFrame, where: str) -> np.ndarray:
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise ValueError(f"{where}: column(s) {bad} are not numeric")
    data = frame.to_numpy(dtype=float)
    if data.shape[0] < 2 or not np.isfinite(data).all():
        raise ValueError(f"{where}: need at least 2 rows of finite numbers (no missing values)")
    data.setflags(write=False)
    return data


class FileX(RegressorLaw):
    """The rows of a :class:`DesignFile`: its first n rows, or n rows drawn with replacement."""

    name = "file"
    stream = seeds.ROWS

    def __init__(self, source: DesignFile) -> None:
        super().__init__()
        self.source = source

    def _rows(self, n: int | None) -> np.ndarray:
        data = self.source.data
        if self.source.sampling == "fixed" and n is not None:
            if n > data.shape[0]:
                raise ValueError(
                    f"n={n} exceeds the {data.shape[0]} rows of the design file "
                    f"{self.source.path!r} (sampling = 'fixed' takes its first n rows)"
                )
            return data[:n]
        return data

    def draw(self, n, p, rng, reps):
        data = self._rows(n)
        if self.source.sampling == "fixed":  # no random numbers
            return np.array(data) if reps is None else np.broadcast_to(data, (reps, n, p)).copy()
        idx = rng.integers(0, data.shape[0], size=(n,) if reps is None else (reps, n))
        return data[idx]

    def moments(self, n, p):
        rows = self._rows(n)
        return rows.mean(axis=0), np.atleast_2d(np.cov(rows, rowvar=False, ddof=0))

    def nonnegative(self, j, n):
        return bool((self._rows(n)[:, j] >= 0).all())

    def check_n(self, n):
        self._rows(n)


def regressor_law(x: str | DesignFile, params: Mapping[str, float]) -> RegressorLaw:
    """The law object of a design's ``x`` (a name of :data:`X_LAWS` or a design file)."""
    if isinstance(x, DesignFile):
        return FileX(x)
    return X_LAWS[x](**params)
