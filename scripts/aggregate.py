"""Rule aggregate: every model's record and bracket into results/runs.parquet (+ timings, config page)."""

import html

import yaml

from robustlaw.aggregate import runs_table, timings_table, write_parquet
from robustlaw.columns import RUN_COLUMNS
from robustlaw.io import atomic_path, read_json, write_text
from robustlaw.provenance import table_metadata
from robustlaw.runtime import file_logger

log = file_logger(snakemake.log[0], "aggregate")
config = snakemake.params.config
records = [read_json(path) for path in snakemake.input.records]
brackets = [read_json(path) for path in snakemake.input.brackets]
floors = {floor["dataset"]: floor["l_sep"] for floor in map(read_json, snakemake.input.floors)}
table = runs_table(records, brackets, floors)
write_parquet(table, snakemake.output.runs, table_metadata(config, RUN_COLUMNS))
with atomic_path(snakemake.output.timings) as tmp:
    timings_table(records, brackets).to_csv(tmp, sep="\t", index=False)
resolved = html.escape(yaml.safe_dump(config, sort_keys=True))
write_text(
    snakemake.output.config_page, f"<h3>Resolved configuration (defaults filled in)</h3>\n<pre>{resolved}</pre>\n"
)
log.info(f"{len(table)} runs, {int(table['fitted'].sum())} fitted")
