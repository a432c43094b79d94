"""The dask backend: a LocalCluster it starts, and a running scheduler it connects to."""

from __future__ import annotations

import pandas as pd
from dask import distributed

from tailreg.simulation import run_study


def test_dask_local_cluster_gives_the_serial_table(backend_study, backend_reference):
    got = run_study(backend_study, backend="dask", workers=2, block_size=10, progress=False)
    pd.testing.assert_frame_equal(got.replications, backend_reference, check_exact=True)


def test_dask_connects_to_a_running_scheduler(backend_study, backend_reference):
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        run = run_study(
            backend_study, backend="dask", scheduler=cluster.scheduler_address, progress=False
        )
        pd.testing.assert_frame_equal(run.replications, backend_reference, check_exact=True)
        # the engine closed only its own client: the cluster is still up
        assert cluster.scheduler_address.startswith("tcp://")
        with distributed.Client(cluster) as client:
            assert len(client.scheduler_info()["workers"]) == 2


def test_open_study_is_identical_on_serial_processes_and_dask(tmp_path):
    # a plug-in estimator, a scipy law and a resampled design file, on every backend
    from tailreg.simulation import Study

    rows = pd.DataFrame({"a": [0.1 * i for i in range(30)], "b": [(-1.0) ** i for i in range(30)]})
    rows.to_csv(tmp_path / "x.csv", index=False)
    study = Study.from_dict(
        {
            "name": "open",
            "seed": 4,
            "replications": 30,
            "sample_sizes": [25],
            "seed_block": 10,
            "design": {"x": {"file": "x.csv", "sampling": "resample"}, "beta": [1.0, 2.0]},
            "errors": [{"law": "scipy.stats:gennorm", "beta": 1.5}],
            "estimators": [
                {"name": "huber", "kinds": ["H1"]},
                {"name": "sklearn.linear_model:HuberRegressor", "alpha": 0.0},
            ],
        },
        base_dir=tmp_path,
    )
    serial = run_study(study, progress=False).replications
    procs = run_study(study, backend="processes", workers=2, block_size=10, progress=False)
    pd.testing.assert_frame_equal(procs.replications, serial, check_exact=True)
    dask = run_study(study, backend="dask", workers=2, block_size=10, progress=False)
    pd.testing.assert_frame_equal(dask.replications, serial, check_exact=True)
