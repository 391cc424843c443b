"""Rule train: one model (dataset, model, trainer, seed) trained full-batch to the fit criterion.

The work is robustlaw.steps.train; robustlaw.worker runs it in a warm interpreter.
"""

from robustlaw.worker import run_step

run_step("train", snakemake)
