"""Study specifications: frozen dataclasses, built from TOML or a dict and validated once.

A study is the grid designs x error laws x sample sizes, each cell fitted by every estimator
on the same replications. The keys of a study file::

    name = "t3-demo"
    seed = 20261128
    replications = 2000
    sample_sizes = [50, 200, 800]
    seed_block = 100          # replications drawn (and fitted) together; part of the seed identity
    max_errors = 50           # failed fits allowed per cell before the run stops
    [design]                  # or [[designs]] for several
    x = "normal"              # "uniform", "lognormal", "leverage", or a design file:
                              # x = { file = "design.csv", columns = ["x1", "x2"],
                              #       sampling = "fixed" }    # or "resample"
    x_params = { }            # uniform: low, high; lognormal: s; leverage: share, scale
    beta = [1.0, -0.5]
    intercept = 1.0
    fixed_x = false
    [[errors]]
    law = "t"                 # a tailreg law, "scipy.stats:NAME" or "package.module:factory"
    df = 3                    # the law's parameters (scipy: its shape parameters)
    center = "median"
    scale = "iqr"
    heteroscedastic = { scale_fn = "linear", a = 1.0, b = 0.5 }   # optional
    ar1 = { phi = 0.5 }                                           # optional
    [[estimators]]
    name = "huber"            # a tailreg name, or "package.module:Class" (any regressor)
    k = 1.345                 # constructor keywords
    label = "huber-1.345"     # optional, tells two configurations apart
    kinds = ["H1"]            # optional covariance kinds to record

Every key is checked here and a bad one raises a ``ValueError`` naming it. The checks ask
the owners: law parameters are validated by the law table itself
(:func:`tailreg.distributions.make`, or the scipy distribution / factory), estimator
arguments by constructing the estimator (plug-ins are also fitted once to a probe data set),
regressor-law parameters by :mod:`tailreg.simulation.regressors`. A design file is read here
(relative paths from the study file's folder); its content hash enters the design's key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from numbers import Real
from pathlib import Path
from typing import Any

from ..distributions import LAWS, parameters
from ._checks import (
    Params,
    _fmt,
    _fmt_params,
    _freeze,
    _in_range,
    _integer,
    _label,
    _number,
    _table_list,
    _thaw,
    _unknown,
)
from .error_laws import build_law, law_keys
from .registry import EstimatorSpec
from .regressors import X_LAWS, DesignFile, RegressorLaw, regressor_law

__all__ = ["X_LAWS", "Cell", "Design", "ErrorSpec", "EstimatorSpec", "Study"]

_CENTERS = ("mean", "median", None)
_SCALES = ("sd", "iqr", "mad", None)
_SCALE_FNS = ("linear", "power")


# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Design:
    """Regressors and coefficients of the linear model :math:`y = b_0 + x^\\top\\beta + e`.

    Parameters
    ----------
    x : {"normal", "uniform", "lognormal", "leverage"} or DesignFile
        Law of each regressor (independent columns): ``normal`` N(0, 1), ``uniform``
        U(low, high), ``lognormal`` exp(N(0, s^2)), ``leverage`` N(0, 1) with the first
        ``round(share * n)`` rows multiplied by ``scale`` (high-leverage rows); or the rows
        of a file (:class:`~tailreg.simulation.regressors.DesignFile`).
    beta : tuple of float
        Slopes; ``p = len(beta)``.
    intercept : float
    fixed_x : bool
        Draw X once per (design, n) and keep it across replications and error laws, or redraw
        it in every replication (a design file: ``sampling == "fixed"``).
    x_params : tuple of (name, value)
        Parameters of the regressor law (defaults in its class in :data:`X_LAWS`).
    label : str, optional
        Name shown in the ``design`` column (default: the key).
    """

    x: str | DesignFile = "normal"
    beta: tuple[float, ...] = (1.0,)
    intercept: float = 1.0
    fixed_x: bool = False
    x_params: Params = ()
    label: str | None = None

    @property
    def p(self) -> int:
        """Number of regressors."""
        return len(self.beta)

    @property
    def x_options(self) -> dict[str, float]:
        """Regressor-law parameters with defaults filled in."""
        if isinstance(self.x, DesignFile):
            return {}
        return {**X_LAWS[self.x].defaults, **dict(self.x_params)}

    @cached_property
    def regressors(self) -> RegressorLaw:
        """The regressor law object (draws, moments)."""
        return regressor_law(self.x, self.x_options)

    @property
    def key(self) -> str:
        """Stable identity string (seeds derive from it; the label does not enter)."""
        if isinstance(self.x, DesignFile):
            xs = self.x.key
        else:
            xs = f"{self.x}({_fmt_params(tuple(sorted(self.x_options.items())))})"
        beta = ",".join(_fmt(float(b)) for b in self.beta)
        fixed = "fixed" if self.fixed_x else "redrawn"
        return f"x={xs};beta=[{beta}];b0={_fmt(float(self.intercept))};{fixed}"

    @property
    def name(self) -> str:
        """The label, or the key."""
        return self.label or self.key

    @classmethod
    def from_dict(
        cls, d: Mapping[str, Any], where: str = "design", base: Path | None = None
    ) -> Design:
        """Build and validate a design from a study-file table (``base``: folder of files)."""
        _unknown(where, d, ("x", "beta", "intercept", "fixed_x", "x_params", "label"))
        x = d.get("x", "normal")
        beta_in = d.get("beta", [1.0])
        if isinstance(beta_in, Real):
            beta_in = [beta_in]
        if not isinstance(beta_in, Sequence) or len(beta_in) == 0:
            raise ValueError(f"{where}.beta must be a non-empty list of numbers, got {beta_in!r}")
        beta = tuple(_number(f"{where}.beta[{j}]", b) for j, b in enumerate(beta_in))
        intercept = _number(f"{where}.intercept", d.get("intercept", 1.0))
        label = _label(f"{where}.label", d.get("label"))
        if isinstance(x, Mapping):
            if "fixed_x" in d or "x_params" in d:
                raise ValueError(
                    f"{where}: a design file takes sampling = 'fixed' or 'resample' in its "
                    "table, not fixed_x or x_params"
                )
            src = DesignFile.from_table(x, f"{where}.x", base)
            if len(src.columns) != len(beta):
                raise ValueError(
                    f"{where}.beta has {len(beta)} slope(s) but {where}.x gives "
                    f"{len(src.columns)} column(s) {list(src.columns)}"
                )
            return cls(src, beta, intercept, src.sampling == "fixed", (), label)
        if x not in X_LAWS:
            raise ValueError(
                f"{where}.x: unknown regressor law {x!r}; choose from {list(X_LAWS)} or give "
                "a design file {{ file = ..., columns = [...] }}"
            )
        fixed = d.get("fixed_x", False)
        if not isinstance(fixed, bool):
            raise ValueError(f"{where}.fixed_x must be true or false, got {fixed!r}")
        xp = X_LAWS[x].validate(dict(d.get("x_params", {}) or {}), f"{where}.x_params")
        return cls(x, beta, intercept, fixed, tuple(sorted(xp.items())), label)

    def to_dict(self) -> dict[str, Any]:
        """The study-file table of this design."""
        if isinstance(self.x, DesignFile):
            d: dict[str, Any] = {"x": self.x.to_table()}
        else:
            d = {"x": self.x}
        d.update(beta=list(self.beta), intercept=self.intercept)
        if not isinstance(self.x, DesignFile):
            d["fixed_x"] = self.fixed_x
        if self.x_params:
            d["x_params"] = dict(self.x_params)
        if self.label:
            d["label"] = self.label
        return d


# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ErrorSpec:
    """An error law, optionally heteroscedastic or AR(1).

    Parameters
    ----------
    law : str
        A name of :data:`tailreg.distributions.LAWS`, ``"scipy.stats:NAME"`` or
        ``"package.module:factory"`` (:mod:`tailreg.simulation.error_laws`).
    params : tuple of (name, value)
        The law's parameters (``df``, ``s``, a scipy shape, a factory's keywords, and for
        scipy/factory laws ``symmetric``/``tail_index``).
    center, scale : str or None
        Standardization of the law (``"mean"``/``"median"``; ``"sd"``/``"iqr"``/``"mad"``).
    heteroscedastic : tuple of (name, value) or None
        ``scale_fn`` (``"linear"`` :math:`a + b|x_j|` or ``"power"``
        :math:`(a + |x_j|)^{exponent}`), ``a``, ``b``, ``exponent``, ``column`` (j, default 0):
        errors :math:`e_i = \\sigma(x_i) u_i` (``tailreg.processes.Heteroscedastic``).
    ar1 : float or None
        AR(1) coefficient ``phi`` (``tailreg.processes.AR1``), stationary start.
    label : str, optional
        Name shown in the ``law`` column (default: the key).
    """

    law: str
    params: Params = ()
    center: str | None = None
    scale: str | None = None
    heteroscedastic: Params | None = None
    ar1: float | None = None
    label: str | None = None

    @property
    def key(self) -> str:
        """Stable identity string (seeds derive from it; the label does not enter)."""
        k = f"{self.law}({_fmt_params(self.params)})"
        if self.center or self.scale:
            k += f"[center={self.center},scale={self.scale}]"
        if self.heteroscedastic is not None:
            k += f"+het({_fmt_params(self.heteroscedastic)})"
        if self.ar1 is not None:
            k += f"+ar1(phi={_fmt(float(self.ar1))})"
        return k

    @property
    def name(self) -> str:
        """The label, or the key."""
        return self.label or self.key

    @property
    def iid(self) -> bool:
        """True for i.i.d. errors (no heteroscedasticity, no dependence)."""
        return self.heteroscedastic is None and self.ar1 is None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "errors") -> ErrorSpec:
        """Build and validate an error specification from a study-file table."""
        fixed = ("law", "center", "scale", "heteroscedastic", "ar1", "label")
        law = d.get("law")
        keys = law_keys(law, where)
        if keys is None:  # a factory taking **kwargs: every other key is its keyword
            keys = tuple(sorted(k for k in d if k not in fixed))
        _unknown(where, d, (*fixed, *keys))
        params = tuple((k, _freeze(f"{where}.{k}", d[k])) for k in keys if k in d)
        if isinstance(law, str) and law in LAWS:  # domains from the law table itself
            domains = parameters(law)
            for k, v in params:
                domains[k].check(v, f"{where}.{k}")
        center, scale = d.get("center"), d.get("scale")
        if center not in _CENTERS:
            raise ValueError(f"{where}.center must be one of {list(_CENTERS)}, got {center!r}")
        if scale not in _SCALES:
            raise ValueError(f"{where}.scale must be one of {list(_SCALES)}, got {scale!r}")
        het = _heteroscedastic(d.get("heteroscedastic"), f"{where}.heteroscedastic")
        phi = _ar1(d.get("ar1"), f"{where}.ar1")
        if het is not None and phi is not None:
            raise ValueError(f"{where}: heteroscedastic AR(1) errors are not supported; give one")
        spec = cls(
            str(law), params, center, scale, het, phi, _label(f"{where}.label", d.get("label"))
        )
        try:
            build_law(spec.law, spec.params, spec.center, spec.scale)
        except (TypeError, ValueError) as exc:
            msg = str(exc)
            if msg.split(" ", 1)[0] in dict(params):  # the law names its parameter first
                raise ValueError(f"{where}.{msg}") from exc
            raise ValueError(f"{where} ({spec.key}): {msg}") from exc
        return spec

    def to_dict(self) -> dict[str, Any]:
        """The study-file table of this error specification."""
        d: dict[str, Any] = {"law": self.law, **{k: _thaw(v) for k, v in self.params}}
        if self.center is not None:
            d["center"] = self.center
        if self.scale is not None:
            d["scale"] = self.scale
        if self.heteroscedastic is not None:
            d["heteroscedastic"] = dict(self.heteroscedastic)
        if self.ar1 is not None:
            d["ar1"] = {"phi": self.ar1}
        if self.label:
            d["label"] = self.label
        return d


def _heteroscedastic(het: Any, where: str) -> Params | None:
    if het is None:
        return None
    if not isinstance(het, Mapping):
        raise ValueError(f"{where} must be a table, got {het!r}")
    _unknown(where, het, ("scale_fn", "a", "b", "exponent", "column"))
    fn = het.get("scale_fn", "linear")
    if fn not in _SCALE_FNS:
        raise ValueError(f"{where}.scale_fn must be one of {list(_SCALE_FNS)}, got {fn!r}")
    out: list[tuple[str, Any]] = [("scale_fn", fn)]
    for k in ("a", "b", "exponent"):
        if k in het:
            out.append((k, _number(f"{where}.{k}", het[k])))
    if "column" in het:
        out.append(
            ("column", _integer(f"{where}.column", het["column"], 0, "a non-negative integer"))
        )
    return tuple(out)


def _ar1(ar: Any, where: str) -> float | None:
    if ar is None:
        return None
    if not isinstance(ar, Mapping):
        raise ValueError(f"{where} must be a table like {{ phi = 0.5 }}, got {ar!r}")
    _unknown(where, ar, ("phi",))
    return _in_range(f"{where}.phi", ar.get("phi"), -1.0, 1.0, False, False)


# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """One (design, error law, n) cell of a study; every estimator is fitted in it."""

    design: Design
    errors: ErrorSpec
    n: int

    @property
    def key(self) -> str:
        """Stable identity of the data: design key, law key and n."""
        return f"{self.design.key}|{self.errors.key}|n={self.n}"

    @property
    def digest(self) -> str:
        """sha256 hex digest of :attr:`key`."""
        return hashlib.sha256(self.key.encode()).hexdigest()


_STUDY_KEYS = (
    "name",
    "seed",
    "replications",
    "sample_sizes",
    "seed_block",
    "max_errors",
    "design",
    "designs",
    "errors",
    "estimators",
)


def _sample_sizes(sizes: Any) -> tuple[int, ...]:
    if not isinstance(sizes, Sequence) or isinstance(sizes, str) or len(sizes) == 0:
        raise ValueError(f"sample_sizes must be a non-empty list of integers, got {sizes!r}")
    out = tuple(
        _integer(f"sample_sizes[{j}]", n, 2, "an integer >= 2") for j, n in enumerate(sizes)
    )
    if len(set(out)) != len(out):
        raise ValueError(f"sample_sizes has duplicates: {list(sizes)}")
    return out


def _designs(d: Mapping[str, Any], base: Path | None) -> tuple[Design, ...]:
    if "design" in d and "designs" in d:
        raise ValueError("give either [design] or [[designs]], not both")
    dd = d.get("designs", d.get("design", {}))
    if isinstance(dd, Mapping):
        return (Design.from_dict(dd, "design", base),)
    if isinstance(dd, Sequence) and not isinstance(dd, str):
        return tuple(Design.from_dict(x, f"designs[{i}]", base) for i, x in enumerate(dd))
    raise ValueError(f"design must be a table or a list of tables, got {dd!r}")


def _check_sizes(designs: tuple[Design, ...], sizes: tuple[int, ...], many: bool) -> None:
    for i, des in enumerate(designs):
        where = f"designs[{i}]" if many else "design"
        small = [n for n in sizes if n <= des.p + 1]
        if small:
            # n <= p + 1 leaves no residual degrees of freedom: no scale, no standard error
            raise ValueError(
                f"sample_sizes: n = {small[0]} is too small for {where} with p = {des.p} "
                f"slope(s) and an intercept: every sample size must exceed p + 1 = "
                f"{des.p + 1}, so that the residuals have a degree of freedom"
            )
        for n in sizes:
            try:
                des.regressors.check_n(n)
            except ValueError as exc:
                raise ValueError(f"{f'designs[{i}]' if many else 'design'}: {exc}") from exc


@dataclass(frozen=True)
class Study:
    """A Monte Carlo study: designs x error laws x sample sizes, fitted by every estimator.

    Parameters
    ----------
    name : str
    seed : int
        Root entropy of every random stream (see :mod:`tailreg.simulation.seeds`).
    replications : int
        Replications per cell.
    sample_sizes : tuple of int
    designs, errors, estimators : tuples of :class:`Design`, :class:`ErrorSpec`,
        :class:`EstimatorSpec`
    seed_block : int, default 100
        Replications drawn from one random stream and fitted by one ``fit_many`` call. It is
        part of the identity of the random numbers: changing it changes the draws, while
        the execution block size of :func:`~tailreg.simulation.run_study` does not.
    max_errors : int, default 50
        Failed fits (exceptions or non-finite estimates) allowed per cell.
    """

    name: str
    seed: int
    replications: int
    sample_sizes: tuple[int, ...]
    designs: tuple[Design, ...]
    errors: tuple[ErrorSpec, ...]
    estimators: tuple[EstimatorSpec, ...]
    seed_block: int = 100
    max_errors: int = 50

    def __post_init__(self) -> None:
        for what, seq, attr in (
            ("designs", self.designs, "name"),
            ("errors", self.errors, "name"),
            ("estimators", self.estimators, "display"),
        ):
            names = [getattr(s, attr) for s in seq]
            dup = sorted({x for x in names if names.count(x) > 1})
            if dup:
                raise ValueError(
                    f"{what}: duplicate entries {dup}; give each configuration a distinct label"
                )
            if not seq:
                raise ValueError(f"{what}: the study needs at least one entry")

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: Mapping[str, Any], base_dir: str | Path | None = None) -> Study:
        """Build and validate a study from a dict shaped like the TOML file.

        Parameters
        ----------
        d : mapping
        base_dir : path, optional
            Folder that relative design-file paths start from (default: the working
            directory; :meth:`from_toml` passes the study file's folder).
        """
        _unknown("study", d, _STUDY_KEYS)
        name = d.get("name", "study")
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        seed = _integer("seed", d.get("seed"), 0, "a non-negative integer")
        reps = _integer("replications", d.get("replications"), 2, "an integer >= 2")
        sizes = _sample_sizes(d.get("sample_sizes"))
        designs = _designs(d, Path(base_dir) if base_dir is not None else None)
        _check_sizes(designs, sizes, "designs" in d)
        errs = _table_list("errors", d.get("errors"))
        errors = tuple(ErrorSpec.from_dict(e, f"errors[{i}]") for i, e in enumerate(errs))
        ests = _table_list("estimators", d.get("estimators"))
        p_values = [des.p for des in designs]
        estimators = tuple(
            EstimatorSpec.from_dict(e, f"estimators[{i}]").probed(p_values, f"estimators[{i}]")
            for i, e in enumerate(ests)
        )
        return cls(
            name=name,
            seed=seed,
            replications=reps,
            sample_sizes=sizes,
            designs=designs,
            errors=errors,
            estimators=estimators,
            seed_block=_integer("seed_block", d.get("seed_block", 100), 1, "a positive integer"),
            max_errors=_integer("max_errors", d.get("max_errors", 50), 0, "a non-negative integer"),
        )

    @classmethod
    def from_toml(cls, path: str | Path) -> Study:
        """Read and validate a study file (TOML, parsed by :mod:`tomllib`); design-file
        paths are relative to its folder."""
        path = Path(path)
        with open(path, "rb") as fh:
            return cls.from_dict(tomllib.load(fh), base_dir=path.resolve().parent)

    def to_dict(self) -> dict[str, Any]:
        """A dict that :meth:`from_dict` turns back into an equal study."""
        return {
            "name": self.name,
            "seed": self.seed,
            "replications": self.replications,
            "sample_sizes": list(self.sample_sizes),
            "seed_block": self.seed_block,
            "max_errors": self.max_errors,
            "designs": [x.to_dict() for x in self.designs],
            "errors": [x.to_dict() for x in self.errors],
            "estimators": [x.to_dict() for x in self.estimators],
        }

    def replace(self, **changes: Any) -> Study:
        """A copy with some fields changed (e.g. fewer replications for a smoke run)."""
        return dataclasses.replace(self, **changes)

    # -- grid ---------------------------------------------------------------------------
    def cells(self) -> list[Cell]:
        """Every (design, error law, n) cell, designs outermost and n innermost."""
        return [
            Cell(des, err, n)
            for des in self.designs
            for err in self.errors
            for n in self.sample_sizes
        ]

    @property
    def n_blocks(self) -> int:
        """Seed blocks per cell."""
        return -(-self.replications // self.seed_block)

    def block_size(self, block: int) -> int:
        """Replications in seed block ``block`` (the last one may be partial)."""
        return max(0, min(self.seed_block, self.replications - block * self.seed_block))

    def fingerprint(self, cell: Cell) -> str:
        """Hash of everything that determines a cell's rows but the replication count.

        Cell key, labels, seed, seed block and estimators: two studies that differ only in
        ``replications`` share their seed blocks, which the store reuses.
        """
        blob = json.dumps(
            {
                "cell": cell.key,
                "design_label": cell.design.name,
                "law_label": cell.errors.name,
                "seed": self.seed,
                "seed_block": self.seed_block,
                "estimators": [e.to_dict() for e in self.estimators],
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()
