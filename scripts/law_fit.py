"""Rule law_fit: slopes and prefactors of Lip vs p/(nd) with bootstrap intervals, and the frontier."""

import pandas as pd

from robustlaw.aggregate import write_parquet
from robustlaw.columns import FRONTIER_COLUMNS, LAW_FIT_COLUMNS
from robustlaw.io import write_text
from robustlaw.lawfit import frontier, law_fits
from robustlaw.provenance import table_metadata
from robustlaw.runtime import file_logger

log = file_logger(snakemake.log[0], "law_fit")
config = snakemake.params.config
settings = config["law_fit"]
runs = pd.read_parquet(snakemake.input.runs)
fits = law_fits(runs, settings["min_p_over_n"], settings["resamples"])
write_parquet(fits, snakemake.output.fits, table_metadata(config, LAW_FIT_COLUMNS))
write_parquet(frontier(runs), snakemake.output.frontier, table_metadata(config, FRONTIER_COLUMNS))
shown = [
    "dataset",
    "series",
    "trainer",
    "side",
    "slope",
    "slope_low",
    "slope_high",
    "prefactor",
    "span_low",
    "span_high",
]
shown += ["points", "seeds"]
page = fits[fits["side"] == "upper"][shown].to_html(index=False, float_format="{:.3g}".format, na_rep="-")
write_text(snakemake.output.page, f"<h3>Fitted law Lip = C (p/(nd))^b (certified upper ends)</h3>\n{page}\n")
log.info(fits.to_string())
