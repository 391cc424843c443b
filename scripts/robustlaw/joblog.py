"""Each job's log file, with the standard library only."""

import logging
import os


def file_logger(path: str | os.PathLike, name: str) -> logging.Logger:
    """A logger that writes (and flushes) each line to the job's log file, for `tail -f`.

    Loggers are process-wide: a handler left from an earlier step in the same process (the tests,
    benchmarks/naive_baseline.py) would copy this step's lines into that step's log, so any is closed.
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
    return logger
