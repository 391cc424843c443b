"""Rule aggregate: every model's record and bracket into results/runs.parquet (+ timings)."""

from robustlaw.aggregate import runs_table, timings_table, write_parquet
from robustlaw.io import atomic_path, read_json
from robustlaw.runtime import file_logger

log = file_logger(snakemake.log[0], "aggregate")
records = [read_json(path) for path in snakemake.input.records]
brackets = [read_json(path) for path in snakemake.input.brackets]
floors = {floor["dataset"]: floor["l_sep"] for floor in map(read_json, snakemake.input.floors)}
table = runs_table(records, brackets, floors)
write_parquet(table, snakemake.output.runs)
with atomic_path(snakemake.output.timings) as tmp:
    timings_table(records, brackets).to_csv(tmp, sep="\t", index=False)
log.info(f"{len(table)} runs, {int(table['fitted'].sum())} fitted")
