# Reference values for weighted least squares' HAC covariance (sandwich::NeweyWest on a
# weighted lm), which modelling.R does not cover (it has NeweyWest for unweighted lm/rlm).
#
# Regenerate from the repository root with:  Rscript tests/reference/weights_ols.R
# Reads tests/reference/data/ar1.csv (written by modelling.R); the weights are a deterministic
# function of the row (t) so that no new data file is needed. Writes weights_ols.json.

suppressPackageStartupMessages({
  library(sandwich)
  library(jsonlite)
})

here <- local({
  args <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", args[grepl("^--file=", args)])
  dirname(normalizePath(f))
})
source(file.path(here, "common.R"))

ar1 <- read.csv(file.path(here, "data", "ar1.csv"))
ar1$w <- 0.5 + (ar1$t %% 4) / 2 + (ar1$t %% 7 == 0) * 1.75 # 0.5 .. 3.75, mixed
fit <- lm(y ~ x1 + x2, data = ar1, weights = w)
nw <- lapply(c(L1 = 1, L2 = 2, L4 = 4), function(L) sym(NeweyWest(fit, lag = L, prewhite = FALSE, adjust = FALSE)))
out <- list(
  versions = versions(c("sandwich", "jsonlite", "stats")),
  data = list(file = "data/ar1.csv", weights = "w = 0.5 + (t %% 4)/2 + 1.75 * (t %% 7 == 0)", formula = "y ~ x1 + x2"),
  w = ar1$w,
  coef = coef(fit),
  vcov = sym(vcov(fit)),
  HC0 = sym(vcovHC(fit, type = "HC0")),
  NeweyWest = nw,
  notes = "NeweyWest(lm(weights = w), lag = L, prewhite = FALSE, adjust = FALSE): bread = n (X'WX)^-1, estfun = w_i r_i x_i in row order; lag 0 equals HC0."
)
writeLines(to_json(out), file.path(here, "weights_ols.json"))
