"""Raising (or lowering) replications reuses the finished seed blocks, bit for bit."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tailreg.simulation import SimulationError, Study, read_results, run_study
from tailreg.simulation.store import CELLS, cell_path, reusable_blocks

STUDY = {
    "name": "topup",
    "seed": 8,
    "replications": 25,  # seed blocks 10, 10, 5: the last one partial
    "sample_sizes": [20, 35],
    "seed_block": 10,
    "design": {"x": "normal", "beta": [1.0, 0.5]},
    "errors": [{"law": "t", "df": 3}],
    "estimators": [
        {"name": "ols", "kinds": ["classical", "HC3"]},
        {"name": "mm"},  # randomised (its random_state comes from each block's identity)
        {"name": "sklearn.linear_model:HuberRegressor", "alpha": 0.0},
    ],
}


def test_reusable_blocks_rule():
    s = Study.from_dict(STUDY)
    assert tuple(reusable_blocks(s.replace(replications=42), 25)) == (0, 1)  # partial 2 recomputed
    assert tuple(reusable_blocks(s.replace(replications=25), 25)) == (0, 1, 2)
    assert tuple(reusable_blocks(s.replace(replications=15), 25)) == (0,)  # 5 of a full 10: no
    assert tuple(reusable_blocks(s.replace(replications=10), 42)) == (0,)
    assert tuple(reusable_blocks(s.replace(replications=23), 25)) == (0, 1)


def test_topup_equals_a_fresh_larger_run(tmp_path):
    small = Study.from_dict(STUDY)
    big = small.replace(replications=42)
    out = tmp_path / "store"
    first = run_study(small, out=out, progress=False)
    assert (first.cells_run, first.blocks_reused) == (2, 0)
    topped = run_study(big, out=out, progress=False)
    assert (topped.cells_run, topped.cells_skipped, topped.blocks_reused) == (2, 0, 4)
    assert set(topped.status.values()) == {"extended"}
    fresh = run_study(big, out=tmp_path / "fresh", progress=False)
    pd.testing.assert_frame_equal(read_results(out, big), fresh.replications, check_exact=True)
    pd.testing.assert_frame_equal(topped.replications, fresh.replications, check_exact=True)
    # the smaller files are gone (their full blocks live on in the new ones)
    files = sorted(p.name for p in (out / CELLS).glob("*.parquet"))
    assert files == sorted(cell_path(out, big, c).name for c in big.cells())
    meta = json.loads((out / "meta.json").read_text())
    assert set(meta["cells"].values()) == {"extended"} and meta["blocks_reused"] == 4


def test_lowering_replications_keeps_the_larger_files(tmp_path):
    big = Study.from_dict({**STUDY, "replications": 30})
    run_study(big, out=tmp_path, progress=False)
    smaller = big.replace(replications=20)  # blocks 0 and 1, both full: all reused
    r = run_study(smaller, out=tmp_path, progress=False)
    assert (r.cells_run, r.cells_skipped, r.blocks_reused) == (0, 2, 4)
    fresh = run_study(smaller, progress=False).replications
    pd.testing.assert_frame_equal(read_results(tmp_path, smaller), fresh, check_exact=True)
    odd = big.replace(replications=13)  # block 1 holds 3: recomputed
    r = run_study(odd, out=tmp_path, progress=False)
    assert (r.cells_run, r.blocks_reused) == (2, 2)
    pd.testing.assert_frame_equal(
        read_results(tmp_path, odd), run_study(odd, progress=False).replications, check_exact=True
    )
    assert len(list((tmp_path / CELLS).glob("*.parquet"))) == 3 * 2  # r30, r20, r13


def test_force_recomputes_and_other_changes_do_not_reuse(tmp_path):
    s = Study.from_dict(STUDY)
    run_study(s, out=tmp_path, progress=False)
    assert run_study(s, out=tmp_path, progress=False, force=True).blocks_reused == 0
    other = Study.from_dict({**STUDY, "seed": 9, "replications": 30})
    assert run_study(other, out=tmp_path, progress=False).blocks_reused == 0
    reblocked = Study.from_dict({**STUDY, "seed_block": 5})
    assert run_study(reblocked, out=tmp_path, progress=False).blocks_reused == 0


def test_failed_fits_in_reused_blocks_count_against_the_cap(tmp_path):
    d = {
        **STUDY,
        "sample_sizes": [8],
        # the plug-in raises when y[0] > 100: with an intercept of 1000 every fit fails
        "design": {"x": "normal", "beta": [1.0, 2.0], "intercept": 1000.0},
        "estimators": [{"name": "sim_plugins:MedianInterceptOLS", "fail_above": 100.0}],
        "replications": 10,
        "max_errors": 15,
    }
    run_study(Study.from_dict(d), out=tmp_path, progress=False)
    with pytest.raises(SimulationError, match=r"failed fits exceed max_errors=15"):
        run_study(Study.from_dict({**d, "replications": 20}), out=tmp_path, progress=False)
