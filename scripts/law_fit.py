"""The work of rule law_fit: Lip vs p/(nd) fitted (slope, prefactor, intervals), local slopes, the frontier."""

import pandas as pd
import pyarrow.parquet as pq

from robustlaw.files import write_text
from robustlaw.joblog import file_logger
from robustlaw.report.law_fit import frontier, law_fits, local_slopes
from robustlaw.results.columns import FRONTIER_COLUMNS, LAW_FIT_COLUMNS, LOCAL_SLOPE_COLUMNS
from robustlaw.results.provenance import compute_environment, distinct_environments, read_provenance, table_metadata
from robustlaw.results.tables import write_parquet
from robustlaw.rulejob import RuleJob


def run(job: RuleJob) -> None:
    log = file_logger(job.log[0], "law_fit")
    config = job.params.config
    settings = config["law_fit"]
    runs = pd.read_parquet(job.input.runs)
    fits = law_fits(runs, settings["min_p_over_n"], settings["resamples"])
    # The fits inherit the noise of the runs' numbers and add that of this process's least squares.
    sources = read_provenance(pq.read_schema(job.input.runs).metadata).get("compute", [])
    compute = distinct_environments([*sources, compute_environment(job.threads, "cpu")])
    write_parquet(fits, job.output.law_fit, table_metadata(config, LAW_FIT_COLUMNS, compute))
    write_parquet(frontier(runs), job.output.frontier, table_metadata(config, FRONTIER_COLUMNS, compute))
    local = local_slopes(runs, settings["min_p_over_n"], settings["resamples"])
    write_parquet(local, job.output.local_slopes, table_metadata(config, LOCAL_SLOPE_COLUMNS, compute))
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
    shown += ["points", "seeds", "d_intrinsic", "prefactor_intrinsic"]
    page = fits[fits["side"] == "upper"][shown].to_html(index=False, float_format="{:.3g}".format, na_rep="-")
    local_shown = ["dataset", "series", "trainer", "width_low", "width_high", "p_over_nd_centre", "slope"]
    local_shown += ["slope_low", "slope_high", "in_window", "below_cap", "seeds"]
    local_page = local[local["side"] == "upper"][local_shown].to_html(
        index=False, float_format="{:.3g}".format, na_rep="-"
    )
    write_text(
        job.output.page,
        f"<h3>Fitted law Lip = C (p/(nd))^b (certified upper ends)</h3>\n{page}\n"
        "<p>prefactor_intrinsic: C' of the same fit against p/(n d_intrinsic), "
        "the fitted Lip at p = n d_intrinsic.</p>\n"
        f"<h3>Local slopes over three neighbouring widths (certified upper ends)</h3>\n{local_page}\n",
    )
    log.info(fits.to_string())
    log.info(local.to_string())


if __name__ == "__main__":  # run by Snakemake's script directive, which defines `snakemake`
    run(snakemake)
