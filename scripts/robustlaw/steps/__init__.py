"""The work of each rule, one module per rule, each with run(job).

A rule's script calls run(snakemake) in the job's own process, as Snakemake starts it; tests and
benchmarks/naive_baseline.py call run() on jobs built by hand (rule_job).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol


class RuleJob(Protocol):
    """What a step reads of the `snakemake` object Snakemake gives a rule script."""

    input: Any
    output: Any
    params: Any
    wildcards: Any
    log: Any
    threads: int


def series_runs(job: RuleJob) -> Iterator[tuple[dict[str, str], str, int]]:
    """Every run of a (dataset, trainer) series job, in config order: its ids (as strings), model and seed."""
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


class Named(list):
    """Entries by position and by name, as Snakemake gives a script its input, output, params, log
    and wildcards; a list-valued entry spans several positions."""

    def __init__(self, entries: dict | None = None) -> None:
        entries = entries or {}
        super().__init__(item for value in entries.values() for item in (value if isinstance(value, list) else [value]))
        self.__dict__.update(entries)

    def __getitem__(self, key):
        return self.__dict__[key] if isinstance(key, str) else super().__getitem__(key)

    def items(self):
        return self.__dict__.items()


@dataclass
class HandMadeJob:
    """What rule_job builds: a RuleJob without Snakemake."""

    rule: str
    input: Named
    output: Named
    params: Named
    wildcards: Named
    log: Named
    threads: int


def rule_job(
    rule: str,
    inputs: dict | None = None,
    outputs: dict | None = None,
    params: dict | None = None,
    wildcards: dict | None = None,
    log: str = "",
    threads: int = 1,
) -> RuleJob:
    """The job of a rule, built by hand: to run a step without Snakemake (the tests,
    benchmarks/naive_baseline.py)."""
    logs = Named({"log": log} if log else {})
    return HandMadeJob(rule, Named(inputs), Named(outputs), Named(params), Named(wildcards), logs, threads)
