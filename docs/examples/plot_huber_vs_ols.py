"""
OLS, Huber and MM on the stackloss data
=======================================

The stackloss data (Brownlee 1965) have a handful of observations that least squares follows
and the robust fits down-weight. The figure shows each estimator's coefficients with their
95% intervals, and the MM fit's robustness weights per observation.
"""

import matplotlib.pyplot as plt
import numpy as np
from statsmodels.datasets import stackloss

import tailreg

df = stackloss.load_pandas().data
X, y = df[["AIRFLOW", "WATERTEMP", "ACIDCONC"]], df["STACKLOSS"]
fits = {
    "OLS": tailreg.OLS().fit(X, y),
    "Huber": tailreg.Huber().fit(X, y),
    "MM": tailreg.MM(random_state=0).fit(X, y),
    "LAD": tailreg.LAD().fit(X, y),
}

fig, (ax, ax_w) = plt.subplots(1, 2, figsize=(10, 4))
names = ["AIRFLOW", "WATERTEMP", "ACIDCONC"]
for j, (label, est) in enumerate(fits.items()):
    ci = est.result_.conf_int().loc[names]
    mid = est.result_.params[names]
    pos = np.arange(len(names)) + 0.18 * (j - 1.5)
    ax.errorbar(mid, pos, xerr=[mid - ci.iloc[:, 0], ci.iloc[:, 1] - mid], fmt="o", label=label)
ax.set_yticks(range(len(names)), names)
ax.axvline(0, color="grey", lw=0.8)
ax.set_xlabel("estimate with 95% interval")
ax.legend()
weights = fits["MM"].result_.extra["weights"]
ax_w.stem(np.arange(1, len(y) + 1), weights)
ax_w.set_xlabel("observation")
ax_w.set_ylabel("MM robustness weight")
fig.tight_layout()
plt.show()
