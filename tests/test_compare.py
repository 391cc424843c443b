"""robustlaw compare: results of two machines agree up to float noise; a real difference is named."""

import platform
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from helpers import snakemake

from robustlaw.__main__ import main
from robustlaw.compare import EXACT, UNLISTED, Tolerance, compare_folders, compare_tables, tolerance_for
from robustlaw.provenance import read_provenance


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


def test_a_law_fit_beyond_tolerance_agrees_while_its_bootstrap_intervals_overlap():
    ids = {"dataset": ["a", "a"], "series": ["s", "s"], "trainer": ["t", "t"], "side": ["upper", "lower"]}
    fits = pd.DataFrame(ids).assign(slope=-0.30, slope_low=-0.35, slope_high=-0.25)
    other = fits.assign(slope=[-0.32, -0.45], slope_low=[-0.37, -0.50], slope_high=[-0.27, -0.40])
    found, _, tolerated = compare_tables("law_fit", fits, other)
    columns = {"slope", "slope_low", "slope_high"}
    assert {(d.column, d.keys[-1][1]) for d in tolerated} == {(column, "upper") for column in columns}
    assert {(d.column, d.keys[-1][1]) for d in found} == {(column, "lower") for column in columns}


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


def write_like(source, target, table: pd.DataFrame) -> None:
    """`table` written to `target` with the schema metadata (provenance) of `source`."""
    metadata = pq.read_schema(source).metadata
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False).replace_schema_metadata(metadata), target)


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
    shutil.copytree(other_kernel_run / "results", tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("models"))
    if change == "moved":
        runs.at[row, "lip_upper"] *= 1 + 3 * tolerance_for("lip_upper").rtol
    else:
        runs = runs.drop(index=row)
    write_like(other_kernel_run / "results" / "runs.parquet", tmp_path / "runs.parquet", runs)
    assert main(["compare", str(finished_run), str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("DISAGREE")
    named = [line for line in out.splitlines() if f"model={model}" in line and f"seed={seed}" in line]
    expected = "lip_upper:" if change == "moved" else "row only in A"
    assert len(named) == 1 and expected in named[0] and "runs.parquet" in named[0], out
