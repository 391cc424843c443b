"""The Lipschitz bracket of finished runs' checkpoints, as the lipschitz step computes it (default settings,
the step's seed, training and test points of the run's dataset, one thread), with the seconds per method.

Run it with two versions of the package on PYTHONPATH to see what a change does to the ends and the time
(e.g. the rounding allowances of issue 27: `git archive <commit> scripts | tar -x -C /tmp/before`, then
PYTHONPATH=/tmp/before/scripts). Prints one JSON line per checkpoint; writes nothing.

    .venv/bin/python benchmarks/bracket_checkpoints.py RESULTS_DIR DATASET TRAINER MODEL SEED [...]
        (RESULTS_DIR holds models/ and data/, e.g. a finished default run's results/)
"""

import argparse
import json
import time

import torch

from robustlaw.lipschitz.bracket import BracketSpec, lipschitz_bracket
from robustlaw.results.safetensor_files import load_checkpoint, load_dataset
from robustlaw.runtime import configure_torch
from robustlaw.seeding import stable_seed
from robustlaw.settings import lipschitz_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results")
    parser.add_argument("runs", nargs="+", help="DATASET TRAINER MODEL SEED, repeated")
    args = parser.parse_args()
    if len(args.runs) % 4:
        parser.error("runs come in fours: DATASET TRAINER MODEL SEED")
    configure_torch(1)
    for dataset, trainer, model_name, seed in zip(*[iter(args.runs)] * 4, strict=True):
        arrays, _ = load_dataset(f"{args.results}/data/{dataset}.safetensors")
        x_train, x_test = torch.from_numpy(arrays["x_train"]), torch.from_numpy(arrays["x_test"])
        model = load_checkpoint(f"{args.results}/models/{dataset}/{trainer}/{model_name}/seed{seed}.safetensors")
        ids = {"dataset": dataset, "model": model_name, "trainer": trainer, "seed": seed}
        spec = BracketSpec.from_settings(lipschitz_settings(), seed=stable_seed("lipschitz", *ids.values()))
        start = time.perf_counter()
        result = lipschitz_bracket(model, spec, x_train, x_test)
        total = time.perf_counter() - start
        print(json.dumps({**ids, **result["bracket"], "seconds": result["seconds"], "total_s": total}), flush=True)


if __name__ == "__main__":
    main()
