# Reference values for the quantile regression process (quantreg): rq at tau = 1:19/20 and at
# the 9-point grid on data set (c) "quantile", and anova.rq Wald tests (joint and separate) on
# data set (d) "quantile_nid", whose nid sparsity estimates are non-positive for some rows
# (quantreg warns "<k> non-positive fis" and sets those densities to 0). Data sets are the ones
# written by quantile.R (read back here, not regenerated).
#
# Regenerate from the repository root with:  Rscript tests/reference/quantile_process.R
# Writes tests/reference/quantile_process.json.

suppressPackageStartupMessages({
  library(quantreg)
  library(jsonlite)
})

here <- local({
  args <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", args[grepl("^--file=", args)])
  dirname(normalizePath(f))
})
source(file.path(here, "common.R"))

dq <- utils::read.csv(file.path(here, "data", "quantile.csv"))
dd <- utils::read.csv(file.path(here, "data", "quantile_nid.csv"))
form <- y ~ x1 + x2

out <- list()
out$versions <- versions(c("quantreg", "SparseM", "jsonlite", "stats"))
out$data <- list(
  quantile = list(file = "data/quantile.csv", n = nrow(dq), formula = "y ~ x1 + x2"),
  quantile_nid = list(file = "data/quantile_nid.csv", n = nrow(dd), formula = "y ~ x1 + x2")
)
out$coef_names <- c("(Intercept)", "x1", "x2")

# rq(tau = vector) fits each tau; "br" (simplex) gives the exact vertex, compared to 1e-6
grid_block <- function(taus) {
  r <- capture(rq(form, tau = taus, data = dq, method = "br"))
  list(taus = taus, coef = unname(t(coef(r$value))), warnings = I(r$warnings))
}
out$grid19 <- grid_block(1:19 / 20)
out$grid9 <- grid_block(1:9 / 10)

tab <- function(a) lapply(as.list(a$table), unname)
anova_block <- function(data, taus) {
  fit <- rq(form, tau = taus, data = data)
  j <- capture(anova(fit, test = "Wald", joint = TRUE))
  s <- capture(anova(fit, test = "Wald", joint = FALSE))
  list(
    taus = taus, coef = unname(t(coef(fit))),
    joint = tab(j$value), joint_warnings = I(j$warnings),
    separate = c(list(term = rownames(s$value$table)), tab(s$value)),
    separate_warnings = I(s$warnings)
  )
}
out$anova_nid <- anova_block(dd, c(0.25, 0.5, 0.75))
out$anova_nid5 <- anova_block(dd, c(0.1, 0.25, 0.5, 0.75, 0.9))
out$anova_grid <- anova_block(dq, 1:9 / 10)

out$notes <- list(
  coef = "coef matrices are tau-major: row i is the fit at taus[i], columns in coef_names order.",
  anova = paste(
    "anova.rq(rq(y ~ x1 + x2, tau = taus), test = 'Wald', joint = TRUE/FALSE), quantreg 5.94:",
    "nid covariance with hs = TRUE; Tn, ndf, ddf, pvalue as in quantile.json notes$anova_rq.",
    "*_warnings hold the '<k> non-positive fis' warnings of the per-tau summaries."
  )
)

write_json_file(out, file.path(here, "quantile_process.json"))
cat("wrote", file.path(here, "quantile_process.json"), "\n")
