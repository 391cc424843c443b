"""Seconds per model for each Lipschitz bound, and the bracket's upper/lower ratio, by width.

Trains two-layer ReLU nets of widths 64..4096 on the default dataset (n = 256 points of the unit
sphere in d = 128, +-1 labels) to the fit criterion, then times every estimator on each, one
thread, as the workflow runs them. Prints a table; writes nothing.

    .venv/bin/python benchmarks/lipschitz_estimators.py [--widths 64 128 ...]
"""

import argparse
import time

import torch

from robustlaw.data import DatasetSpec, generate_dataset
from robustlaw.lipschitz import BracketSpec, lipschitz_bracket
from robustlaw.models import MLP
from robustlaw.runtime import configure_torch
from robustlaw.seeding import torch_generator
from robustlaw.train import TrainSpec, train_full_batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[64, 128, 256, 512, 1024, 2048, 4096])
    parser.add_argument("--d", type=int, default=128)
    parser.add_argument("--n", type=int, default=256)
    args = parser.parse_args()
    configure_torch(1)
    arrays = generate_dataset(DatasetSpec("sphere", args.n, args.d, 1000, "random_sign", 1.0, 1, 0))
    x_train, y_train = torch.from_numpy(arrays["x_train"]), torch.from_numpy(arrays["y_train"])
    x_test = torch.from_numpy(arrays["x_test"])
    print(f"two-layer ReLU, n = {args.n}, d = {args.d}, trained with Adam to train MSE <= 0.01; one thread")
    header = ("width", "p", "product_s", "liplt_s", "lipsdp_s", "search_s", "secant_s", "total_s")
    print(" ".join(f"{name:>10}" for name in header), f"{'lower':>9} {'upper':>9} {'ratio':>7} {'upper by':>16}")
    for width in args.widths:
        model = MLP(args.d, width, 2, generator=torch_generator("benchmark", width))
        train_full_batch(model, x_train, y_train, TrainSpec("adam", 0.01, 20000, 0.01, 10**9))
        start = time.perf_counter()
        result = lipschitz_bracket(model, BracketSpec(), x_train, x_test)
        total = time.perf_counter() - start
        seconds, bracket = result["seconds"], result["bracket"]
        times = [seconds[key] for key in ("spectral_product", "liplt", "lipsdp", "search", "training_secant")]
        cells = [width, model.parameter_count(), *(f"{value:.3f}" for value in times), f"{total:.2f}"]
        print(
            " ".join(f"{cell:>10}" for cell in cells),
            f"{bracket['lip_lower']:9.4f} {bracket['lip_upper']:9.4f} {bracket['lip_ratio']:7.4f}",
            f"{bracket['lip_upper_method']:>16}",
            flush=True,
        )


if __name__ == "__main__":
    main()
