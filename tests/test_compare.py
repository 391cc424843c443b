"""robustlaw compare: results of two machines agree up to float noise; a real difference is named."""

import platform
import shutil
from collections.abc import Callable
from functools import partial
from operator import mul
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from helpers import TINY, snakemake

from robustlaw.__main__ import main
from robustlaw.catalogue import TABLES
from robustlaw.results.columns import FRONTIER_COLUMNS, LAW_FIT_COLUMNS, LOCAL_SLOPE_COLUMNS, RUN_COLUMNS
from robustlaw.results.compare import (
    EXACT,
    UNLISTED,
    Tolerance,
    compare_folders,
    compare_tables,
    tolerance_for,
)
from robustlaw.results.provenance import read_provenance

# The numbers a reader quotes, per table that holds them: the bracket ends, every estimate behind them
# and their ratio, and the law fits' slopes and prefactors (with their bootstrap percentiles).
QUOTED = {
    "runs": [name for name in RUN_COLUMNS if name.startswith("lip_") and not name.endswith(("_method", "_domain"))],
    "frontier": [name for name in FRONTIER_COLUMNS if name.startswith("lip_")],
    "law_fit": [name for name in LAW_FIT_COLUMNS if name.startswith(("slope", "prefactor"))],
    "local_slopes": [name for name in LOCAL_SLOPE_COLUMNS if name.startswith("slope")],
}
# A move a reader would call a different number: one row's value times 1.01 or 0.99.
ONE_PERCENT = (1.01, 0.99)
# Estimates whose measured noise (a sample point carried across a ReLU kink) is above a tenth of 1%: a 1%
# move of these alone passes. The bracket end they feed (lip_lower) is held to the tight tolerance.
NOISIER_THAN_A_TENTH_OF_ONE_PERCENT = {"lip_lower_sampled_gradient", "lip_lower_training_secant"}


def runs_frame(**changes) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "dataset": ["a", "a", "a"],
            "model": ["k2", "k2", "k4"],
            "trainer": ["plain", "plain", "plain"],
            "seed": [0, 1, 0],
            "fitted": [False, True, True],
            "lip_upper_method": ["lipsdp", "liplt", "lipsdp"],
            "lip_upper": [2.0, 3.0, np.nan],
            "steps": [10, 20, 30],
        }
    )
    return table.assign(**changes)


def test_tolerance_is_relative_with_an_absolute_floor_and_strict_on_nan_and_inf():
    tolerance = Tolerance(1e-3, 1e-9, "test")
    assert tolerance.allows(1.0, 1.0009) and not tolerance.allows(1.0, 1.0011)
    assert tolerance.allows(0.0, 1e-10) and not tolerance.allows(0.0, 1e-8)
    assert tolerance.allows(np.nan, np.nan) and not tolerance.allows(np.nan, 1.0)
    assert (
        tolerance.allows(np.inf, np.inf)
        and not tolerance.allows(np.inf, 1e300)
        and not tolerance.allows(np.inf, -np.inf)
    )


def test_config_columns_are_exact_and_estimates_have_a_reason():
    assert tolerance_for("learning_rate") is EXACT and tolerance_for("p_over_nd") is EXACT
    assert tolerance_for("lip_upper_lipsdp").rtol >= tolerance_for("lip_lower").rtol > 0
    assert tolerance_for("a_column_nobody_listed") is UNLISTED


@pytest.mark.parametrize("table, column", [(table, column) for table, names in QUOTED.items() for column in names])
def test_a_quoted_number_is_held_to_about_ten_times_its_measured_noise_and_a_one_percent_move_fails(table, column):
    tolerance = tolerance_for(column, table=table)
    assert tolerance.noise is not None and tolerance.noise > 0, f"{column}: no measured noise behind its tolerance"
    # rtol for relative noise; atol for the slopes, whose noise is a difference of logs.
    assert 0 < max(tolerance.rtol, tolerance.atol) <= 10.5 * tolerance.noise, f"{column}: {tolerance}"
    if column in NOISIER_THAN_A_TENTH_OF_ONE_PERCENT:
        assert 10 * tolerance.noise > 0.01 and tolerance.allows(1.0, 1.01)
    elif tolerance.rtol:
        assert not any(tolerance.allows(1.0, factor) for factor in ONE_PERCENT), f"{column}: {tolerance}"


