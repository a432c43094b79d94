# R side of benchmarks/bench_vs_r.py: times R's counterparts on the data the Python side wrote.
#
# Usage (normally called by bench_vs_r.py, once per benchmark family):
#   Rscript bench_vs_r.R CONFIG.json OUT.json
# CONFIG.json (written beside the data) holds the family, the seed, the repetitions, the
# calibration target and the data set dimensions; each data set NAME is stored as raw
# little-endian float64 in NAME_X.bin (n x p x R, column-major) and NAME_y.bin (n x R).
#
# Timing happens inside this process, so R's start-up and package loading are not counted:
# each row is warmed up once, then timed `reps` times; a repetition runs the call `inner`
# times (calibrated to about `target` CPU seconds for fast calls, 1 otherwise) and records
# CPU time (user.self + sys.self of proc.time(), the definition of Python's
# time.process_time) and elapsed time per call. The BLAS thread count is set by the caller's
# environment (OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = 1).

args <- commandArgs(trailingOnly = TRUE)
cfg <- jsonlite::fromJSON(args[1], simplifyVector = TRUE)
out_path <- args[2]
data_dir <- dirname(args[1])

need <- function(pkgs) {
  missing <- pkgs[!vapply(pkgs, requireNamespace, TRUE, quietly = TRUE)]
  if (length(missing)) {
    writeLines(jsonlite::toJSON(list(skipped = paste("missing R package:", missing)),
                                auto_unbox = TRUE), out_path)
    quit(status = 0)
  }
}

read_data <- function(name) {
  d <- cfg$datasets[[name]]
  read <- function(suffix, len) {
    readBin(file.path(data_dir, paste0(name, suffix)), "double", n = len, size = 8,
            endian = "little")
  }
  x <- array(read("_X.bin", d$R * d$n * d$p), c(d$n, d$p, d$R))
  y <- matrix(read("_y.bin", d$R * d$n), d$n, d$R)
  list(
    xs = lapply(seq_len(d$R), function(r) x[, , r, drop = TRUE]),
    X1 = lapply(seq_len(d$R), function(r) cbind(1, x[, , r])),
    ys = lapply(seq_len(d$R), function(r) y[, r]),
    R = d$R, n = d$n, p = d$p
  )
}

loadavg <- function() {
  if (!file.exists("/proc/loadavg")) return(rep(NA_real_, 3))
  as.numeric(strsplit(readLines("/proc/loadavg", n = 1), " ")[[1]][1:3])
}

