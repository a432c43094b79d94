"""scikit-learn estimator checks that wait for a capability the estimator does not have yet."""

from __future__ import annotations

#: the checks scikit-learn runs on any ``fit`` with a ``sample_weight`` parameter
SAMPLE_WEIGHT_CHECKS = (
    "check_all_zero_sample_weights_error",
    "check_sample_weight_equivalence_on_dense_data",
    "check_sample_weights_list",
    "check_sample_weights_not_an_array",
    "check_sample_weights_not_overwritten",
    "check_sample_weights_pandas_series",
    "check_sample_weights_shape",
)


def pending_checks(est, others: dict[str, str] | None = None) -> dict[str, str]:
    """Expected failures of ``est``: the sample-weight checks while it has no weights.

    Once an estimator sets ``supports_sample_weight = True`` the checks run for real (and,
    the expected failures being strict, must pass).
    """
    out = dict(others or {})
    if not getattr(est, "supports_sample_weight", False):
        out.update(dict.fromkeys(SAMPLE_WEIGHT_CHECKS, "sample_weight not implemented yet"))
    return out
