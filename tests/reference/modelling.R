# Reference values for weighted/clustered/HAC covariances (sandwich), rlm with case weights
# (MASS), weighted rq (quantreg), predict.lm intervals and a hand-computed Wald test.
#
# Regenerate from the repository root with:  Rscript tests/reference/modelling.R
# Writes tests/reference/modelling.json and the data sets tests/reference/data/{hetero,ar1,freq}.csv.

suppressPackageStartupMessages({
  library(sandwich)
  library(MASS)
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

# ---------------------------------------------------------------------------------------------
# Data set (a) "hetero": heteroscedastic, 3 regressors, 4-level factor, mixed integer/fractional
# weights, 15 clusters of unequal size (2 to 22 rows) with a cluster random effect. n = 123 so
# that n * tau is not an integer for the rq fits; the seed is the first from 20240601 on where
# no rq fit below warns "Solution may be nonunique".
set.seed(20240609)
n <- 123L
sizes <- c(2L, 3L, 4L, 4L, 5L, 6L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 14L, 22L)
stopifnot(sum(sizes) == n)
g <- sample(rep(seq_along(sizes), sizes))
x1 <- rnorm(n)
x2 <- runif(n, -1, 2)
x3 <- 0.3 * x1 + rnorm(n, 1, 0.5)
f <- factor(sample(c("a", "b", "c", "d"), n, replace = TRUE, prob = c(0.4, 0.3, 0.2, 0.1)))
u_g <- rnorm(length(sizes), 0, 0.5)
e <- rt(n, df = 4) / sqrt(2)
sd_i <- exp(0.4 * x1) * (0.6 + 0.3 * x2)
y <- 1 + 0.2 * x1 + 0.5 * x2 + 0.6 * x3 + c(0, 0.4, -0.3, 0.7)[as.integer(f)] + u_g[g] + sd_i * e
w <- ifelse(runif(n) < 0.5, sample(1:3, n, replace = TRUE), runif(n, 0.2, 2.5))
hetero <- data.frame(y = y, x1 = x1, x2 = x2, x3 = x3, f = f, g = g, w = w)
rm(y, x1, x2, x3, f, g, w) # nothing below may pick up a global instead of a data frame column
write_csv_exact(hetero, file.path(here, "data", "hetero.csv"))

# Data set (b) "ar1": time-ordered, AR(1) errors (phi = 0.6, t_5 innovations), AR(1) regressor.
set.seed(20240602)
nt <- 150L
x1t <- as.numeric(arima.sim(list(ar = 0.5), nt))
x2t <- rnorm(nt)
et <- as.numeric(arima.sim(list(ar = 0.6), nt, innov = rt(nt, df = 5), n.start = 50))
ar1 <- data.frame(t = seq_len(nt), y = 1 + 0.5 * x1t - 0.25 * x2t + et, x1 = x1t, x2 = x2t)
write_csv_exact(ar1, file.path(here, "data", "ar1.csv"))

# Data set "freq": integer frequency weights 1..4; the expanded data repeats row i w[i] times,
# in row order (np.repeat(df.values, df.w, axis=0) on the Python side).
set.seed(20240603)
nf <- 40L
xf1 <- rnorm(nf)
xf2 <- rexp(nf)
freq <- data.frame(
  y = 2 - xf1 + 0.5 * xf2 + (0.5 + 0.5 * xf2) * rnorm(nf),
  x1 = xf1, x2 = xf2, w = sample(1:4, nf, replace = TRUE)
)
write_csv_exact(freq, file.path(here, "data", "freq.csv"))
freq_expanded <- freq[rep(seq_len(nf), freq$w), c("y", "x1", "x2")]
rownames(freq_expanded) <- NULL

# ---------------------------------------------------------------------------------------------
form <- y ~ x1 + x2 + x3 + f
out <- list()
out$versions <- versions(c("sandwich", "MASS", "quantreg", "jsonlite", "stats"))
out$data <- list(
  hetero = list(
    file = "data/hetero.csv", n = n, formula = deparse(form),
    factor_levels = levels(hetero$f), contrasts = "treatment (first level 'a' is the baseline)",
    n_clusters = length(sizes), cluster_sizes = as.integer(table(hetero$g))
  ),
  ar1 = list(file = "data/ar1.csv", n = nt, formula = "y ~ x1 + x2", order = "rows are in time order (column t)"),
  freq = list(
    file = "data/freq.csv", n = nf, n_expanded = nrow(freq_expanded), formula = "y ~ x1 + x2",
    expansion = "row i repeated w[i] times, rows kept in order"
  )
)

cl_hc <- function(fit, cluster) {
  list(
    HC0 = sym(vcovCL(fit, cluster = cluster, type = "HC0")),
    HC1 = sym(vcovCL(fit, cluster = cluster, type = "HC1"))
  )
}

lm_block <- function(fit) {
  list(
    coef = coef(fit), sigma = summary(fit)$sigma, df_residual = fit$df.residual,
    vcov = sym(vcov(fit)),
    vcovHC = lapply(c(HC0 = "HC0", HC1 = "HC1", HC2 = "HC2", HC3 = "HC3"), function(tp) sym(vcovHC(fit, type = tp))),
    vcovCL = cl_hc(fit, ~g),
    hatvalues = unname(hatvalues(fit))
  )
}

fit_lm_w <- lm(form, data = hetero, weights = w)
fit_lm_u <- lm(form, data = hetero)
out$lm <- list(weighted = lm_block(fit_lm_w), unweighted = lm_block(fit_lm_u))

# --- rlm: sandwich / vcovCL / vcovHC --------------------------------------------------------
rlm_ctrl <- list(acc = 1e-13, maxit = 1000)
fit_rlm <- function(psi, data = hetero, formula = form, ...) {
  capture(do.call(rlm, c(list(formula, data = data, psi = psi), rlm_ctrl, list(...))))
}

rlm_basic <- function(fit) {
  list(
    coef = coef(fit), s = unname(fit$s), iterations = length(fit$conv), converged = fit$converged,
    irls_weights = unname(fit$w)
  )
}

rlm_sandwich_block <- function(fit, cluster_vec) {
  hc <- lapply(c(HC0 = "HC0", HC1 = "HC1", HC2 = "HC2", HC3 = "HC3"), function(tp) {
    r <- capture(vcovHC(fit, type = tp))
    if (is_error(r$value)) list(error = r$value$error) else list(value = sym(r$value), warnings = I(r$warnings))
  })
  # Re-derive sandwich(fit) from the formulas written in notes$rlm_sandwich, to prove the notes.
  X <- model.matrix(fit)
  nn <- nrow(X)
  wts <- if (is.null(weights(fit))) rep(1, nn) else weights(fit)
  z <- residuals(fit) / fit$s
  psi_z <- fit$psi(z) * z
  dpsi <- fit$psi(z, deriv = 1)
  bread_hand <- nn * solve(crossprod(X * (wts^2 * abs(dpsi) / fit$s), X))
  meat_hand <- crossprod(psi_z * wts * X) / nn
  V_hand <- bread_hand %*% meat_hand %*% bread_hand / nn
  V_sand <- sandwich(fit)
  Wirls <- fit$w
  H_hand <- diag(sqrt(Wirls) * X %*% solve(crossprod(X * Wirls, X), t(X * sqrt(Wirls))))
  # hatvalues(rlm) fails when some IRLS weights are exactly 0 (bisquare): lm.wfit drops those
  # rows from the stored QR, so lm.influence sees fewer rows than residuals.
  hv <- capture(hatvalues(fit))
  hv_rec <- if (is_error(hv$value)) list(error = hv$value$error) else unname(hv$value)
  c(
    rlm_basic(fit),
    list(
      bread = sym(bread(fit)), meat = sym(meat(fit)), estfun = sym(estfun(fit)),
      sandwich = sym(V_sand),
      vcovCL = list(HC0 = sym(vcovCL(fit, cluster = cluster_vec, type = "HC0"))),
      vcovHC = hc,
      hatvalues = hv_rec,
      n_zero_irls_weights = sum(Wirls == 0),
      check_sandwich_by_hand_maxabs = max(abs(V_hand - V_sand)),
      check_hatvalues_by_hand_maxabs = if (is_error(hv$value)) NA_real_ else max(abs(H_hand - hv$value))
    )
  )
}

r_hub <- fit_rlm(psi.huber)
r_bis <- fit_rlm(psi.bisquare)
r_hub_case <- fit_rlm(psi.huber, weights = hetero$w, wt.method = "case")
out$rlm_sandwich <- list(
  huber = c(rlm_sandwich_block(r_hub$value, hetero$g), list(fit_warnings = I(r_hub$warnings))),
  bisquare = c(rlm_sandwich_block(r_bis$value, hetero$g), list(fit_warnings = I(r_bis$warnings))),
  huber_case_weighted = c(rlm_sandwich_block(r_hub_case$value, hetero$g), list(fit_warnings = I(r_hub_case$warnings)))
)

# --- NeweyWest on the AR(1) data --------------------------------------------------------------
fit_ar_lm <- lm(y ~ x1 + x2, data = ar1)
fit_ar_rlm <- fit_rlm(psi.huber, data = ar1, formula = y ~ x1 + x2)
nw <- function(fit) {
  lapply(c(L1 = 1, L2 = 2, L4 = 4), function(L) sym(NeweyWest(fit, lag = L, prewhite = FALSE, adjust = FALSE)))
}
out$newey_west <- list(
  lm = list(coef = coef(fit_ar_lm), NeweyWest = nw(fit_ar_lm)),
  rlm_huber = c(rlm_basic(fit_ar_rlm$value), list(NeweyWest = nw(fit_ar_rlm$value), fit_warnings = I(fit_ar_rlm$warnings)))
)

# --- rlm with case weights --------------------------------------------------------------------
wmad_hand <- function(r, wt) {
  o <- order(abs(r))
  a <- abs(r)[o]
  p <- cumsum(wt[o]) / sum(wt)
  m <- sum(p < 0.5)
  if (p[m + 1L] > 0.5) a[m + 1L] / 0.6745 else (a[m + 1L] + a[m + 2L]) / (2 * 0.6745)
}
case_block <- function(psi, scale_est) {
  r <- fit_rlm(psi, weights = hetero$w, wt.method = "case", scale.est = scale_est)
  fit <- r$value
  res <- residuals(fit)
  p <- length(coef(fit))
  k2 <- 1.345
  th <- 2 * pnorm(k2) - 1
  gam <- th + k2^2 * (1 - th) - 2 * k2 * dnorm(k2)
  # Fixed-point residual of the scale equation at the final fit (small if the notes are right).
  s_fp <- if (scale_est == "MAD") unname(wmad_hand(res, hetero$w)) else
    sqrt(sum(hetero$w * pmin(res^2, (k2 * fit$s)^2)) / ((sum(hetero$w) - p) * gam))
  c(rlm_basic(fit), list(
    fit_warnings = I(r$warnings),
    scale_fixed_point_from_final_residuals = s_fp,
    check_irls_weights_maxabs = max(abs(fit$w - fit$psi(fit$wresid / fit$s) * hetero$w))
  ))
}
out$rlm_case <- list(
  huber_MAD = case_block(psi.huber, "MAD"),
  huber_Huber = case_block(psi.huber, "Huber"),
  bisquare_MAD = case_block(psi.bisquare, "MAD"),
  bisquare_Huber = case_block(psi.bisquare, "Huber")
)

# --- weighted rq --------------------------------------------------------------------------------
rq_se <- function(fit, se) {
  r <- capture(summary(fit, se = se, covariance = TRUE))
  s <- r$value
  list(se = s$coefficients[, 2], cov = sym(s$cov), warnings = I(r$warnings))
}
# summary.rq's iid/nid/ker covariances re-derived from notes$rq_weights (rows scaled by v).
rq_cov_by_hand <- function(fit, tau, v) {
  X <- model.matrix(form, hetero)
  y <- hetero$y
  n <- nrow(X)
  p <- ncol(X)
  eps <- .Machine$double.eps^(1 / 2)
  Xv <- X * v
  rv <- v * drop(y - X %*% coef(fit))
  bw <- bandwidth.rq(tau, n, hs = TRUE)
  while ((tau - bw < 0) || (tau + bw > 1)) bw <- bw / 2
  pz <- sum(abs(rv) < eps)
  hh <- max(p + 1, ceiling(n * bw))
  ir <- (pz + 1):(hh + pz + 1)
  ord <- sort(rv[order(abs(rv))][ir])
  xt <- ir / (n - p)
  sparsity <- rq(ord ~ xt)$coef[2]
  J <- crossprod(Xv)
  iid <- sparsity^2 * solve(J) * tau * (1 - tau)
  dv <- hetero
  dv$vv <- v
  bhi <- suppressWarnings(coef(rq(form, tau = tau + bw, data = dv, weights = vv)))
  blo <- suppressWarnings(coef(rq(form, tau = tau - bw, data = dv, weights = vv)))
  fi <- pmax(0, 2 * bw / (v * drop(X %*% (bhi - blo)) - eps))
  Hn <- solve(crossprod(Xv * fi, Xv))
  nid <- tau * (1 - tau) * Hn %*% J %*% Hn
  hk <- (qnorm(tau + bw) - qnorm(tau - bw)) * min(sd(rv), (quantile(rv, 0.75) - quantile(rv, 0.25)) / 1.34)
  fk <- dnorm(rv / hk) / hk
  Hk <- solve(crossprod(Xv * fk, Xv))
  ker <- tau * (1 - tau) * Hk %*% J %*% Hk
  list(iid = iid, nid = nid, ker = ker)
}

rq_block <- function(weighted) {
  lapply(c(tau0.25 = 0.25, tau0.5 = 0.5, tau0.75 = 0.75), function(tau) {
    r <- if (weighted) capture(rq(form, tau = tau, data = hetero, weights = w, method = "br"))
    else capture(rq(form, tau = tau, data = hetero, method = "br"))
    fit <- r$value
    list(
      tau = tau, coef = coef(fit), fit_warnings = I(r$warnings),
      iid = rq_se(fit, "iid"), nid = rq_se(fit, "nid"), ker = rq_se(fit, "ker"),
      check_cov_by_hand_maxabs = local({
        v <- if (weighted) hetero$w else rep(1, nrow(hetero))
        hand <- rq_cov_by_hand(fit, tau, v)
        vapply(c(iid = "iid", nid = "nid", ker = "ker"), function(se) {
          max(abs(hand[[se]] - suppressWarnings(summary(fit, se = se, covariance = TRUE))$cov))
        }, 0)
      })
    )
  })
}
out$rq <- list(weighted = rq_block(TRUE), unweighted = rq_block(FALSE))

# --- predict.lm intervals -----------------------------------------------------------------------
newdata <- data.frame(
  x1 = c(-1.5, -0.3, 0, 0.8, 2.1),
  x2 = c(-0.8, 0.2, 0.5, 1.4, 1.9),
  x3 = c(0.4, 0.9, 1.0, 1.3, 1.8),
  f = factor(c("a", "b", "c", "d", "b"), levels = levels(hetero$f))
)
new_w <- c(1, 2, 0.5, 3, 1.25)
pred_block <- function(fit, weights = NULL) {
  res <- list()
  for (lev in c(0.95, 0.90)) {
    key <- sprintf("level%.2f", lev)
    ci <- predict(fit, newdata, interval = "confidence", level = lev)
    pw <- capture(predict(fit, newdata, interval = "prediction", level = lev))
    blk <- list(confidence = unname(ci), prediction_default_weights = unname(pw$value),
                prediction_default_weights_warnings = I(pw$warnings))
    if (!is.null(weights)) {
      blk$prediction_new_weights <- unname(predict(fit, newdata, interval = "prediction", level = lev, weights = weights))
    }
    res[[key]] <- blk
  }
  se <- predict(fit, newdata, se.fit = TRUE)
  c(list(se_fit = unname(se$se.fit), residual_scale = se$residual.scale, df = se$df), res)
}
out$predict <- list(
  newdata = list(x1 = newdata$x1, x2 = newdata$x2, x3 = newdata$x3, f = as.character(newdata$f)),
  new_weights = new_w,
  columns = c("fit", "lwr", "upr"),
  unweighted = pred_block(fit_lm_u),
  weighted = pred_block(fit_lm_w, new_w)
)

# --- frequency weights vs repeated rows ----------------------------------------------------------
fw <- list()
lm_f <- lm(y ~ x1 + x2, data = freq, weights = w)
lm_e <- lm(y ~ x1 + x2, data = freq_expanded)
fw$lm <- list(
  weighted = list(coef = coef(lm_f), sigma = summary(lm_f)$sigma, df_residual = lm_f$df.residual, vcov = sym(vcov(lm_f))),
  expanded = list(coef = coef(lm_e), sigma = summary(lm_e)$sigma, df_residual = lm_e$df.residual, vcov = sym(vcov(lm_e))),
  max_abs_coef_diff = max(abs(coef(lm_f) - coef(lm_e)))
)
for (ps in c("huber", "bisquare")) {
  for (se in c("MAD", "Huber")) {
    psi <- if (ps == "huber") psi.huber else psi.bisquare
    a <- fit_rlm(psi, data = freq, formula = y ~ x1 + x2, weights = freq$w, wt.method = "case", scale.est = se)
    b <- fit_rlm(psi, data = freq_expanded, formula = y ~ x1 + x2, scale.est = se)
    fw[[paste0("rlm_", ps, "_", se)]] <- list(
      weighted = c(rlm_basic(a$value)[c("coef", "s", "iterations", "converged")], list(fit_warnings = I(a$warnings))),
      expanded = c(rlm_basic(b$value)[c("coef", "s", "iterations", "converged")], list(fit_warnings = I(b$warnings))),
      max_abs_coef_diff = max(abs(coef(a$value) - coef(b$value))),
      abs_scale_diff = unname(abs(a$value$s - b$value$s))
    )
  }
}
for (tau in c(0.25, 0.5, 0.75)) {
  a <- capture(rq(y ~ x1 + x2, tau = tau, data = freq, weights = w))
  b <- capture(rq(y ~ x1 + x2, tau = tau, data = freq_expanded))
  fw[[sprintf("rq_tau%.2f", tau)]] <- list(
    weighted = coef(a$value), expanded = coef(b$value),
    max_abs_coef_diff = max(abs(coef(a$value) - coef(b$value))),
    weighted_warnings = I(a$warnings), expanded_warnings = I(b$warnings)
  )
}
out$frequency_weights <- fw

# --- Wald test by hand -----------------------------------------------------------------------------
b <- coef(fit_lm_w)
V <- vcovHC(fit_lm_w, type = "HC1")
Rm <- matrix(0, 2, length(b), dimnames = list(NULL, names(b)))
Rm[1, "x1"] <- 1
Rm[2, "x2"] <- 1
Rm[2, "x3"] <- -1
q <- c(0, 0)
d <- Rm %*% b - q
W <- drop(t(d) %*% solve(Rm %*% V %*% t(Rm), d))
df1 <- nrow(Rm)
df2 <- fit_lm_w$df.residual
out$wald <- list(
  model = "weighted lm (data hetero), V = vcovHC(type = 'HC1')",
  hypothesis = "x1 = 0, x2 = x3",
  R = unname(Rm), q = I(q), coef_names = names(b),
  statistic = W, df = df1, p_value_chisq = pchisq(W, df1, lower.tail = FALSE),
  F = W / df1, F_df = c(df1, df2), p_value_F = pf(W / df1, df1, df2, lower.tail = FALSE)
)

out$coef_names <- list(hetero = names(coef(fit_lm_w)), ar1 = names(coef(fit_ar_lm)), freq = names(coef(lm_f)))

out$notes <- list(
  layout = paste(
    "Matrices are row-major nested arrays in the order of the model's coefficient names",
    "(coef_names). Named vectors are objects keyed by R's names; fields that can hold several",
    "items (warnings, rows) are always arrays."
  ),
  lm_sandwich = paste(
    "sandwich for lm: estfun = w_i * r_i * x_i (r = y - X b, unweighted residual), bread = n *",
    "(X'WX)^{-1}; vcovHC(HCk) = (X'WX)^{-1} [sum_i omega_i x_i x_i'] (X'WX)^{-1} with omega_i =",
    "(w_i r_i)^2 (HC0), * n/(n-k) (HC1), /(1-h_i) (HC2), /(1-h_i)^2 (HC3), h_i = hatvalues of the",
    "weighted fit = w_i x_i'(X'WX)^{-1}x_i. n is the number of rows, not sum(w).",
    "vcovCL(type='HC0') = G/(G-1) * (X'WX)^{-1} [sum_g s_g s_g'] (X'WX)^{-1}, s_g = sum_{i in g}",
    "w_i r_i x_i (cadjust = TRUE applies G/(G-1) even for HC0); type='HC1' multiplies that by",
    "(n-1)/(n-k). vcov() is the classical sigma^2 (X'WX)^{-1}, sigma^2 = sum w r^2/(n-k)."
  ),
  rlm_sandwich = paste(
    "sandwich 3.0.2 for MASS::rlm (bread.rlm, estfun.rlm; sandwich(fit) = bread %*% meat %*% bread / n,",
    "meat = crossprod(estfun)/n, n = number of rows). With z_i = r_i/s, r = y - X b (residuals(fit),",
    "unweighted), s = fit$s, w_i = weights(fit) (the prior weights; rlm's formula method stores",
    "rep(1, n) when none are given), psi(z) = fit$psi(z) * z:",
    "estfun_i = psi(z_i) * w_i * x_i (NOT divided by s);",
    "bread = n * [sum_i w_i^2 * |psi'(z_i)| / s * x_i x_i']^{-1} (psi' is divided by s, its absolute",
    "value is taken - matters for bisquare where psi' < 0 for |z| > c/sqrt(5) - and the prior weight",
    "enters SQUARED because bread.rlm builds sqrt(|psi'/s|) * w * X and crossprods it).",
    "Hence sandwich(fit) = s^2 * A^{-1} B A^{-1} in beta units with A = sum w^2 psi'(z) x x', B = sum",
    "w^2 psi(z)^2 x x'. For unit weights this is the usual HC0 M-estimator sandwich. For case weights",
    "it is NOT the frequency-weight sandwich (that would have w, not w^2, in A and B).",
    "vcovCL(rlm, type='HC0') = same bread with the clustered meat times G/(G-1).",
    "vcovHC(rlm, HCk) works (vcovHC.default): meatHC uses res_i = psi(z_i) w_i (rowMeans(estfun/X)),",
    "omega as for lm, HC1 factor n/(n-k), and hatvalues(rlm) = diag of the hat matrix of the last",
    "IRLS weighted least squares, h_i = W_i x_i'(X'WX)^{-1}x_i with W = fit$w (psi(z)/z times the",
    "case weights for wt.method='case'); check_hatvalues_by_hand_maxabs confirms it.",
    "check_sandwich_by_hand_maxabs re-derives sandwich(fit) from the formulas above."
  ),
  newey_west = paste(
    "NeweyWest(fit, lag = L, prewhite = FALSE, adjust = FALSE) = bread %*% M %*% bread / n,",
    "M = (1/n) [Gamma_0 + sum_{j=1..L} (1 - j/(L+1)) (Gamma_j + Gamma_j')], Gamma_j = sum_{t>j}",
    "u_t u_{t-j}', u = estfun (lm: r_t x_t; rlm: psi(r_t/s) x_t with the bread.rlm bread).",
    "Rows are taken in data order."
  ),
  rlm_case_weights = paste(
    "MASS 7.3-58.2 rlm.default with wt.method = 'case' and prior weights v: initial fit is",
    "lm.wfit with weights v (weighted LS). Each IRLS iteration first updates the scale from the",
    "current residuals r = y - X b, then sets W = psi(r/s)/(r/s) * v (fit$w includes v) and refits",
    "lm.wfit(X, y, W). Scale 'MAD': wmad(r, v) = weighted median of |r| with weights v, divided",
    "by 0.6745 (not qnorm(0.75)); weighted median: sort |r|, p = cumsum(v)/sum(v), m = #{p < 0.5};",
    "if p[m+1] > 0.5 take |r|_(m+1), else (p[m+1] == 0.5) the mean of |r|_(m+1), |r|_(m+2).",
    "The median is of |r| about 0 (not centred). Scale 'Huber' (proposal 2): one fixed-point step",
    "per iteration, s_new = sqrt(sum v min(r^2, (k2 s_old)^2) / ((sum(v) - p) * gamma)), k2 = 1.345",
    "(independent of psi's tuning constant), gamma = theta + k2^2 (1-theta) - 2 k2 dnorm(k2),",
    "theta = 2 pnorm(k2) - 1, initial s_old = wmad of the weighted-LS residuals. Without weights",
    "(inv.var branch) the initial scale is mad(r, 0) = 1.4826 median|r| and the MAD step is",
    "median(|r|)/0.6745; sum(v) becomes n. Convergence: sqrt(sum((r_old - r_new)^2) /",
    "max(1e-20, sum(r_old^2))) <= acc (test.vec = 'resid'); fit$s is the scale used for the final",
    "weights, i.e. computed from the residuals before the last WLS step; iterations =",
    "length(fit$conv). scale_fixed_point_from_final_residuals recomputes the scale from the final",
    "residuals (equals fit$s at convergence). For wt.method = 'inv.var' rlm instead fits",
    "sqrt(v) y on sqrt(v) X with no further use of v."
  ),
  rq_weights = paste(
    "quantreg 5.94 rq(weights = v) minimises sum v_i rho_tau(y_i - x_i'b) by fitting the rows",
    "(v_i x_i, v_i y_i) (rq.wfit; valid since rho is positively homogeneous). summary.rq then",
    "multiplies x, y and residuals by v (NOT sqrt(v)) and applies the unweighted formulas to the",
    "scaled rows, with n = number of rows and bandwidth h = bandwidth.rq(tau, n, hs):",
    "iid: cov = tau(1-tau) sparsity^2 (X_v'X_v)^{-1}, X_v = diag(v) X, so sum v_i^2 x_i x_i';",
    "sparsity from the order statistics of the scaled residuals v_i r_i (h = max(p+1,",
    "ceiling(n*bandwidth)) points after skipping the pz = #{|v r| < sqrt(eps)} zeros; slope of a",
    "median regression of those sorted residuals on (pz+1..pz+h+1)/(n-p)).",
    "nid: refits at tau +- h on the scaled rows (same as weighted rq), dyhat_i = v_i x_i'(b_hi -",
    "b_lo), f_i = max(0, 2h/(dyhat_i - sqrt(eps))), cov = tau(1-tau) H^{-1} J H^{-1}, H = sum f_i",
    "v_i^2 x_i x_i', J = sum v_i^2 x_i x_i' (in unscaled terms f_i v_i^2 = v_i * 2h/x_i'(b_hi-b_lo)",
    "up to the eps shift).",
    "ker: uhat = v_i r_i, h_k = (qnorm(tau+h) - qnorm(tau-h)) * min(sd(uhat), IQR(uhat)/1.34) (IQR",
    "from quantile type 7), f_i = dnorm(uhat_i/h_k)/h_k, cov = tau(1-tau) H^{-1} J H^{-1} with",
    "H = sum f_i v_i^2 x_i x_i', J = sum v_i^2 x_i x_i'.",
    "No se type ignores the weights, but all treat v as a row scale, not as frequency weights.",
    "check_cov_by_hand_maxabs re-derives the three covariances from these formulas."
  ),
  predict_lm = paste(
    "predict.lm: res.var = sum(w r^2)/df.residual, ip = x0'(X'WX)^{-1}x0 res.var, confidence:",
    "fit +- qt((1-level)/2, df) sqrt(ip); prediction: fit +- qt sqrt(ip + pred.var), pred.var =",
    "res.var / weights with weights = 1 by default (for a weighted fit and newdata R warns",
    "'Assuming constant prediction variance even though model fit is weighted'); the",
    "prediction_new_weights arrays pass weights = new_weights."
  ),
  wald = "W = (Rb - q)' (R V R')^{-1} (Rb - q), chi-square df = rows of R; F = W/df on (df, n - k).",
  frequency_weights = paste(
    "lm and rq coefficients agree between integer weights and repeated rows; lm's sigma, vcov",
    "and df do not (lm treats weights as inverse variances, df = rows - k). rlm(case) agrees in",
    "coef and scale (unweighted fits of the expanded data use the same fixed point)."
  )
)

write_json_file(out, file.path(here, "modelling.json"))
cat("wrote", file.path(here, "modelling.json"), "\n")
