"""What the robustness step costs next to training and bracketing, and whether its attack has converged, on a
finished run's results.

Per (dataset, trainer) sweep it prints the seconds per model of training, of the Lipschitz bracket (all
its methods) and of the robustness step (certified and attacked accuracy at every radius, both splits),
from results/timings.tsv, and the robustness step's share of the three. Then, for the `--check` largest
models of each sweep, it runs the attack again with twice the steps and twice the restarts of the run's
config and prints the largest change in attacked accuracy over every split and radius: 0 means more
attack would not change the table.

    .venv/bin/python benchmarks/robustness_cost.py [--results results] [--check 2]
"""

import argparse
import json
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from robustlaw.files import read_json
from robustlaw.results.paths import BRACKET_FOLDER, MODEL_FOLDER, run_file
from robustlaw.results.safetensor_files import load_checkpoint, load_dataset_tensors
from robustlaw.robustness.attack import AttackSpec, robust_accuracy
from robustlaw.runtime import configure_torch
from robustlaw.seeding import stable_seed

IDS = ["dataset", "model", "trainer", "seed"]


def cost_table(timings: pd.DataFrame) -> pd.DataFrame:
    """Median and largest seconds per model of each step, per sweep, and robustness's share of their sum."""

    def column(name: str) -> pd.Series:
        return timings[name].fillna(0) if name in timings else pd.Series(0.0, index=timings.index)

    bracket = [name for name in timings if name.startswith("lipschitz_")]
    steps = timings[["dataset", "trainer"]].assign(
        fit_s=column("train_s") + column("fit_control_s"),
        bracket_s=timings[bracket].fillna(0).sum(axis=1),
        robustness_s=column("robustness_s"),
    )
    steps["total_s"] = steps[["fit_s", "bracket_s", "robustness_s"]].sum(axis=1)
    summary = steps.groupby(["dataset", "trainer"]).agg(
        models=("robustness_s", "size"),
        fit_median=("fit_s", "median"),
        bracket_median=("bracket_s", "median"),
        robustness_median=("robustness_s", "median"),
        robustness_max=("robustness_s", "max"),
        robustness_sum=("robustness_s", "sum"),
        total_sum=("total_s", "sum"),
    )
    summary["robustness_share"] = summary["robustness_sum"] / summary["total_sum"]
    return summary.drop(columns=["robustness_sum", "total_sum"])


def convergence(results: Path, runs: pd.DataFrame, settings: dict, check: int) -> pd.DataFrame:
    """The largest change of attacked accuracy when the attack doubles its steps and restarts, for the
    `check` widest models of each sweep (their first seed)."""
    rows = []
    chosen = (
        runs.sort_values("p")
        .groupby(["dataset", "trainer"])
        .tail(check)
        .drop_duplicates(["dataset", "model", "trainer"])
    )
    stronger = dict(
        settings, attack_steps=2 * settings["attack_steps"], attack_restarts=2 * settings["attack_restarts"]
    )
    for run in chosen.itertuples():
        ids = {"dataset": run.dataset, "model": run.model, "trainer": run.trainer, "seed": str(run.seed)}
        data, _ = load_dataset_tensors(results / "data" / f"{run.dataset}.safetensors")
        root = results.parent
        model = load_checkpoint(root / run_file(MODEL_FOLDER.format(**ids), run.seed, ".safetensors"))
        bracket = read_json(root / run_file(BRACKET_FOLDER.format(**ids), run.seed, ".json"))["bracket"]
        seed = stable_seed("robustness", *ids.values())
        shares = {}
        for name, chosen_settings in (("config", settings), ("doubled", stronger)):
            start = time.perf_counter()
            found = robust_accuracy(model, data, bracket, AttackSpec.from_settings(chosen_settings, seed))
            shares[name] = ([row["attacked_accuracy"] for row in found], time.perf_counter() - start)
        change = max(abs(a - b) for a, b in zip(shares["config"][0], shares["doubled"][0], strict=True))
        rows.append(
            {
                **ids,
                "p": run.p,
                "seconds": shares["config"][1],
                "doubled_seconds": shares["doubled"][1],
                "largest_change": change,
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", default="results", help="a finished run's results folder")
    parser.add_argument("--check", type=int, default=2, help="models per sweep whose attack is checked (0: none)")
    args = parser.parse_args()
    configure_torch(1)
    results = Path(args.results)
    timings = pd.read_csv(results / "timings.tsv", sep="\t")
    pd.set_option("display.width", 200)
    print(f"Seconds per model, one thread (from {results / 'timings.tsv'}):")
    print(cost_table(timings).round(3).to_string())
    config = json.loads(pq.read_schema(results / "robustness.parquet").metadata[b"robustlaw.config"])
    if args.check:
        runs = pd.read_parquet(results / "runs.parquet", columns=[*IDS, "p"])
        print(f"\nAttack settings of the run: {config['robustness']}; the same attack with steps and restarts doubled:")
        print(convergence(results, runs, config["robustness"], args.check).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
