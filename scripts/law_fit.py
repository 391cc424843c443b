"""Rule law_fit: slopes and prefactors of Lip vs p/(nd) with bootstrap intervals, and the frontier."""

import pandas as pd

from robustlaw.aggregate import write_parquet
from robustlaw.lawfit import frontier, law_fits
from robustlaw.runtime import file_logger

log = file_logger(snakemake.log[0], "law_fit")
settings = snakemake.params.settings
runs = pd.read_parquet(snakemake.input.runs)
fits = law_fits(runs, settings["min_p_over_n"], settings["resamples"])
write_parquet(fits, snakemake.output.fits)
write_parquet(frontier(runs), snakemake.output.frontier)
log.info(fits.to_string())
