# Reference values for quantile regression inference (quantreg): rq coefficients, summary.rq
# standard errors (iid, nid, ker; hs = TRUE and FALSE), anova.rq Wald tests across quantiles,
# and a design where the nid sparsity estimate is non-positive for some observations.
# Rank-inversion intervals (se = "rank") are not covered here.
#
# Regenerate from the repository root with:  Rscript tests/reference/quantile.R
# Writes tests/reference/quantile.json and tests/reference/data/{quantile,quantile_nid}.csv.

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
dir.create(file.path(here, "data"), showWarnings = FALSE)

# Data set (c) "quantile": heteroscedastic (scale 0.5 + 0.4 x1), right-skewed (centred chi^2_3)
# errors. n = 203 so that n * tau is not an integer for any tau used. Seed: the first from
# 20240701 on where no rq fit and no summary (iid/nid/ker, both hs) warns of any kind: no
# "Solution may be nonunique" (which the iid sparsity regression can raise too) and no
# non-positive fis (that case is data set (d)).
set.seed(20240715)
n <- 203L
x1 <- runif(n, 0, 4)
x2 <- rnorm(n)
y <- 1 + 0.8 * x1 + 0.5 * x2 + (0.5 + 0.4 * x1) * (rchisq(n, 3) - 3) / sqrt(6)
dq <- data.frame(y = y, x1 = x1, x2 = x2)
rm(y, x1, x2) # nothing below may pick up a global y/x1/x2 instead of a data frame column
write_csv_exact(dq, file.path(here, "data", "quantile.csv"))

# Data set (d) "quantile_nid": the conditional scale 2 - 0.45 x1 changes sign at x1 = 4.44, so
# the true quantile lines cross inside the design (x1 up to 5) and the nid difference quotient
# x'(b(tau+h) - b(tau-h)) is <= 0 for some rows. Seed 20240806: the first from 20240801 on
# where every (tau, hs) combination below has at least one non-positive fi.
set.seed(20240806)
nd <- 61L
xd1 <- runif(nd, 0, 5)
xd2 <- rnorm(nd)
dd <- data.frame(y = 1 + xd1 - 0.5 * xd2 + (2 - 0.45 * xd1) * rnorm(nd), x1 = xd1, x2 = xd2)
write_csv_exact(dd, file.path(here, "data", "quantile_nid.csv"))

form <- y ~ x1 + x2
eps <- .Machine$double.eps^(1 / 2)

# The bandwidth summary.rq uses (halved until tau +- h stays inside (0, 1)).
rq_bandwidth <- function(tau, n, hs) {
  h <- bandwidth.rq(tau, n, hs = hs)
  while ((tau - h < 0) || (tau + h > 1)) h <- h / 2
  h
}

se_block <- function(fit, se, hs) {
  r <- capture(summary(fit, se = se, hs = hs, covariance = TRUE))
  s <- r$value
  out <- list(se = s$coefficients[, 2], cov = sym(s$cov), warnings = I(r$warnings))
  if (!is.null(s$scale)) out$scale <- unname(s$scale)
  out
}

tau_grid <- c(0.1, 0.25, 0.5, 0.75, 0.9)
out <- list()
out$versions <- versions(c("quantreg", "SparseM", "jsonlite", "stats"))
out$data <- list(
  quantile = list(file = "data/quantile.csv", n = n, formula = "y ~ x1 + x2"),
  quantile_nid = list(file = "data/quantile_nid.csv", n = nd, formula = "y ~ x1 + x2")
)
out$coef_names <- c("(Intercept)", "x1", "x2")

out$fits <- lapply(setNames(tau_grid, sprintf("tau%.2f", tau_grid)), function(tau) {
  r <- capture(rq(form, tau = tau, data = dq, method = "br"))
  fit <- r$value
  list(
    tau = tau, coef = coef(fit), fit_warnings = I(r$warnings), rho = fit$rho,
    bandwidth = list(hs_true = rq_bandwidth(tau, n, TRUE), hs_false = rq_bandwidth(tau, n, FALSE)),
    iid_hs_true = se_block(fit, "iid", TRUE),
    iid_hs_false = se_block(fit, "iid", FALSE),
    nid_hs_true = se_block(fit, "nid", TRUE),
    nid_hs_false = se_block(fit, "nid", FALSE),
    ker_hs_true = se_block(fit, "ker", TRUE)
  )
})

