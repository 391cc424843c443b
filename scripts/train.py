"""The work of rule train: every seed of one configuration (dataset, model, trainer) trained full-batch to the
fit criterion, one after another."""

import torch

from robustlaw.files import write_json
from robustlaw.joblog import file_logger
from robustlaw.results.paths import run_file
from robustlaw.results.provenance import compute_environment
from robustlaw.results.safetensor_files import load_dataset_tensors, save_checkpoint
from robustlaw.results.timings import timing_rows, write_timings
from robustlaw.rulejob import RuleJob
from robustlaw.runtime import configure_torch, job_device
from robustlaw.seeding import torch_generator
from robustlaw.training.fit import TrainSpec, mse, train_full_batch
from robustlaw.training.models import MLP
from robustlaw.training.records import FitOutcome, fit_record


def run(job: RuleJob) -> None:
    configure_torch(job.threads)
    log = file_logger(job.log[0], "train")
    device = job_device(job.params.device)
    data, meta = load_dataset_tensors(job.input.data, device)
    timings = []
    for seed in job.params.seeds:
        ids = {key: job.wildcards[key] for key in ("dataset", "model", "trainer")} | {"seed": str(seed)}
        timings += timing_rows(ids, {"train": train_seed(job, ids, data, meta, device, log)})
    write_timings(job.output.timings, timings)


def train_seed(job: RuleJob, ids: dict[str, str], data: dict[str, torch.Tensor], meta: dict, device, log) -> float:
    """Fit one seed of the job's configuration; write its checkpoint and record; return the seconds it took."""
    dataset, model_spec, trainer = job.params.dataset, job.params.model, job.params.trainer
    target_mse = meta["noise_variance"] - dataset["eps"]
    spec = TrainSpec.from_trainer(trainer, target_mse)
    seed_parts = (ids["dataset"], ids["model"], ids["trainer"], ids["seed"])
    # Initialised on the CPU from the seeded generator, so CPU and GPU runs start from the same weights.
    model = MLP(
        meta["d"],
        model_spec["width"],
        model_spec["depth"],
        model_spec["activation"],
        generator=torch_generator("init", *seed_parts),
    )
    model.to(device)
    p = model.parameter_count()
    log.info(f"training {ids} on {device}: p={p}, target train MSE <= {target_mse}")
    result = train_full_batch(
        model, data["x_train"], data["y_train"], spec, log=log.info, generator=torch_generator("probes", *seed_parts)
    )

    save_checkpoint(run_file(job.output.models, ids["seed"], ".safetensors"), model)
    outcome = FitOutcome(
        p=p,
        p_eff=p,
        target_mse=target_mse,
        train_mse=result.train_mse,
        test_mse=mse(model, data["x_test"], data["y_test"]),
        fitted=result.fitted,
        status=result.status,
        diverged=result.diverged,
        steps=result.steps,
        selected_step=result.selected_step,
        penalty=result.penalty,
        device=device.type,
    )
    record = fit_record(ids, dataset, model_spec, trainer, meta, outcome, compute_environment(job.threads, device.type))
    write_json(run_file(job.output.models, ids["seed"], ".json"), record)
    log.info(f"done: steps={result.steps} train_mse={result.train_mse:.6g} status={result.status}")
    return result.wall_time_s


if __name__ == "__main__":  # run by Snakemake's script directive, which defines `snakemake`
    run(snakemake)
