"""Store integrity: a finished cell is verified before it is reused (issue 12 item 4).

Each cell file has a sha256 beside it, written with it. A truncated file, a flipped byte, a
file with the wrong rows and a missing checksum are each tried; a damaged cell is set aside
with a warning naming it and recomputed bit-identically; a file without a checksum (an older
store) is read in full, shape-checked and reused with one warning per run.
"""

from __future__ import annotations

import hashlib
import warnings

import pandas as pd
import pytest

from tailreg.simulation import Study, read_results, run_study
from tailreg.simulation.store import (
    CELLS,
    StoreWarning,
    cell_path,
    checksum_path,
    verify_cell,
    write_cell,
)
from tailreg.simulation.tasks import Task, run_tasks

STUDY = {
    "name": "integrity",
    "seed": 11,
    "replications": 12,
    "sample_sizes": [15, 25],
    "seed_block": 6,
    "design": {"x": "normal", "beta": [0.5]},
    "errors": [{"law": "laplace"}],
    "estimators": [{"name": "ols", "kinds": ["classical"]}, {"name": "lad", "kinds": []}],
}


@pytest.fixture
def stored(tmp_path):
    s = Study.from_dict(STUDY)
    first = run_study(s, out=tmp_path, progress=False)
    return s, tmp_path, first.replications


def _rerun(s, out):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = run_study(s, out=out, progress=False)
    return run, [w for w in caught if issubclass(w.category, StoreWarning)]


def test_checksum_is_sha256sum_format(stored):
    s, out, _ = stored
    path = cell_path(out, s, s.cells()[0])
    line = checksum_path(path).read_text()
    assert line == f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n"
    assert verify_cell(path, replications=12, estimators=["ols", "lad"]).ok


def test_intact_store_is_reused_without_warning(stored):
    s, out, _ = stored
    run, caught = _rerun(s, out)
    assert (run.cells_run, run.cells_skipped) == (0, 2) and caught == []


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_damaged_cell_is_recomputed_with_a_warning_naming_it(stored, damage):
    s, out, reference = stored
    path = cell_path(out, s, s.cells()[1])
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        data[len(data) // 3] ^= 0x01  # one bit of a data page
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    run, caught = _rerun(s, out)
    assert (run.cells_run, run.cells_skipped) == (1, 1)
    assert len(caught) == 1 and str(path) in str(caught[0].message)
    assert "sha256 does not match" in str(caught[0].message)
    assert path.with_name(path.name + ".corrupt").is_file()  # kept for inspection
    pd.testing.assert_frame_equal(read_results(out, s), reference, check_exact=True)
    assert verify_cell(path).ok and checksum_path(path).is_file()


def test_flipped_byte_is_caught_even_when_parquet_still_reads(stored):
    # a byte of a string value (no Parquet page checksum): the file still decodes, the
    # checksum does not match
    s, out, _ = stored
    path = cell_path(out, s, s.cells()[0])
    data = bytearray(path.read_bytes())
    i = data.find(b"laplace")
    assert i > 0
    data[i] = ord("L")
    path.write_bytes(bytes(data))
    assert not verify_cell(path).ok


def test_missing_checksum_old_store_is_verified_and_reused_with_one_warning(stored):
    s, out, reference = stored
    for c in s.cells():
        checksum_path(cell_path(out, s, c)).unlink()
    run, caught = _rerun(s, out)
    assert (run.cells_run, run.cells_skipped) == (0, 2)
    assert len(caught) == 1 and "2 stored cell file(s) have no checksum" in str(caught[0].message)
    pd.testing.assert_frame_equal(run.replications, reference, check_exact=True)


def test_missing_checksum_and_truncated_is_recomputed(stored):
    s, out, reference = stored
    path = cell_path(out, s, s.cells()[0])
    checksum_path(path).unlink()
    path.write_bytes(path.read_bytes()[:-100])
    run, caught = _rerun(s, out)
    assert run.cells_run == 1
    assert any("not readable as Parquet" in str(w.message) for w in caught)
    pd.testing.assert_frame_equal(read_results(out, s), reference, check_exact=True)


def test_readable_file_with_wrong_rows_is_recomputed(stored):
    # an old-style file (no checksum) that reads but lacks replications, or an estimator
    s, out, reference = stored
    a, b = (cell_path(out, s, c) for c in s.cells())
    frame = pd.read_parquet(a)
    frame.loc[frame.replication < 11].to_parquet(a, index=False)
    frame = pd.read_parquet(b)
    frame.loc[frame.estimator == "ols"].to_parquet(b, index=False)
    for p in (a, b):
        checksum_path(p).unlink()
    run, caught = _rerun(s, out)
    assert run.cells_run == 2
    text = " ".join(str(w.message) for w in caught)
    assert "replications missing" in text and "estimators ['ols']" in text
    pd.testing.assert_frame_equal(read_results(out, s), reference, check_exact=True)


def test_stale_checksum_from_an_interrupted_write_is_not_trusted(stored):
    # the checksum is renamed into place before the Parquet file: a crash between the two
    # leaves the old file with the new checksum, which must not verify
    s, out, _ = stored
    path = cell_path(out, s, s.cells()[0])
    write_cell(path.with_name("other.parquet"), pd.DataFrame({"a": [1.0]}))
    checksum_path(path).write_bytes(checksum_path(path.with_name("other.parquet")).read_bytes())
    assert not verify_cell(path).ok


def test_verify_cell_on_a_top_up_source(tmp_path):
    # a smaller stored run that is damaged is not used as a top-up source
    s = Study.from_dict(STUDY)
    run_study(s, out=tmp_path, progress=False)
    for c in s.cells():
        p = cell_path(tmp_path, s, c)
        p.write_bytes(p.read_bytes()[:50])
    bigger = s.replace(replications=18)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = run_study(bigger, out=tmp_path, progress=False)
    assert r.blocks_reused == 0 and r.cells_run == 2
    assert sum(issubclass(w.category, StoreWarning) for w in caught) == 2
    fresh = run_study(bigger, progress=False).replications
    pd.testing.assert_frame_equal(r.replications, fresh, check_exact=True)
    assert sorted(p.name for p in (tmp_path / CELLS).glob("*.parquet")) == sorted(
        cell_path(tmp_path, bigger, c).name for c in bigger.cells()
    )


def _task_fn(task: Task) -> pd.DataFrame:
    return pd.DataFrame({"x": task.rng().standard_normal(5)})


def test_run_tasks_verifies_task_files(tmp_path):
    tasks = [Task(f"t{i}", {"i": i}, seed=1) for i in range(3)]
    first = run_tasks(_task_fn, tasks, tmp_path, progress=False)
    reference = first.frame()
    bad = tmp_path / tasks[1].file_name
    bad.write_bytes(bad.read_bytes()[:-10])
    checksum_path(tmp_path / tasks[2].file_name).unlink()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = run_tasks(_task_fn, tasks, tmp_path, progress=False)
    assert (again.computed, again.skipped) == (1, 2)
    msgs = [str(w.message) for w in caught if issubclass(w.category, StoreWarning)]
    assert len(msgs) == 2
    assert any(str(bad) in m for m in msgs) and any("no checksum" in m for m in msgs)
    pd.testing.assert_frame_equal(again.frame(), reference, check_exact=True)
