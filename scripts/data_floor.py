"""The work of rule data_floor: L_sep, the smallest Lipschitz constant of any interpolant of the training data."""

import torch

from robustlaw.data.floor import data_floor
from robustlaw.files import write_json
from robustlaw.joblog import file_logger
from robustlaw.results.provenance import compute_environment
from robustlaw.results.safetensor_files import load_dataset
from robustlaw.rulejob import RuleJob
from robustlaw.runtime import configure_torch


def run(job: RuleJob) -> None:
    configure_torch(job.threads)
    log = file_logger(job.log[0], "data_floor")
    arrays, meta = load_dataset(job.input.data)
    l_sep = data_floor(torch.from_numpy(arrays["x_train"]), torch.from_numpy(arrays["y_train"]))
    floor = {"dataset": job.wildcards.dataset, "l_sep": l_sep, "compute": compute_environment(job.threads, "cpu")}
    write_json(job.output[0], floor)
    log.info(f"L_sep = {l_sep}")


if __name__ == "__main__":  # run by Snakemake's script directive, which defines `snakemake`
    run(snakemake)
