"""Task payloads are generated lazily: the run starts at once and holds a bounded number of
payloads whatever the replication count (issue 12 item 5)."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from tailreg.simulation import Study, run_study
from tailreg.simulation.backends import Backend, get_backend

STUDY = {
    "name": "lazy",
    "seed": 2,
    "replications": 40,
    "sample_sizes": [10],
    "seed_block": 1,
    "design": {"x": "normal", "beta": [1.0]},
    "errors": [{"law": "normal"}],
    "estimators": [{"name": "ols", "kinds": []}],
}


def _echo(x: int) -> int:
    return x


class _Counted:
    """An iterator of 0..n-1 that records how far ahead of the consumer it was pulled."""

    def __init__(self, n: int) -> None:
        self.n, self.pulled, self.consumed, self.ahead = n, 0, 0, 0

    def __iter__(self):
        for i in range(self.n):
            self.pulled += 1
            self.ahead = max(self.ahead, self.pulled - self.consumed)
            yield i


@pytest.mark.parametrize(
    ("backend", "workers", "bound"), [("serial", None, 1), ("processes", 2, 5), ("dask", 1, 5)]
)
def test_backends_pull_payloads_as_workers_free_up(backend, workers, bound):
    payloads = _Counted(60)
    got = []
    for r in get_backend(backend, workers).map_unordered(_echo, payloads):
        got.append(r)
        payloads.consumed += 1
    assert sorted(got) == list(range(60))
    # at most 2 per worker in flight (dask: per worker thread), plus the one being replaced
    assert payloads.ahead <= bound


class _FirstPayloadOnly(Backend):
    """Records the first payload and how long the run took to produce it, then stops."""

    class Stop(Exception):
        pass

    def map_unordered(self, fn, payloads):
        self.first = next(iter(payloads))
        raise self.Stop


def test_a_huge_study_starts_at_once_in_bounded_memory():
    # 10^8 seed blocks per cell: a list of payloads (or tuples of block indices) would take
    # gigabytes and minutes before the first task
    s = Study.from_dict({**STUDY, "replications": 10**8})
    be = _FirstPayloadOnly()
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(_FirstPayloadOnly.Stop):
        run_study(s, backend=be, progress=False, allow_huge=True)
    elapsed = time.perf_counter() - t0
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 5 and peak < 50e6
    _study, index, cell, blocks = be.first
    assert index == 0 and list(blocks) == [0, 1, 2, 3, 4] and cell == s.cells()[0]


def test_payload_memory_does_not_grow_with_replications():
    peaks = []
    for reps in (10**4, 10**7):
        s = Study.from_dict({**STUDY, "replications": reps})
        tracemalloc.start()
        with pytest.raises(_FirstPayloadOnly.Stop):
            run_study(s, backend=_FirstPayloadOnly(), progress=False, allow_huge=True)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 2 * peaks[0] + 1e6
