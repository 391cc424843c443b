"""Rule train: one model (dataset, model, trainer, seed) trained full-batch to the fit criterion."""

import torch

from robustlaw.io import load_dataset, save_checkpoint, write_json
from robustlaw.models import MLP
from robustlaw.runtime import configure_torch, file_logger
from robustlaw.seeding import torch_generator
from robustlaw.train import TrainSpec, mse, train_full_batch

configure_torch(snakemake.threads)
log = file_logger(snakemake.log[0], "train")
ids = dict(snakemake.wildcards.items())
dataset, model_spec, trainer = snakemake.params.dataset, snakemake.params.model, snakemake.params.trainer
arrays, meta = load_dataset(snakemake.input.data)
x_train, y_train = torch.from_numpy(arrays["x_train"]), torch.from_numpy(arrays["y_train"])
x_test, y_test = torch.from_numpy(arrays["x_test"]), torch.from_numpy(arrays["y_test"])

target_mse = meta["noise_variance"] - dataset["eps"]
spec = TrainSpec(
    optimizer=trainer["optimizer"],
    learning_rate=trainer["learning_rate"],
    max_steps=trainer["max_steps"],
    target_mse=target_mse,
    log_every=trainer["log_every"],
)
generator = torch_generator("init", ids["dataset"], ids["model"], ids["trainer"], ids["seed"])
model = MLP(meta["d"], model_spec["width"], model_spec["depth"], model_spec["activation"], generator=generator)
log.info(f"training {ids} p={model.parameter_count()} target train MSE <= {target_mse}")
result = train_full_batch(model, x_train, y_train, spec, log=log.info)

save_checkpoint(snakemake.output.model, model)
write_json(
    snakemake.output.record,
    {
        **ids,
        "seed": int(ids["seed"]),
        "dataset_config": dataset,
        "model_config": model_spec,
        "trainer_config": trainer,
        "data_meta": meta,
        "p": model.parameter_count(),
        "target_mse": target_mse,
        "steps": result.steps,
        "train_mse": result.train_mse,
        "test_mse": mse(model, x_test, y_test),
        "fitted": result.fitted,
        "diverged": result.diverged,
        "wall_time_s": result.wall_time_s,
    },
)
log.info(f"done: steps={result.steps} train_mse={result.train_mse:.6g} fitted={result.fitted}")