def test_equal_tables_agree_and_report_their_largest_deviation():
    a, half = runs_frame(), tolerance_for("lip_upper").rtol / 2
    b = runs_frame(lip_upper=[2.0 * (1 + half), 3.0, np.nan])
    found, deviations, _ = compare_tables("runs", a, b.iloc[::-1])  # row order does not matter
    assert found == []
    (upper,) = [d for d in deviations if d.column == "lip_upper"]
    assert upper.relative == pytest.approx(half / (1 + half))  # relative to the larger value


def test_each_real_difference_is_named_with_its_row_column_values_and_tolerance():
    upper = tolerance_for("lip_upper")
    moved = 3.0 * (1 + 10 * upper.rtol)
    b = runs_frame(lip_upper=[2.0, moved, np.nan], fitted=[True, True, True], steps=[10, 21, 30]).iloc[:2]
    found = {(d.column, d.keys): d for d in compare_tables("runs", runs_frame(), b)[0]}
    keys = (("dataset", "a"), ("model", "k2"), ("trainer", "plain"))
    assert set(found) == {
        ("lip_upper", (*keys, ("seed", 1))),
        ("fitted", (*keys, ("seed", 0))),
        ("steps", (*keys, ("seed", 1))),
        ("(row)", (("dataset", "a"), ("model", "k4"), ("trainer", "plain"), ("seed", 0))),
    }
    line = str(found[("lip_upper", (*keys, ("seed", 1)))])
    assert "runs.parquet" in line and "seed=1" in line and f"{moved!r}" in line and str(upper) in line
    assert "row only in A" in str(
        found[("(row)", (("dataset", "a"), ("model", "k4"), ("trainer", "plain"), ("seed", 0)))]
    )


def test_a_discrete_column_must_match_and_a_missing_value_matches_only_a_missing_one():
    b = runs_frame(lip_upper_method=["lipsdp", "liplt", None])
    (found,) = compare_tables("runs", runs_frame(), b)[0]
    assert (found.column, found.a, found.b) == ("lip_upper_method", "lipsdp", None)


def test_a_method_flip_between_estimates_equal_within_tolerance_is_a_tie_not_a_disagreement():
    """As between LipSDP and the exact pattern enumeration of a k <= d network on another CPU."""
    bounds = {"lip_upper_lipsdp": [2.0, 3.5, np.nan], "lip_upper_liplt": [2.0 * (1 + 1e-9), 3.0, np.nan]}
    flipped = runs_frame(**bounds, lip_upper_method=["liplt", "lipsdp", "lipsdp"])
    found, _, ties = compare_tables("runs", runs_frame(**bounds), flipped)
    assert [(d.column, d.keys[-1], d.a, d.b) for d in ties] == [("lip_upper_method", ("seed", 0), "lipsdp", "liplt")]
    assert [(d.column, d.keys[-1], d.a, d.b) for d in found] == [("lip_upper_method", ("seed", 1), "liplt", "lipsdp")]


