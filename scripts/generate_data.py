"""Rule generate_data: draw one dataset from its config entry (synthetic, or subsampled from real data)."""

from robustlaw.data import make_dataset
from robustlaw.io import save_dataset
from robustlaw.runtime import file_logger

log = file_logger(snakemake.log[0], "generate_data")
arrays, meta = make_dataset(snakemake.params.spec)
save_dataset(snakemake.output[0], arrays, meta)
# The index lists of a real dataset can be long; they stay in the file's metadata only.
summary = {key: value for key, value in meta.items() if not key.endswith("_indices")}
log.info(f"wrote {snakemake.output[0]}: {summary}")
