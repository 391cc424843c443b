"""Two results folders compared as a reader would: rows matched on their keys, numbers up to float noise.

Byte equality (MANIFEST.sha256, `robustlaw verify`) holds only for the same software on the same CPU
kernel path (docs/cross-machine.md). On another machine the numbers move by float noise; this module
tells that noise from a real discrepancy. Every Parquet table at the top of the two folders is
matched row by row on its keys; each float column is held to the tolerance TOLERANCES gives it,
every other column (ids, flags, statuses, methods, counts) must be equal, and a row or table found
on one side only is a disagreement. Three differences are tolerated and listed: a bound's method
that flips between estimates equal within noise, a smoothing trainer that kept another step (its
model is then held to TRAJECTORY_TOLERANCES), and a law fit that moved within its bootstrap
interval. timings.tsv is never read: timings differ on every run.
"""

import json
import math
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from robustlaw.catalogue import TABLES
from robustlaw.report.law_fit import series_name
from robustlaw.results.provenance import read_provenance


@dataclass(frozen=True)
class Tolerance:
    """|a - b| <= max(atol, rtol * max(|a|, |b|)); NaN matches only NaN, an infinity only itself.
    `noise`: the largest deviation measured between CPU kernel paths that the tolerance rests on, in its
    own terms (relative where rtol is set, else absolute); None where none was measured."""

    rtol: float
    atol: float
    why: str
    noise: float | None = None

    def allows(self, a: float, b: float) -> bool:
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        if math.isinf(a) or math.isinf(b):
            return a == b
        return abs(a - b) <= max(self.atol, self.rtol * max(abs(a), abs(b)))

    def __str__(self) -> str:
        return f"rtol {self.rtol:g}, atol {self.atol:g}"


EXACT = Tolerance(0.0, 0.0, "computed from the config in Python floats, which round alike on every IEEE-754 machine")

