"""The work of rule aggregate: every model's record and bracket into results/runs.parquet, the jobs' timing
files into results/timings.tsv, and the config page."""

import html

import yaml

from robustlaw.files import atomic_path, read_json, write_text
from robustlaw.joblog import file_logger
from robustlaw.results.columns import RUN_COLUMNS
from robustlaw.results.provenance import distinct_environments, table_metadata
from robustlaw.results.tables import runs_table, timings_table, write_parquet
from robustlaw.results.timings import read_timings
from robustlaw.rulejob import RuleJob


def run(job: RuleJob) -> None:
    log = file_logger(job.log[0], "aggregate")
    config = job.params.config
    records = [read_json(path) for path in job.params.records]
    brackets = [read_json(path) for path in job.params.brackets]
    floor_records = [read_json(path) for path in job.input.floors]
    floors = {floor["dataset"]: floor["l_sep"] for floor in floor_records}
    table = runs_table(records, brackets, floors)
    compute = distinct_environments(entry.get("compute") for entry in [*records, *brackets, *floor_records])
    write_parquet(table, job.output.runs, table_metadata(config, RUN_COLUMNS, compute))
    with atomic_path(job.output.timings) as tmp:
        timings = [row for path in job.input.timings for row in read_timings(path)]
        timings_table(timings).to_csv(tmp, sep="\t", index=False)
    resolved = html.escape(yaml.safe_dump(config, sort_keys=True))
    write_text(job.output.config_page, f"<h3>Resolved configuration (defaults filled in)</h3>\n<pre>{resolved}</pre>\n")
    log.info(f"{len(table)} runs, {int(table['fitted'].sum())} fitted")


if __name__ == "__main__":  # run by Snakemake's script directive, which defines `snakemake`
    run(snakemake)