def test_a_model_whose_trainer_kept_another_step_is_held_to_the_trajectory_tolerances():
    """Smoothing trainers keep the step of least penalty; on other kernels another step can win."""
    wide = tolerance_for("lip_upper", reselected=True).rtol
    assert wide > tolerance_for("lip_upper").rtol
    a = runs_frame(selected_step=[5, 15, 25])
    b = runs_frame(selected_step=[6, 15, 25], lip_upper=[2.0 * (1 + wide / 2), 3.0 * (1 + wide / 2), np.nan])
    found, _, tolerated = compare_tables("runs", a, b)
    assert [(d.column, d.keys[-1]) for d in tolerated] == [("selected_step", ("seed", 0))]
    assert [(d.column, d.keys[-1]) for d in found] == [("lip_upper", ("seed", 1))]  # same step: noise only
    frontier = runs_frame(p=[1, 2, 3])[["dataset", "p", "model", "trainer", "seed", "lip_upper"]]
    moved = frontier.assign(lip_upper=[2.0 * (1 + wide / 2), 3.0, np.nan])
    assert compare_tables("frontier", frontier, moved, frozenset({("a", "k2", "plain", 0)}))[0] == []
    assert compare_tables("frontier", frontier, moved)[0] != []
    # Among models that kept other steps another one can be the best at a p (three such seeds on the
    # default config); the frontier row then names it. Another best model that did not move is a disagreement.
    other_best = frontier.assign(seed=[1, 1, 0], lip_upper=[2.0 * (1 + wide / 2), 3.0, np.nan])
    found, _, tolerated = compare_tables("frontier", frontier, other_best, frozenset({("a", "k2", "plain", 1)}))
    assert found == [] and [(d.column, d.keys, d.a, d.b) for d in tolerated] == [
        ("seed", (("dataset", "a"), ("p", 1)), 0, 1)
    ]
    assert [d.column for d in compare_tables("frontier", frontier, other_best)[0]] == ["seed", "lip_upper"]


def test_a_law_fit_of_a_series_whose_trainer_kept_another_step_agrees_while_its_intervals_overlap():
    ids = {"dataset": ["a", "a"], "series": ["s", "s"], "trainer": ["t", "t"], "side": ["upper", "lower"]}
    fits = pd.DataFrame(ids).assign(slope=-0.30, slope_low=-0.35, slope_high=-0.25)
    other = fits.assign(slope=[-0.32, -0.45], slope_low=[-0.37, -0.50], slope_high=[-0.27, -0.40])
    found, _, tolerated = compare_tables("law_fit", fits, other, frozenset({("a", "s", "t")}))
    columns = {"slope", "slope_low", "slope_high"}
    assert {(d.column, d.keys[-1][1]) for d in tolerated} == {(column, "upper") for column in columns}
    assert {(d.column, d.keys[-1][1]) for d in found} == {(column, "lower") for column in columns}
    # The same fits where every model kept its step: overlapping intervals excuse nothing.
    found, _, tolerated = compare_tables("law_fit", fits, other, frozenset({("a", "s", "other trainer")}))
    assert tolerated == [] and {d.column for d in found} == columns and len(found) == 6


def test_keys_that_do_not_identify_rows_stop_the_comparison():
    twice = pd.concat([runs_frame(), runs_frame().iloc[:1]])
    with pytest.raises(ValueError, match="do not identify rows uniquely"):
        compare_tables("runs", twice, runs_frame())


def test_a_table_on_one_side_only_is_named_and_a_folder_without_tables_is_an_error(tmp_path, capsys):
    for side in ("a", "b"):
        (tmp_path / side / "results").mkdir(parents=True)
        runs_frame().to_parquet(tmp_path / side / "results" / "runs.parquet")
    runs_frame().to_parquet(tmp_path / "a" / "results" / "extra.parquet")
    (only,) = compare_folders(tmp_path / "a", tmp_path / "b" / "results").disagreements
    assert str(only) == "extra.parquet: table only in A"
    (tmp_path / "empty").mkdir()
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "empty")]) == 2
    assert "no Parquet tables" in capsys.readouterr().err


def rewritten(source: Path, target: Path, table: str, change: Callable[[pa.Table], pa.Table]) -> Path:
    """The results folder `source` copied (its tables) to `target`, with `change` applied to one table; the
    rest of that file, its schema metadata (the provenance) included, as it was."""
    target.mkdir(parents=True, exist_ok=True)
    for path in source.glob("*.parquet"):
        shutil.copy(path, target)
    pq.write_table(change(pq.read_table(source / f"{table}.parquet")), target / f"{table}.parquet")
    return target


