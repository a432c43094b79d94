"""fit_formula / design_for: formula fits against array fits on designs built by hand."""

from __future__ import annotations

import doctest
import pickle
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

import tailreg
from tailreg import formula as formula_mod
from tailreg.formula import FormulaSpec, design_for, fit_formula
from tailreg.inference.covariance import REGISTRY

FORMULA = "y ~ x1 + C(g) + np.log(x2)"
NAMES = ["const", "x1", "C(g)[T.b]", "C(g)[T.c]", "np.log(x2)"]

ESTIMATORS = [
    tailreg.OLS(),
    tailreg.GaussianMLE(),
    tailreg.Huber(),
    tailreg.Bisquare(),
    tailreg.LAD(n_boot=40, random_state=3),
    tailreg.QuantileRegression(tau=0.3, n_boot=40, random_state=3),
    tailreg.MM(random_state=7),
    tailreg.StudentTMLE(df=3),
]


def make_frame(n: int = 80, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.uniform(0.5, 4.0, n),
            "g": rng.choice(["a", "b", "c"], n),
            "h": rng.choice(["u", "v"], n),
            "cl": rng.integers(0, 10, n),
            "unused": rng.normal(size=n),
        }
    )
    df["y"] = 1.0 + 2.0 * df.x1 - 0.5 * (df.g == "b") + np.log(df.x2) + rng.standard_t(3, n)
    return df


def hand_design(df: pd.DataFrame) -> np.ndarray:
    """The design of FORMULA without the constant, built without formulaic."""
    g = df["g"].to_numpy()
    return np.column_stack(
        [df["x1"], (g == "b").astype(float), (g == "c").astype(float), np.log(df["x2"])]
    )


def assert_same_fit(a, b) -> None:
    ra, rb = a.result_, b.result_
    np.testing.assert_allclose(ra.params.to_numpy(), rb.params.to_numpy(), rtol=1e-12, atol=1e-12)
    assert ra.cov_kinds == rb.cov_kinds
    for kind in ra.cov_kinds:
        if REGISTRY[kind].requires:  # e.g. cluster needs groups the array fit does not have
            continue
        try:
            se_b = rb.bse(kind).to_numpy()
        except ValueError as exc:  # a kind the fit rules out (e.g. HAC with case weights)
            with pytest.raises(ValueError, match=re.escape(str(exc))):
                ra.bse(kind)
            continue
        np.testing.assert_allclose(ra.bse(kind).to_numpy(), se_b, rtol=1e-12, atol=1e-12)
    assert ra.nobs == rb.nobs and ra.df_resid == rb.df_resid
    np.testing.assert_allclose(ra.scale, rb.scale, rtol=1e-12)


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_formula_fit_equals_array_fit(est):
    df = make_frame()
    by_formula = fit_formula(FORMULA, df, clone(est))
    by_array = clone(est).fit(hand_design(df), df["y"].to_numpy())
    assert_same_fit(by_formula, by_array)
    k = len(NAMES)
    assert list(by_formula.result_.params.index[:k]) == NAMES
    # nuisance parameters keep their names after the coefficients
    nuisance = list(by_formula.result_.params.index[k:])
    assert nuisance == list(type(est).nuisance_names)[: len(nuisance)]
    assert by_formula.model_spec_.param_names == tuple(NAMES)


def test_fits_and_returns_the_given_estimator():
    df = make_frame()
    est = tailreg.Huber(fit_intercept=False)
    out = fit_formula(FORMULA, df, est)
    assert out is est
    assert est.fit_intercept is True  # set from the formula
    assert isinstance(est.model_spec_, FormulaSpec)
    assert est.n_dropped_ == 0 and est.groups_ is None
    assert est.result_.extra["formula"] == FORMULA
    assert est.result_.extra["n_dropped"] == 0
    assert "groups" not in est.result_.extra
    # the estimator's own extra entries survive the rebuild
    assert est.result_.extra["loss"] == "Huber(k=1.345)"


