"""The work of rule robustness: clean, certified and attacked accuracy of every model and seed of one (dataset,
trainer) sweep, at every radius of the config, on the training and the test points."""

import time

from robustlaw.files import read_json, write_json
from robustlaw.joblog import file_logger
from robustlaw.results.paths import run_file
from robustlaw.results.provenance import compute_environment
from robustlaw.results.safetensor_files import load_checkpoint, load_dataset_tensors
from robustlaw.results.timings import timing_rows, write_timings
from robustlaw.robustness.attack import AttackSpec, robust_accuracy
from robustlaw.rulejob import RuleJob, sweep_runs
from robustlaw.runtime import configure_torch, job_device
from robustlaw.seeding import stable_seed


def run(job: RuleJob) -> None:
    configure_torch(job.threads)
    log = file_logger(job.log[0], "robustness")
    device = job_device(job.params.device)
    data, _ = load_dataset_tensors(job.input.data, device)
    compute = compute_environment(job.threads, device.type)
    timings = []
    for ids, model_name, seed in sweep_runs(job):
        spec = AttackSpec.from_settings(job.params.settings, seed=stable_seed("robustness", *ids.values()))
        model = load_checkpoint(run_file(f"{job.params.models}/{model_name}", seed, ".safetensors")).to(device)
        bracket = read_json(run_file(f"{job.input.brackets}/{model_name}", seed, ".json"))["bracket"]
        start = time.perf_counter()
        rows = robust_accuracy(model, data, bracket, spec)
        seconds = time.perf_counter() - start
        record = {**ids, "seed": seed, "lip_upper": bracket["lip_upper"], "rows": rows, "compute": compute}
        write_json(run_file(f"{job.output.robustness}/{model_name}", seed, ".json"), record)
        timings += timing_rows(ids, {"robustness": seconds})
        log.info(f"{ids}: {seconds:.2f} s")
        for row in rows:
            log.info(f"  {row}")
    write_timings(job.output.timings, timings)


if __name__ == "__main__":  # run by Snakemake's script directive, which defines `snakemake`
    run(snakemake)
