"""Rule robustness: clean, certified and attacked accuracy of every model of one (dataset, trainer) series.

The work is robustlaw.steps.robustness, run in this job's own process.
"""

from robustlaw.steps.robustness import run

run(snakemake)