# Float columns by name pattern (or "table.pattern" for one table's column), first match wins. Each noise
# tolerance is about ten times its `noise`, the largest deviation measured between CPU kernel paths
# (docs/cross-machine.md, "Measured noise": the tiny config under avx512, avx2, default and generic
# kernels; the default config's widths 8-128 and 20-320 under generic kernels against a full avx512
# run), rounded to one digit; each comment gives the figure and the factor. So a 1% move of a bracket
# end or a law fit is a disagreement. They rest on one machine's kernel paths: where another machine
# shows more, rerun the measurement there and widen the tolerance with its figure.
TOLERANCES: tuple[tuple[str, Tolerance], ...] = (
    # Config-derived columns first, so the patterns below cannot catch them.
    *((name, EXACT) for name in ("sigma", "sigma2", "eps", "learning_rate", "strength", "radius", "target_mse")),
    *((name, EXACT) for name in ("depth", "max_steps", "smooth_steps")),  # integers, float where some are null
    *((name, EXACT) for name in ("p_over_nd", "law_sqrt_nd_over_p", "window_low")),
    ("span_*", Tolerance(0.0, 0.0, "p/(nd) of the fitted runs at the window's ends: config values")),
    ("p_over_nd_low", EXACT),
    ("p_over_nd_high", EXACT),
    ("p_over_nd_centre", EXACT),
    # Float64 neighbour distances, the estimate averaging logs of their ratios: 4.6e-16 (default
    # config's d_mle; for synthetic data the other three are config values), 9x.
    *(
        (name, Tolerance(4e-15, 0.0, "intrinsic dimension from float64 neighbour distances", noise=4.55e-16))
        for name in ("d_mle", "d_intrinsic", "p_over_nd_intrinsic", "law_sqrt_nd_intrinsic_over_p")
    ),
    ("l_sep", Tolerance(1e-12, 0.0, "a float64 maximum of secants over the data: measured equal, a few ulps allowed")),
    ("window_high", Tolerance(1e-12, 0.0, "1 / l_sep^2: the noise of l_sep")),
    # The LipSDP bound stops its optimisation after a fixed step budget, wherever rounding has led it:
    # 1.08e-4 (tiny config, 100 steps; 3.5e-5 at the default's 300), the largest of any bound; 9x,
    # a tenth of the 1% move a reader would call another bound. lip_upper is often LipSDP's.
    ("lip_upper_lipsdp", Tolerance(1e-3, 0.0, "a LipSDP optimisation stopped after a step budget", noise=1.08e-4)),
    ("lip_upper", Tolerance(1e-3, 0.0, "the least upper bound, often the LipSDP one", noise=1.08e-4)),  # 9x
    ("lip_ratio", Tolerance(1e-3, 0.0, "lip_upper / lip_lower: the noise of lip_upper", noise=1.07e-4)),  # 9x
    # Closed-form bounds of float32-trained weights carry the weights' noise (default config): the
    # spectral product 8.6e-6 (9x), LipLT 2.1e-5 (10x), pattern enumeration and the exact value 7.5e-6 (9x).
    ("lip_upper_spectral_product", Tolerance(8e-5, 0.0, "||W||_2 ||a|| of float32 weights", noise=8.57e-6)),
    ("lip_upper_liplt", Tolerance(2e-4, 0.0, "LipLT of float32 weights", noise=2.09e-5)),
    ("lip_upper_pattern_enumeration", Tolerance(7e-5, 0.0, "the largest pattern norm", noise=7.45e-6)),
    ("lip_exact", Tolerance(7e-5, 0.0, "exact values of float32 weights", noise=7.45e-6)),
    # The eigenvalue of a float64 closed-form control: equal in this measurement, 1.2e-13 in an earlier
    # one of the default config (8x).
    ("lip_upper_eigenvalue", Tolerance(1e-12, 0.0, "a float64 eigenvalue of a float64 fit", noise=1.2e-13)),
    # Not measured (branch and bound runs for d <= 4 only; path_norm and discontinuity were never finite
    # in the measured runs): LipLT's tolerance, the noisiest closed-form bound's (2.1e-5, 10x).
    ("lip_upper_*", Tolerance(2e-4, 0.0, "float32 weights: as the noisiest closed-form bound", noise=2.09e-5)),
    # The certified lower bound and the search behind it: 3.45e-5 (default config), 9x. Pattern
    # pursuit's certified pattern: 8.2e-8 (tiny config), 10x.
    ("lip_lower", Tolerance(3e-4, 0.0, "the best certified lower bound", noise=3.45e-5)),
    ("lip_lower_certified_search", Tolerance(3e-4, 0.0, "ascent certified by its gradient certificate", noise=3.45e-5)),
    ("lip_lower_pattern_pursuit", Tolerance(8e-7, 0.0, "a pattern norm certified by an LP", noise=8.15e-8)),
    # Maxima of ReLU gradient norms at sample points and of secants over training pairs: on one default-
    # config network each, the weights' noise carried a sample point across a kink, where the gradient
    # norm jumps: 6.9e-3 and 1.7e-3 measured (10x, 9x). Ten times that is above 1%: a 1% move of one of
    # these two estimates alone is NOT caught; the bound they feed, lip_lower, is held to 3e-4.
    ("lip_lower_sampled_gradient", Tolerance(7e-2, 0.0, "a maximum of gradient norms", noise=6.89e-3)),
    ("lip_lower_training_secant", Tolerance(1.5e-2, 0.0, "a maximum of secants over training pairs", noise=1.72e-3)),
    # Not measured (branch and bound: d <= 4 only): lip_lower's (3.45e-5, 9x).
    ("lip_lower*", Tolerance(3e-4, 0.0, "a lower bound of float32 weights: as lip_lower", noise=3.45e-5)),
    # Float32 training whose sums run in another order; a near-interpolating network's residual is
    # small, so its relative noise is large: train_mse 5.1e-4 (10x), test_mse 2.4e-4 (8x), eps_achieved
    # 4.0e-6 (10x), all default config; penalty 4.9e-6 (tiny config; 10x). A closed-form control's
    # training error is float64 rounding (~1e-25, measured equal): the atol.
    ("train_mse", Tolerance(5e-3, 1e-20, "float32 full-batch training", noise=5.06e-4)),
    ("test_mse", Tolerance(2e-3, 1e-20, "the test error of float32-trained weights", noise=2.36e-4)),
    ("eps_achieved", Tolerance(4e-5, 0.0, "sigma2 - train_mse: the noise of train_mse", noise=3.97e-6)),
    ("penalty", Tolerance(5e-5, 0.0, "the trainer's penalty at the selected step", noise=4.95e-6)),
    # Shares of points (robustness.parquet) move in steps of 1 / points: the weights' noise can carry a
    # point whose margin sits at a threshold (0, or r times the upper bound) across it: one of the default
    # config's 256 training points measured (3.9e-3, 10x). A real disagreement moves many points.
    ("*_accuracy", Tolerance(0.0, 0.04, "a share of points: one point across a margin threshold", noise=3.91e-3)),
    # Least squares in log-log over brackets, and bootstrap percentiles; absolute (a difference of logs).
    # Default config: the law fits 5.0e-6 (10x), the local slopes over three widths 2.5e-5 (8x), the
    # prefactors 2.1e-5 relative (10x).
    ("local_slopes.slope*", Tolerance(0.0, 2e-4, "least squares in log-log over three widths", noise=2.49e-5)),
    ("slope*", Tolerance(0.0, 5e-5, "least squares in log-log over the fit window", noise=4.98e-6)),
    ("prefactor*", Tolerance(2e-4, 0.0, "exp(intercept) of the same fits", noise=2.06e-5)),
)
# A smoothing trainer (gradient penalty, weight decay, adversarial) keeps the step of least penalty
# among hundreds after the first fit. On another kernel path the trajectory drifts and another step
# can win: then the model is another checkpoint. Measured on the default config (avx512 against
# generic; all 15 gradient-penalty models of widths 8-128 kept another step, as did the 6 of an
# earlier measurement): brackets moved by up to 5.6e-2 (earlier 6.0e-2), lip_ratio 1.7e-2, train_mse
# 4.0e-2, test_mse 1.2e-2 (earlier 1.3e-2), penalty 1.2e-2, shares of robust points 0.14. Rows whose
# selected_step differs are held to these tolerances (about 3x the measured, 1.5x for the shares: few
# models), and only they: a row whose step is the same on both sides keeps the noise tolerances above.
RESELECTED = "selected_step"
TRAJECTORY_TOLERANCES: tuple[tuple[str, Tolerance], ...] = (
    ("lip_ratio", Tolerance(0.2, 0.0, "the ratio of two bounds that each moved with the kept step")),
    ("lip_*", Tolerance(0.2, 0.0, "another step of the smoothing phase kept: measured up to 6.0e-2")),
    ("*_mse", Tolerance(0.1, 3e-6, "another step of the smoothing phase kept: measured up to 4.0e-2")),
    ("eps_achieved", Tolerance(0.1, 3e-6, "sigma2 - train_mse: the drift of train_mse")),
    ("penalty", Tolerance(0.03, 0.0, "another step of the smoothing phase kept: measured up to 1.2e-2")),
    ("*_accuracy", Tolerance(0.0, 0.2, "another model: its shares of robust points move with its bracket")),
)
UNLISTED = Tolerance(0.0, 0.0, "a float column TOLERANCES does not list yet: compared exactly until it gets one")

