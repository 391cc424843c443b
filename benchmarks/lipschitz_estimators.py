"""Seconds per model for each Lipschitz bound, and the bracket's upper/lower ratio, on four kinds of nets.

- widths: two-layer ReLU nets of widths 64..4096 trained (Adam, train MSE <= 0.01) on the default
  dataset (n = 256 points of the unit sphere in d = 128, +-1 labels);
- rf: the random-features interpolator (n = 400, d = 200, k = 12,800 by default);
- depth: depth-3 nets (width 64 by default) trained plainly and with the gradient penalty on the
  default dataset;
- lowd: random two-layer nets with k = 20 d at d = 2, 3, 4, whose exact constant the vertex
  enumeration gives (the "held-out" kind: k > d, low d).
Every estimator runs on one thread, as the workflow runs them. For two-layer nets the column
fgl_low is a lower estimate of FGL, the maximum of ||W^T diag(s) a|| over all 2^k patterns, realisable
or not (1-flip hill climbing from 64 random patterns): no weight-only bound can go below FGL, so
upper / fgl_low is the part of the gap a weight-only bound cannot close. The column no_pursuit is the
lower end without the pattern pursuit (the best other certified lower bound): the lower end before it.
Prints a table and the load average (timings on a busy machine are not speeds); writes nothing.

    .venv/bin/python benchmarks/lipschitz_estimators.py [--suites widths rf depth lowd] [--widths 64 ...]
        [--rf-pursuit STARTS ROUNDS]

The pattern pursuit solves LPs with k constraints: at k = 12,800 each takes a minute or more, so the
rf suite gives it its own budget (--rf-pursuit; the config's defaults if left out).
"""

import argparse
import itertools
import os
import time

import torch

from robustlaw.data.synthetic import DatasetSpec, generate_dataset
from robustlaw.lipschitz.bracket import BracketSpec, lipschitz_bracket
from robustlaw.lipschitz.exact import exact_two_layer_relu_vertices, pattern_gram
from robustlaw.lipschitz.lower import local_pattern_search
from robustlaw.runtime import configure_torch
from robustlaw.seeding import torch_generator
from robustlaw.settings import lipschitz_settings, trainer_settings
from robustlaw.training.controls import random_features_interpolator
from robustlaw.training.fit import TrainSpec, train_full_batch
from robustlaw.training.models import MLP

TIMED = ("spectral_product", "liplt", "lipsdp", "branch_and_bound", "search", "pattern_pursuit", "training_secant")


