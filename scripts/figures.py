"""The work of rule figures: every figure of robustlaw.catalogue.FIGURES and its caption for the report."""

import matplotlib.pyplot as plt
import pandas as pd

from robustlaw.catalogue import FIGURE_FORMATS
from robustlaw.files import write_text
from robustlaw.joblog import file_logger
from robustlaw.report.captions import figure_captions, robustness_captions
from robustlaw.report.figure_check import figure_problems
from robustlaw.report.law_figures import figure_style, save_figure
from robustlaw.report.robustness_figures import every_figure
from robustlaw.rulejob import RuleJob


def run(job: RuleJob) -> None:
    log = file_logger(job.log[0], "figures")
    runs, fits = pd.read_parquet(job.input.runs), pd.read_parquet(job.input.law_fit)
    robustness = pd.read_parquet(job.input.robustness)
    figures = every_figure(runs, fits, pd.read_parquet(job.input.frontier), robustness)
    style = figure_style(runs)
    captions = figure_captions(runs, fits, style) | robustness_captions(runs, fits, robustness, style)
    for name, draw in figures.items():
        figure = draw()
        # The test suite holds every figure to these checks; a run's data may still surprise them.
        for problem in figure_problems(figure):
            log.warning(f"{name}: {problem}")
        for extension in FIGURE_FORMATS:
            path = job.output[f"{name}_{extension}"]
            save_figure(figure, path)
            log.info(f"wrote {path}")
        plt.close(figure)
        write_text(job.output[f"{name}_caption"], captions[name])


if __name__ == "__main__":  # run by Snakemake's script directive, which defines `snakemake`
    run(snakemake)