# A table whose catalogue entry names no keys is keyed by the ones it has of these.
KEY_CANDIDATES = ("dataset", "model", "series", "trainer", "seed", "side", "split", "radius")
# A bound's method names the estimate that won; where two estimates agree within noise, another
# machine may crown the other (LipSDP equals the exact pattern enumeration when k <= d). Such a
# flip is a tie, not a disagreement, when both estimates match the bound within its tolerance.
CHOICES = {"lip_upper_method": "lip_upper", "lip_lower_method": "lip_lower"}
# A row that names the best of several models (the frontier) may name another one when a model whose
# trainer kept another step, on either side, was chosen: those models moved by more than noise.
CHOSEN_MODEL = ("series", "model", "trainer", "seed")
# Config keys that say where a run computed, not what: they may differ between the two sides.
PLACEMENT_KEYS = ("gpu",)


@dataclass(frozen=True)
class Disagreement:
    table: str
    keys: tuple[tuple[str, object], ...]
    column: str
    a: object
    b: object
    allowed: str

    def __str__(self) -> str:
        where = f" [{', '.join(f'{name}={value}' for name, value in self.keys)}]" if self.keys else ""
        if self.column.startswith("("):  # a row, column or table found on one side only
            return f"{self.table}{where}: {self.allowed}"
        return f"{self.table}{where} {self.column}: A {self.a!r}, B {self.b!r} ({self.allowed})"


def one_sided(table: str, keys: tuple[tuple[str, object], ...], what: str, side: str) -> Disagreement:
    """A row, column or table present on `side` only."""
    return Disagreement(table, keys, f"({what})", side == "A", side == "B", f"{what} only in {side}")