# --- anova.rq: equality of slopes across tau -------------------------------------------------
taus3 <- c(0.25, 0.5, 0.75)
fit3 <- rq(form, tau = taus3, data = dq)
a_joint <- anova(fit3, test = "Wald", joint = TRUE)
a_sep <- anova(fit3, test = "Wald", joint = FALSE)
# Re-derive both from the documented formula (notes$anova_rq) to prove the notes.
sums <- lapply(taus3, function(tau) summary(rq(form, tau = tau, data = dq), se = "nid", covariance = TRUE))
p <- 3L
m <- length(taus3)
J <- sums[[1]]$J
Omega <- outer(taus3, taus3, pmin) - outer(taus3, taus3)
Wfull <- matrix(0, p * m, p * m)
for (i in 1:m) for (j in 1:m) {
  Wfull[(i - 1) * p + 1:p, (j - 1) * p + 1:p] <- Omega[i, j] * sums[[i]]$Hinv %*% J %*% sums[[j]]$Hinv
}
bstack <- as.vector(coef(fit3))
D <- kronecker(diff(diag(m)), cbind(0, diag(p - 1)))
Tj <- drop(t(D %*% bstack) %*% solve(D %*% Wfull %*% t(D), D %*% bstack)) / ((p - 1) * (m - 1))
Tsep <- sapply(2:p, function(k) {
  E <- matrix(0, 1, p)
  E[1, k] <- 1
  Dk <- kronecker(diff(diag(m)), E)
  drop(t(Dk %*% bstack) %*% solve(Dk %*% Wfull %*% t(Dk), Dk %*% bstack)) / (m - 1)
})
tab <- function(a) lapply(as.list(a$table), unname)
out$anova <- list(
  call = "anova(rq(y ~ x1 + x2, tau = c(0.25, 0.5, 0.75)), test = 'Wald', joint = TRUE/FALSE)",
  taus = taus3,
  coef = unname(coef(fit3)),
  joint = tab(a_joint),
  separate = c(list(term = rownames(a_sep$table)), tab(a_sep)),
  stacked_covariance = Wfull,
  check_joint_by_hand_absdiff = abs(Tj - a_joint$table$Tn),
  check_separate_by_hand_maxabs = max(abs(Tsep - a_sep$table$Tn))
)

# Nested models at one tau (anova.rqlist, same tau): Wald on the dropped coefficient.
f_full <- rq(y ~ x1 + x2, tau = 0.5, data = dq)
f_small <- rq(y ~ x1, tau = 0.5, data = dq)
a_nest <- anova(f_full, f_small, test = "Wald")
out$anova_nested <- c(list(call = "anova(rq(y ~ x1 + x2, tau = .5), rq(y ~ x1, tau = .5), test = 'Wald')"), tab(a_nest))

# --- (d) non-positive fis ----------------------------------------------------------------------
nid_pieces <- function(fit, tau, hs) {
  X <- model.matrix(form, dd)
  h <- rq_bandwidth(tau, nd, hs)
  bhi <- rq.fit(X, dd$y, tau = tau + h, method = "br")$coef
  blo <- rq.fit(X, dd$y, tau = tau - h, method = "br")$coef
  dyhat <- drop(X %*% (bhi - blo))
  list(h = h, coef_hi = unname(bhi), coef_lo = unname(blo), dyhat = dyhat,
       fi = pmax(0, (2 * h) / (dyhat - eps)))
}
out$nonpositive_fis <- lapply(setNames(c(0.25, 0.5, 0.75), c("tau0.25", "tau0.50", "tau0.75")), function(tau) {
  r <- capture(rq(form, tau = tau, data = dd))
  fit <- r$value
  res <- list(tau = tau, coef = coef(fit), fit_warnings = I(r$warnings), iid_hs_true = se_block(fit, "iid", TRUE))
  for (hs in c(TRUE, FALSE)) {
    key <- if (hs) "hs_true" else "hs_false"
    blk <- se_block(fit, "nid", hs)
    pcs <- nid_pieces(fit, tau, hs)
    res[[paste0("nid_", key)]] <- c(blk, pcs, list(
      n_nonpositive_fis = sum(pcs$dyhat <= 0),
      n_zero_fi = sum(pcs$fi == 0),
      rows_nonpositive_1based = I(unname(which(pcs$dyhat <= 0)))
    ))
  }
  res
})

