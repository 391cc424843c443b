"""The Lipschitz bracket lower <= Lip(f) <= upper of one model, over all of R^d, in float64.

Also a standalone evaluator for any checkpoint in the documented format:
    PYTHONPATH=scripts python -m robustlaw.lipschitz CHECKPOINT [--dataset DATASET]
prints the bracket as JSON.
"""

import argparse
import json
import sys
import time
from dataclasses import dataclass, field

import torch

from .floor import max_pairwise_secant
from .io import CheckpointError, load_checkpoint, load_dataset
from .lipschitz_exact import all_patterns_realisable, best_pattern_exhaustive
from .lipschitz_lower import LowerSearchSpec, forward, lower_bound
from .lipschitz_upper import UPPER_MARGIN, liplt_two_layer, lipsdp_two_layer, spectral_product
from .models import MLP
from .seeding import torch_generator

DOMAIN = "R^d"


class EstimatorError(RuntimeError):
    """A certified upper bound fell below a certified lower bound: a bug, never a result."""


@dataclass(frozen=True)
class BracketSpec:
    lower: LowerSearchSpec = field(default_factory=LowerSearchSpec)
    lipsdp_steps: int = 300
    exact_max_width: int = 20
    seed: int = 0


def lipschitz_bracket(
    model: MLP, spec: BracketSpec, x_train: torch.Tensor | None = None, x_test: torch.Tensor | None = None
) -> dict:
    """Every bound we compute, the best of each side, and the seconds each method took."""
    model = model.to(torch.float64).requires_grad_(False)
    weights = model.weights()
    seconds: dict[str, float] = {}
    record: dict[str, float | str | None] = {"lip_domain": DOMAIN}

    def timed(name: str, compute):
        start = time.perf_counter()
        value = compute()
        seconds[name] = time.perf_counter() - start
        return value

    uppers = {"spectral_product": timed("spectral_product", lambda: spectral_product(weights))}
    exact_pattern = None
    record["lip_exact"] = None
    if len(weights) == 2:
        hidden, output = weights
        uppers["liplt"] = timed("liplt", lambda: liplt_two_layer(hidden, output))
        uppers["lipsdp"] = timed("lipsdp", lambda: lipsdp_two_layer(hidden, output, steps=spec.lipsdp_steps))
        if hidden.shape[0] <= spec.exact_max_width and all_patterns_realisable(hidden):
            exact, exact_pattern = timed("pattern_enumeration", lambda: best_pattern_exhaustive(hidden, output))
            record["lip_exact"] = exact
            uppers["pattern_enumeration"] = exact * (1 + UPPER_MARGIN)

    data = [points for points in (x_train, x_test) if points is not None]
    data_points = torch.cat(data).to(torch.float64) if data else torch.empty(0, model.input_dim, dtype=torch.float64)
    generator = torch_generator("lipschitz", spec.seed)
    extra = None if exact_pattern is None else exact_pattern[None, :]
    found = timed("search", lambda: lower_bound(model, data_points, spec.lower, generator, extra))
    lowers = {"sampled_gradient": found.sampled, "certified_search": found.certified}
    if x_train is not None:
        with torch.no_grad():
            predictions = forward(model, x_train.to(torch.float64))
        lowers["training_secant"] = timed("training_secant", lambda: max_pairwise_secant(x_train, predictions))

    # The sampled maximum is reported but not used: only secant-certified values set the bracket.
    certified_lowers = {name: value for name, value in lowers.items() if name != "sampled_gradient"}
    upper_method = min(uppers, key=uppers.get)
    lower_method = max(certified_lowers, key=certified_lowers.get)
    lip_upper, lip_lower = uppers[upper_method], lowers[lower_method]
    if lip_upper < lip_lower * (1 - 1e-9):
        raise EstimatorError(
            f"certified upper bound {lip_upper!r} ({upper_method}) is below the lower bound "
            f"{lip_lower!r} ({lower_method}): an estimator is wrong"
        )
    record.update({f"lip_upper_{name}": value for name, value in uppers.items()})
    record.update({f"lip_lower_{name}": value for name, value in lowers.items()})
    record.update(
        {
            "lip_upper": lip_upper,
            "lip_upper_method": upper_method,
            "lip_lower": lip_lower,
            "lip_lower_method": lower_method,
            "lip_ratio": lip_upper / lip_lower if lip_lower > 0 else float("inf"),
        }
    )
    return {"bracket": record, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m robustlaw.lipschitz", description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", help="a .safetensors checkpoint in the README's format")
    parser.add_argument("--dataset", help="a dataset file from results/data/ to add its points to the search")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        model = load_checkpoint(args.checkpoint)
        x_train = x_test = None
        if args.dataset:
            arrays, _ = load_dataset(args.dataset)
            x_train, x_test = torch.from_numpy(arrays["x_train"]), torch.from_numpy(arrays["x_test"])
    except CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    result = lipschitz_bracket(model, BracketSpec(seed=args.seed), x_train, x_test)
    json.dump(result["bracket"], sys.stdout, indent=2, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
