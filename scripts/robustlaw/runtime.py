"""Torch's process set-up shared by the numeric steps: fixed threads, deterministic kernels."""

import torch


def configure_torch(threads: int) -> None:
    """Pin the thread count and deterministic kernels, so numbers depend only on the config.

    The kernels' flag is set directly: torch.use_deterministic_algorithms also sets torch.compile's
    (inductor's) flag, and importing inductor's config imports torch._dynamo, about 1.2 s of CPU in
    every job, for a compiler that no step uses. Deterministic mode would also fill every fresh tensor
    with NaN, a guard against kernels that read memory they never wrote; that costs 13% of a wide
    net's training step, and the byte-identical reruns of tests/test_workflow.py would show such a read.
    """
    torch.set_num_threads(threads)
    torch._C._set_deterministic_algorithms(True)
    torch.utils.deterministic.fill_uninitialized_memory = False


def job_device(requested: str) -> torch.device:
    """The device a job runs on: CUDA where the config asks for it and one is present, else the CPU."""
    return torch.device("cuda" if requested == "cuda" and torch.cuda.is_available() else "cpu")
