"""Wilkinson formulas for tailreg's estimators, built on formulaic.

:func:`fit_formula` turns ``"y ~ x1 + C(g) + np.log(x2)"`` and a DataFrame into a design,
drops incomplete rows (``missing="drop"``) and fits a tailreg estimator on it; the fitted
estimator keeps a :class:`FormulaSpec` in ``model_spec_`` so that :func:`design_for` rebuilds
the same columns — the same transforms, the same stateful transform parameters (e.g. the
centre of ``center(x)``) and the same categorical levels — from new data.

Conventions
-----------
* The intercept is tailreg's ``const``: the design handed to the estimator never holds
  formulaic's ``Intercept`` column; ``fit_intercept`` is set from the formula instead
  (``y ~ x - 1`` and ``y ~ 0 + x`` fit without one). Categorical columns are encoded as if
  the intercept were in the design (formulaic's full-rank coding), so ``C(g)`` drops its
  first level exactly when the model has an intercept.
* Coefficient names are formulaic's column names (``x1``, ``C(g)[T.b]``, ``np.log(x2)``).
* Every variable of the formula must be a column of ``data``; names that are not columns
  (a user-defined function) are looked up in the caller's scope and kept by reference for
  :func:`design_for`.
* ``missing="drop"`` drops the rows where any variable the formula reads, the weight or the
  group column is missing (``pandas.isna``); values a transform makes non-finite (``np.log``
  of a non-positive number) are an error, never dropped.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from formulaic import Formula, ModelSpec, model_matrix
from formulaic.errors import DataMismatchWarning, FormulaicError
from formulaic.formula import SimpleFormula
from formulaic.utils.context import capture_context
from sklearn.utils.validation import has_fit_parameter

__all__ = ["MISSING_POLICIES", "FormulaSpec", "design_for", "fit_formula"]

#: accepted values of ``missing``
MISSING_POLICIES = ("drop", "raise")
#: column names that would clash with the intercept (tailreg's and formulaic's)
_RESERVED = ("const", "Intercept")
_Est = TypeVar("_Est")
_ANSI = re.compile(r"\x1b\[[0-9;]*m|[⧛⧚]")


@dataclass(frozen=True, eq=False)
class FormulaSpec:
    """What a formula fit needs to rebuild its design from new data.

    Attributes
    ----------
    formula : str
        The formula as given.
    response : str
        Name of the left-hand side column (e.g. ``"y"`` or ``"np.log(y)"``).
    columns : tuple of str
        Regressor columns in the order of ``coef_`` (no intercept column).
    intercept : bool
        Whether the formula has an intercept (``fit_intercept`` was set from it).
    variables : tuple of str
        Data columns the right-hand side reads (what :func:`design_for` needs).
    rhs : formulaic.ModelSpec
        formulaic's spec of the right-hand side, with its encoding and transform state.
    context : mapping
        Names the formula uses that are not data columns (user functions), by reference.
    sample_weight, groups : str or None
        The weight and group columns when they were given by name.
    """

    formula: str
    response: str
    columns: tuple[str, ...]
    intercept: bool
    variables: tuple[str, ...]
    rhs: ModelSpec = field(repr=False)
    context: Mapping[str, Any] = field(default_factory=dict, repr=False)
    sample_weight: str | None = None
    groups: str | None = None

    @property
    def param_names(self) -> tuple[str, ...]:
        """Coefficient names of the fit: ``const`` (if any), then ``columns``."""
        return (("const",) if self.intercept else ()) + self.columns


def fit_formula(
    formula: str,
    data: pd.DataFrame | Mapping[str, Any],
    estimator: _Est,
    *,
    missing: str = "drop",
    sample_weight: str | np.ndarray | pd.Series | None = None,
    groups: str | np.ndarray | pd.Series | None = None,
    context: int | Mapping[str, Any] = 0,
) -> _Est:
    """Fit ``estimator`` to the design a Wilkinson formula builds from ``data``.

    The design :math:`X` is formulaic's model matrix of the right-hand side without its
    intercept column; the estimator adds the constant itself (``fit_intercept`` is set from
    the formula) and is fitted as ``estimator.fit(X, y)`` — the same fit the array API gives
    on the same :math:`X`, with the formula's column names as coefficient names.

    Parameters
    ----------
    formula : str
        ``"response ~ terms"`` in formulaic's grammar: ``+`` adds terms, ``:`` and ``*``
        interactions, ``C(g)`` a categorical, ``np.log(x)`` / ``I(x**2)`` / ``center(x)``
        transforms, ``- 1`` or ``0 +`` removes the intercept. The ``.`` shorthand is not
        supported.
    data : DataFrame or mapping of column name to values
    estimator : tailreg estimator
        Fitted in place (scikit-learn convention) with ``fit_intercept`` set from the
        formula; any other hyperparameter is left as given.
    missing : {"drop", "raise"}
        ``"drop"`` removes the rows where a variable of the formula, the weight or the group
        is missing and records how many (``n_dropped_``); ``"raise"`` raises naming the
        columns with missing values.
    sample_weight : str, array-like or None
        A column of ``data`` or an array aligned with its rows (by position). Passed to
        ``estimator.fit`` only when given.
    groups : str, array-like or None
        Cluster labels, a column of ``data`` or an array aligned with its rows. Kept, after
        the same row dropping, in ``groups_`` and ``result_.extra["groups"]`` for the
        cluster covariance.
    context : int or mapping
        Where names that are not columns (user functions) are looked up: a frame offset
        from the caller (0, the caller's scope) or a mapping.

    Returns
    -------
    estimator
        The given object, fitted, with ``model_spec_`` (a :class:`FormulaSpec`),
        ``n_dropped_``, ``groups_`` (None without groups) and ``result_.extra`` holding
        ``"formula"``, ``"n_dropped"`` and, with groups, ``"groups"``.

    Raises
    ------
    ValueError
        On a malformed formula, a variable that is not a column of ``data``, a column named
        like the intercept (``const``, ``Intercept``), a right-hand side with no columns,
        missing values under ``missing="raise"``, values a transform makes non-finite, or
        weights the estimator does not support.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tailreg import Huber
    >>> from tailreg.formula import fit_formula
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x1": rng.normal(size=60), "x2": rng.uniform(1, 5, 60),
    ...                    "g": rng.choice(["a", "b", "c"], 60)})
    >>> df["y"] = 1 + df.x1 + np.log(df.x2) + rng.standard_t(3, 60)
    >>> df.loc[3, "x1"] = np.nan
    >>> est = fit_formula("y ~ x1 + C(g) + np.log(x2)", df, Huber())
    >>> list(est.result_.params.index)
    ['const', 'x1', 'C(g)[T.b]', 'C(g)[T.c]', 'np.log(x2)']
    >>> est.n_dropped_, est.result_.nobs
    (1, 59)
    """
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {list(MISSING_POLICIES)}, got {missing!r}")
    frame = _as_frame(data)
    scope = capture_context(context + 1) if isinstance(context, int) else context
    parsed = _parse(formula)
    variables, names_in_scope = _resolve(parsed.required_variables, frame, scope)
    weight, weight_col = _aligned("sample_weight", sample_weight, frame)
    group, group_col = _aligned("groups", groups, frame)

    keep = _complete_rows(
        frame,
        variables,
        {weight_col or "sample_weight": weight, group_col or "groups": group},
        missing,
    )
    n_dropped = int((~keep).sum())
    frame = frame.loc[keep, list(variables)]
    weight = None if weight is None else weight[keep]
    group = None if group is None else group[keep]

    y, X, spec = _materialize(formula, parsed, frame, names_in_scope)
    spec = dataclasses.replace(spec, sample_weight=weight_col, groups=group_col)
    _fit(estimator, X, y, weight, spec.intercept)

    est: Any = estimator  # a fitted tailreg estimator: it has result_
    est.model_spec_ = spec
    est.n_dropped_ = n_dropped
    est.groups_ = group
    result = est.result_
    extra = {**result.extra, "formula": formula, "n_dropped": n_dropped}
    if group is not None:
        extra["groups"] = group
    est.result_ = dataclasses.replace(result, extra=extra)
    return estimator


def design_for(est: Any, data: pd.DataFrame | Mapping[str, Any]) -> np.ndarray:
    """The design (without the constant) that ``est``'s formula builds from new data.

    Applies the fit's transforms with their fitted state and its categorical levels, so
    that :math:`\\hat y = X\\hat\\beta + \\hat\\beta_0` is
    ``design_for(est, data) @ est.coef_ + est.intercept_``.

    Parameters
    ----------
    est : estimator fitted by :func:`fit_formula`
    data : DataFrame or mapping
        Must hold every column the right-hand side reads; the response is not needed.

    Returns
    -------
    ndarray of shape (n, ``len(est.coef_)``)
        Columns in the order of ``est.model_spec_.columns``, one row per row of ``data``.

    Raises
    ------
    ValueError
        If ``est`` was not fitted by :func:`fit_formula` (or refitted on arrays since), a
        column is absent or has missing values, a categorical variable has a level unseen
        at fit time (naming the variable and the level), or a transform gives non-finite
        values.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tailreg import OLS
    >>> from tailreg.formula import design_for, fit_formula
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 4.0, 8.0, 16.0], "y": [1.0, 2.1, 2.9, 4.2, 4.8]})
    >>> est = fit_formula("y ~ np.log2(x)", df, OLS())
    >>> design_for(est, pd.DataFrame({"x": [32.0]}))
    array([[5.]])
    """
    spec = getattr(est, "model_spec_", None)
    if not isinstance(spec, FormulaSpec):
        raise ValueError(
            f"{type(est).__name__} was not fitted with fit_formula; pass the design as an array"
        )
    if tuple(getattr(est, "feature_names_in_", ())) != spec.columns:
        raise ValueError(
            f"{type(est).__name__} was refitted after fit_formula; its formula no longer "
            "describes the fit (call fit_formula again)"
        )
    frame = _as_frame(data)
    absent = [v for v in spec.variables if v not in frame.columns]
    if absent:
        raise ValueError(f"new data lacks column(s) {absent} used by the formula {spec.formula!r}")
    frame = frame[list(spec.variables)]
    _raise_if_missing(frame, {}, "new data")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataMismatchWarning)
        matrix = spec.rhs.get_model_matrix(frame, context=spec.context)
    mismatch = [w for w in caught if issubclass(w.category, DataMismatchWarning)]
    if mismatch:
        _raise_unseen_levels(spec, frame, str(mismatch[0].message))
    for w in caught:  # re-issue anything else formulaic said
        if not issubclass(w.category, DataMismatchWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    X = np.asarray(matrix[list(spec.columns)].to_numpy(dtype=float))
    _check_finite_columns(X, spec.columns, "new data")
    return X


# -- building the design ----------------------------------------------------------------
def _as_frame(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, Mapping):
        return pd.DataFrame(dict(data))
    raise ValueError(f"data must be a pandas DataFrame or a mapping of columns, got {type(data)}")


def _clean(message: str) -> str:
    return _ANSI.sub("", message).strip()


def _parse(formula: str) -> Formula:
    if not isinstance(formula, str):
        raise ValueError(f"formula must be a string such as 'y ~ x1 + x2', got {formula!r}")
    try:
        parsed = Formula(formula)
    except FormulaicError as exc:
        raise ValueError(f"invalid formula {formula!r}: {_clean(str(exc))}") from exc
    lhs, rhs = getattr(parsed, "lhs", None), getattr(parsed, "rhs", None)
    if not (isinstance(lhs, SimpleFormula) and isinstance(rhs, SimpleFormula)):
        raise ValueError(
            f"formula {formula!r} must have one response and one right-hand side "
            "(no '|' parts), as in 'y ~ x1 + x2'"
        )
    return parsed


def _resolve(
    required: set[str], frame: pd.DataFrame, scope: Mapping[str, Any] | None
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Split the formula's names into data columns and names found in the caller's scope."""
    columns = [c for c in frame.columns if c in required]  # data order: deterministic
    names: dict[str, Any] = {}
    for name in sorted(required - set(columns)):
        if scope is None or name not in scope:
            raise ValueError(
                f"the formula uses {name!r}, which is not a column of data "
                f"(columns: {[str(c) for c in frame.columns]})"
            )
        value = scope[name]
        if isinstance(value, np.ndarray | pd.Series | pd.Index | list | tuple):
            raise ValueError(
                f"the formula uses {name!r}, which is not a column of data but a variable in "
                "the calling scope; add it to data so that missing rows and predict see it"
            )
        names[name] = value
    return tuple(columns), names