@pytest.mark.parametrize("formula", ["y ~ x1 - 1", "y ~ 0 + x1", "y ~ -1 + x1 + np.log(x2)"])
def test_formula_without_intercept(formula):
    df = make_frame()
    est = fit_formula(formula, df, tailreg.Huber())
    assert est.fit_intercept is False and est.intercept_ == 0.0
    assert "const" not in est.result_.params.index
    cols = [df["x1"].to_numpy()] + ([np.log(df["x2"])] if "x2" in formula else [])
    ref = tailreg.Huber(fit_intercept=False).fit(np.column_stack(cols), df["y"].to_numpy())
    assert_same_fit(est, ref)


def test_no_intercept_encodes_every_level():
    df = make_frame()
    est = fit_formula("y ~ 0 + C(g) + x1", df, tailreg.OLS())
    assert list(est.result_.params.index) == ["C(g)[a]", "C(g)[b]", "C(g)[c]", "x1"]
    X = np.column_stack([(df.g == lvl).astype(float) for lvl in "abc"] + [df.x1])
    assert_same_fit(est, tailreg.OLS(fit_intercept=False).fit(X, df.y.to_numpy()))


def test_categorical_names_levels_and_encoding():
    df = make_frame()
    est = fit_formula("y ~ C(g) + h + x1:C(h)", df, tailreg.OLS())
    names = list(est.result_.params.index)
    assert names == ["const", "C(g)[T.b]", "C(g)[T.c]", "h[T.v]", "x1:C(h)[u]", "x1:C(h)[v]"]
    state = est.model_spec_.rhs.encoder_state
    assert state["C(g)"][1]["categories"] == ["a", "b", "c"]
    assert state["h"][1]["categories"] == ["u", "v"]
    X = design_for(est, df)
    np.testing.assert_array_equal(X[:, 0], (df.g == "b").to_numpy(float))
    np.testing.assert_array_equal(X[:, 2], (df.h == "v").to_numpy(float))
    np.testing.assert_array_equal(X[:, 4], np.where(df.h == "v", df.x1, 0.0))


def test_unseen_level_is_an_error_naming_variable_and_level():
    df = make_frame()
    est = fit_formula(FORMULA, df, tailreg.OLS())
    new = df.head(3).assign(g=["a", "zz", "b"])
    with pytest.raises(ValueError, match=r"'C\(g\)'.*\['zz'\].*\['a', 'b', 'c'\]"):
        design_for(est, new)
    # a plain string column is categorical too
    est = fit_formula("y ~ x1 + h", df, tailreg.OLS())
    with pytest.raises(ValueError, match=r"'h'.*\['w'\]"):
        design_for(est, df.head(2).assign(h=["u", "w"]))


def test_new_data_with_a_subset_of_levels_is_fine():
    df = make_frame()
    est = fit_formula(FORMULA, df, tailreg.OLS())
    new = df[df.g == "c"].head(4)
    np.testing.assert_array_equal(design_for(est, new), hand_design(new))


def test_transforms_are_reapplied_with_their_fitted_state():
    df = make_frame()
    est = fit_formula("y ~ np.log(x2) + I(x1**2) + center(x1)", df, tailreg.OLS())
    new = pd.DataFrame({"x1": [0.5, -1.0, 3.0], "x2": [1.0, 2.0, 9.0]})
    X = design_for(est, new)
    # center() subtracts the *training* mean, not the mean of the new rows
    expected = np.column_stack([np.log(new.x2), new.x1**2, new.x1 - df.x1.mean()])
    np.testing.assert_allclose(X, expected, rtol=1e-14, atol=1e-14)
    by_hand = np.column_stack([np.log(df.x2), df.x1**2, df.x1 - df.x1.mean()])
    np.testing.assert_allclose(design_for(est, df), by_hand, rtol=1e-14, atol=1e-14)


def test_response_transform():
    df = make_frame().assign(y=lambda d: np.exp(d.y / 4))
    est = fit_formula("np.log(y) ~ x1", df, tailreg.OLS())
    assert est.model_spec_.response == "np.log(y)"
    ref = tailreg.OLS().fit(df[["x1"]].to_numpy(), np.log(df.y.to_numpy()))
    assert_same_fit(est, ref)


