"""Random streams from identity, never from run order.

Layout of the streams (house style rule 5; benchopt's sha256-of-identity seeds)::

    SeedSequence(study.seed, spawn_key=(*words(cell.key), block, stream))

where ``words`` are the eight 32-bit words of ``sha256(cell.key)`` and ``cell.key`` is the
design key, the error-law key and ``n``. ``block`` is the seed block (``study.seed_block``
consecutive replications) and ``stream`` separates

* ``ERRORS`` (0) — the errors of the block,
* ``X`` (1) — the regressors of the block when they are redrawn,
* ``ESTIMATOR + i`` (2 + i) — the ``random_state`` handed to the i-th estimator when it
  has one (MM's random subsets, bootstrap standard errors),
* ``ROWS`` (2**31, far above any estimator index) — the row indices of a design file
  resampled with replacement (``sampling = "resample"``): replication ``r`` of the block
  takes rows ``rng.integers(0, N, size=(S, n))[r]`` of the file's ``N`` rows.

Regressors held fixed come from ``SeedSequence(study.seed, spawn_key=(*words(design.key +
"|n=" + n), FIXED_X))``: the same X for every error law of a design, so the laws are compared
on common regressors; a fixed design file uses no stream (its first ``n`` rows). A design
file enters ``design.key`` by the sha256 of its content, never by its path, so moving the file
keeps the streams. The estimators are not in the key of the data: within a replication every
estimator sees the same data (common random numbers).

Raising ``study.replications`` adds seed blocks and leaves the streams of the existing ones
unchanged; a block is always drawn in full and cut to the replications it holds, so the data
of replication ``r`` never depend on the total (the store reuses finished blocks on a rerun).

Nothing depends on the backend, the worker count, the execution block size or on which
other cells the study holds. The ``seed_key`` recorded in each row,
``"<seed>:<sha256(cell.key)[:16]>:<block>:<row>"``, names one replication;
:func:`tailreg.simulation.replay` regenerates its data.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = [
    "ERRORS",
    "ESTIMATOR",
    "FIXED_X",
    "ROWS",
    "X",
    "block_seed",
    "estimator_random_state",
    "fixed_x_seed",
    "key_words",
    "parse_seed_key",
    "seed_key",
]

ERRORS, X, ESTIMATOR = 0, 1, 2
FIXED_X = 7
ROWS = 2**31


def key_words(key: str) -> tuple[int, ...]:
    """The eight big-endian 32-bit words of ``sha256(key)`` (never Python's salted ``hash``)."""
    d = hashlib.sha256(key.encode()).digest()
    return tuple(int.from_bytes(d[i : i + 4], "big") for i in range(0, 32, 4))


def block_seed(seed: int, cell_key: str, block: int, stream: int) -> np.random.SeedSequence:
    """The ``SeedSequence`` of one stream of one seed block of a cell."""
    return np.random.SeedSequence(seed, spawn_key=(*key_words(cell_key), int(block), int(stream)))


def fixed_x_seed(seed: int, design_key: str, n: int) -> np.random.SeedSequence:
    """The ``SeedSequence`` of a design's fixed regressors at sample size ``n``."""
    return np.random.SeedSequence(seed, spawn_key=(*key_words(f"{design_key}|n={n}"), FIXED_X))


def estimator_random_state(seed: int, cell_key: str, block: int, index: int) -> int:
    """An integer ``random_state`` for the ``index``-th estimator in a seed block."""
    ss = block_seed(seed, cell_key, block, ESTIMATOR + index)
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def seed_key(seed: int, cell_digest: str, block: int, row: int) -> str:
    """The replay key of one replication."""
    return f"{seed}:{cell_digest[:16]}:{block}:{row}"


def parse_seed_key(key: str) -> tuple[int, str, int, int]:
    """Split a seed key into (seed, cell digest prefix, block, row)."""
    try:
        seed, digest, block, row = key.split(":")
        return int(seed), digest, int(block), int(row)
    except ValueError as exc:
        raise ValueError(
            f"not a seed key: {key!r} (expected '<seed>:<digest>:<block>:<row>')"
        ) from exc
