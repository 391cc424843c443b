"""Rule lipschitz: the certified brackets lower <= Lip(f) <= upper of every model of one (dataset, trainer) series.

The work is robustlaw.steps.lipschitz, run in this job's own process.
"""

from robustlaw.steps.lipschitz import run

run(snakemake)
