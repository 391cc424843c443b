"""The work of rule figures: Lipschitz bracket, frontier and training MSE against the parameter count."""

import matplotlib.pyplot as plt
import pandas as pd

from ..figures import frontier_figure, lipschitz_figure, save_figure, training_mse_figure
from ..joblog import file_logger
from . import RuleJob


def run(job: RuleJob) -> None:
    log = file_logger(job.log[0], "figures")
    runs = pd.read_parquet(job.input.runs)
    figures = {
        "lipschitz_vs_p": lambda: lipschitz_figure(runs, pd.read_parquet(job.input.fits)),
        "frontier": lambda: frontier_figure(pd.read_parquet(job.input.frontier)),
        "training_mse": lambda: training_mse_figure(runs),
    }
    for name, draw in figures.items():
        figure = draw()
        for extension in ("png", "svg"):
            path = job.output[f"{name}_{extension}"]
            save_figure(figure, path)
            log.info(f"wrote {path}")
        plt.close(figure)