# `reps` timings of fun(): `warmup` (default fun) runs once first; with target > 0 untimed
# calls of fun then set the inner loop length to about `target` CPU seconds
time_row <- function(fun, reps, target = 0, warmup = fun) {
  load_start <- loadavg()
  cpu_of <- function(d) d[["user.self"]] + d[["sys.self"]]
  n_warn <- 0
  msgs <- character()
  quiet <- function(expr) withCallingHandlers(expr, warning = function(w) {
    n_warn <<- n_warn + 1
    msgs <<- union(msgs, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  quiet(warmup())
  inner <- 1
  if (target > 0) {
    # proc.time()'s CPU clock ticks in milliseconds: calibrate on at least 20 ms of calls
    k <- 1
    repeat {
      t0 <- proc.time()
      quiet(for (j in seq_len(k)) fun())
      el <- cpu_of(proc.time() - t0)
      if (el >= min(0.02, target)) break
      k <- 2 * k
    }
    inner <- max(1, ceiling(target * k / el))
  }
  cpu <- wall <- numeric(reps)
  value <- NULL
  for (i in seq_len(reps)) {
    n_warn <- 0
    t0 <- proc.time()
    quiet(for (j in seq_len(inner)) value <- fun())
    d <- proc.time() - t0
    cpu[i] <- cpu_of(d) / inner
    wall[i] <- d[["elapsed"]] / inner
  }
  list(cpu = cpu, wall = wall, inner = inner, load_start = load_start, load_end = loadavg(),
       n_warnings = n_warn, warnings = msgs, value = value)
}

# a loop over the R data sets of d, seeded once, collecting coefficients, scale, convergence
fit_loop <- function(d, fit_one) {
  function() {
    set.seed(cfg$seed)
    fits <- lapply(seq_len(d$R), fit_one)
    list(
      coef = t(vapply(fits, function(f) unname(coef(f)), numeric(d$p + 1))),
      scale = vapply(fits, function(f) if (is.null(f$scale)) NA_real_ else f$scale, 0),
      converged = vapply(fits, function(f) !isFALSE(f$converged), TRUE)
    )
  }
}

families <- list()

families$mm_many <- function() {
  need("robustbase")
  d <- read_data("many")
  # tailreg's MM defaults: M-step tol = 1e-12, s_max_iter = 1000 refinement steps
  equal <- robustbase::lmrob.control(rel.tol = 1e-12, k.max = 1000)
  warm <- function() for (r in 1:5) robustbase::lmrob(d$ys[[r]] ~ d$xs[[r]])
  list(
    lmrob = time_row(fit_loop(d, function(r) {
      y <- d$ys[[r]]
      x <- d$xs[[r]]
      robustbase::lmrob(y ~ x)
    }), cfg$reps, warmup = warm),
    lmrob_fit_equal = time_row(fit_loop(d, function(r) {
      robustbase::lmrob.fit(d$X1[[r]], d$ys[[r]], control = equal)
    }), cfg$reps, warmup = warm)
  )
}

families$mm_large <- function() {
  need("robustbase")
  out <- list()
  for (name in names(cfg$datasets)) {
    d <- read_data(name)
    x <- d$xs[[1]]
    y <- d$ys[[1]]
    small <- function() robustbase::lmrob(y[1:500] ~ x[1:500, ])
    out[[paste0("lmrob_", name)]] <- time_row(fit_loop(d, function(r) {
      robustbase::lmrob(y ~ x)
    }), cfg$reps, warmup = small)
  }
  out
}

families$lad_many <- function() {
  need("quantreg")
  d <- read_data("many")
  warm <- function() for (r in 1:5) quantreg::rq.fit(d$X1[[r]], d$ys[[r]], method = "br")
  list(rq_br = time_row(fit_loop(d, function(r) {
    quantreg::rq.fit(d$X1[[r]], d$ys[[r]], tau = 0.5, method = "br")
  }), cfg$reps, cfg$target, warmup = warm))
}

families$single <- function() {
  need(c("MASS", "quantreg"))
  d <- read_data("single")
  X1 <- d$X1[[1]]
  y <- d$ys[[1]]
  one <- function(fit) {
    function() {
      f <- fit()
      list(coef = matrix(unname(coef(f)), 1), converged = !isFALSE(f$converged))
    }
  }
  list(
    lm_fit = time_row(one(function() stats::lm.fit(X1, y)), cfg$reps, cfg$target),
    rlm_default = time_row(one(function() MASS::rlm(X1, y)), cfg$reps, cfg$target),
    rlm_acc12 = time_row(one(function() MASS::rlm(X1, y, acc = 1e-12, maxit = 1000)),
                         cfg$reps, cfg$target),
    rq_fn = time_row(one(function() quantreg::rq.fit(X1, y, tau = 0.5, method = "fn")),
                     cfg$reps, cfg$target),
    rq_br = time_row(one(function() quantreg::rq.fit(X1, y, tau = 0.5, method = "br")),
                     cfg$reps, cfg$target)
  )
}

rows <- families[[cfg$family]]()
meta <- list(
  R = R.version.string,
  packages = as.list(vapply(c("robustbase", "quantreg", "MASS"), function(p) {
    tryCatch(as.character(packageVersion(p)), error = function(e) NA_character_)
  }, "")),
  blas = tryCatch(extSoftVersion()[["BLAS"]], error = function(e) NA_character_)
)
writeLines(jsonlite::toJSON(list(meta = meta, rows = rows), digits = NA, auto_unbox = TRUE,
                            matrix = "rowmajor", na = "null"), out_path)
