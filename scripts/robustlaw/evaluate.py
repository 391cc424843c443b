"""`robustlaw evaluate CHECKPOINT [--dataset DATASET] [--radii R ...]`: the Lipschitz bracket of any checkpoint in
the documented format, and with --radii its clean, certified and attacked accuracy on the dataset's training
and test points, printed as JSON."""

import argparse
import json
import sys

import torch

from .io import DATASET_ARRAYS, CheckpointError, load_checkpoint, load_dataset
from .lipschitz import BracketSpec, lipschitz_bracket
from .robustness import AttackSpec, robust_accuracy
from .settings import lipschitz_settings, robustness_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = robustness_settings()
    parser.add_argument("checkpoint", help="a .safetensors checkpoint in the README's format")
    parser.add_argument("--dataset", help="a dataset file from results/data/ to add its points to the search")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bracket's search and the attack's restarts")
    parser.add_argument(
        "--radii",
        type=float,
        nargs="+",
        help="L2 radii at which to bracket robust accuracy on the dataset's points (needs --dataset)",
    )
    parser.add_argument("--attack-steps", type=int, default=defaults["attack_steps"], help="PGD-L2 steps per restart")
    parser.add_argument("--attack-restarts", type=int, default=defaults["attack_restarts"], help="PGD-L2 restarts")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.radii and not args.dataset:
        parser.error("--radii needs --dataset: robust accuracy is measured on a dataset's points")
    if args.radii and min(args.radii) <= 0:
        parser.error(f"--radii must be positive, got {args.radii}")
    if min(args.attack_steps, args.attack_restarts) < 1:
        parser.error("--attack-steps and --attack-restarts must be at least 1")
    try:
        model = load_checkpoint(args.checkpoint)
        data = None
        if args.dataset:
            arrays, _ = load_dataset(args.dataset)
            if arrays["x_train"].shape[1] != model.input_dim:
                raise CheckpointError(
                    f"{args.dataset}: points of d = {arrays['x_train'].shape[1]}, but {args.checkpoint} "
                    f"takes inputs of d = {model.input_dim}"
                )
            data = {name: torch.from_numpy(arrays[name]) for name in DATASET_ARRAYS}
    except CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    points = (None, None) if data is None else (data["x_train"], data["x_test"])
    result = lipschitz_bracket(model, BracketSpec.from_settings(lipschitz_settings(), seed=args.seed), *points)
    output = dict(result["bracket"])
    if args.radii:
        settings = robustness_settings(
            radii=args.radii, attack_steps=args.attack_steps, attack_restarts=args.attack_restarts
        )
        output["robustness"] = robust_accuracy(model, data, output, AttackSpec.from_settings(settings, seed=args.seed))
    json.dump(output, sys.stdout, indent=2, sort_keys=True)
    print()
    return 0
