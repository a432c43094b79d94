# Reference values for tailreg.inference.quantile_rank: R quantreg's rank-inversion
# confidence intervals, summary(rq(...), se = "rank"), i.e. rq.fit.br(x, y, tau, ci = TRUE).
#
# Regenerate (from the repository root):
#     Rscript tests/reference/quantile_rank.R
# Writes tests/reference/data/quantile_rank_<name>.csv (the data, %.17g so that Python reads
# the same doubles) and tests/reference/quantile_rank.json (one record per case).
#
# Every sample size is odd and no multiple of 4 or 5 (Engel's n = 235 included), so n * tau
# is never an integer for the taus used and the quantile regression estimates are unique
# (rq.fit.br would otherwise warn "Solution may be nonunique" and the interval would depend
# on which optimum it picks). There are no p = 1 cases: rq.fit.br sets ci = FALSE when the
# design has a single column, so quantreg has no rank interval to compare with.

suppressPackageStartupMessages({
  library(quantreg)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "tests/reference"
dir.create(file.path(here, "data"), showWarnings = FALSE)

set.seed(20240611)
make_data <- function(name) {
  switch(name,
    # p = 2, homoscedastic Gaussian errors, small n
    n31 = {
      n <- 31
      x1 <- rnorm(n)
      data.frame(y = 1 + 0.5 * x1 + rnorm(n), x1 = x1)
    },
    # p = 3, heteroscedastic: the error scale grows with x1
    n97 = {
      n <- 97
      x1 <- runif(n, 0, 2)
      x2 <- rnorm(n)
      data.frame(y = 2 + x1 + 0.5 * x2 + (0.5 + x1) * rnorm(n), x1 = x1, x2 = x2)
    },
    # p = 3, a dummy regressor, lognormal regressor, skewed heteroscedastic errors
    n203 = {
      n <- 203
      x1 <- rbinom(n, 1, 0.4)
      x2 <- rlnorm(n, 0, 0.5)
      e <- (rchisq(n, 3) - 3) * (1 + 0.5 * x2)
      data.frame(y = -1 + 2 * x1 + x2 + e, x1 = x1, x2 = x2)
    },
    # p = 3, heavy-tailed heteroscedastic errors, larger n
    n499 = {
      n <- 499
      x1 <- rnorm(n)
      x2 <- runif(n)
      data.frame(y = 1 - x1 + 3 * x2 + (1 + x2) * rt(n, 3), x1 = x1, x2 = x2)
    },
    # Engel's food expenditure data from quantreg (n = 235), Koenker's running example
    engel = {
      data(engel, package = "quantreg", envir = environment())
      data.frame(y = engel$foodexp, x1 = engel$income)
    },
    # p = 2, integer responses and a dummy: many tied residuals and duplicated rows
    ties = {
      n <- 41
      x1 <- rbinom(n, 1, 0.5)
      data.frame(y = round(1 + 2 * x1 + rpois(n, 3) - 3), x1 = x1)
    },
    # p = 2, tiny n: at tau = 0.1 the test cannot reject below the estimate (unbounded)
    n13 = {
      n <- 13
      x1 <- rnorm(n)
      data.frame(y = x1 + rnorm(n), x1 = x1)
    }
  )
}

write_data <- function(d, name) {
  out <- as.data.frame(lapply(d, function(v) sprintf("%.17g", v)))
  write.csv(out, file.path(here, "data", paste0("quantile_rank_", name, ".csv")),
    row.names = FALSE, quote = FALSE
  )
}

# rq.fit.br with its hard-wired Hall-Sheather bandwidth switched to Bofinger, so that
# tailreg's bandwidth = "bofinger" extension runs through quantreg's own code.
rq_fit_br_bofinger <- local({
  f <- quantreg::rq.fit.br
  src <- deparse(body(f))
  stopifnot(sum(grepl("bandwidth.rq(tau, n, hs = TRUE)", src, fixed = TRUE)) == 1)
  body(f) <- parse(text = gsub("hs = TRUE", "hs = FALSE", src, fixed = TRUE))[[1]]
  environment(f) <- asNamespace("quantreg")
  f
})

run_case <- function(d, name, tau, iid, alpha, tcrit = TRUE, bandwidth = "hs") {
  x <- cbind(1, as.matrix(d[, -1, drop = FALSE]))
  y <- d$y
  rec <- list(
    data = name, tau = tau, iid = iid, alpha = alpha, tcrit = tcrit,
    bandwidth = bandwidth
  )
  warn <- character(0)
  fit <- withCallingHandlers(
    tryCatch(
      {
        if (bandwidth == "hs") {
          # the interpolated interval through the user-facing summary.rq ...
          s <- summary(rq(y ~ x - 1, tau = tau),
            se = "rank", iid = iid, alpha = alpha,
            tcrit = tcrit
          )$coefficients
          # ... and the four rows and statistics before interpolation
          raw <- rq.fit.br(x, y, tau,
            alpha = alpha, ci = TRUE, iid = iid, interp = FALSE,
            tcrit = tcrit
          )
        } else {
          s <- rq_fit_br_bofinger(x, y, tau,
            alpha = alpha, ci = TRUE, iid = iid,
            tcrit = tcrit
          )$coefficients
          raw <- rq_fit_br_bofinger(x, y, tau,
            alpha = alpha, ci = TRUE, iid = iid,
            interp = FALSE, tcrit = tcrit
          )
        }
        list(s = s, raw = raw)
      },
      error = function(e) list(error = conditionMessage(e))
    ),
    warning = function(w) {
      warn <<- c(warn, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  rec$warnings <- warn
  if (!is.null(fit$error)) {
    rec$error <- fit$error
    return(rec)
  }
  rec$coef <- unname(fit$s[, 1])
  rec$lower <- unname(fit$s[, 2])
  rec$upper <- unname(fit$s[, 3])
  # rows: lower bd, lower, upper, upper bd (the Fortran's ci matrix)
  rec$bounds <- unname(t(fit$raw$coefficients[, 2:5, drop = FALSE]))
  # c.values holds the statistics in reversed row order (upper bd first)
  rec$statistics <- unname(t(fit$raw$c.values[, 4:1, drop = FALSE]))
  rec
}

# The rank-score statistic S(b) = sum_i x_ij (a_i(b) - (1 - tau)) on a grid of b, from
# quantreg's own rank scores (the dual of rq.fit.br on the restricted problem y - b x_j on
# x_{-j}), independently of the interval code. On tied data rq.fit.br(ci = TRUE) takes
# several residuals crossing zero at the same b one at a time and then reports statistics
# that disagree with these: for "ties" at tau = 0.3 it accepts the intercept up to b = 3
# (T = -1.41) although these rank scores give T = -2.32 on (1, 2), and it reports the slope
# interval as unbounded below. So for "ties" only the grids are recorded.
statistic_grid <- function(d, name, tau) {
  x <- cbind(1, as.matrix(d[, -1, drop = FALSE]))
  y <- d$y
  ci <- suppressWarnings(rq.fit.br(x, y, tau, ci = TRUE)$coefficients)
  lapply(seq_len(ncol(x)), function(j) {
    # grid over about 1.5 times the interval (its finite side if it is unbounded)
    w <- c(ci[j, 1] - ci[j, 2], ci[j, 3] - ci[j, 1])
    w <- w[abs(w) < 1e300 & w > 0]
    half <- if (length(w)) 1.5 * max(w) else 1
    # offsets by an irrational fraction keep the grid off the (rational) kinks of tied data
    b <- ci[j, 1] + half * (seq(-30, 30) + 1 / pi) / 30
    S <- vapply(b, function(bj) {
      f <- suppressWarnings(rq.fit.br(x[, -j, drop = FALSE], y - bj * x[, j], tau))
      sum(x[, j] * (f$dual - (1 - tau)))
    }, numeric(1))
    list(data = name, tau = tau, j = j - 1, b = b, S = S)
  })
}

cases <- list()
grids <- list()
add <- function(rec) cases[[length(cases) + 1]] <<- rec
for (name in c("n31", "n97", "n203", "n499", "engel", "ties", "n13")) {
  d <- make_data(name)
  write_data(d, name)
  taus <- switch(name,
    n13 = c(0.1, 0.5),
    ties = numeric(0), # only statistic grids: rq.fit.br's interval is unreliable here
    engel = c(0.1, 0.25, 0.5, 0.75, 0.9),
    c(0.1, 0.25, 0.5, 0.9)
  )
  for (tau in taus) {
    for (iid in c(TRUE, FALSE)) {
      for (alpha in c(0.1, 0.05)) add(run_case(d, name, tau, iid, alpha))
    }
  }
  if (name %in% c("n97", "ties")) {
    for (tau in c(0.3, 0.6)) grids <- c(grids, statistic_grid(d, name, tau))
  }
  if (name %in% c("n97", "n499")) {
    add(run_case(d, name, 0.25, FALSE, 0.1, bandwidth = "bofinger"))
    add(run_case(d, name, 0.75, FALSE, 0.05, bandwidth = "bofinger"))
    add(run_case(d, name, 0.5, TRUE, 0.1, tcrit = FALSE))
    add(run_case(d, name, 0.75, FALSE, 0.05, tcrit = FALSE))
  }
}

meta <- list(
  R = R.version.string,
  quantreg = as.character(packageVersion("quantreg")),
  script = "tests/reference/quantile_rank.R"
)
write_json(list(meta = meta, cases = cases, grids = grids),
  file.path(here, "quantile_rank.json"),
  auto_unbox = TRUE, digits = NA, pretty = TRUE
)
cat("wrote", length(cases), "cases and", length(grids), "statistic grids\n")
