"""The work of rule lipschitz: the certified bracket lower <= Lip(f) <= upper of every model and seed of
one (dataset, trainer) sweep."""

import torch

from robustlaw.files import write_json
from robustlaw.joblog import file_logger
from robustlaw.lipschitz.bracket import BracketSpec, lipschitz_bracket
from robustlaw.results.paths import run_file
from robustlaw.results.provenance import compute_environment
from robustlaw.results.safetensor_files import load_checkpoint, load_dataset
from robustlaw.results.timings import timing_rows, write_timings
from robustlaw.rulejob import RuleJob, sweep_runs
from robustlaw.runtime import configure_torch
from robustlaw.seeding import stable_seed


def run(job: RuleJob) -> None:
    configure_torch(job.threads)
    log = file_logger(job.log[0], "lipschitz")
    arrays, _ = load_dataset(job.input.data)
    x_train, x_test = torch.from_numpy(arrays["x_train"]), torch.from_numpy(arrays["x_test"])
    compute = compute_environment(job.threads, "cpu")
    timings = []
    for ids, model_name, seed in sweep_runs(job):
        spec = BracketSpec.from_settings(job.params.settings, seed=stable_seed("lipschitz", *ids.values()))
        model = load_checkpoint(run_file(f"{job.params.models}/{model_name}", seed, ".safetensors"))
        result = lipschitz_bracket(model, spec, x_train, x_test)
        bracket = {**ids, "seed": seed, "bracket": result["bracket"], "compute": compute}
        write_json(run_file(f"{job.output.brackets}/{model_name}", seed, ".json"), bracket)
        timings += timing_rows(ids, {f"lipschitz_{name}": value for name, value in result["seconds"].items()})
        log.info(f"{ids}: {result['bracket']}")
        log.info(f"seconds: {result['seconds']}")
    write_timings(job.output.timings, timings)


if __name__ == "__main__":  # run by Snakemake's script directive, which defines `snakemake`
    run(snakemake)