@dataclass(frozen=True)
class Deviation:
    """The largest deviation of one float column over the matched rows of a table: over the rows of
    models whose trainer kept the same step (float noise), or, `reselected`, over those that kept
    another one (another checkpoint), so the two measurements never mix."""

    table: str
    column: str
    relative: float
    absolute: float
    tolerance: Tolerance
    reselected: bool = False

    def __str__(self) -> str:
        rows = " (rows whose trainer kept another step)" if self.reselected else ""
        return f"{self.table} {self.column}{rows}: {self.relative:.2e}, {self.absolute:.2e}; {self.tolerance}"


@dataclass
class Comparison:
    disagreements: list[Disagreement]
    deviations: list[Deviation]
    tolerated: list[Disagreement]
    notes: list[str]
    rows: int
    tables: list[str]

    @property
    def agree(self) -> bool:
        return not self.disagreements


def tolerance_for(column: str, reselected: bool = False, table: str = "") -> Tolerance:
    """The tolerance of `column` (of `table`, a name such as "runs"); `reselected`: for a model whose
    trainer kept another step (see above)."""
    patterns = (*TRAJECTORY_TOLERANCES, *TOLERANCES) if reselected else TOLERANCES
    names = (column, f"{table}.{column}")
    return next(
        (tolerance for pattern, tolerance in patterns if any(fnmatchcase(name, pattern) for name in names)), UNLISTED
    )


RUN_IDS = ("dataset", "model", "trainer", "seed")
SERIES_IDS = ("dataset", "series", "trainer")
# Law fits whose points moved beyond noise (reselected steps) agree while their bootstrap intervals overlap.
INTERVALS = {name: (f"{name}_low", f"{name}_high") for name in ("slope", "prefactor", "prefactor_intrinsic")}


def intervals_overlap(column: str, row_a: pd.Series, row_b: pd.Series) -> bool:
    """Whether the bootstrap intervals of the fitted quantity `column` (or of its percentile) overlap."""
    base = column.removesuffix("_low").removesuffix("_high")
    if base not in INTERVALS or not all(key in row_a.index for key in INTERVALS[base]):
        return False
    (low_a, high_a), (low_b, high_b) = ([float(row[key]) for key in INTERVALS[base]] for row in (row_a, row_b))
    return low_a <= high_b and low_b <= high_a


def run_id(row: pd.Series) -> tuple | None:
    """(dataset, model, trainer, seed) of a row that names one model, else (dataset, series, trainer) of a
    row about a whole series (a law fit), else None."""
    for ids in (RUN_IDS, SERIES_IDS):
        if all(key in row.index for key in ids):
            return tuple(plain(row[key]) for key in ids)
    return None


def reselected_ids(runs: pd.DataFrame, tolerated: list["Disagreement"]) -> frozenset:
    """The run ids, and the series ids, of the models of runs.parquet whose trainer kept another step."""
    runs = indexed(runs, list(RUN_IDS), "runs.parquet")
    moved = [tuple(value for _, value in d.keys) for d in tolerated if d.column == RESELECTED]
    series = [(run[0], series_name(runs.at[run, "family"], runs.at[run, "depth"]), run[2]) for run in moved]
    return frozenset(moved + series)


def results_folder(path: str | Path) -> Path:
    """The folder holding the tables: `path` itself, or its results/ when given a run's work folder."""
    path = Path(path)
    if not any(path.glob("*.parquet")) and (path / "results").is_dir():
        path = path / "results"
    if not any(path.glob("*.parquet")):
        raise FileNotFoundError(f"{path}: no Parquet tables (runs.parquet, law_fit.parquet, ...) in this folder")
    return path


def table_keys(name: str, columns: list[str]) -> list[str]:
    keys = TABLES[name].keys if name in TABLES else ()
    return list(keys or [key for key in KEY_CANDIDATES if key in columns])


def is_float(series: pd.Series) -> bool:
    return pd.api.types.is_float_dtype(series.dtype)


def missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def same_label(a: object, b: object) -> bool:
    """Equality of discrete cells, where two missing values are equal."""
    return missing(a) and missing(b) if missing(a) or missing(b) else bool(a == b)


def plain(value: object) -> object:
    """A cell as a plain Python value (None where missing), for messages that read like the table."""
    value = value.item() if hasattr(value, "item") else value
    return None if missing(value) else value


def row_keys(keys: list[str], row: object) -> tuple[tuple[str, object], ...]:
    """(key, value) pairs of an index entry, which is a bare value when there is one key."""
    return tuple(zip(keys, map(plain, row if len(keys) > 1 else (row,)), strict=True))


