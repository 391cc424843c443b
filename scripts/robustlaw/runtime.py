"""Process set-up shared by the rule scripts: fixed threads, deterministic kernels, a log file."""

import logging
import os

import torch


def configure_torch(threads: int) -> None:
    """Pin the thread count and deterministic kernels, so numbers depend only on the config."""
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def file_logger(path: str | os.PathLike, name: str) -> logging.Logger:
    """A logger that writes (and flushes) each line to the rule's log file, for `tail -f`."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    return logger
