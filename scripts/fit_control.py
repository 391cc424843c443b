"""The work of rule fit_control: the closed-form minimum-norm interpolators (no SGD) of one dataset, every
control width and seed."""

import time

import torch

from robustlaw.files import write_json
from robustlaw.joblog import file_logger
from robustlaw.results.paths import CLOSED_FORM, run_file
from robustlaw.results.provenance import compute_environment
from robustlaw.results.safetensor_files import (
    DATASET_ARRAYS,
    load_checkpoint,
    load_dataset_tensors,
    save_checkpoint,
)
from robustlaw.results.timings import timing_rows, write_timings
from robustlaw.rulejob import RuleJob
from robustlaw.runtime import configure_torch
from robustlaw.seeding import torch_generator
from robustlaw.training.controls import control_parameter_count, effective_parameter_count, fit_control
from robustlaw.training.records import FitOutcome, fit_record


def run(job: RuleJob) -> None:
    configure_torch(job.threads)
    log = file_logger(job.log[0], "fit_control")
    data, meta = load_dataset_tensors(job.input.data, torch.float64)
    compute = compute_environment(job.threads, "cpu")
    timings = []
    for configuration in job.params.configurations:
        folder = f"{job.output.models}/{configuration['model']}"
        for seed in configuration["seeds"]:
            ids = {"dataset": job.wildcards.dataset, "model": configuration["model"], "trainer": CLOSED_FORM}
            ids["seed"] = str(seed)
            seconds = fit_seed(job.params.dataset, configuration["spec"], folder, ids, data, meta, compute, log)
            timings += timing_rows(ids, {"train": seconds})
    write_timings(job.output.timings, timings)


def fit_seed(
    dataset: dict,
    model_spec: dict,
    folder: str,
    ids: dict[str, str],
    data: dict[str, torch.Tensor],
    meta: dict,
    compute: dict,
    log,
) -> float:
    """Fit one seed of a control; write its checkpoint and record into the configuration's folder; return the
    seconds the fit took."""
    x_train, y_train, x_test, y_test = (data[name] for name in DATASET_ARRAYS)
    kind, width, d = model_spec["family"], model_spec["width"], meta["d"]
    start = time.perf_counter()
    model = fit_control(
        kind, x_train, y_train, width, torch_generator("control", ids["dataset"], ids["model"], ids["seed"])
    )
    wall_time = time.perf_counter() - start
    target_mse = meta["noise_variance"] - dataset["eps"]
    checkpoint = run_file(folder, ids["seed"], ".safetensors")
    save_checkpoint(checkpoint, model)
    # Errors of the model as stored (random features are stored in float32), the one evaluated later.
    model = load_checkpoint(checkpoint)
    with torch.no_grad():
        train_mse = float(torch.mean((model(x_train) - y_train) ** 2))
        test_mse = float(torch.mean((model(x_test) - y_test) ** 2))
    outcome = FitOutcome(
        p=control_parameter_count(kind, d, width),
        # Data in an m-dimensional subspace see only the model's restriction to it.
        p_eff=effective_parameter_count(kind, meta.get("intrinsic_dim") or d, width),
        target_mse=target_mse,
        train_mse=train_mse,
        test_mse=test_mse,
        fitted=train_mse <= target_mse,
        status="fitted" if train_mse <= target_mse else "not_interpolating",
        diverged=False,
        steps=0,
        selected_step=0,
        penalty=None,
        device="cpu",
    )
    write_json(
        run_file(folder, ids["seed"], ".json"),
        fit_record(ids, dataset, model_spec, {"method": "closed_form"}, meta, outcome, compute),
    )
    log.info(f"{ids}: {outcome}")
    return wall_time


if __name__ == "__main__":  # run by Snakemake's script directive, which defines `snakemake`
    run(snakemake)
