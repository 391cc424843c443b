"""Rule figures: every figure of the run (robustlaw.grid.FIGURE_NAMES) and its caption for the report.

The work is robustlaw.steps.figures, run in this job's own process.
"""

from robustlaw.steps.figures import run

run(snakemake)