def indexed(table: pd.DataFrame, keys: list[str], name: str) -> pd.DataFrame:
    duplicated = table.duplicated(keys, keep=False)
    if duplicated.any():
        example = table.loc[duplicated, keys].iloc[0].to_dict()
        raise ValueError(f"{name}: keys {keys} do not identify rows uniquely (e.g. {example})")
    return table.set_index(keys, drop=False)


def tied_choice(column: str, row_a: pd.Series, row_b: pd.Series, reselected: bool) -> bool:
    """Both sides' chosen estimates are, on each side, within the bound's tolerance of the bound."""
    bound = CHOICES[column]
    tolerance = tolerance_for(bound, reselected)
    estimates = [f"{bound}_{row[column]}" for row in (row_a, row_b)]
    return all(
        estimate in row.index and tolerance.allows(float(row[estimate]), float(row[bound]))
        for row in (row_a, row_b)
        for estimate in estimates
    )


def compare_tables(
    name: str, a: pd.DataFrame, b: pd.DataFrame, reselected: frozenset = frozenset()
) -> tuple[list[Disagreement], list[Deviation], list[Disagreement]]:
    """Row-by-row comparison of one table: (disagreements, deviation per float column, tolerated
    differences: tied choices and reselected steps). `reselected`: run ids of models whose trainer
    kept another step, found in runs.parquet, and the ids of their series; rows of this table about
    them (a model, or a law fit of its series) get the wider tolerances. A row naming a model is
    matched on its run id only, so the frontier's other models of a series keep the noise tolerances."""
    table = f"{name}.parquet"
    keys = table_keys(name, list(a.columns))
    missing_keys = [key for key in keys if key not in a.columns or key not in b.columns]
    if missing_keys:
        return [Disagreement(table, (), "(keys)", None, None, f"key columns {missing_keys} missing")], [], []
    a, b = indexed(a, keys, f"A {table}"), indexed(b, keys, f"B {table}")
    found = []
    for column in [c for c in a.columns if c not in b.columns] + [c for c in b.columns if c not in a.columns]:
        side = "A" if column in a.columns else "B"
        found.append(one_sided(table, (("column", column),), "column", side))
    for side, only in (("A", a.index.difference(b.index)), ("B", b.index.difference(a.index))):
        found += [one_sided(table, row_keys(keys, row), "row", side) for row in only]
    common = a.index.intersection(b.index, sort=False)
    a, b = a.loc[common], b.loc[common]
    moved = {
        row
        for row in common
        if run_id(a.loc[row]) in reselected
        or run_id(b.loc[row]) in reselected
        or (RESELECTED in a.columns and RESELECTED in b.columns and a.at[row, RESELECTED] != b.at[row, RESELECTED])
    }
    deviations, tolerated = [], []
    for column in [c for c in a.columns if c in b.columns and c not in keys]:
        numeric = is_float(a[column]) and is_float(b[column])
        largest = {False: (0.0, 0.0), True: (0.0, 0.0)}  # (relative, absolute), keyed by `row in moved`
        for row, x, y in zip(common, a[column], b[column], strict=True):
            at = row_keys(keys, row)
            if numeric:
                x, y = float(x), float(y)
                if math.isfinite(x) and math.isfinite(y) and x != y:
                    relative, absolute = largest[row in moved]
                    largest[row in moved] = (
                        max(relative, abs(x - y) / max(abs(x), abs(y))),
                        max(absolute, abs(x - y)),
                    )
                tolerance = tolerance_for(column, row in moved, name)
                if tolerance.allows(x, y):
                    continue
                if row in moved and intervals_overlap(column, a.loc[row], b.loc[row]):
                    tolerated.append(
                        Disagreement(table, at, column, x, y, f"beyond {tolerance}; bootstrap intervals overlap")
                    )
                else:
                    found.append(Disagreement(table, at, column, x, y, f"tolerance {tolerance}"))
            elif column == RESELECTED and row in moved:
                allowed = "the trainer kept another step: its numbers are held to the trajectory tolerances"
                tolerated.append(Disagreement(table, at, column, plain(x), plain(y), allowed))
            elif column in CHOSEN_MODEL and row in moved and not same_label(x, y):
                allowed = "another best model, where a model whose trainer kept another step was chosen"
                tolerated.append(Disagreement(table, at, column, plain(x), plain(y), allowed))
            elif not same_label(x, y):
                tied = column in CHOICES and tied_choice(column, a.loc[row], b.loc[row], row in moved)
                allowed = "both estimates equal the bound within its tolerance" if tied else "must be equal"
                (tolerated if tied else found).append(Disagreement(table, at, column, plain(x), plain(y), allowed))
        if numeric:
            deviations.append(Deviation(table, column, *largest[False], tolerance_for(column, False, name)))
            if moved:
                deviations.append(Deviation(table, column, *largest[True], tolerance_for(column, True, name), True))
    return found, deviations, tolerated


