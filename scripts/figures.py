"""Rule figures: Lipschitz bracket, frontier and training MSE against the parameter count."""

import matplotlib.pyplot as plt
import pandas as pd

from robustlaw.figures import frontier_figure, lipschitz_figure, save_figure, training_mse_figure
from robustlaw.runtime import file_logger

log = file_logger(snakemake.log[0], "figures")
runs = pd.read_parquet(snakemake.input.runs)
figures = {
    "lipschitz_vs_p": lambda: lipschitz_figure(runs, pd.read_parquet(snakemake.input.fits)),
    "frontier": lambda: frontier_figure(pd.read_parquet(snakemake.input.frontier)),
    "training_mse": lambda: training_mse_figure(runs),
}
for name, draw in figures.items():
    figure = draw()
    for extension in ("png", "svg"):
        path = snakemake.output[f"{name}_{extension}"]
        save_figure(figure, path)
        log.info(f"wrote {path}")
    plt.close(figure)
