"""
The quantile process of Engel's food expenditure
================================================

Engel's data (food expenditure against household income) are skewed and heteroscedastic:
the slope of the conditional quantiles rises with :math:`\\tau`. The process fits nine
quantiles at once; the panels show each coefficient against :math:`\\tau` with its 90%
pointwise band and the least-squares estimate with its band for reference. The
equal-slopes test of Koenker and Bassett rejects.
"""

import matplotlib.pyplot as plt
from statsmodels.datasets import engel

import tailreg

df = engel.load_pandas().data
qp = tailreg.QuantileProcess(taus=9).fit(df[["income"]], df["foodexp"])
print(qp.coef_)
print(qp.test_equal_slopes())
fig = qp.plot(level=0.90)
plt.show()
