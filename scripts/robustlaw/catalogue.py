"""Every stage, table and figure of a run, each listed once. The rules (their outputs, the final target,
the manifest's inputs), `robustlaw compare`, `robustlaw columns` and `robustlaw figures` (which write
docs/columns.md and the table of docs/figures.md), the figures step and its captions all read them here:
adding a table or a figure is an entry here and the code that makes it. Standard library only: the rules
read it while Snakemake builds the DAG."""

from dataclasses import dataclass

from robustlaw.results.columns import (
    FRONTIER_COLUMNS,
    LAW_FIT_COLUMNS,
    LOCAL_SLOPE_COLUMNS,
    ROBUSTNESS_COLUMNS,
    RUN_COLUMNS,
)


@dataclass(frozen=True)
class Stage:
    """A rule of the workflow: what one of its jobs covers, and what it does."""

    scope: str  # one job per: dataset, configuration (dataset, trainer, model), sweep (dataset, trainer), run
    summary: str


STAGES: dict[str, Stage] = {
    "generate_data": Stage("dataset", "draws a synthetic dataset or reads a real one"),
    "data_floor": Stage("dataset", "the data floor L_sep: the least Lipschitz constant of any interpolant"),
    "train": Stage("configuration", "fits every seed of one (dataset, trainer, model) to the fit criterion"),
    "fit_control": Stage("dataset", "fits a dataset's closed-form controls, every width and seed"),
    "lipschitz": Stage("sweep", "brackets Lip(f) of every model and seed of a (dataset, trainer) sweep"),
    "robustness": Stage("sweep", "certified and attacked robust accuracy of every model of a sweep"),
    "aggregate": Stage("run", "runs.parquet, timings.tsv and the config page"),
    "robustness_table": Stage("run", "robustness.parquet"),
    "law_fit": Stage("run", "law_fit.parquet, frontier.parquet, local_slopes.parquet and their page"),
    "figures": Stage("run", "every figure and its caption"),
    "manifest": Stage("run", "MANIFEST.sha256 and MANIFEST-timings.sha256"),
}


@dataclass(frozen=True)
class Table:
    """A Parquet table under results/: the stage that writes it, its column dictionary, and the columns
    that identify a row (for `robustlaw compare`; empty: the ids it has among KEY_CANDIDATES)."""

    stage: str
    columns: dict[str, tuple[str, str]]
    keys: tuple[str, ...] = ()


TABLES: dict[str, Table] = {
    "runs": Table("aggregate", RUN_COLUMNS, ("dataset", "model", "trainer", "seed")),
    "law_fit": Table("law_fit", LAW_FIT_COLUMNS, ("dataset", "series", "trainer", "side")),
    "frontier": Table("law_fit", FRONTIER_COLUMNS, ("dataset", "p")),
    "local_slopes": Table("law_fit", LOCAL_SLOPE_COLUMNS, ("dataset", "series", "trainer", "side", "width_low")),
    "robustness": Table("robustness_table", ROBUSTNESS_COLUMNS),
}


def table_file(name: str) -> str:
    """The table's file under results/."""
    return f"{name}.parquet"


def stage_tables(stage: str) -> list[str]:
    """The tables a stage writes, in TABLES order."""
    return [name for name, table in TABLES.items() if table.stage == stage]


# Every figure of a run, in the report's order (robust and test accuracy right after the Lipschitz
# figure, so the report shows them side by side), with what it shows (docs/figures.md).
FIGURES: dict[str, str] = {
    "lipschitz_vs_p": (
        "every fitted model's certified bracket lower <= Lip(f) <= upper against p/(nd), log-log, one panel per "
        "dataset; medians over seeds of both ends; the fitted law on the upper ends with its slope and 95% "
        "bootstrap interval; models that did not fit as grey crosses"
    ),
    "robust_accuracy_vs_p": (
        "robust accuracy of the fitted models on their training points against p/(nd), one panel per dataset (at "
        "most three to a row, the whole figure 7 inches wide): a band per trainer or control and radius r from the "
        "certified share (lower bound, down-triangles) to the attacked share (upper bound, up-triangles), medians "
        "over seeds; colour is the radius (one colour per radius from the sequential colormap viridis, "
        "`RADIUS_COLORMAP`, darkest for the smallest), line style the trainer or control; p = n and p = nd marked, "
        "as beside it in the Lipschitz figure"
    ),
    "test_accuracy_vs_p": (
        "clean accuracy on the held-out points of every model against p/(nd), one panel per dataset, medians over "
        "seeds; models that did not fit as grey crosses; chance (0.5) dotted, which is all random-sign labels allow"
    ),
    "frontier": (
        "at each p the smallest certified upper bound among fitted models (coloured by the trainer or control "
        "that reached it) and that model's lower bound"
    ),
    "interpolation_threshold": (
        "one pair of panels per dataset: top, the share of seeds that met the fit criterion against p/n; bottom, "
        "the final training MSE of the runs that did not, against the criterion sigma^2 - eps; p = n marked"
    ),
    "law_ratio": (
        "how far above the law each fit is: Lip / sqrt(nd/p) against p/(nd) (top) and Lip / sqrt(n d_intrinsic/p) "
        "against p/(n d_intrinsic) (bottom), one pair of panels per dataset, every trainer and control; bands "
        "from the medians of both bracket ends, a line on the upper one; flat means the fits follow the law, "
        "rising that they fall further behind it as p grows; the law (1), the floor in the same units, p = n, "
        "p = nD (x = 1) and the other dimension's p = nD' (grey dotted)"
    ),
}
FIGURE_FORMATS = ("png", "svg")


def figures_markdown() -> str:
    """The table of docs/figures.md: one row per figure file, and the captions' row."""
    lines = ["| file | what it shows |", "|---|---|"]
    formats = ",".join(FIGURE_FORMATS)
    lines += [f"| `results/figures/{name}.{{{formats}}}` | {summary} |" for name, summary in FIGURES.items()]
    lines.append(
        "| `results/figures/<figure>.rst` | the caption of each figure, shown under it in the Snakemake report |"
    )
    return "\n".join(lines) + "\n"
