"""The work of rule fit_control: the closed-form minimum-norm interpolators (no SGD) of one control on one
dataset, one per seed."""

import time

import torch

from ..controls import control_parameter_count, effective_parameter_count, fit_control
from ..grid import run_file
from ..io import DATASET_ARRAYS, load_checkpoint, load_dataset, save_checkpoint, write_json
from ..provenance import compute_environment
from ..records import FitOutcome, fit_record
from ..runtime import configure_torch, file_logger
from ..seeding import torch_generator
from . import RuleJob


def run(job: RuleJob) -> None:
    configure_torch(job.threads)
    log = file_logger(job.log[0], "fit_control")
    arrays, meta = load_dataset(job.input.data)
    data = {name: torch.from_numpy(arrays[name]).to(torch.float64) for name in DATASET_ARRAYS}
    for seed in job.params.seeds:
        ids = dict(job.wildcards.items(), seed=str(seed), trainer="closed_form")
        fit_seed(job, ids, data, meta, log)


def fit_seed(job: RuleJob, ids: dict[str, str], data: dict[str, torch.Tensor], meta: dict, log) -> None:
    """Fit one seed of the job's control; write its checkpoint and record."""
    dataset, model_spec = job.params.dataset, job.params.model
    x_train, y_train, x_test, y_test = (data[name] for name in DATASET_ARRAYS)
    kind, width, d = model_spec["family"], model_spec["width"], meta["d"]
    start = time.perf_counter()
    model = fit_control(
        kind, x_train, y_train, width, torch_generator("control", ids["dataset"], ids["model"], ids["seed"])
    )
    wall_time = time.perf_counter() - start
    target_mse = meta["noise_variance"] - dataset["eps"]
    checkpoint = run_file(job.output.models, ids["seed"], ".safetensors")
    save_checkpoint(checkpoint, model)
    # Errors of the model as stored (random features are stored in float32), the one evaluated later.
    model = load_checkpoint(checkpoint)
    with torch.no_grad():
        train_mse = float(torch.mean((model(x_train) - y_train) ** 2))
        test_mse = float(torch.mean((model(x_test) - y_test) ** 2))
    outcome = FitOutcome(
        p=control_parameter_count(kind, d, width),
        p_eff=effective_parameter_count(kind, d, width),
        target_mse=target_mse,
        train_mse=train_mse,
        test_mse=test_mse,
        fitted=train_mse <= target_mse,
        status="fitted" if train_mse <= target_mse else "not_interpolating",
        diverged=False,
        steps=0,
        selected_step=0,
        penalty=None,
        wall_time_s=wall_time,
        device="cpu",
    )
    write_json(
        run_file(job.output.models, ids["seed"], ".json"),
        fit_record(
            ids, dataset, model_spec, {"method": "closed_form"}, meta, outcome, compute_environment(job.threads, "cpu")
        ),
    )
    log.info(f"{ids}: {outcome}")