def one_cell(column: str, row: int, move: Callable[[float], float]) -> Callable[[pa.Table], pa.Table]:
    def change(data: pa.Table) -> pa.Table:
        values = data.column(column).to_pylist()
        values[row] = move(values[row])
        field = data.schema.field(column)
        return data.set_column(data.schema.get_field_index(column), field, pa.array(values, field.type))

    return change


def at_noise(table: str, column: str) -> Callable[[float], float]:
    """A move of the column's measured noise: relative where its tolerance is, else absolute."""
    tolerance = tolerance_for(column, table=table)
    return (lambda x: x * (1 + tolerance.noise)) if tolerance.rtol else (lambda x: x + tolerance.noise)


def noisiest_row(table: str, a: pd.DataFrame, b: pd.DataFrame, column: str) -> int | None:
    """The position in `b` of the row whose `column` is farthest from `a`'s (relative), among finite, nonzero
    values; None where there is none."""
    keys = list(TABLES[table].keys)
    both = b.reset_index(names="position").merge(a[[*keys, column]], on=keys, suffixes=("", "_a"))
    both = both[np.isfinite(both[column]) & (both[column] != 0)]
    if both.empty:
        return None
    spread = (both[column] - both[f"{column}_a"]).abs() / both[column].abs()
    return int(both.loc[spread.idxmax(), "position"])


def quoted_moves_caught(a: Path, b: Path, table: str, folder: Path) -> list[str]:
    """Each quoted column of `table` in results folder `b`, one row moved by 1% (either way) and by the
    column's measured noise, compared with `a`: the 1% moves must be named as one disagreement each, the
    noise move must agree. Returns the columns checked (those with a finite, nonzero value)."""
    frame_a, frame_b = (pd.read_parquet(side / f"{table}.parquet") for side in (a, b))
    checked = []
    for column in QUOTED[table]:
        row = noisiest_row(table, frame_a, frame_b, column)
        if row is None:
            continue
        expected = [] if column in NOISIER_THAN_A_TENTH_OF_ONE_PERCENT else [(f"{table}.parquet", column)]
        for factor in ONE_PERCENT:
            moved = rewritten(b, folder / f"{column}-{factor}", table, one_cell(column, row, partial(mul, factor)))
            found = compare_folders(a, moved).disagreements
            assert [(d.table, d.column) for d in found] == expected, (column, factor, found)
        noisy = rewritten(b, folder / f"{column}-noise", table, one_cell(column, row, at_noise(table, column)))
        assert compare_folders(a, noisy).disagreements == [], column
        checked.append(column)
    return checked


@pytest.fixture(scope="module")
def other_kernel_run(workflow, tmp_path_factory):
    """The tiny config again, with torch's scalar CPU kernels instead of its vectorised ones."""
    workdir = tmp_path_factory.mktemp("default-kernels")
    snakemake(workflow, workdir, env={"ATEN_CPU_CAPABILITY": "default"})
    return workdir


vector_cpu = pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64") or torch.backends.cpu.get_cpu_capability() == "DEFAULT",
    reason="switches torch from its AVX2/AVX-512 kernels to the scalar ones, so needs an x86 CPU that has them",
)