def provenance(path: Path) -> dict[str, object]:
    return read_provenance(pq.read_schema(path).metadata or {})


def provenance_notes(a: dict, b: dict) -> tuple[list[str], list[Disagreement]]:
    """Software and machine differences are notes; a different config is a disagreement."""
    notes, found = [], []
    config_a, config_b = a.get("config", {}), b.get("config", {})
    for key in sorted(set(config_a) | set(config_b)):
        if key not in PLACEMENT_KEYS and config_a.get(key) != config_b.get(key):
            found.append(Disagreement("config", (), key, config_a.get(key), config_b.get(key), "must be equal"))
    for entry in ("versions", "compute"):
        left, right = a.get(entry), b.get(entry)
        if left != right:
            notes.append(f"{entry}: A {json.dumps(left, sort_keys=True)}")
            notes.append(f"{' ' * len(entry)}  B {json.dumps(right, sort_keys=True)}")
    if a.get("git_commit") != b.get("git_commit"):
        notes.append(f"git_commit: A {a.get('git_commit')}, B {b.get('git_commit')}")
    return notes, found


def compare_folders(a: str | Path, b: str | Path) -> Comparison:
    folder_a, folder_b = results_folder(a), results_folder(b)
    names_a = {path.stem for path in folder_a.glob("*.parquet")}
    names_b = {path.stem for path in folder_b.glob("*.parquet")}
    disagreements, deviations, tolerated, notes, rows = [], [], [], [], 0
    for name in sorted(names_a ^ names_b):
        disagreements.append(one_sided(f"{name}.parquet", (), "table", "A" if name in names_a else "B"))
    tables = sorted(names_a & names_b)
    reselected = frozenset()
    # runs first: the models whose trainer kept another step there are the same in every other table.
    for name in sorted(tables, key=lambda name: name != "runs"):
        table_a, table_b = (pd.read_parquet(folder / f"{name}.parquet") for folder in (folder_a, folder_b))
        found, spread, tied = compare_tables(name, table_a, table_b, reselected)
        if name == "runs":
            reselected = reselected_ids(table_a, tied)
        disagreements, deviations, tolerated = disagreements + found, deviations + spread, tolerated + tied
        rows += len(table_a)
    if tables:
        # Every table of a run carries the same config; runs.parquet also lists every step's environment.
        source = f"{'runs' if 'runs' in tables else tables[0]}.parquet"
        notes, config = provenance_notes(provenance(folder_a / source), provenance(folder_b / source))
        disagreements = config + disagreements
    differ = [name for name in tables if file_bytes(folder_a, name) != file_bytes(folder_b, name)]
    notes.insert(0, f"tables that differ in bytes: {', '.join(differ) or 'none'} (of {len(tables)} on both sides)")
    unlisted = sorted({d.column for d in deviations if d.tolerance is UNLISTED})
    if unlisted:
        notes.append(f"float columns without a tolerance of their own, compared exactly: {', '.join(unlisted)}")
    notes += [f"tolerated: {tied}" for tied in tolerated]
    return Comparison(disagreements, deviations, tolerated, notes, rows, tables)


def file_bytes(folder: Path, name: str) -> bytes:
    return (folder / f"{name}.parquet").read_bytes()


def report(comparison: Comparison, show_deviations: bool = False) -> str:
    """The verdict first, then every disagreement, then notes (and the largest deviation per column)."""
    if comparison.agree:
        verdict = (
            f"AGREE: {comparison.rows} rows in {len(comparison.tables)} tables match; every number is "
            "within its tolerance and every label, flag and count is equal"
        )
        if comparison.tolerated:
            verdict += f" ({len(comparison.tolerated)} tolerated differences in the notes)"
    else:
        verdict = f"DISAGREE: {len(comparison.disagreements)} disagreements beyond float noise"
    lines = [verdict, *(f"  {d}" for d in comparison.disagreements)]
    lines += ["notes:", *(f"  {note}" for note in comparison.notes)]
    if show_deviations:
        lines.append("largest deviation per float column (relative, absolute; tolerance):")
        lines += [f"  {d}" for d in comparison.deviations]
    return "\n".join(lines)
