"""Rule generate_data: draw one dataset from its config entry."""

from dataclasses import asdict

from robustlaw.data import dataset_spec, generate_dataset
from robustlaw.io import save_dataset
from robustlaw.runtime import file_logger

log = file_logger(snakemake.log[0], "generate_data")
spec = dataset_spec(snakemake.params.spec)
arrays = generate_dataset(spec)
meta = dict(asdict(spec), noise_variance=spec.noise_variance)
save_dataset(snakemake.output[0], arrays, meta)
log.info(f"wrote {snakemake.output[0]}: {meta}")
