"""The core install works without the optional extras; a missing extra names itself."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# a meta-path hook that makes the optional packages unimportable, as on a core install
BLOCK = textwrap.dedent(
    """
    import importlib.abc, sys
    BLOCKED = {"formulaic", "matplotlib", "statsmodels", "dask", "distributed"}
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    sys.meta_path.insert(0, Block())
    """
)


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCK + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_core_features_work_without_the_extras():
    out = _run(
        """
        import numpy as np
        import tailreg
        from tailreg.simulation import Study, run_study, summarize
        rng = np.random.default_rng(0)
        X = rng.normal(size=(60, 2)); y = X @ [1.0, -1.0] + rng.standard_t(3, 60)
        for est in (tailreg.OLS(), tailreg.Huber(), tailreg.LAD(), tailreg.MM(random_state=0)):
            est.fit(X, y).result_.summary()
        study = Study.from_dict({
            "name": "core", "seed": 1, "replications": 4, "sample_sizes": [30],
            "design": {"x": "normal", "beta": [1.0]}, "errors": [{"law": "t", "df": 3}],
            "estimators": [{"name": "ols"}, {"name": "huber"}],
        })
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            summarize(run_study(study, out=d, progress=False))
        print("ok")
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")


def test_a_missing_extra_is_a_clear_error():
    out = _run(
        """
        import tailreg
        for name, extra in [("fit_formula", "formula"), ("diagnose", "diagnose")]:
            try:
                getattr(tailreg, name)
            except ImportError as exc:
                assert f"tailreg[{extra}]" in str(exc), str(exc)
            else:
                raise SystemExit(f"{name} imported without its extra")
        from tailreg.simulation.backends import DaskBackend
        try:
            list(DaskBackend(workers=1).map_unordered(abs, [1]))
        except ImportError as exc:
            assert "tailreg[dask]" in str(exc), str(exc)
        else:
            raise SystemExit("dask backend ran without dask")
        print("ok")
        """
    )
    assert out.returncode == 0, out.stderr + out.stdout
