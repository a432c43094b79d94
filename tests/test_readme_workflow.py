"""The README's formula workflow runs as written (so the README stays true)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _snippet() -> str:
    text = README.read_text(encoding="utf-8")
    found = re.search(
        r"<!-- readme-workflow:start -->\s*```python\n(.*?)```\s*<!-- readme-workflow:end -->",
        text,
        flags=re.S,
    )
    assert found, "README lost its formula-workflow snippet"
    return found.group(1)


def test_readme_formula_workflow_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the README's example must run without a warning
        exec(compile(_snippet(), str(README), "exec"), namespace)
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "1 219"
    fits, table = namespace["fits"], namespace["table"]
    assert set(fits) == {"OLS", "Huber", "MM", "LAD"}
    assert list(table.footer.loc["Covariance"]) == ["HC1", "sandwich", "sandwich", "ker"]
    assert list(table.footer.loc["Observations"]) == ["219"] * 4
    md = (tmp_path / "grunfeld.md").read_text()
    assert "np.log(value)" in md and md.count("|") > 20
    assert "\\toprule" in (tmp_path / "grunfeld.tex").read_text()
    for est in fits.values():
        assert list(est.result_.params.index) == ["const", "np.log(value)", "np.log(capital)"]
        assert est.result_.extra["n_dropped"] == 1 and len(est.groups_) == 219
