"""What a rule's job code (scripts/<rule>.py, one file per rule, each with run(job)) reads of its job.

Snakemake runs the script in the job's own process and it calls run(snakemake); tests load the same
file and call run() on a job built by hand (tests/helpers.py).
"""

from collections.abc import Iterator
from typing import Any, Protocol


class RuleJob(Protocol):
    """What job code reads of the `snakemake` object Snakemake gives a rule script."""

    input: Any
    output: Any
    params: Any
    wildcards: Any
    log: Any
    threads: int


def sweep_runs(job: RuleJob) -> Iterator[tuple[dict[str, str], str, int]]:
    """Every run of a (dataset, trainer) sweep job, in config order: its ids (as strings), model and seed."""
    for configuration in job.params.configurations:
        for seed in configuration["seeds"]:
            model = configuration["model"]
            ids = {
                "dataset": job.wildcards.dataset,
                "model": model,
                "trainer": job.wildcards.trainer,
                "seed": str(seed),
            }
            yield ids, model, seed
