"""`robustlaw evaluate CHECKPOINT [--dataset DATASET] [--radii R ...] [--results RESULTS]`: the Lipschitz bracket
of any checkpoint in the documented format, and with --radii its clean, certified and attacked accuracy on the
dataset's training and test points, printed as JSON. With --results, the folder of the run that made the
checkpoint, the run's own settings, seeds and dataset: the bracket and the robust accuracies are those the run
recorded (runs.parquet, robustness.parquet)."""

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq

from robustlaw.lipschitz.bracket import BracketSpec, lipschitz_bracket
from robustlaw.results.paths import MODEL_FOLDER, run_file
from robustlaw.results.provenance import read_provenance
from robustlaw.results.safetensor_files import CheckpointError, load_checkpoint, load_dataset_tensors
from robustlaw.robustness.attack import AttackSpec, robust_accuracy
from robustlaw.seeding import stable_seed
from robustlaw.settings import lipschitz_settings, robustness_settings


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
    parser.add_argument(
        "--results",
        help="the results folder of the run that made the checkpoint: its settings, seeds and dataset (and its radii "
        "unless --radii is given) replace the defaults above",
    )


def run_ids(checkpoint: str, results: str) -> dict[str, str]:
    """dataset, model, trainer and seed of a checkpoint inside a results folder, from the layout of results.paths."""
    layout = MODEL_FOLDER.split("/")[1:]  # below results/: models/{dataset}/{trainer}/{model}
    try:
        *folder, name = Path(checkpoint).resolve().relative_to(Path(results).resolve()).parts
    except ValueError:
        folder, name = [], ""
    in_layout = len(folder) == len(layout) and all(
        part == key for part, key in zip(folder, layout, strict=True) if not key.startswith("{")
    )
    if not (in_layout and name.startswith("seed") and name.endswith(".safetensors")):
        expected = run_file(MODEL_FOLDER, "<seed>", ".safetensors")
        raise CheckpointError(f"{checkpoint}: not a checkpoint of the run in {results} (expected {expected})")
    ids = {key.strip("{}"): part for key, part in zip(layout, folder, strict=True) if key.startswith("{")}
    return {**ids, "seed": name.removeprefix("seed").removesuffix(".safetensors")}


def run_settings(results: str, ids: dict[str, str]) -> tuple[BracketSpec, AttackSpec]:
    """The bracket's and the attack's settings and seeds as the run's jobs had them (scripts/lipschitz.py,
    scripts/robustness.py)."""
    config = read_provenance(pq.read_schema(Path(results) / "runs.parquet").metadata)["config"]
    # The jobs' order of the ids: dataset, model, trainer, seed.
    parts = [ids[key] for key in ("dataset", "model", "trainer", "seed")]
    bracket = BracketSpec.from_settings(config["lipschitz"], seed=stable_seed("lipschitz", *parts))
    attack = AttackSpec.from_settings(config["robustness"], seed=stable_seed("robustness", *parts))
    return bracket, attack


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.radii and not args.dataset:
        parser.error("--radii needs --dataset: robust accuracy is measured on a dataset's points")
    if args.radii and min(args.radii) <= 0:
        parser.error(f"--radii must be positive, got {args.radii}")
    if min(args.attack_steps, args.attack_restarts) < 1:
        parser.error("--attack-steps and --attack-restarts must be at least 1")
    try:
        model = load_checkpoint(args.checkpoint)
        data, dataset = None, args.dataset
        if args.results:
            ids = run_ids(args.checkpoint, args.results)
            bracket_spec, attack_spec = run_settings(args.results, ids)
            dataset = dataset or str(Path(args.results) / "data" / f"{ids['dataset']}.safetensors")
        else:
            bracket_spec = BracketSpec.from_settings(lipschitz_settings(), seed=args.seed)
        if dataset:
            data, _ = load_dataset_tensors(dataset)
            if data["x_train"].shape[1] != model.input_dim:
                raise CheckpointError(
                    f"{dataset}: points of d = {data['x_train'].shape[1]}, but {args.checkpoint} "
                    f"takes inputs of d = {model.input_dim}"
                )
    except CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    points = (None, None) if data is None else (data["x_train"], data["x_test"])
    result = lipschitz_bracket(model, bracket_spec, *points)
    output = dict(result["bracket"])
    if args.results:
        radii = tuple(sorted(args.radii)) if args.radii else attack_spec.radii
        output["robustness"] = robust_accuracy(model, data, output, replace(attack_spec, radii=radii))
    elif args.radii:
        settings = robustness_settings(
            radii=args.radii, attack_steps=args.attack_steps, attack_restarts=args.attack_restarts
        )
        output["robustness"] = robust_accuracy(model, data, output, AttackSpec.from_settings(settings, seed=args.seed))
    json.dump(output, sys.stdout, indent=2, sort_keys=True)
    print()
    return 0
