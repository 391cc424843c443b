"""Rule figures: the Lipschitz-vs-p and training-MSE-vs-p figures from runs.parquet."""

import pandas as pd

from robustlaw.figures import lipschitz_figure, save_figure, training_mse_figure
from robustlaw.runtime import file_logger

log = file_logger(snakemake.log[0], "figures")
runs = pd.read_parquet(snakemake.input.runs)
for make, outputs in (
    (lipschitz_figure, (snakemake.output.lipschitz_png, snakemake.output.lipschitz_svg)),
    (training_mse_figure, (snakemake.output.mse_png, snakemake.output.mse_svg)),
):
    figure = make(runs)
    for path in outputs:
        save_figure(figure, path)
        log.info(f"wrote {path}")
