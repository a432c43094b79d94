# Helpers shared by the reference scripts in this folder (sourced, not run on its own).
#
# Why a JSON writer of our own: jsonlite::toJSON prints at most 15 significant digits, even
# with digits = NA or digits = I(17), so doubles do not survive the round trip (checked:
# relative errors up to 5e-15). Here every double is printed with "%.17g", which round-trips
# exactly through Python's json module. jsonlite is still used to escape strings.

num_json <- function(x) {
  out <- sprintf("%.17g", x)
  out[is.na(x)] <- "null"
  if (any(is.infinite(x))) stop("infinite value cannot be written to JSON")
  out
}

# Scalars (length-1 vectors) are written as JSON scalars unless wrapped in I(); named atomic
# vectors become objects (name -> value, in order); matrices become row-major nested arrays.
to_json <- function(x) {
  if (is.null(x)) return("null")
  if (is.list(x)) {
    parts <- vapply(x, to_json, "")
    if (!is.null(names(x))) {
      keys <- vapply(names(x), function(k) as.character(jsonlite::toJSON(k, auto_unbox = TRUE)), "")
      return(paste0("{", paste0(keys, ":", parts, collapse = ","), "}"))
    }
    return(paste0("[", paste(parts, collapse = ","), "]"))
  }
  if (is.factor(x)) x <- as.character(x)
  enc <- if (is.numeric(x)) {
    num_json(unclass(x))
  } else if (is.logical(x)) {
    ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else if (is.character(x)) {
    vapply(x, function(s) as.character(jsonlite::toJSON(s, auto_unbox = TRUE)), "")
  } else {
    stop("cannot write class ", class(x)[1L])
  }
  if (is.matrix(x)) {
    rows <- vapply(seq_len(nrow(x)), function(i) {
      paste0("[", paste(enc[(seq_len(ncol(x)) - 1L) * nrow(x) + i], collapse = ","), "]")
    }, "")
    return(paste0("[", paste(rows, collapse = ","), "]"))
  }
  if (!is.null(names(x)) && length(x) > 0L) {
    keys <- vapply(names(x), function(k) as.character(jsonlite::toJSON(k, auto_unbox = TRUE)), "")
    return(paste0("{", paste0(keys, ":", enc, collapse = ","), "}"))
  }
  if (length(x) == 1L && !inherits(x, "AsIs")) return(unname(enc))
  paste0("[", paste(enc, collapse = ","), "]")
}

write_json_file <- function(x, path) {
  txt <- to_json(x)
  # Validate: jsonlite parses it (its own parser is exact enough to catch structural errors).
  invisible(jsonlite::fromJSON(txt, simplifyVector = FALSE))
  writeLines(txt, path, useBytes = TRUE)
}

# Every numeric column at 17 significant digits, so the CSV holds exactly the doubles used here.
write_csv_exact <- function(df, path) {
  out <- df
  for (nm in names(out)) {
    if (is.double(out[[nm]])) out[[nm]] <- sprintf("%.17g", out[[nm]])
    else if (is.factor(out[[nm]])) out[[nm]] <- as.character(out[[nm]])
  }
  text_cols <- which(vapply(df, function(col) is.character(col) || is.factor(col), TRUE))
  utils::write.csv(out, path, row.names = FALSE, quote = unname(text_cols))
  back <- utils::read.csv(path, stringsAsFactors = FALSE)
  for (nm in names(df)) {
    if (is.double(df[[nm]]) && !identical(back[[nm]], df[[nm]])) {
      stop("CSV round trip changed column ", nm)
    }
  }
  invisible(path)
}

# Evaluate expr, collecting warning texts instead of printing them; errors become a record too.
capture <- function(expr) {
  warns <- character(0)
  value <- withCallingHandlers(
    tryCatch(expr, error = function(e) structure(list(error = conditionMessage(e)), class = "ref_error")),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  list(value = value, warnings = warns)
}

is_error <- function(x) inherits(x, "ref_error")

versions <- function(pkgs) {
  list(
    R = R.version.string,
    packages = stats::setNames(
      as.list(vapply(pkgs, function(p) as.character(utils::packageVersion(p)), "")),
      pkgs
    )
  )
}

sym <- function(m) unname(as.matrix(m))
