"""The work of rule robustness_table: every model's robustness record into results/robustness.parquet."""

from ..aggregate import robustness_table, write_parquet
from ..columns import ROBUSTNESS_COLUMNS
from ..files import read_json
from ..joblog import file_logger
from ..provenance import distinct_environments, table_metadata
from . import RuleJob


def run(job: RuleJob) -> None:
    log = file_logger(job.log[0], "robustness_table")
    records = [read_json(path) for path in job.params.records]
    table = robustness_table(records)
    compute = distinct_environments(record.get("compute") for record in records)
    write_parquet(table, job.output.table, table_metadata(job.params.config, ROBUSTNESS_COLUMNS, compute))
    log.info(f"{len(table)} rows from {len(records)} models")