def _aligned(name: str, value: Any, frame: pd.DataFrame) -> tuple[np.ndarray | None, str | None]:
    """A column name or an array aligned with the rows of ``frame``, as an array."""
    if value is None:
        return None, None
    if isinstance(value, str):
        if value not in frame.columns:
            raise ValueError(f"{name}={value!r} is not a column of data")
        return frame[value].to_numpy(), value
    arr = np.asarray(value)
    if arr.ndim != 1 or arr.shape[0] != len(frame):
        raise ValueError(
            f"{name} must be a column name or a 1-d array with one entry per row of data "
            f"({len(frame)}), got shape {arr.shape}"
        )
    return arr, None


def _raise_if_missing(frame: pd.DataFrame, extra: Mapping[str, Any], where: str) -> None:
    counts = {str(c): int(n) for c, n in frame.isna().sum().items() if n}
    counts.update({k: int(pd.isna(v).sum()) for k, v in extra.items() if pd.isna(v).any()})
    if counts:
        listed = ", ".join(f"{c!r} ({n} row{'s' * (n > 1)})" for c, n in counts.items())
        raise ValueError(
            f"{where} has missing values in {listed}"
            + ("; pass missing='drop' to drop incomplete rows" if where == "data" else "")
        )


def _complete_rows(
    frame: pd.DataFrame, variables: tuple[str, ...], extra: Mapping[str, Any], missing: str
) -> np.ndarray:
    """Boolean mask of the rows with every used value present (or raise)."""
    used = frame[list(variables)]
    arrays = {k: v for k, v in extra.items() if v is not None}
    if missing == "raise":
        _raise_if_missing(used, arrays, "data")
        return np.ones(len(frame), dtype=bool)
    keep = ~used.isna().any(axis=1).to_numpy()
    for v in arrays.values():
        keep &= ~np.asarray(pd.isna(v), dtype=bool)
    return keep


