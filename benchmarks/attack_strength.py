"""The project's attack against a maintained attack library's suite (tests/library_attacks.py: foolbox PGD,
FMN, DDN, DeepFool) on every checkpoint of a results folder, at the config's radii, on both splits.

    .venv/bin/python benchmarks/attack_strength.py --results results [--trainers plain gradient_penalty]

Prints, per (model, split, radius), the project's certified and attacked accuracy and the suite's best
(the share no attack of the suite flips), and a summary: rows where the project's attacked share is above
the suite's best, the largest such excess, and the seconds each side took. Needs the dev pins
(envs/requirements-dev.txt).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from library_attacks import library_best_accuracy  # noqa: E402

from robustlaw.results.safetensor_files import load_checkpoint, load_dataset_tensors  # noqa: E402
from robustlaw.robustness.attack import AttackSpec, label_signs, robust_accuracy  # noqa: E402
from robustlaw.settings import robustness_settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--trainers", nargs="+", help="only these trainers' sweeps (default: every sweep)")
    parser.add_argument("--radii", type=float, nargs="+", default=robustness_settings()["radii"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    spec = AttackSpec.from_settings(robustness_settings(radii=args.radii), seed=0)
    rows, ours_s, library_s = [], 0.0, 0.0
    for record_path in sorted((args.results / "lipschitz").glob("*/*/*/seed*.json")):
        dataset, trainer, model_name = record_path.parts[-4:-1]
        if args.trainers and trainer not in args.trainers:
            continue
        checkpoint = (
            args.results / "models" / dataset / trainer / model_name / record_path.with_suffix(".safetensors").name
        )
        model = load_checkpoint(checkpoint).to(torch.float64)
        data, _ = load_dataset_tensors(args.results / "data" / f"{dataset}.safetensors", torch.float64)
        bracket = json.loads(record_path.read_text())["bracket"]
        start = time.perf_counter()
        ours = robust_accuracy(model, data, bracket, spec)
        ours_s += time.perf_counter() - start
        for split in ("train", "test"):
            start = time.perf_counter()
            best = library_best_accuracy(model, data[f"x_{split}"], label_signs(data[f"y_{split}"]), list(spec.radii))
            library_s += time.perf_counter() - start
            for row, library in zip([r for r in ours if r["split"] == split], best, strict=True):
                rows.append((f"{trainer}/{model_name}/{record_path.stem}", split, row, library))
                print(
                    f"{rows[-1][0]:40s} {split:5s} r={row['radius']:<5g} certified {row['certified_accuracy']:.4f} "
                    f"attacked {row['attacked_accuracy']:.4f} library {library:.4f}",
                    flush=True,
                )
    excess = [row["attacked_accuracy"] - library for _, _, row, library in rows]
    above = sum(value > 0 for value in excess)
    below = sum(value < 0 for value in excess)
    print(
        f"{len(rows)} rows: attacked above the library's best in {above}, below it in {below}; "
        f"largest excess {max(excess):+.4f}; seconds: ours {ours_s:.1f}, library {library_s:.1f}"
    )


if __name__ == "__main__":
    main()
