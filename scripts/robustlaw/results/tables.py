"""One table row per trained model: config, fit, Lipschitz bracket, data floor and the law's scale."""

import math

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from robustlaw.files import atomic_path
from robustlaw.results.columns import ROBUSTNESS_COLUMNS, RUN_COLUMNS
from robustlaw.results.paths import SPLITS
from robustlaw.results.timings import TIMING_COLUMNS

# Trainer settings, and the methods that use each (null in the table for the others).
TRAINER_SETTINGS = {
    "strength": ("weight_decay", "gradient_penalty", "adversarial"),
    "smooth_steps": ("weight_decay", "gradient_penalty", "adversarial"),
    "radius": ("adversarial",),
}
COLUMNS = tuple(RUN_COLUMNS)


def intrinsic_columns(meta: dict, n: int, p: int) -> dict:
    """The dataset's intrinsic dimensions and the law's scale in d_intrinsic (null where not estimated)."""
    # A float whatever the source, so the column's type does not depend on which datasets a run has.
    d_intrinsic = None if meta["d_intrinsic"] is None else float(meta["d_intrinsic"])
    known = d_intrinsic is not None
    return {
        "d_intrinsic": d_intrinsic, "d_pca90": meta["d_pca90"], "d_mle": meta["d_mle"],
        "d_mle_neighbours": meta["d_mle_neighbours"],
        "p_over_nd_intrinsic": p / (n * d_intrinsic) if known else None,
        "law_sqrt_nd_intrinsic_over_p": math.sqrt(n * d_intrinsic / p) if known else None,
    }  # fmt: skip


def run_row(record: dict, bracket: dict, l_sep: float) -> dict:
    data, model, trainer = record["dataset_config"], record["model_config"], record["trainer_config"]
    n, d, p = data["n"], data["d"], record["p"]
    # From the dataset file: a real dataset with a path counts its test images in the generate_data job.
    sigma2, n_test = record["data_meta"]["noise_variance"], record["data_meta"]["n_test"]
    method = trainer["method"]
    row = {
        "dataset": record["dataset"], "model": record["model"], "trainer": record["trainer"], "seed": record["seed"],
        "distribution": data["distribution"], "components": data["components"], "labels": data["labels"],
        "n": n, "n_test": n_test, "d": d, "sigma": data["sigma"], "sigma2": sigma2, "eps": data["eps"],
        "data_seed": data["seed"],
        "family": model["family"], "activation": model.get("activation"), "depth": model.get("depth"),
        "width": model["width"], "p": p, "p_eff": record["p_eff"],
        "method": method, "optimizer": trainer.get("optimizer"),
        "learning_rate": trainer.get("learning_rate"), "max_steps": trainer.get("max_steps"),
        **{key: trainer[key] if method in users else None for key, users in TRAINER_SETTINGS.items()},
        "target_mse": record["target_mse"], "train_mse": record["train_mse"], "test_mse": record["test_mse"],
        "eps_achieved": sigma2 - record["train_mse"], "fitted": record["fitted"],
        "status": record["status"], "diverged": record["diverged"],
        "steps": record["steps"], "selected_step": record["selected_step"], "penalty": record["penalty"],
        "l_sep": l_sep, "p_over_nd": p / (n * d), "law_sqrt_nd_over_p": math.sqrt(n * d / p),
        **intrinsic_columns(record["data_meta"], n, p),
    }  # fmt: skip
    row.update({key: value for key, value in bracket.items() if key in COLUMNS})
    return row


def runs_table(records: list[dict], brackets: list[dict], floors: dict[str, float]) -> pd.DataFrame:
    """Rows sorted by their ids, columns in COLUMNS order, so equal inputs give equal bytes."""
    rows = []
    for record, bracket in zip(records, brackets, strict=True):
        ids = ("dataset", "model", "trainer", "seed")
        if any(record[key] != bracket[key] for key in ids):
            raise ValueError(
                f"training record {[record[k] for k in ids]} paired with bracket {[bracket[k] for k in ids]}"
            )
        rows.append(run_row(record, bracket["bracket"], floors[record["dataset"]]))
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    order = ["dataset", "family", "depth", "trainer", "width", "seed"]
    return table.sort_values(order, kind="stable", na_position="first").reset_index(drop=True)


def timings_table(rows: list[dict]) -> pd.DataFrame:
    """The timing files' rows (robustlaw.results.timings) as one row per model: its ids, then `<step>_s` for each
    step (train_s first, then the others by name: lipschitz_<method>_s, robustness_s), empty where a model has no
    such step."""
    ids = list(TIMING_COLUMNS[:4])
    long = pd.DataFrame(rows, columns=list(TIMING_COLUMNS))
    wide = long.pivot(index=ids, columns="step", values="seconds")
    steps = sorted(wide.columns, key=lambda step: (step != "train", step))
    wide = wide[steps].rename(columns=lambda step: f"{step}_s").reset_index()
    wide.columns.name = None
    return wide.sort_values(ids, kind="stable").reset_index(drop=True)


def robustness_table(records: list[dict]) -> pd.DataFrame:
    """One row per model, split and radius (robustlaw.robustness.attack), sorted by ids, then train before test,
    then radius."""
    ids = ["dataset", "model", "trainer", "seed"]
    rows = [{**{key: record[key] for key in ids}, **row} for record in records for row in record["rows"]]
    table = pd.DataFrame(rows, columns=list(ROBUSTNESS_COLUMNS))
    return table.sort_values([*ids, "split", "radius"], kind="stable", key=split_order).reset_index(drop=True)


def split_order(column: pd.Series) -> pd.Series:
    """Sort key: splits in SPLITS order (train first), other columns as they are."""
    return column.map({split: index for index, split in enumerate(SPLITS)}) if column.name == "split" else column


def write_parquet(table: pd.DataFrame, path: str, metadata: dict[str, str]) -> None:
    """Parquet with `metadata` added to the schema's key-value metadata (no time stamps: same bytes on rerun)."""
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    merged = {**(arrow.schema.metadata or {}), **{key.encode(): value.encode() for key, value in metadata.items()}}
    arrow = arrow.replace_schema_metadata(merged)
    with atomic_path(path) as tmp:
        pq.write_table(arrow, tmp, compression="zstd")
