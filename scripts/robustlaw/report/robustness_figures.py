"""Figures of robust and clean accuracy against model size, drawn in the style of robustlaw.report.law_figures so they
read like the Lipschitz figure they sit beside: same x axis p/(nd), same colours, same reference lines."""

from collections.abc import Callable

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from robustlaw.catalogue import FIGURES
from robustlaw.report.figure_check import REFERENCE
from robustlaw.report.law_figures import (
    AT_N,
    AT_ND,
    NOT_FITTED,
    P_OVER_ND,
    Style,
    dataset_title,
    draw_figures,
    figure_style,
    key_handles,
    panel_grid,
    series_handles,
    shared_legend,
    with_keys,
)

IDS = ["dataset", "model", "trainer", "seed"]
# What the figures take from results/runs.parquet beside robustness.parquet's own columns.
RUN_FIELDS = ["family", "depth", "n", "d", "labels", "distribution", "p_over_nd", "fitted", "test_mse"]
CHANCE = {"color": "black", "lw": 1.0, "ls": ":"}
ACCURACY = "accuracy\n(share of points)"
ROBUST_SPLIT = "train"


def joined(runs: pd.DataFrame, robustness: pd.DataFrame) -> pd.DataFrame:
    """Robustness rows with their model's size, fit and series, keyed like every other figure."""
    return with_keys(robustness.merge(runs[IDS + RUN_FIELDS], on=IDS, how="inner", validate="many_to_one"))


def size_references(axis: plt.Axes, part: pd.DataFrame) -> None:
    """p = n and p = nd, as in the Lipschitz figure; accuracy runs from 0 to 1."""
    d = int(part["d"].iloc[0])
    axis.axvline(1 / d, **AT_N, gid=REFERENCE)
    axis.axvline(1.0, **AT_ND, gid=REFERENCE)
    axis.set(xscale="log", ylim=(-0.03, 1.03), xlabel=P_OVER_ND, ylabel=ACCURACY)


def robust_accuracy_figure(runs: pd.DataFrame, robustness: pd.DataFrame, style: Style) -> plt.Figure:
    """Per dataset and radius, the robust accuracy of the fitted models on their training points against
    p/(nd): a band from the median certified to the median attacked share over seeds, per trainer."""
    table = joined(runs, robustness)
    table = table[(table["split"] == ROBUST_SPLIT) & table["fitted"]]
    datasets, radii = sorted(runs["dataset"].unique()), sorted(robustness["radius"].unique())
    figure, axes = panel_grid(len(datasets) * len(radii))
    for index, (name, radius) in enumerate((name, radius) for name in datasets for radius in radii):
        axis = axes[index]
        part = table[(table["dataset"] == name) & (table["radius"] == radius)]
        for (key, series), group in part.groupby(["key", "series"], sort=True):
            median = group.groupby("p_over_nd", sort=True)[["certified_accuracy", "attacked_accuracy"]].median()
            colour, line_style = style.colour(key), style.line_styles[series]
            axis.fill_between(
                median.index, median["certified_accuracy"], median["attacked_accuracy"], color=colour, alpha=0.25, lw=0
            )
            axis.plot(median.index, median["attacked_accuracy"], color=colour, ls=line_style, marker="^")
            axis.plot(median.index, median["certified_accuracy"], color=colour, ls=line_style, marker="v", lw=0.9)
        size_references(axis, runs[runs["dataset"] == name])
        axis.set_title(f"{dataset_title(runs[runs['dataset'] == name])}\nradius r = {radius:g}")
    keys = list(table["key"])
    handles = key_handles(style, keys) + series_handles(style, list(table["series"]))
    handles += [
        Line2D([], [], color="0.3", marker="^", label="attacked: upper bound"),
        Line2D([], [], color="0.3", marker="v", lw=0.9, label="certified (|f| > r Lip upper): lower bound"),
        Patch(color="0.3", alpha=0.25, label="robust accuracy lies in the band"),
        Line2D([], [], **AT_N, label="p = n (interpolation threshold)"),
        Line2D([], [], **AT_ND, label="p = n d (smooth interpolation)"),
    ]
    shared_legend(figure, handles)
    return figure


def test_accuracy_figure(runs: pd.DataFrame, robustness: pd.DataFrame, style: Style) -> plt.Figure:
    """Per dataset, the clean accuracy of every model on the held-out points against p/(nd) (medians over
    seeds); models that did not fit as grey crosses; chance (0.5) dotted."""
    table = joined(runs, robustness)
    # Clean accuracy does not depend on the radius: one row per model.
    table = table[table["split"] == "test"].drop_duplicates(IDS)
    datasets = sorted(runs["dataset"].unique())
    figure, axes = panel_grid(len(datasets))
    for axis, name in zip(axes, datasets, strict=True):
        part = table[table["dataset"] == name]
        for (key, series), group in part.groupby(["key", "series"], sort=True):
            median = group.groupby("p_over_nd", sort=True)["clean_accuracy"].median()
            axis.plot(median.index, median, color=style.colour(key), ls=style.line_styles[series], marker="o")
        unfitted = part[~part["fitted"]]
        axis.scatter(unfitted["p_over_nd"], unfitted["clean_accuracy"], **NOT_FITTED, zorder=3)
        axis.axhline(0.5, **CHANCE, gid=REFERENCE)
        size_references(axis, runs[runs["dataset"] == name])
        axis.set_title(dataset_title(runs[runs["dataset"] == name]))
        axis.set_ylabel(f"clean test {ACCURACY}")
    handles = key_handles(style, list(table["key"])) + series_handles(style, list(table["series"]))
    if (~table["fitted"]).any():
        handles.append(Line2D([], [], ls="none", **NOT_FITTED, label="did not fit"))
    handles += [
        Line2D([], [], **CHANCE, label="chance (0.5)"),
        Line2D([], [], **AT_N, label="p = n (interpolation threshold)"),
        Line2D([], [], **AT_ND, label="p = n d (smooth interpolation)"),
    ]
    shared_legend(figure, handles)
    return figure


def every_figure(
    runs: pd.DataFrame, fits: pd.DataFrame, frontier: pd.DataFrame, robustness: pd.DataFrame
) -> dict[str, Callable[[], plt.Figure]]:
    """Every figure of the catalogue, in its order, as a function that draws it."""
    style = figure_style(runs)
    drawers = draw_figures(runs, fits, frontier) | {
        "robust_accuracy_vs_p": lambda: robust_accuracy_figure(runs, robustness, style),
        "test_accuracy_vs_p": lambda: test_accuracy_figure(runs, robustness, style),
    }
    missing, unlisted = set(FIGURES) - set(drawers), set(drawers) - set(FIGURES)
    if missing or unlisted:
        raise ValueError(
            f"figures without a drawing: {sorted(missing)}; drawings not in the catalogue: {sorted(unlisted)}"
        )
    return {name: drawers[name] for name in FIGURES}