def _user_double(x):
    return 2.0 * x


def test_user_function_from_the_calling_scope_is_kept_for_new_data():
    df = make_frame()
    est = fit_formula("y ~ _user_double(x1)", df, tailreg.OLS())
    np.testing.assert_allclose(design_for(est, df.head(3)), 2.0 * df.x1.to_numpy()[:3, None])
    est2 = fit_formula("y ~ dbl(x1)", df, tailreg.OLS(), context={"dbl": _user_double})
    np.testing.assert_array_equal(est2.coef_, est.coef_)


# -- missing values -----------------------------------------------------------------------
def with_holes(df: pd.DataFrame) -> tuple[pd.DataFrame, list[int]]:
    df = df.copy()
    df["g"] = df["g"].astype(object)
    df.loc[[1, 2], "x1"] = np.nan
    df.loc[5, "y"] = np.nan
    df.loc[7, "g"] = None
    df.loc[9, "x2"] = np.nan
    df.loc[[2, 11], "cl"] = np.nan  # the group column: row 11 drops when groups="cl"
    df.loc[[0, 3, 4], "unused"] = np.nan  # not in the formula: never drops a row
    return df, [1, 2, 5, 7, 9]


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_missing_drop_equals_fit_on_complete_rows(est):
    df, dropped = with_holes(make_frame())
    dropped = [*dropped, 11]
    fit = fit_formula(FORMULA, df, clone(est), groups="cl")
    complete = df.drop(index=dropped)
    assert_same_fit(fit, fit_formula(FORMULA, complete, clone(est), groups="cl"))
    assert_same_fit(fit, clone(est).fit(hand_design(complete), complete.y.to_numpy()))
    assert fit.n_dropped_ == 6 == fit.result_.extra["n_dropped"]
    assert fit.result_.nobs == len(df) - 6
    np.testing.assert_array_equal(fit.groups_, complete.cl.to_numpy())
    # a read-only view of the same labels (results are immutable, issue 12 item 7)
    np.testing.assert_array_equal(fit.result_.extra["groups"], fit.groups_)


def test_groups_as_an_array_follow_the_row_dropping():
    df, dropped = with_holes(make_frame())
    labels = np.array([f"c{i % 7}" for i in range(len(df))], dtype=object)
    labels[3] = None
    est = fit_formula(FORMULA, df, tailreg.OLS(), groups=labels)
    keep = np.setdiff1d(np.arange(len(df)), [*dropped, 3])
    np.testing.assert_array_equal(est.groups_, labels[keep])
    assert est.n_dropped_ == len(dropped) + 1
    assert est.model_spec_.groups is None


def test_missing_raise_names_the_columns():
    df, _ = with_holes(make_frame())
    with pytest.raises(ValueError, match=r"'x1' \(2 rows\).*'g' \(1 row\).*missing='drop'") as e:
        fit_formula(FORMULA, df, tailreg.OLS(), missing="raise")
    assert "unused" not in str(e.value)
    with pytest.raises(ValueError, match=r"'cl' \(1 row\)"):
        fit_formula(
            FORMULA,
            df.dropna(subset=["x1", "y", "g", "x2"]),
            tailreg.OLS(),
            missing="raise",
            groups="cl",
        )
    complete = df.dropna(subset=["x1", "y", "g", "x2"])
    est = fit_formula(FORMULA, complete, tailreg.OLS(), missing="raise")
    assert est.n_dropped_ == 0


@settings(max_examples=25, deadline=None)
@given(st.sets(st.integers(0, 59), max_size=15), st.sampled_from(["x1", "y", "g", "x2"]))
def test_missing_drop_property(holes, column):
    df = make_frame(60, seed=5)
    df["g"] = df["g"].astype(object)
    df.loc[sorted(holes), column] = None
    est = fit_formula(FORMULA, df, tailreg.OLS())
    complete = df.drop(index=sorted(holes))
    ref = tailreg.OLS().fit(hand_design(complete), complete.y.to_numpy(dtype=float))
    assert est.n_dropped_ == len(holes)
    assert_same_fit(est, ref)


