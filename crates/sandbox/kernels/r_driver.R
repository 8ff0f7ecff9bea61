# agbcloud-sandbox R kernel driver, passed with `Rscript --vanilla -e`.
# The start command moves the protocol to fds 3 (requests) and 4 (messages). Frames are a
# 4-byte big-endian length + UTF-8 JSON, as for the Python driver. Output of each top-level
# expression is sent when that expression finishes.
local({
  # Reopening /proc/self/fd/N fails for pipes owned by another uid (in a sandbox); then a
  # `cat` relays the inherited fd.
  open_fd <- function(n, mode) {
    con <- tryCatch(suppressWarnings(file(paste0("/proc/self/fd/", n), open = mode, raw = TRUE)),
                    error = function(e) NULL)
    if (!is.null(con)) return(con)
    pipe(if (mode == "rb") paste0("exec cat <&", n) else paste0("exec cat >&", n), open = mode)
  }
  inp <- open_fd(3, "rb")
  out <- open_fd(4, "wb")

  esc <- function(s) {
    s <- enc2utf8(paste(s, collapse = "\n"))
    s <- gsub("\\", "\\\\", s, fixed = TRUE)
    s <- gsub("\"", "\\\"", s, fixed = TRUE)
    s <- gsub("\n", "\\n", s, fixed = TRUE)
    s <- gsub("\r", "\\r", s, fixed = TRUE)
    s <- gsub("\t", "\\t", s, fixed = TRUE)
    s <- gsub("[\001-\037]", " ", s, perl = TRUE)
    paste0("\"", s, "\"")
  }
  send <- function(json) {
    body <- charToRaw(enc2utf8(json))
    n <- length(body)
    # one call, so an interrupt cannot cut the frame
    writeBin(c(as.raw(c(n %/% 16777216, (n %/% 65536) %% 256, (n %/% 256) %% 256, n %% 256)), body), out)
    flush(out)
  }
  stream <- function(name, text) {
    if (length(text) && nzchar(paste(text, collapse = ""))) {
      send(paste0("{\"type\":\"stream\",\"name\":\"", name, "\",\"text\":", esc(text), "}"))
    }
  }
  # The value of "code" in {"type":"execute","code":"..."}.
  code_of <- function(json) {
    cs <- utf8ToInt(json)
    key <- utf8ToInt("\"code\"")
    start <- NA
    for (i in seq_len(length(cs) - length(key) + 1)) {
      if (all(cs[i:(i + length(key) - 1)] == key)) { start <- i + length(key); break }
    }
    if (is.na(start)) return("")
    i <- start
    while (cs[i] != 34L) i <- i + 1
    i <- i + 1
    res <- integer(0)
    while (i <= length(cs) && cs[i] != 34L) {
      c <- cs[i]
      if (c == 92L) {
        i <- i + 1
        n <- intToUtf8(cs[i])
        if (n == "n") c <- 10L else if (n == "t") c <- 9L else if (n == "r") c <- 13L
        else if (n == "b") c <- 8L else if (n == "f") c <- 12L
        else if (n == "u") { c <- strtoi(intToUtf8(cs[(i + 1):(i + 4)]), 16L); i <- i + 4 }
        else c <- cs[i]
      }
      res <- c(res, c)
      i <- i + 1
    }
    intToUtf8(res)
  }

  run <- function(code) {
    exprs <- tryCatch(parse(text = code, keep.source = FALSE), error = function(e) e)
    if (inherits(exprs, "error")) {
      return(paste0("{\"name\":\"SyntaxError\",\"value\":", esc(conditionMessage(exprs)), ",\"traceback\":\"\"}"))
    }
    for (i in seq_along(exprs)) {
      vis <- NULL
      err <- NULL
      captured <- character(0)
      tc <- textConnection("captured", "w", local = TRUE)
      sink(tc)
      tryCatch(
        withCallingHandlers(
          vis <- withVisible(eval(exprs[[i]], globalenv())),
          message = function(m) { stream("stderr", conditionMessage(m)); invokeRestart("muffleMessage") },
          warning = function(w) { stream("stderr", paste0("Warning message:\n", conditionMessage(w), "\n")); invokeRestart("muffleWarning") }
        ),
        error = function(e) err <<- e,
        interrupt = function(e) err <<- simpleError("interrupted")
      )
      main <- NULL
      if (is.null(err) && !is.null(vis) && vis$visible) {
        if (i == length(exprs)) {
          main <- paste(utils::capture.output(print(vis$value)), collapse = "\n")
        } else {
          print(vis$value)
        }
      }
      sink()
      close(tc)
      if (length(captured)) stream("stdout", paste0(paste(captured, collapse = "\n"), "\n"))
      if (!is.null(err)) {
        name <- class(err)[1]
        return(paste0("{\"name\":", esc(name), ",\"value\":", esc(conditionMessage(err)),
                      ",\"traceback\":", esc(paste0("Error: ", conditionMessage(err))), "}"))
      }
      if (!is.null(main)) {
        send(paste0("{\"type\":\"result\",\"main\":true,\"data\":{\"text/plain\":", esc(main), "}}"))
      }
    }
    "null"
  }

  send(paste0("{\"type\":\"ready\",\"pid\":", Sys.getpid(), "}"))
  repeat {
    hdr <- readBin(inp, "raw", 4L)
    if (length(hdr) < 4L) quit(save = "no")
    n <- sum(as.numeric(as.integer(hdr)) * c(16777216, 65536, 256, 1))
    body <- rawToChar(readBin(inp, "raw", n))
    Encoding(body) <- "UTF-8"
    error <- tryCatch(run(code_of(body)), interrupt = function(e) {
      "{\"name\":\"Interrupted\",\"value\":\"execution was interrupted\",\"traceback\":\"\"}"
    })
    send(paste0("{\"type\":\"done\",\"error\":", error, "}"))
  }
})
