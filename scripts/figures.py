"""Rule figures: Lipschitz bracket, frontier and training MSE against the parameter count.

The work is robustlaw.steps.figures; robustlaw.worker runs it in a warm interpreter.
"""

from robustlaw.worker import run_step

run_step("figures", snakemake)