def test_missing_policy_is_checked():
    with pytest.raises(ValueError, match="missing must be one of"):
        fit_formula(FORMULA, make_frame(), tailreg.OLS(), missing="ignore")


# -- weights ------------------------------------------------------------------------------
class _WeightedOLS(tailreg.OLS):
    """Records the weights it is given (stands in for an estimator with weights)."""

    supports_sample_weight = True

    def fit(self, X, y, sample_weight=None):
        self.seen_weight_ = sample_weight
        return super().fit(X, y)


def test_weights_reach_fit_aligned_with_the_kept_rows():
    df, dropped = with_holes(make_frame())
    df["w"] = np.arange(len(df), dtype=float) + 1.0
    df.loc[13, "w"] = np.nan
    est = fit_formula(FORMULA, df, _WeightedOLS(), sample_weight="w")
    keep = np.setdiff1d(np.arange(len(df)), [*dropped, 13])
    np.testing.assert_array_equal(est.seen_weight_, df.w.to_numpy()[keep])
    assert est.model_spec_.sample_weight == "w"
    est = fit_formula(FORMULA, df, _WeightedOLS())
    assert est.seen_weight_ is None  # not passed when not given


class _Unweighted(tailreg.OLS):
    """An estimator without observation weights."""

    supports_sample_weight = False


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_weights_reach_every_estimator_that_has_them(est):
    df = make_frame()
    df["w"] = np.random.default_rng(5).integers(1, 4, len(df)).astype(float)
    if not type(est).supports_sample_weight:
        with pytest.raises(ValueError, match="does not support sample_weight"):
            fit_formula(FORMULA, df, clone(est), sample_weight="w")
        return
    by_formula = fit_formula(FORMULA, df, clone(est), sample_weight="w")
    by_array = clone(est).fit(hand_design(df), df.y.to_numpy(), sample_weight=df.w.to_numpy())
    assert_same_fit(by_formula, by_array)
    np.testing.assert_array_equal(by_formula.result_.extra["sample_weight"], df.w.to_numpy())


def test_weights_on_an_estimator_without_them_are_a_clear_error():
    df = make_frame()
    with pytest.raises(ValueError, match="_Unweighted does not support sample_weight yet"):
        fit_formula(FORMULA, df, _Unweighted(), sample_weight=np.ones(len(df)))


# -- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("formula", "match"),
    [
        ("y ~ x1 +", r"invalid formula 'y ~ x1 \+'"),
        ("y ~ (x1", "invalid formula"),
        ("y ~ x1 + x9", r"'x9', which is not a column of data"),
        ("y9 ~ x1", r"'y9', which is not a column of data"),
        ("x1", "must have one response"),
        ("y ~ x1 | g", "must have one response"),
        ("y ~ 0", "no columns and no intercept"),
        ("y ~ 1", "only an intercept"),
        ("y + x1 ~ g", r"left side .* one numeric column, got \['y', 'x1'\]"),
        ("y ~ np.log(x1)", r"non-finite values on data in 'np.log\(x1\)'"),
    ],
)
def test_bad_formulas_are_clear_errors(formula, match):
    with pytest.raises(ValueError, match=match), np.errstate(invalid="ignore"):
        fit_formula(formula, make_frame(), tailreg.OLS())


@pytest.mark.parametrize("name", ["const", "Intercept"])
def test_a_column_named_like_the_intercept_is_an_error(name):
    df = make_frame().assign(**{name: lambda d: d.x2})
    with pytest.raises(ValueError, match=f"column named '{name}'.*clashes with the intercept"):
        fit_formula(f"y ~ x1 + {name}", df, tailreg.OLS())
    # present in the data but not in the formula: fine
    assert fit_formula("y ~ x1", df, tailreg.OLS()).result_.nobs == len(df)


