"""The work of rule robustness_table: every model's robustness record into results/robustness.parquet."""

from robustlaw.files import read_json
from robustlaw.joblog import file_logger
from robustlaw.results.columns import ROBUSTNESS_COLUMNS
from robustlaw.results.provenance import distinct_environments, table_metadata
from robustlaw.results.tables import robustness_table, write_parquet
from robustlaw.rulejob import RuleJob


def run(job: RuleJob) -> None:
    log = file_logger(job.log[0], "robustness_table")
    records = [read_json(path) for path in job.params.records]
    table = robustness_table(records)
    compute = distinct_environments(record.get("compute") for record in records)
    write_parquet(table, job.output.robustness, table_metadata(job.params.config, ROBUSTNESS_COLUMNS, compute))
    log.info(f"{len(table)} rows from {len(records)} models")


if __name__ == "__main__":  # run by Snakemake's script directive, which defines `snakemake`
    run(snakemake)
