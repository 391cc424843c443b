"""Time per full-batch training step of small networks against the cost of its matrix products.

For each width, trains a two-layer ReLU network on n random points in d dimensions (one thread, as
a training job runs) for a fixed number of steps with a target it cannot reach and the stall rule
off, and prints the seconds per step next to the seconds of the step's three matrix products alone
(forward x W1^T, and the two of the backward pass: the gradient of W1 and the one through the
first layer's output are the big ones). What is left is the per-step work that is not compute:
Python, autograd bookkeeping, the optimizer's loop, the loss check. Times are the process's CPU
time, the least of --repeats runs, so that other work on a shared machine weighs less.

    .venv/bin/python benchmarks/training_step.py [--widths 1 2 4 8 16] [--steps 2000] [--method plain]
"""

import argparse
import time

import torch

from robustlaw.runtime import configure_torch
from robustlaw.settings import trainer_settings
from robustlaw.training.fit import TrainSpec, train_full_batch
from robustlaw.training.models import MLP


def seconds_per_step(width: int, n: int, d: int, steps: int, method: str) -> float:
    """CPU seconds per step of `steps` steps of training."""
    generator = torch.Generator().manual_seed(0)
    x, y = torch.randn(n, d, generator=generator) / d**0.5, torch.randn(n, 1, generator=generator)
    model = MLP(d, width, 2, "relu", generator=generator)
    trainer = trainer_settings(name="bench", method=method, max_steps=steps, log_every=steps, stall_steps=0)
    # A target of -1 is never met, so every run takes exactly `steps` steps.
    spec = TrainSpec.from_trainer(trainer, target_mse=-1.0)
    start = time.process_time()
    train_full_batch(model, x, y, spec)
    return (time.process_time() - start) / steps


def matmul_seconds(width: int, n: int, d: int, repeats: int) -> float:
    """One step's three (n x d) by (d x width)-sized products: forward, weight gradient, input-side gradient."""
    generator = torch.Generator().manual_seed(0)
    x, weight = torch.randn(n, d, generator=generator), torch.randn(width, d, generator=generator)
    hidden_grad = torch.randn(n, width, generator=generator)
    for _ in range(10):
        x @ weight.T
    start = time.process_time()
    for _ in range(repeats):
        x @ weight.T
        hidden_grad.T @ x
        hidden_grad @ weight
    return (time.process_time() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--d", type=int, default=128)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--method", default="plain")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    configure_torch(1)
    seconds_per_step(args.widths[0], args.n, args.d, 50, args.method)  # lazy imports and first-call set-up
    print(f"n = {args.n}, d = {args.d}, {args.steps} steps of {args.method} training, one thread, CPU time")
    print("width      p   us/step   us matmuls   matmul share")
    for width in args.widths:
        step = min(seconds_per_step(width, args.n, args.d, args.steps, args.method) for _ in range(args.repeats))
        products = min(matmul_seconds(width, args.n, args.d, args.steps) for _ in range(args.repeats))
        p = width * (args.d + 2) + 1
        print(f"{width:5d} {p:6d} {step * 1e6:9.1f} {products * 1e6:12.1f} {products / step:14.1%}")


if __name__ == "__main__":
    main()
