"""The work of rule generate_data: draw one dataset from its config entry (synthetic, or subsampled from real data)."""

from robustlaw.data.synthetic import make_dataset
from robustlaw.joblog import file_logger
from robustlaw.results.safetensor_files import save_dataset
from robustlaw.rulejob import RuleJob


def run(job: RuleJob) -> None:
    log = file_logger(job.log[0], "generate_data")
    arrays, meta = make_dataset(job.params.spec)
    save_dataset(job.output[0], arrays, meta)
    # The index lists of a real dataset can be long; they stay in the file's metadata only.
    summary = {key: value for key, value in meta.items() if not key.endswith("_indices")}
    log.info(f"wrote {job.output[0]}: {summary}")


if __name__ == "__main__":  # run by Snakemake's script directive, which defines `snakemake`
    run(snakemake)
