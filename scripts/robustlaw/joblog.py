"""Each job's log file, with the standard library only."""

import logging
import os
import sys
import traceback


def file_logger(path: str | os.PathLike, name: str) -> logging.Logger:
    """A logger that writes (and flushes) each line to the job's log file, for `tail -f`; an error the
    job does not catch lands there too (log_uncaught_errors).

    Loggers are process-wide: a handler left from an earlier job run in the same process (the tests call
    several rules' run() in one) would copy this job's lines into that job's log, so any is closed.
    """
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    log_uncaught_errors(logger)
    return logger


def log_uncaught_errors(logger: logging.Logger) -> None:
    """Write the traceback of an error that ends the process to `logger` as well as to stderr.

    A rule's script runs its step at top level, so an error the step does not catch ends the job's
    process through sys.excepthook; Snakemake then says "check log file(s)", and the log must hold it.
    The hook replaces, not wraps, any earlier one, so a process running several steps logs each error once.
    """

    def hook(kind: type[BaseException], error: BaseException, trace) -> None:
        logger.error("".join(traceback.format_exception(kind, error, trace)).rstrip())
        sys.__excepthook__(kind, error, trace)

    sys.excepthook = hook
