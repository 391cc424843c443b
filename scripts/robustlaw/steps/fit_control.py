"""The work of rule fit_control: a closed-form minimum-norm interpolator (no SGD) of one dataset and seed."""

import time

import torch

from ..controls import control_parameter_count, effective_parameter_count, fit_control
from ..io import load_checkpoint, load_dataset, save_checkpoint, write_json
from ..records import FitOutcome, fit_record
from ..runtime import configure_torch, file_logger
from ..seeding import torch_generator
from . import RuleJob


def run(job: RuleJob) -> None:
    configure_torch(job.threads)
    log = file_logger(job.log[0], "fit_control")
    ids = dict(job.wildcards.items(), trainer="closed_form")
    dataset, model_spec = job.params.dataset, job.params.model
    arrays, meta = load_dataset(job.input.data)
    x_train, y_train, x_test, y_test = (
        torch.from_numpy(arrays[name]).to(torch.float64) for name in ("x_train", "y_train", "x_test", "y_test")
    )
    kind, width, d = model_spec["family"], model_spec["width"], meta["d"]
    start = time.perf_counter()
    model = fit_control(
        kind, x_train, y_train, width, torch_generator("control", ids["dataset"], ids["model"], ids["seed"])
    )
    wall_time = time.perf_counter() - start
    target_mse = meta["noise_variance"] - dataset["eps"]
    save_checkpoint(job.output.model, model)
    # Errors of the model as stored (random features are stored in float32), the one evaluated later.
    model = load_checkpoint(job.output.model)
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
    write_json(job.output.record, fit_record(ids, dataset, model_spec, {"method": "closed_form"}, meta, outcome))
    log.info(f"{ids}: {outcome}")