def test_other_input_errors():
    df = make_frame()
    with pytest.raises(ValueError, match="formula must be a string"):
        fit_formula(None, df, tailreg.OLS())
    with pytest.raises(ValueError, match="data must be a pandas DataFrame"):
        fit_formula("y ~ x1", df.to_numpy(), tailreg.OLS())
    with pytest.raises(ValueError, match="sample_weight='w' is not a column"):
        fit_formula("y ~ x1", df, _WeightedOLS(), sample_weight="w")
    with pytest.raises(ValueError, match=r"groups must be .* one entry per row of data \(80\)"):
        fit_formula("y ~ x1", df, tailreg.OLS(), groups=np.arange(5))
    local_array = df.x1.to_numpy()  # noqa: F841 - looked up by the formula
    with pytest.raises(ValueError, match="'local_array', which is not a column of data"):
        fit_formula("y ~ local_array", df, tailreg.OLS())


def test_a_mapping_of_columns_is_accepted():
    df = make_frame()
    est = fit_formula("y ~ x1", {c: df[c].to_numpy() for c in df}, tailreg.OLS())
    assert_same_fit(est, tailreg.OLS().fit(df[["x1"]].to_numpy(), df.y.to_numpy()))


# -- design_for ---------------------------------------------------------------------------
def test_design_for_errors():
    df = make_frame()
    est = fit_formula(FORMULA, df, tailreg.OLS())
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['x2'\]"):
        design_for(est, df[["x1", "g"]])
    holes = df.head(4).assign(x1=[1.0, np.nan, 2.0, np.nan])
    with pytest.raises(ValueError, match=r"new data has missing values in 'x1' \(2 rows\)"):
        design_for(est, holes)
    with (
        pytest.raises(ValueError, match=r"non-finite values on new data in 'np.log\(x2\)'"),
        np.errstate(divide="ignore"),
    ):
        design_for(est, df.head(2).assign(x2=[0.0, 1.0]))
    with pytest.raises(ValueError, match="was not fitted with fit_formula"):
        design_for(tailreg.OLS().fit(hand_design(df), df.y), df)
    est.fit(hand_design(df), df.y.to_numpy())  # refitted on arrays: the spec is dropped
    assert not hasattr(est, "model_spec_") and not hasattr(est, "n_dropped_")
    assert not hasattr(est, "groups_")
    with pytest.raises(ValueError, match="was not fitted with fit_formula"):
        design_for(est, df)
    # a spec that no longer matches the fitted columns (set by hand) is still caught
    est2 = fit_formula(FORMULA, df, tailreg.OLS())
    spec = est2.model_spec_
    est2.fit(hand_design(df)[:, :2], df.y.to_numpy())
    est2.model_spec_ = spec
    with pytest.raises(ValueError, match="refitted after fit_formula"):
        design_for(est2, df)


def test_design_for_does_not_need_the_response():
    df = make_frame()
    est = fit_formula(FORMULA, df, tailreg.OLS())
    np.testing.assert_array_equal(design_for(est, df.drop(columns="y")), hand_design(df))
    assert est.model_spec_.variables == ("x1", "x2", "g")


def test_fitted_formula_estimator_pickles():
    df = make_frame()
    est = fit_formula(FORMULA, df, tailreg.MM(random_state=1), groups="cl")
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(design_for(again, df), design_for(est, df))
    np.testing.assert_array_equal(again.groups_, est.groups_)


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_predict_accepts_new_data_frames(est):
    df = make_frame()
    est = fit_formula(FORMULA, df, clone(est))
    new = df.head(5).drop(columns="y")
    np.testing.assert_allclose(
        est.predict(new), hand_design(new) @ est.coef_ + est.intercept_, rtol=1e-13
    )
    with pytest.raises(ValueError, match=r"level\(s\) \['z'\]"):
        est.predict(new.assign(g=["a", "b", "z", "c", "a"]))


def test_predict_after_refit_on_arrays_uses_the_arrays():
    df = make_frame()
    est = fit_formula(FORMULA, df, tailreg.OLS())
    X = hand_design(df)
    est.fit(X, df.y.to_numpy())
    np.testing.assert_allclose(est.predict(X[:3]), X[:3] @ est.coef_ + est.intercept_)


def test_docstring_examples():
    result = doctest.testmod(formula_mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