@vector_cpu
def test_another_kernel_path_changes_bytes_not_results(finished_run, other_kernel_run, capsys):
    a, b = finished_run / "results", other_kernel_run / "results"
    assert (a / "runs.parquet").read_bytes() != (b / "runs.parquet").read_bytes()
    capabilities = [
        {
            entry["cpu_capability"]
            for entry in read_provenance(pq.read_schema(side / "runs.parquet").metadata)["compute"]
        }
        for side in (a, b)
    ]
    assert capabilities == [{torch.backends.cpu.get_cpu_capability()}, {"DEFAULT"}]
    comparison = compare_folders(finished_run, other_kernel_run)
    assert comparison.disagreements == [] and comparison.tables == [
        "frontier",
        "law_fit",
        "local_slopes",
        "robustness",
        "runs",
    ]
    assert not any(d.tolerance is UNLISTED for d in comparison.deviations), "every float column needs a tolerance"
    assert max(d.relative for d in comparison.deviations) > 0, "the kernel paths gave equal numbers: nothing tested"
    assert main(["compare", str(a), str(b)]) == 0
    assert capsys.readouterr().out.startswith("AGREE")


@vector_cpu
@pytest.mark.parametrize("change", ["moved", "dropped"])
def test_a_moved_bracket_or_a_dropped_row_fails_and_is_named(finished_run, other_kernel_run, tmp_path, capsys, change):
    runs = pd.read_parquet(other_kernel_run / "results" / "runs.parquet")
    row = runs.index[runs["fitted"]][0]
    model, seed = runs.at[row, "model"], runs.at[row, "seed"]
    if change == "moved":
        edit = one_cell("lip_upper", row, lambda x: x * (1 + 3 * tolerance_for("lip_upper").rtol))
    else:
        edit = partial(pa.Table.take, indices=[index for index in range(len(runs)) if index != row])
    rewritten(other_kernel_run / "results", tmp_path, "runs", edit)
    assert main(["compare", str(finished_run), str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("DISAGREE")
    named = [line for line in out.splitlines() if f"model={model}" in line and f"seed={seed}" in line]
    expected = "lip_upper:" if change == "moved" else "row only in A"
    assert len(named) == 1 and expected in named[0] and "runs.parquet" in named[0], out


@vector_cpu
@pytest.mark.parametrize("table", ["runs", "frontier"])
def test_a_one_percent_move_of_a_bracket_is_caught_and_one_at_the_measured_noise_is_not(
    finished_run, other_kernel_run, tmp_path, table
):
    """On the other kernel path's results, the noisiest row of each column moved (robustness.parquet holds
    no bracket: only shares of points)."""
    checked = quoted_moves_caught(finished_run / "results", other_kernel_run / "results", table, tmp_path)
    must = {
        "runs": {"lip_upper", "lip_lower", "lip_ratio", "lip_exact", "lip_upper_lipsdp", "lip_upper_eigenvalue"},
        "frontier": {"lip_upper", "lip_lower"},
    }[table]
    assert must <= set(checked), f"the tiny run left {sorted(must - set(checked))} without a finite value"


# The tiny config fits no law (every width lies past 1 / l_sep^2), and its local slopes lie near 0 (-0.014),
# where a 1% move is below the slopes' absolute tolerance: a control series in d = 32 fits a steep law.
LAW_FIT_CONFIG = {
    "datasets": [{"distribution": "sphere", "n": 32, "d": 32, "n_test": 64, "labels": "random_sign", "eps": 0.99}],
    "controls": [{"kind": "even_ntk", "widths": [2, 4]}],
    "seeds": [0, 1],
    "lipschitz": TINY["lipschitz"],
    "law_fit": TINY["law_fit"],
}


@pytest.fixture(scope="module")
def law_fit_run(workflow, tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("law-fit")
    snakemake(workflow, workdir, "results/law_fit.parquet", config=LAW_FIT_CONFIG)
    return workdir / "results"


@pytest.mark.parametrize("table", ["law_fit", "local_slopes"])
def test_a_one_percent_move_of_a_law_fit_is_caught_and_one_at_the_measured_noise_is_not(law_fit_run, tmp_path, table):
    fits = pd.read_parquet(law_fit_run / f"{table}.parquet")
    assert np.isfinite(fits[QUOTED[table]].to_numpy()).all(), "the law-fit run fitted no law: nothing tested"
    assert quoted_moves_caught(law_fit_run, law_fit_run, table, tmp_path) == QUOTED[table]
