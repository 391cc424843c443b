"""Rule figures: Lipschitz bracket, frontier and training MSE against the parameter count.

The work is robustlaw.steps.figures, run in this job's own process.
"""

from robustlaw.steps.figures import run

run(snakemake)