out$notes <- list(
  layout = paste(
    "Matrices are row-major nested arrays in coef_names order. Named vectors are objects keyed",
    "by R's names; fields that can hold several items (warnings, rows) are always arrays."
  ),
  summary_rq = paste(
    "quantreg 5.94 summary.rq, n = rows, p = columns, eps = sqrt(.Machine$double.eps).",
    "Bandwidth h = bandwidth.rq(tau, n, hs): hs = TRUE (Hall-Sheather) n^(-1/3) qnorm(0.975)^(2/3)",
    "(1.5 phi(q)^2/(2q^2+1))^(1/3); hs = FALSE (Bofinger) n^(-1/5) (4.5 phi(q)^4/(2q^2+1)^2)^(1/5),",
    "q = qnorm(tau); halved while tau - h < 0 or tau + h > 1 (recorded in 'bandwidth').",
    "iid: pz = #{|r| < eps}; hh = max(p+1, ceiling(n h)); ir = (pz+1):(hh+pz+1); take the",
    "residuals sorted by |r|, keep positions ir, sort them by value, regress (median regression,",
    "rq) on xt = ir/(n-p); sparsity = slope; cov = sparsity^2 tau(1-tau) (X'X)^{-1};",
    "scale = 1/sparsity.",
    "nid: b_hi, b_lo = rq.fit at tau +- h (same method), dyhat = X(b_hi - b_lo), warning",
    "'<k> non-positive fis' with k = #{dyhat <= 0}; f = pmax(0, 2h/(dyhat - eps)) - so rows with",
    "dyhat <= 0 get f = 0 (they drop out of H), not eps; cov = tau(1-tau) H^{-1} J H^{-1},",
    "H = X' diag(f) X, J = X'X; scale = mean(f).",
    "ker: uhat = y - X b, h_k = (qnorm(tau+h) - qnorm(tau-h)) * min(sd(uhat), (Q3 - Q1)/1.34)",
    "(quantile type 7, sd with n-1), f = dnorm(uhat/h_k)/h_k, cov as nid.",
    "summary's Pr(>|t|) uses t with n - p df."
  ),
  anova_rq = paste(
    "anova.rqs splits the multi-tau fit and calls anova.rqlist with se = 'nid' (summary default",
    "hs = TRUE), test = 'Wald'. Distinct taus: Omega_ij = min(tau_i, tau_j) - tau_i tau_j; stacked",
    "covariance W (block i,j) = Omega_ij H_i^{-1} J H_j^{-1} with H_i^{-1} = nid Hinv at tau_i",
    "(X' diag(f_i) X)^{-1} and J = X'X - no 1/n factors, these are the cov units of summary.rq.",
    "joint = TRUE: D = kronecker(diff(I_m), [0 | I_{p-1}]) (consecutive differences of all slopes,",
    "intercept excluded); Tn = (Db)'(D W D')^{-1}(Db)/ndf, ndf = (p-1)(m-1), ddf = n m - (p-1)(m-1),",
    "p-value 1 - pf(Tn, ndf, ddf). joint = FALSE: one test per slope k, D = kronecker(diff(I_m), e_k'),",
    "ndf = m - 1, ddf = n m - (m - 1), Tn = quadratic form / ndf. b is the stacked coefficient",
    "vector (tau-major). Nested models at one tau: Tn = b_S'(V_SS)^{-1} b_S / ndf with V the nid",
    "cov of the larger model, S = dropped terms, ndf = |S|, ddf = n - p_large, F p-value.",
    "check_*_by_hand re-derive the statistics from these formulas."
  ),
  nonpositive_fis = paste(
    "Design (d): n_nonpositive_fis = #{dyhat <= 0} (equals the count in R's warning text);",
    "n_zero_fi additionally counts 0 < dyhat <= eps. dyhat, fi, h, coef_hi, coef_lo are the",
    "internal nid pieces recomputed with rq.fit exactly as summary.rq does."
  )
)

write_json_file(out, file.path(here, "quantile.json"))
cat("wrote", file.path(here, "quantile.json"), "\n")
