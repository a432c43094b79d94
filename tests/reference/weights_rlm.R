# Reference values for case-weighted Huber and bisquare M-regression (MASS::rlm with
# wt.method = "case"): coefficients, scale, and the covariance of summary.rlm (Huber's H1 with
# case weights, vcov(rlm) = stddev^2 cov.unscaled of summary.rlm), on the data sets written by modelling.R; plus the frequency-weight check of
# the sandwich: sandwich(rlm) on the data with rows repeated (the fit that integer case weights
# must reproduce).
#
# Regenerate from the repository root with:  Rscript tests/reference/weights_rlm.R
# Reads tests/reference/data/{hetero,freq}.csv, writes tests/reference/weights_rlm.json.

suppressPackageStartupMessages({
  library(sandwich)
  library(MASS)
  library(jsonlite)
})

here <- local({
  args <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", args[grepl("^--file=", args)])
  dirname(normalizePath(f))
})
source(file.path(here, "common.R"))

hetero <- utils::read.csv(file.path(here, "data", "hetero.csv"), stringsAsFactors = FALSE)
hetero$f <- factor(hetero$f, levels = c("a", "b", "c", "d"))
freq <- utils::read.csv(file.path(here, "data", "freq.csv"), stringsAsFactors = FALSE)
freq_expanded <- freq[rep(seq_len(nrow(freq)), freq$w), ]

ctrl <- list(acc = 1e-13, maxit = 1000)
fit <- function(psi, data, formula, ...) {
  capture(do.call(rlm, c(list(formula, data = data, psi = psi), ctrl, list(...))))
}
sym <- function(m) unname(0.5 * (m + t(m)))
block <- function(r) {
  f <- r$value
  list(
    coef = coef(f), s = unname(f$s), iterations = length(f$conv), converged = f$converged,
    vcov_summary = sym(vcov(f)), fit_warnings = I(r$warnings)
  )
}
psis <- list(huber = psi.huber, bisquare = psi.bisquare)
out <- list(
  versions = list(
    R = R.version.string, MASS = as.character(packageVersion("MASS")),
    sandwich = as.character(packageVersion("sandwich")),
    jsonlite = as.character(packageVersion("jsonlite"))
  )
)

# --- hetero (fractional and integer weights), case weights ---------------------------------
hw <- list()
for (ps in names(psis)) for (se in c("MAD", "Huber")) {
  hw[[paste0(ps, "_", se)]] <- block(fit(psis[[ps]], hetero, y ~ x1 + x2 + x3 + f,
                                         weights = hetero$w, wt.method = "case", scale.est = se))
}
out$hetero_case <- hw

# --- freq: integer weights vs rows repeated ------------------------------------------------
fw <- list()
for (ps in names(psis)) for (se in c("MAD", "Huber")) {
  a <- fit(psis[[ps]], freq, y ~ x1 + x2, weights = freq$w, wt.method = "case", scale.est = se)
  b <- fit(psis[[ps]], freq_expanded, y ~ x1 + x2, scale.est = se)
  eb <- b$value
  z <- residuals(eb) / eb$s
  X <- model.matrix(eb)
  # the M-estimation sandwich with signed psi' (bread.rlm takes |psi'|, which differs from
  # psi' for bisquare residuals beyond c / sqrt(5)): s^2 A^-1 B A^-1
  A <- crossprod(X * eb$psi(z, deriv = 1), X)
  B <- crossprod(X * (eb$psi(z) * z)^2, X)
  V_signed <- eb$s^2 * solve(A) %*% B %*% solve(A)
  fw[[paste0(ps, "_", se)]] <- list(
    weighted = block(a), expanded = block(b),
    expanded_sandwich = sym(sandwich(eb)),
    expanded_sandwich_signed_psiprime = sym(V_signed)
  )
}
out$freq <- fw
out$notes <- list(
  vcov_summary = paste(
    "MASS 7.3-58.2 summary.rlm with wt.method = 'case' and prior weights v:",
    "rdf = sum(v) - p, S = sum(v (s psi(z))^2)/rdf, m1 = sum(v psi'), m2 = sum(v psi'^2),",
    "nn = sum(v), mn = m1/nn, kappa = 1 + p (m2 - m1^2/nn)/(nn - 1)/(nn mn^2),",
    "vcov = S (kappa/mn)^2 (X'VX)^-1: Huber's H1 with every sum over rows counted v_i times",
    "(integer weights give the H1 of the data with rows repeated)."
  ),
  expanded_sandwich = paste(
    "sandwich(rlm) of the unweighted fit to the data with row i repeated w_i times:",
    "s^2 A^-1 B A^-1, A = sum |psi'(z)| x x', B = sum psi(z)^2 x x' over the expanded rows",
    "(sandwich's bread.rlm takes |psi'|); expanded_sandwich_signed_psiprime uses psi' itself."
  )
)
write_json_file(out, file.path(here, "weights_rlm.json"))
