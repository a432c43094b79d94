"""
Asymptotic efficiency against the Student-t degrees of freedom
==============================================================

How much of the Cramér–Rao bound each loss attains when the errors are Student-t with
``df`` degrees of freedom, from :mod:`tailreg.theory` (no simulation): least squares loses
everything as ``df`` falls to 2, Huber and LAD keep most of it.
"""

import matplotlib.pyplot as plt
import numpy as np

from tailreg import distributions, losses, theory

dfs = np.array([2.5, 3, 4, 5, 7, 10, 20, 50])
rules = {
    "least squares": losses.Squared(),
    "Huber k = 1.345": losses.Huber(1.345),
    "LAD": losses.Absolute(),
}
fig, ax = plt.subplots(figsize=(6, 4))
for label, loss in rules.items():
    eff = []
    for df in dfs:
        law = distributions.StudentT(df)
        v = theory.asymptotic_variance(loss, law, scale=1.0)
        eff.append(theory.cramer_rao_bound(law) / v)
    ax.plot(dfs, eff, marker="o", label=label)
ax.set_xscale("log")
ax.set_xlabel("degrees of freedom")
ax.set_ylabel("efficiency (CRLB / V)")
ax.set_ylim(0, 1.05)
ax.legend()
plt.show()
