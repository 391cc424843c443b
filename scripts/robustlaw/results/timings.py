"""Seconds each step took, per model: the only result files that differ between two runs.

Each train, fit_control, lipschitz and robustness job writes the seconds of its seeds to a timing file of
its own (robustlaw.results.paths.TIMING_FILE): results/timings/train/<dataset>/<trainer>/<model>.tsv,
results/timings/fit_control/<dataset>.tsv, results/timings/{lipschitz,robustness}/<dataset>/<trainer>.tsv;
aggregate gathers them into results/timings.tsv. Checkpoints, fit records, brackets and robustness
records hold no timings, so a rerun of the same config on the same machine writes them byte for byte again.

Standard library only, so that the training jobs import no table library for a few lines of text.
"""

import csv
import io
import os
from pathlib import Path

from robustlaw.files import write_text

TIMING_COLUMNS = ("dataset", "model", "trainer", "seed", "step", "seconds")


def timing_rows(ids: dict[str, str], seconds: dict[str, float]) -> list[dict]:
    """One row per timed step of one model: ids holds its dataset, model, trainer and seed."""
    return [
        {**{key: ids[key] for key in TIMING_COLUMNS[:4]}, "step": step, "seconds": value}
        for step, value in seconds.items()
    ]


def write_timings(path: str | os.PathLike, rows: list[dict]) -> None:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=TIMING_COLUMNS, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, text.getvalue())


def read_timings(path: str | os.PathLike) -> list[dict]:
    """The rows of a timing file, seed as int and seconds as float."""
    with Path(path).open(newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        if tuple(reader.fieldnames or ()) != TIMING_COLUMNS:
            raise ValueError(f"{path}: columns {reader.fieldnames}, expected {list(TIMING_COLUMNS)}")
        return [{**row, "seed": int(row["seed"]), "seconds": float(row["seconds"])} for row in reader]
