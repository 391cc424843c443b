"""Rule train: every seed of one configuration (dataset, trainer, model), trained full batch to the fit criterion.

The work is robustlaw.steps.train, run in this job's own process.
"""

from robustlaw.steps.train import run

run(snakemake)
