"""Rule data_floor: L_sep, the smallest Lipschitz constant of any interpolant of the training data."""

import torch

from robustlaw.floor import data_floor
from robustlaw.io import load_dataset, write_json
from robustlaw.runtime import configure_torch, file_logger

configure_torch(snakemake.threads)
log = file_logger(snakemake.log[0], "data_floor")
arrays, meta = load_dataset(snakemake.input.data)
l_sep = data_floor(torch.from_numpy(arrays["x_train"]), torch.from_numpy(arrays["y_train"]))
write_json(snakemake.output[0], {"dataset": snakemake.wildcards.dataset, "l_sep": l_sep})
log.info(f"L_sep = {l_sep}")