def _materialize(
    formula: str, parsed: Formula, frame: pd.DataFrame, names: dict[str, Any]
) -> tuple[np.ndarray, pd.DataFrame, FormulaSpec]:
    """Evaluate both sides on the complete rows; the design loses formulaic's intercept."""
    try:
        mm = model_matrix(parsed, frame, context=names, na_action="ignore")
    except FormulaicError as exc:
        raise ValueError(f"cannot evaluate formula {formula!r}: {_clean(str(exc))}") from exc
    lhs, rhs = mm.lhs, mm.rhs
    if lhs.shape[1] != 1:
        raise ValueError(
            f"the left side of {formula!r} must be one numeric column, got {list(lhs.columns)}"
        )
    spec_rhs = rhs.model_spec
    # by term, not by column name: a data column called "Intercept" shares the name
    intercept = any(s.term.degree == 0 for s in spec_rhs.structure)
    columns = tuple(str(c) for s in spec_rhs.structure if s.term.degree > 0 for c in s.columns)
    clash = [c for c in columns if c in _RESERVED]
    if clash:
        raise ValueError(
            f"formula {formula!r} has a column named {clash[0]!r}, which clashes with the "
            "intercept's name (tailreg calls it 'const'); rename that data column"
        )
    if not columns:
        what = "only an intercept" if intercept else "no columns and no intercept"
        raise ValueError(
            f"the right side of {formula!r} has {what}; the estimators need at least one regressor"
        )
    y = np.asarray(lhs.to_numpy(dtype=float)).ravel()
    X = pd.DataFrame(rhs[list(columns)].to_numpy(dtype=float), columns=list(columns))
    _check_finite_columns(y[:, None], (str(lhs.columns[0]),), "data")
    _check_finite_columns(X.to_numpy(), columns, "data")
    rhs_vars = set(parsed.rhs.required_variables)
    spec = FormulaSpec(
        formula=formula,
        response=str(lhs.columns[0]),
        columns=columns,
        intercept=intercept,
        variables=tuple(c for c in frame.columns if c in rhs_vars),
        rhs=spec_rhs,
        context=dict(names),
    )
    return y, X, spec


