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
    x = "normal"              # "uniform", "lognormal", "leverage"
    x_params = { }            # uniform: low, high; lognormal: s; leverage: share, scale
    beta = [1.0, -0.5]
    intercept = 1.0
    fixed_x = false
    [[errors]]
    law = "t"
    df = 3
    center = "median"
    scale = "iqr"
    heteroscedastic = { scale_fn = "linear", a = 1.0, b = 0.5 }   # optional
    ar1 = { phi = 0.5 }                                           # optional
    [[estimators]]
    name = "huber"
    k = 1.345
    label = "huber-1.345"     # optional, tells two configurations apart
    kinds = ["H1"]            # optional covariance kinds to record

Every key, law parameter and estimator argument is checked here; a bad one raises a
``ValueError`` naming it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import Any

from ._checks import Params, _fmt, _fmt_params, _in_range, _number, _positive, _unknown

__all__ = [
    "LAW_PARAMS",
    "X_LAWS",
    "Cell",
    "Design",
    "ErrorSpec",
    "EstimatorSpec",
    "Study",
]

#: error-law names with the parameters each takes (``tailreg.distributions.make`` names)
LAW_PARAMS: dict[str, tuple[str, ...]] = {
    "normal": (),
    "t": ("df",),
    "cauchy": (),
    "laplace": (),
    "logistic": (),
    "skewnormal": ("a",),
    "lognormal": ("s",),
    "chisquare": ("k",),
    "gamma": ("shape",),
    "gumbel": (),
    "lomax": ("alpha",),
    "contaminated": ("eps", "c"),
    "asymmetric_laplace": ("tau",),
    "stable": ("alpha", "beta"),
}

#: (low, high, low_closed, high_closed) of law parameters that are not simply positive
_PARAM_RANGES: dict[tuple[str, str], tuple[float, float, bool, bool]] = {
    ("contaminated", "eps"): (0.0, 1.0, True, False),
    ("asymmetric_laplace", "tau"): (0.0, 1.0, False, False),
    ("stable", "alpha"): (0.0, 2.0, False, True),
    ("stable", "beta"): (-1.0, 1.0, True, True),
    ("skewnormal", "a"): (-math.inf, math.inf, False, False),
}
_CENTERS = ("mean", "median", None)
_SCALES = ("sd", "iqr", "mad", None)

#: regressor laws with their parameters and defaults
X_LAWS: dict[str, dict[str, float]] = {
    "normal": {},
    "uniform": {"low": 0.0, "high": 1.0},
    "lognormal": {"s": 1.0},
    "leverage": {"share": 0.05, "scale": 10.0},
}

_SCALE_FNS = ("linear", "power")


# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Design:
    """Regressors and coefficients of the linear model :math:`y = b_0 + x^\\top\\beta + e`.

    Parameters
    ----------
    x : {"normal", "uniform", "lognormal", "leverage"}
        Law of each regressor (independent columns). ``normal`` is N(0, 1), ``uniform``
        U(low, high), ``lognormal`` exp(N(0, s^2)), ``leverage`` N(0, 1) with the first
        ``round(share * n)`` rows multiplied by ``scale`` (high-leverage rows).
    beta : tuple of float
        Slopes; ``p = len(beta)``.
    intercept : float
    fixed_x : bool
        Draw X once per (design, n) and keep it across replications and error laws, or redraw
        it in every replication.
    x_params : tuple of (name, value)
        Parameters of the regressor law (defaults in :data:`X_LAWS`).
    label : str, optional
        Name shown in the ``design`` column (default: the key).
    """

    x: str = "normal"
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
        return {**X_LAWS[self.x], **dict(self.x_params)}

    @property
    def key(self) -> str:
        """Stable identity string (seeds derive from it; the label does not enter)."""
        xp = _fmt_params(tuple(sorted(self.x_options.items())))
        beta = ",".join(_fmt(float(b)) for b in self.beta)
        fixed = "fixed" if self.fixed_x else "redrawn"
        return f"x={self.x}({xp});beta=[{beta}];b0={_fmt(float(self.intercept))};{fixed}"

    @property
    def name(self) -> str:
        """The label, or the key."""
        return self.label or self.key

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "design") -> Design:
        """Build and validate a design from a study-file table."""
        _unknown(where, d, ("x", "beta", "intercept", "fixed_x", "x_params", "label"))
        x = d.get("x", "normal")
        if x not in X_LAWS:
            raise ValueError(f"{where}.x: unknown regressor law {x!r}; choose from {list(X_LAWS)}")
        beta_in = d.get("beta", [1.0])
        if isinstance(beta_in, Real):
            beta_in = [beta_in]
        if not isinstance(beta_in, Sequence) or len(beta_in) == 0:
            raise ValueError(f"{where}.beta must be a non-empty list of numbers, got {beta_in!r}")
        beta = tuple(_number(f"{where}.beta[{j}]", b) for j, b in enumerate(beta_in))
        intercept = _number(f"{where}.intercept", d.get("intercept", 1.0))
        fixed = d.get("fixed_x", False)
        if not isinstance(fixed, bool):
            raise ValueError(f"{where}.fixed_x must be true or false, got {fixed!r}")
        xp = dict(d.get("x_params", {}) or {})
        _unknown(f"{where}.x_params", xp, tuple(X_LAWS[x]))
        for k, v in xp.items():
            xp[k] = _number(f"{where}.x_params.{k}", v)
        opts = {**X_LAWS[x], **xp}
        if x == "uniform" and not opts["low"] < opts["high"]:
            raise ValueError(f"{where}.x_params: need low < high, got {opts}")
        if x == "lognormal":
            _positive(f"{where}.x_params.s", opts["s"])
        if x == "leverage":
            _in_range(f"{where}.x_params.share", opts["share"], 0.0, 1.0, True, False)
            _positive(f"{where}.x_params.scale", opts["scale"])
        label = d.get("label")
        if label is not None and not isinstance(label, str):
            raise ValueError(f"{where}.label must be a string, got {label!r}")
        return cls(x, beta, intercept, fixed, tuple(sorted(xp.items())), label)

    def to_dict(self) -> dict[str, Any]:
        """The study-file table of this design."""
        d: dict[str, Any] = {
            "x": self.x,
            "beta": list(self.beta),
            "intercept": self.intercept,
            "fixed_x": self.fixed_x,
        }
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
        A name of :data:`LAW_PARAMS` (as ``tailreg.distributions.make`` takes it).
    params : tuple of (name, value)
        The law's parameters (``df``, ``s``, ...).
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
        law = d.get("law")
        if law not in LAW_PARAMS:
            raise ValueError(
                f"{where}.law: unknown error law {law!r}; choose from {list(LAW_PARAMS)}"
            )
        allowed = LAW_PARAMS[law]
        _unknown(where, d, ("law", "center", "scale", "heteroscedastic", "ar1", "label", *allowed))
        params = []
        for name in allowed:
            if name not in d:
                continue
            v = d[name]
            rng = _PARAM_RANGES.get((law, name))
            if rng is None:
                _positive(f"{where}.{name}", v)
            else:
                _in_range(f"{where}.{name}", v, *rng)
            params.append((name, v))
        center, scale = d.get("center"), d.get("scale")
        if center not in _CENTERS:
            raise ValueError(f"{where}.center must be one of {list(_CENTERS)}, got {center!r}")
        if scale not in _SCALES:
            raise ValueError(f"{where}.scale must be one of {list(_SCALES)}, got {scale!r}")
        het = d.get("heteroscedastic")
        het_t = None
        if het is not None:
            if not isinstance(het, Mapping):
                raise ValueError(f"{where}.heteroscedastic must be a table, got {het!r}")
            _unknown(f"{where}.heteroscedastic", het, ("scale_fn", "a", "b", "exponent", "column"))
            fn = het.get("scale_fn", "linear")
            if fn not in _SCALE_FNS:
                raise ValueError(
                    f"{where}.heteroscedastic.scale_fn must be one of {list(_SCALE_FNS)}, "
                    f"got {fn!r}"
                )
            het_t = [("scale_fn", fn)]
            for k in ("a", "b", "exponent"):
                if k in het:
                    het_t.append((k, _number(f"{where}.heteroscedastic.{k}", het[k])))
            if "column" in het:
                col = het["column"]
                if isinstance(col, bool) or not isinstance(col, Integral) or col < 0:
                    raise ValueError(
                        f"{where}.heteroscedastic.column must be a non-negative integer, "
                        f"got {col!r}"
                    )
                het_t.append(("column", int(col)))
            het_t = tuple(het_t)
        ar = d.get("ar1")
        phi = None
        if ar is not None:
            if not isinstance(ar, Mapping):
                raise ValueError(f"{where}.ar1 must be a table like {{ phi = 0.5 }}, got {ar!r}")
            _unknown(f"{where}.ar1", ar, ("phi",))
            phi = _in_range(f"{where}.ar1.phi", ar.get("phi"), -1.0, 1.0, False, False)
        label = d.get("label")
        if label is not None and not isinstance(label, str):
            raise ValueError(f"{where}.label must be a string, got {label!r}")
        spec = cls(law, tuple(params), center, scale, het_t, phi, label)
        try:
            from .generate import make_error_law

            make_error_law(spec)
        except ImportError:  # tailreg.distributions not installed yet: checked again at run time
            pass
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where} ({spec.key}): {exc}") from exc
        return spec

    def to_dict(self) -> dict[str, Any]:
        """The study-file table of this error specification."""
        d: dict[str, Any] = {"law": self.law, **dict(self.params)}
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


# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EstimatorSpec:
    """An estimator of the study: a registry name, constructor arguments and a label.

    Parameters
    ----------
    name : str
        Registry name (``ols``, ``gaussian_mle``, ``huber``, ``quantile``, ``lad``,
        ``bisquare``, ``mm``, ``student_t``).
    params : tuple of (name, value)
        Constructor keyword arguments.
    label : str, optional
        Name in the ``estimator`` column (default: ``name``).
    kinds : tuple of str, optional
        Covariance kinds whose standard errors are recorded (default: every kind of the
        estimator except ``bootstrap``).
    """

    name: str
    params: Params = ()
    label: str | None = None
    kinds: tuple[str, ...] | None = None

    @property
    def display(self) -> str:
        """The label, or the name."""
        return self.label or self.name

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "estimators") -> EstimatorSpec:
        """Build an estimator specification and validate it by constructing the estimator."""
        from .registry import ESTIMATORS, make_estimator

        name = d.get("name")
        if name not in ESTIMATORS:
            raise ValueError(
                f"{where}.name: unknown estimator {name!r}; choose from {list(ESTIMATORS)}"
            )
        label = d.get("label")
        if label is not None and not isinstance(label, str):
            raise ValueError(f"{where}.label must be a string, got {label!r}")
        kinds = d.get("kinds")
        if kinds is not None:
            if isinstance(kinds, str) or not isinstance(kinds, Sequence):
                raise ValueError(f"{where}.kinds must be a list of strings, got {kinds!r}")
            kinds = tuple(str(k) for k in kinds)
        params = tuple(sorted((k, v) for k, v in d.items() if k not in ("name", "label", "kinds")))
        spec = cls(name, params, label, kinds)
        try:
            est = make_estimator(spec)
            est.check_params()
        except ImportError as exc:
            raise ValueError(f"{where}: estimator {name!r} is not available ({exc})") from exc
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where} ({spec.display}): {exc}") from exc
        if kinds is not None:
            bad = [k for k in kinds if k not in est.cov_kinds]
            if bad:
                raise ValueError(
                    f"{where}.kinds: {bad} not available for {name!r}; "
                    f"choose from {list(est.cov_kinds)}"
                )
        return spec

    def to_dict(self) -> dict[str, Any]:
        """The study-file table of this estimator."""
        d: dict[str, Any] = {"name": self.name, **dict(self.params)}
        if self.label:
            d["label"] = self.label
        if self.kinds is not None:
            d["kinds"] = list(self.kinds)
        return d


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
    def from_dict(cls, d: Mapping[str, Any]) -> Study:
        """Build and validate a study from a dict shaped like the TOML file."""
        _unknown("study", d, _STUDY_KEYS)
        name = d.get("name", "study")
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        seed = d.get("seed")
        if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        reps = d.get("replications")
        if isinstance(reps, bool) or not isinstance(reps, Integral) or reps < 2:
            raise ValueError(f"replications must be an integer >= 2, got {reps!r}")
        sizes = d.get("sample_sizes")
        if not isinstance(sizes, Sequence) or isinstance(sizes, str) or len(sizes) == 0:
            raise ValueError(f"sample_sizes must be a non-empty list of integers, got {sizes!r}")
        for j, n in enumerate(sizes):
            if isinstance(n, bool) or not isinstance(n, Integral) or n < 2:
                raise ValueError(f"sample_sizes[{j}] must be an integer >= 2, got {n!r}")
        if len(set(sizes)) != len(sizes):
            raise ValueError(f"sample_sizes has duplicates: {list(sizes)}")
        if "design" in d and "designs" in d:
            raise ValueError("give either [design] or [[designs]], not both")
        dd = d.get("designs", d.get("design", {}))
        if isinstance(dd, Mapping):
            designs = (Design.from_dict(dd, "design"),)
        elif isinstance(dd, Sequence) and not isinstance(dd, str):
            designs = tuple(Design.from_dict(x, f"designs[{i}]") for i, x in enumerate(dd))
        else:
            raise ValueError(f"design must be a table or a list of tables, got {dd!r}")
        errs = d.get("errors")
        if not isinstance(errs, Sequence) or isinstance(errs, str) or not errs:
            raise ValueError("errors must be a non-empty list of [[errors]] tables")
        errors = tuple(ErrorSpec.from_dict(e, f"errors[{i}]") for i, e in enumerate(errs))
        ests = d.get("estimators")
        if not isinstance(ests, Sequence) or isinstance(ests, str) or not ests:
            raise ValueError("estimators must be a non-empty list of [[estimators]] tables")
        estimators = tuple(
            EstimatorSpec.from_dict(e, f"estimators[{i}]") for i, e in enumerate(ests)
        )
        block = d.get("seed_block", 100)
        if isinstance(block, bool) or not isinstance(block, Integral) or block < 1:
            raise ValueError(f"seed_block must be a positive integer, got {block!r}")
        max_err = d.get("max_errors", 50)
        if isinstance(max_err, bool) or not isinstance(max_err, Integral) or max_err < 0:
            raise ValueError(f"max_errors must be a non-negative integer, got {max_err!r}")
        return cls(
            name=name,
            seed=int(seed),
            replications=int(reps),
            sample_sizes=tuple(int(n) for n in sizes),
            designs=designs,
            errors=errors,
            estimators=estimators,
            seed_block=int(block),
            max_errors=int(max_err),
        )

    @classmethod
    def from_toml(cls, path: str | Path) -> Study:
        """Read and validate a study file (TOML, parsed by :mod:`tomllib`)."""
        with open(path, "rb") as fh:
            return cls.from_dict(tomllib.load(fh))

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

    def fingerprint(self, cell: Cell) -> str:
        """Hash of everything that determines a cell's stored rows (for the store's file name)."""
        blob = json.dumps(
            {
                "cell": cell.key,
                "design_label": cell.design.name,
                "law_label": cell.errors.name,
                "seed": self.seed,
                "replications": self.replications,
                "seed_block": self.seed_block,
                "estimators": [e.to_dict() for e in self.estimators],
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()
