# Reference values for the covariance options: cluster (one- and two-way), HC0-HC3 and
# Newey-West for M-estimators with the signed psi' bread, on the data sets of modelling.R.
#
# Regenerate from the repository root with:  Rscript tests/reference/covopts.R
# (reads tests/reference/data/{hetero,ar1}.csv written by modelling.R; writes covopts.json)
#
# Why: sandwich's bread.rlm uses |psi'(z)|, so for the bisquare (psi' < 0 beyond
# c/sqrt(5)) vcovCL/vcovHC/NeweyWest(rlm) are not the M-estimator sandwich of Huber (1967),
# whose bread is the Jacobian of the estimating equation, sum psi'(z) x x' / s (signed).
# This script keeps sandwich's meats (meatCL, meatHC, meatHAC) and swaps in the signed bread,
# and it gives hat values for the bisquare fit (hatvalues(rlm) fails when IRLS weights are 0).

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

read_exact <- function(name) {
  read.csv(file.path(here, "data", paste0(name, ".csv")))
}
hetero <- read_exact("hetero")
hetero$f <- factor(hetero$f, levels = c("a", "b", "c", "d"))
ar1 <- read_exact("ar1")
form <- y ~ x1 + x2 + x3 + f
rlm_ctrl <- list(acc = 1e-13, maxit = 1000)
fit_rlm <- function(psi, data, formula) {
  do.call(rlm, c(list(formula, data = data, psi = psi), rlm_ctrl))
}

# The signed bread in sandwich's scaling: n * [sum_i psi'(z_i)/s x_i x_i']^{-1} (unit weights).
signed_bread <- function(fit) {
  X <- model.matrix(fit)
  z <- residuals(fit) / fit$s
  nrow(X) * solve(crossprod(X * (fit$psi(z, deriv = 1) / fit$s), X))
}
with_bread <- function(B, meat, n) B %*% meat %*% B / n

m_block <- function(fit, data, cluster) {
  X <- model.matrix(fit)
  n <- nrow(X)
  B <- signed_bread(fit)
  W <- fit$w
  h <- diag(sqrt(W) * X %*% solve(crossprod(X * W, X), t(X * sqrt(W))))
  res <- fit$psi(residuals(fit) / fit$s) * residuals(fit) / fit$s # psi(z)
  k <- ncol(X)
  omega <- list(HC0 = res^2, HC1 = res^2 * n / (n - k), HC2 = res^2 / (1 - h), HC3 = res^2 / (1 - h)^2)
  hc <- lapply(omega, function(om) sym(with_bread(B, crossprod(sqrt(om) * X) / n, n)))
  list(
    coef = coef(fit), s = unname(fit$s), n_negative_psi_prime = sum(fit$psi(residuals(fit) / fit$s, deriv = 1) < 0),
    signed_bread = sym(B), hatvalues = unname(h),
    vcovHC = hc,
    vcovCL_HC0 = sym(with_bread(B, meatCL(fit, cluster = cluster, type = "HC0"), n)),
    check_estfun_is_psi_x_maxabs = max(abs(estfun(fit) - res * X))
  )
}

fit_bis <- fit_rlm(psi.bisquare, hetero, form)
fit_hub <- fit_rlm(psi.huber, hetero, form)
fit_ar_bis <- fit_rlm(psi.bisquare, ar1, y ~ x1 + x2)
nw_signed <- function(fit) {
  B <- signed_bread(fit)
  n <- nrow(model.matrix(fit))
  lapply(c(L1 = 1, L2 = 2, L4 = 4), function(L) {
    sym(with_bread(B, meatHAC(fit, prewhite = FALSE, adjust = FALSE, weights = seq(1, 0, by = -(1 / (L + 1)))), n))
  })
}
nw_r <- function(fit) {
  lapply(c(L1 = 1, L2 = 2, L4 = 4), function(L) sym(NeweyWest(fit, lag = L, prewhite = FALSE, adjust = FALSE)))
}

# two-way clustering on (g, f): vcovCL with multi0 = FALSE (the intersection term subtracted)
fit_lm <- lm(form, data = hetero)
two_way <- list(
  lm_HC1 = sym(vcovCL(fit_lm, cluster = ~ g + f, type = "HC1", multi0 = FALSE)),
  lm_HC0 = sym(vcovCL(fit_lm, cluster = ~ g + f, type = "HC0", multi0 = FALSE)),
  rlm_huber_HC0 = sym(vcovCL(fit_hub, cluster = hetero[, c("g", "f")], type = "HC0", multi0 = FALSE))
)

out <- list(
  versions = versions(c("sandwich", "MASS", "jsonlite", "stats")),
  coef_names = list(hetero = names(coef(fit_lm)), ar1 = names(coef(fit_ar_bis))),
  bisquare = m_block(fit_bis, hetero, hetero$g),
  huber = m_block(fit_hub, hetero, hetero$g),
  newey_west_bisquare = c(
    list(coef = coef(fit_ar_bis), s = unname(fit_ar_bis$s)),
    list(signed = nw_signed(fit_ar_bis), sandwich_abs = nw_r(fit_ar_bis))
  ),
  two_way = two_way,
  check_signed_nw_equals_neweywest_for_huber_maxabs = local({
    fh <- fit_rlm(psi.huber, ar1, y ~ x1 + x2)
    a <- nw_signed(fh)
    b <- nw_r(fh)
    max(vapply(names(a), function(L) max(abs(a[[L]] - b[[L]])), 0))
  }),
  notes = list(
    signed_bread = paste(
      "signed_bread = n * solve(crossprod(X * psi'(z)/s, X)), z = residuals/s, unit weights:",
      "the Jacobian of sum psi(z_i) x_i = 0 (Huber 1967). sandwich's bread.rlm uses |psi'| instead.",
      "Every covariance here is signed_bread %*% meat %*% signed_bread / n with sandwich's meats:",
      "meatCL(type='HC0', cadjust = TRUE: G/(G-1)), meatHC-style crossprod(sqrt(omega) X)/n with",
      "psi(z) residuals, and meatHAC with NeweyWest(lag = L)'s Bartlett weights seq(1, 0, by = -1/(L+1)),",
      "no prewhitening, no adjustment; for Huber (psi' >= 0) they equal sandwich's own."
    ),
    hatvalues = "h = diag(sqrt(W) X (X'WX)^{-1} X' sqrt(W)), W = fit$w (IRLS weights), defined with zero weights.",
    two_way = paste(
      "vcovCL(cluster = ~ g + f, multi0 = FALSE): V_g + V_f - V_{g:f}, each with its own",
      "G/(G-1); type HC1 multiplies by (n-1)/(n-k)."
    )
  )
)
write_json_file(out, file.path(here, "covopts.json"))
cat("wrote", file.path(here, "covopts.json"), "\n")