def _check_finite_columns(X: np.ndarray, names: tuple[str, ...], where: str) -> None:
    bad = ~np.isfinite(X)
    if bad.any():
        counts = bad.sum(axis=0)
        listed = ", ".join(f"{n!r} ({c} rows)" for n, c in zip(names, counts, strict=True) if c)
        raise ValueError(
            f"the formula gives non-finite values on {where} in {listed}; a transform is "
            "outside its domain there (e.g. np.log of a value <= 0)"
        )


def _fit(
    est: Any, X: pd.DataFrame, y: np.ndarray, weight: np.ndarray | None, intercept: bool
) -> None:
    if "fit_intercept" not in est.get_params():
        raise ValueError(f"{type(est).__name__} has no fit_intercept parameter")
    est.set_params(fit_intercept=intercept)
    if weight is None:
        est.fit(X, y)
        return
    if not has_fit_parameter(est, "sample_weight") or not getattr(
        est, "supports_sample_weight", True
    ):
        raise ValueError(f"{type(est).__name__} does not support sample_weight yet")
    est.fit(X, y, sample_weight=np.asarray(weight, dtype=float))


def _raise_unseen_levels(spec: FormulaSpec, frame: pd.DataFrame, message: str) -> None:
    """Name the categorical variable and the levels that new data has and the fit had not."""
    for factor, (kind, state) in spec.rhs.encoder_state.items():
        if getattr(kind, "value", kind) != "categorical":
            continue
        seen = list(state.get("categories", ()))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", DataMismatchWarning)
                fresh = model_matrix(
                    f"0 + {{{factor}}}", frame, context=spec.context, na_action="ignore"
                ).model_spec.encoder_state
            found = list(fresh[factor][1].get("categories", ()))
        except (FormulaicError, DataMismatchWarning, KeyError):
            continue  # levels fixed in the formula itself: fall back to formulaic's message
        unseen = [level for level in found if level not in seen]
        if unseen:
            raise ValueError(
                f"categorical variable {factor!r} has level(s) {unseen} in the new data that "
                f"were not seen at fit time (levels at fit: {seen})"
            )
    raise ValueError(f"new data has categorical levels not seen at fit time: {_clean(message)}")
