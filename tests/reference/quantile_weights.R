# Bootstrap references for quantile regression (quantreg 5.94 boot.rq) on the "hetero" data of
# modelling.R, weighted and unweighted, with the random inputs GIVEN so that tailreg can
# reproduce every replication: xy (the index matrix U), pwy (the uniforms U) and wild (the
# two-point weight matrix W, fed to the same steps as boot.rq's "wild" branch, which has no
# U argument; the one change there: the interpolated observations' residuals, zero up to
# rounding, are set to exactly 0 before 1{r < 0} is taken). As summary.rq(se = "boot") does for a weighted fit, x and y are multiplied by
# the weights before boot.rq. Also akj(r, z = 0)$dens, the wild bootstrap's f(0).
#
# Regenerate from the repository root with:  Rscript tests/reference/quantile_weights.R
# (after modelling.R, whose data/hetero.csv it reads). Writes tests/reference/quantile_weights.json.

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

hetero <- read.csv(file.path(here, "data", "hetero.csv"), colClasses = c(f = "character"))
hetero$f <- factor(hetero$f, levels = c("a", "b", "c", "d"))
form <- y ~ x1 + x2 + x3 + f
X <- model.matrix(form, hetero)
n <- nrow(X)
B <- 40L

set.seed(20240777)
U_xy <- matrix(sample(n, n * B, replace = TRUE), n, B)
U_pwy <- matrix(runif(n * B), n, B)

wild_by_hand <- function(x, y, tau, W) {
  # boot.rq's bsmethod = "wild" with the weight matrix W given
  fit <- rq.fit(x, y, tau = tau)
  r <- c(fit$resid)
  # the one change to boot.rq's code: the basis residuals (rounding-level) count as 0
  r[abs(r) < sqrt(.Machine$double.eps) * median(abs(r))] <- 0
  f0 <- akj(r, z = 0)$dens
  H <- hat(x, intercept = FALSE)
  r <- r + H * (tau - I(r < 0)) / f0
  Y <- c(fitted(fit)) + W * abs(r)
  list(B = rqs.fit(x, Y, tau = tau), f0 = f0)
}

block <- function(weighted, tau) {
  v <- if (weighted) hetero$w else rep(1, n)
  x <- X * v
  y <- hetero$y * v
  set.seed(20240778 + round(100 * tau) + weighted)
  W <- matrix(sample(c(-2 * tau, 2 * (1 - tau)), prob = c(tau, 1 - tau), size = n * B,
                     replace = TRUE), n, B)
  xy <- boot.rq(x, y, tau, R = B, bsmethod = "xy", U = U_xy)$B
  pwy <- boot.rq(x, y, tau, R = B, bsmethod = "pwy", U = U_pwy)$B
  wild <- wild_by_hand(x, y, tau, W)
  fit <- rq(form, tau = tau, data = transform(hetero, vv = v), weights = vv)
  list(
    tau = tau, coef = coef(fit),
    W_wild = W,
    xy = list(B = xy, cov = cov(xy)),
    pwy = list(B = pwy, cov = cov(pwy)),
    wild = list(B = wild$B, cov = cov(wild$B), f0 = wild$f0)
  )
}

out <- list(
  versions = list(R = R.version.string, quantreg = as.character(packageVersion("quantreg"))),
  B = B,
  U_xy = U_xy,
  U_pwy = U_pwy,
  weighted = list(tau0.5 = block(TRUE, 0.5), tau0.25 = block(TRUE, 0.25)),
  unweighted = list(tau0.5 = block(FALSE, 0.5), tau0.75 = block(FALSE, 0.75)),
  akj = local({
    set.seed(20240779)
    z <- rt(57, df = 3)
    list(x = z, at0 = akj(z, z = 0)$dens, at1 = akj(z, z = 1)$dens)
  }),
  notes = paste(
    "Matrices row-major; U_xy is n x B of 1-based row indices (column b = replication b);",
    "U_pwy n x B uniforms; W_wild n x B wild weights. B matrices are B x p (boot.rq's $B).",
    "cov = cov(B) (denominator B - 1), as summary.rq(se = 'boot')."
  )
)
write_json_file(out, file.path(here, "quantile_weights.json"))
cat("wrote", file.path(here, "quantile_weights.json"), "\n")
