"""The dask backend: a LocalCluster it starts, and a running scheduler it connects to."""

from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("tailreg.distributions")
pytest.importorskip("tailreg.estimators.huber")
pytest.importorskip("dask.distributed")

from dask import distributed

from tailreg.simulation import Study, run_study

# the study of test_simulation_backends.py
STUDY = Study.from_dict(
    {
        "name": "backends",
        "seed": 2026,
        "replications": 40,
        "sample_sizes": [20, 40],
        "seed_block": 10,
        "design": {"x": "uniform", "beta": [1.0, -0.5]},
        "errors": [{"law": "normal"}, {"law": "t", "df": 3}],
        "estimators": [
            {"name": "ols", "kinds": ["classical", "HC3"]},
            {"name": "huber", "kinds": ["H1"]},
        ],
    }
)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return run_study(STUDY, backend="serial", block_size=10, progress=False).replications


def test_dask_local_cluster_gives_the_serial_table(reference):
    got = run_study(STUDY, backend="dask", workers=2, block_size=10, progress=False)
    pd.testing.assert_frame_equal(got.replications, reference, check_exact=True)


def test_dask_connects_to_a_running_scheduler(reference):
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        run = run_study(STUDY, backend="dask", scheduler=cluster.scheduler_address, progress=False)
        pd.testing.assert_frame_equal(run.replications, reference, check_exact=True)
        # the engine closed only its own client: the cluster is still up
        assert cluster.scheduler_address.startswith("tcp://")
        with distributed.Client(cluster) as client:
            assert len(client.scheduler_info()["workers"]) == 2
