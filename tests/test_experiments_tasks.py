"""tailreg.simulation.tasks: the resumable task runner the studies of experiments/ run on."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from tailreg.simulation.tasks import Task, TaskError, read_tasks, run_tasks, task_seed


def draw(task: Task) -> pd.DataFrame:
    """A task function: a few draws per replication, labelled by the task."""
    rows = []
    for r in range(task.payload["reps"]):
        x = task.rng(r).standard_normal(task.payload["size"])
        rows.append({"key": task.key, "replication": r, "mean": x.mean(), "first": x[0]})
    return pd.DataFrame(rows)


def fail_on_b(task: Task) -> pd.DataFrame:
    if task.key == "b":
        raise ArithmeticError("bad cell")
    return draw(task)


def not_a_frame(task: Task):
    return [1, 2, 3]


def _tasks(seed: int = 5) -> list[Task]:
    return [Task(k, {"reps": 3, "size": 50}, seed=seed) for k in ("a", "b", "c", "d")]


def test_streams_are_sha256_words_of_the_key():
    """The layout the studies always used: SeedSequence(seed, (*sha256 words, replication))."""
    key = "robustness|leverage|eps=0.2|n=200|R=200"
    digest = hashlib.sha256(key.encode()).digest()
    words = [int.from_bytes(digest[i : i + 4], "big") for i in range(0, 32, 4)]
    ref = np.random.SeedSequence(20261128, spawn_key=(*words, 3))
    got = task_seed(20261128, key, 3)
    assert got.spawn_key == ref.spawn_key and got.entropy == ref.entropy
    a = Task(key, seed=20261128).rng(3).standard_normal(4)
    np.testing.assert_array_equal(a, np.random.default_rng(ref).standard_normal(4))
    # another replication or key is another stream
    assert Task(key, seed=20261128).rng(2).standard_normal() != a[0]


def test_serial_equals_processes_bit_for_bit(tmp_path):
    serial = run_tasks(draw, _tasks(), tmp_path / "s", progress=False).frame()
    procs = run_tasks(
        draw, _tasks(), tmp_path / "p", backend="processes", workers=2, progress=False
    ).frame()
    pd.testing.assert_frame_equal(serial, procs, check_exact=True)
    assert list(serial["key"].unique()) == ["a", "b", "c", "d"]  # task order


def test_dask_equals_serial(tmp_path):
    pytest.importorskip("dask.distributed")
    serial = run_tasks(draw, _tasks(), tmp_path / "s", progress=False).frame()
    dask = run_tasks(
        draw, _tasks(), tmp_path / "d", backend="dask", workers=2, progress=False
    ).frame()
    pd.testing.assert_frame_equal(serial, dask, check_exact=True)


def test_resume_skips_finished_tasks_and_force_recomputes(tmp_path):
    first = run_tasks(draw, _tasks(), tmp_path, progress=False)
    assert (first.computed, first.skipped) == (4, 0)
    files = sorted(tmp_path.glob("*.parquet"))
    assert len(files) == 4 and set(first.files.values()) == {f.name for f in files}
    stamps = [f.stat().st_mtime_ns for f in files]
    again = run_tasks(draw, _tasks(), tmp_path, progress=False)
    assert (again.computed, again.skipped) == (0, 4)
    assert [f.stat().st_mtime_ns for f in files] == stamps
    pd.testing.assert_frame_equal(again.frame(), first.frame(), check_exact=True)
    forced = run_tasks(draw, _tasks(), tmp_path, progress=False, force=True)
    assert forced.computed == 4


def test_a_changed_payload_or_seed_never_reuses_a_file():
    base = Task("a", {"reps": 3}, seed=1)
    assert Task("a", {"reps": 4}, seed=1).file_name != base.file_name
    assert Task("a", {"reps": 3}, seed=2).file_name != base.file_name
    assert Task("a", {"reps": 3}, seed=1).file_name == base.file_name
    assert base.file_name.startswith("a__") and base.file_name.endswith(".parquet")


def test_a_failing_task_names_its_key_and_keeps_finished_files(tmp_path):
    with pytest.raises(TaskError, match="task 'b' failed: ArithmeticError: bad cell"):
        run_tasks(fail_on_b, _tasks(), tmp_path, progress=False)
    assert (tmp_path / _tasks()[0].file_name).is_file()  # 'a' ran before 'b'
    with pytest.raises(FileNotFoundError, match="task 'b' has no results"):
        read_tasks(tmp_path, _tasks())
    # after the fix, a rerun computes only what is missing
    rerun = run_tasks(draw, _tasks(), tmp_path, progress=False)
    assert rerun.skipped >= 1 and rerun.computed + rerun.skipped == 4


def test_bad_tasks_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="share the key 'a'"):
        run_tasks(draw, [Task("a", seed=1), Task("a", seed=1)], tmp_path, progress=False)
    with pytest.raises(TypeError, match="not a tailreg Task"):
        run_tasks(draw, [{"key": "a"}], tmp_path, progress=False)
    with pytest.raises(TypeError, match="task 'x': the payload must be JSON data"):
        run_tasks(draw, [Task("x", {"a": np.arange(3)}, seed=1)], tmp_path, progress=False)
    with pytest.raises(TaskError, match="returned list, not a pandas DataFrame"):
        run_tasks(not_a_frame, [Task("x", seed=1)], tmp_path, progress=False)


def test_leftover_temporary_files_are_removed(tmp_path):
    (tmp_path / ".a__0123.parquet.99.tmp").write_bytes(b"partial")
    run_tasks(draw, _tasks()[:1], tmp_path, progress=False)
    assert not list(tmp_path.glob(".*.tmp"))
