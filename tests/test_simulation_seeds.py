"""Seeds from identity: streams depend on (seed, cell key, block, stream) only."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from tailreg.estimators.ols import OLS
from tailreg.simulation import Study, replay, run_study, seeds
from tailreg.simulation.generate import draw_block

BASE = {
    "name": "seeds",
    "seed": 11,
    "replications": 130,
    "sample_sizes": [20],
    "seed_block": 50,
    "design": {"x": "normal", "beta": [1.0, 2.0]},
    "errors": [{"law": "normal"}],
    "estimators": [{"name": "ols", "kinds": ["classical"]}],
}


def study(**changes) -> Study:
    return Study.from_dict({**BASE, **changes})


def test_key_words_are_sha256_words():
    words = seeds.key_words("abc")
    assert words[:2] == (0xBA7816BF, 0x8F01CFEA)
    assert len(words) == 8
    assert b"".join(w.to_bytes(4, "big") for w in words) == hashlib.sha256(b"abc").digest()


def test_block_seed_is_the_documented_seed_sequence():
    ss = seeds.block_seed(5, "cell", 3, seeds.ERRORS)
    ref = np.random.SeedSequence(5, spawn_key=(*seeds.key_words("cell"), 3, 0))
    assert np.array_equal(ss.generate_state(4), ref.generate_state(4))
    other = seeds.block_seed(5, "cell", 3, seeds.X)
    assert not np.array_equal(ss.generate_state(4), other.generate_state(4))


def test_seed_key_round_trip():
    k = seeds.seed_key(11, "ab" * 32, 2, 17)
    assert k == f"11:{'ab' * 8}:2:17"
    assert seeds.parse_seed_key(k) == (11, "ab" * 8, 2, 17)
    with pytest.raises(ValueError, match="not a seed key"):
        seeds.parse_seed_key("garbage")


def test_data_do_not_depend_on_other_cells_or_estimators():
    s1 = study()
    s2 = study(
        sample_sizes=[10, 20],
        errors=[{"law": "laplace"}, {"law": "normal"}],
        estimators=[{"name": "huber"}, {"name": "ols"}],
    )
    c1 = s1.cells()[0]
    c2 = next(c for c in s2.cells() if c.key == c1.key)
    for b in range(s1.n_blocks):
        a, z = draw_block(s1, c1, b), draw_block(s2, c2, b)
        assert np.array_equal(a.X, z.X) and np.array_equal(a.Y, z.Y)
        assert a.seed_keys == z.seed_keys


def test_last_block_is_a_prefix_of_the_full_block():
    short, full = study(replications=130), study(replications=150)
    c = short.cells()[0]
    a, z = draw_block(short, c, 2), draw_block(full, c, 2)
    assert a.Y.shape == (30, 20) and z.Y.shape == (50, 20)
    assert np.array_equal(a.Y, z.Y[:30]) and np.array_equal(a.X, z.X[:30])
    assert list(a.replications) == list(range(100, 130))


def test_blocks_and_seeds_differ():
    s = study(seed=11)
    c = s.cells()[0]
    b0, b1 = draw_block(s, c, 0), draw_block(s, c, 1)
    assert not np.allclose(b0.Y, b1.Y[: len(b0.Y)])
    other = draw_block(study(seed=12), c, 0)
    assert not np.allclose(b0.Y, other.Y)


def test_fixed_x_is_shared_across_laws_and_blocks():
    s = study(
        design={"x": "lognormal", "beta": [1.0], "fixed_x": True},
        errors=[{"law": "normal"}, {"law": "laplace"}],
    )
    c_norm, c_lap = s.cells()
    x0 = draw_block(s, c_norm, 0).X
    assert x0.shape == (20, 1)
    assert np.array_equal(x0, draw_block(s, c_norm, 1).X)
    assert np.array_equal(x0, draw_block(s, c_lap, 2).X)


def test_replay_regenerates_a_replication():
    s = study()
    table = run_study(s, progress=False).replications
    row = table[(table.replication == 77) & (table.parameter == "x1")].iloc[0]
    X, y = replay(s, row.seed_key)
    block = draw_block(s, s.cells()[0], 1)
    assert np.array_equal(X, block.X[27]) and np.array_equal(y, block.Y[27])
    fit = OLS().fit(X, y)  # a single fit, not the batched one: agreement to rounding
    np.testing.assert_allclose(fit.coef_[0], row.estimate, rtol=1e-12)
    with pytest.raises(ValueError, match="belongs to seed"):
        replay(study(seed=3), row.seed_key)