def sphere_data(n: int, d: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    arrays = generate_dataset(DatasetSpec("sphere", n, d, 1000, "random_sign", 1.0, 1, 0))
    return tuple(torch.from_numpy(arrays[key]) for key in ("x_train", "y_train", "x_test"))


def fgl_lower_estimate(model: MLP) -> float:
    gram = pattern_gram(*model.weights())
    starts = (torch.rand(64, gram.shape[0], generator=torch_generator("benchmark-fgl")) < 0.5).to(torch.float64)
    patterns = local_pattern_search(gram, starts)
    return float(torch.sum((patterns @ gram) * patterns, dim=1).max()) ** 0.5


def report(label: str, model: MLP, x_train, x_test, exact: float | None = None, **settings) -> None:
    start = time.perf_counter()
    spec = BracketSpec.from_settings(lipschitz_settings(**settings), seed=0)
    result = lipschitz_bracket(model, spec, x_train, x_test)
    total = time.perf_counter() - start
    seconds, bracket = result["seconds"], result["bracket"]
    cells = [label, model.parameter_count(), *(f"{seconds.get(key, float('nan')):.2f}" for key in TIMED)]
    fgl = f"{fgl_lower_estimate(model):9.4f}" if len(model.layers) == 2 else f"{'-':>9}"
    others = [
        value
        for key, value in bracket.items()
        if key.startswith("lip_lower_")
        and key not in ("lip_lower_method", "lip_lower_sampled_gradient", "lip_lower_pattern_pursuit")
    ]
    truth = (
        ""
        if exact is None
        else f" upper/exact {bracket['lip_upper'] / exact:.4f} lower/exact {bracket['lip_lower'] / exact:.4f}"
    )
    print(
        " ".join(f"{cell:>11}" for cell in cells),
        f"{total:8.2f} {max(others):10.4f} {bracket['lip_lower']:9.4f} {bracket['lip_upper']:9.4f}",
        f"{bracket['lip_ratio']:7.4f} {fgl} {bracket['lip_upper_method']:>16}{truth}",
        f"load {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def trained(d: int, width: int, depth: int, x_train: torch.Tensor, y_train: torch.Tensor, method: str = "plain") -> MLP:
    """Adam to train MSE <= 0.01; gradient_penalty as the default config's trainer of that name."""
    model = MLP(d, width, depth, generator=torch_generator("benchmark", width, depth))
    trainer = trainer_settings(name=method, method=method, log_every=10**9)
    train_full_batch(model, x_train, y_train, TrainSpec.from_trainer(trainer, target_mse=0.01))
    return model


def random_two_layer(d: int, k: int, seed: int) -> MLP:
    generator = torch_generator("benchmark-lowd", d, k, seed)
    model = MLP(d, k, 2, generator=generator, dtype=torch.float64).requires_grad_(False)
    for layer in model.layers:
        layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator, dtype=torch.float64))
        layer.weight /= layer.in_features**0.5
        layer.bias.copy_(0.3 * torch.randn(layer.bias.shape, generator=generator, dtype=torch.float64))
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--suites", nargs="+", default=["widths", "rf", "depth", "lowd"])
    parser.add_argument("--widths", type=int, nargs="+", default=[64, 128, 256, 512, 1024, 2048, 4096])
    parser.add_argument("--rf-width", type=int, default=12800)
    parser.add_argument("--depth-widths", type=int, nargs="+", default=[64])
    parser.add_argument("--rf-pursuit", type=int, nargs=2, metavar=("STARTS", "ROUNDS"))
    args = parser.parse_args()
    configure_torch(1)
    header = ("model", "p", *(f"{key[:9]}_s" for key in TIMED))
    print(
        " ".join(f"{name:>11}" for name in header),
        f"{'total_s':>8} {'no_pursuit':>10} {'lower':>9} {'upper':>9} {'ratio':>7} {'fgl_low':>9} {'upper by':>16}",
    )
    if "widths" in args.suites or "depth" in args.suites:
        x_train, y_train, x_test = sphere_data(256, 128)
    if "widths" in args.suites:
        for width in args.widths:
            report(f"relu2-k{width}", trained(128, width, 2, x_train, y_train), x_train, x_test)
    if "depth" in args.suites:
        for width, method in itertools.product(args.depth_widths, ("plain", "gradient_penalty")):
            model = trained(128, width, 3, x_train, y_train, method)
            report(f"relu3-k{width}-{method[:4]}", model, x_train, x_test)
    if "rf" in args.suites:
        x_rf, y_rf, x_rf_test = sphere_data(400, 200)
        model = random_features_interpolator(x_rf, y_rf, args.rf_width, torch_generator("benchmark-rf"))
        budget = (
            {}
            if args.rf_pursuit is None
            else dict(zip(("pursuit_starts", "pursuit_rounds"), args.rf_pursuit, strict=True))
        )
        report(f"rf-k{args.rf_width}", model, x_rf, x_rf_test, **budget)
    if "lowd" in args.suites:
        for d in (2, 3, 4):
            model = random_two_layer(d, 20 * d, 0)
            hidden, output = model.weights()
            exact = exact_two_layer_relu_vertices(hidden, model.biases()[0], output)
            report(f"d{d}-k{20 * d}", model, None, None, exact)


if __name__ == "__main__":
    main()
