"""Torch's process set-up shared by the numeric steps: fixed threads, deterministic kernels."""

import torch


def configure_torch(threads: int) -> None:
    """Pin the thread count and deterministic kernels, so numbers depend only on the config."""
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
