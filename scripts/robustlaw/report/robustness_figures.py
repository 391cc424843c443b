"""Figures of robust and clean accuracy against model size, drawn in the style of robustlaw.report.law_figures so they
read like the Lipschitz figure they sit beside: same x axis p/(nd), same markers, same reference lines. The
test-accuracy figure colours trainers and controls as every other figure does; the robust-accuracy figure, set at page
width with one panel per dataset, gives colour to the radius and tells trainers and controls apart by line style."""

import textwrap
from collections.abc import Callable

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from robustlaw.catalogue import FIGURES
from robustlaw.report.figure_check import REFERENCE
from robustlaw.report.law_figures import (
    AT_N,
    AT_ND,
    LINE_STYLES,
    MAX_COLUMNS,
    NOT_FITTED,
    P_OVER_ND,
    PAGE_FONT,
    SIDE_MARKERS,
    Style,
    dataset_title,
    draw_figures,
    figure_style,
    key_handles,
    page_grid,
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
# The robust-accuracy figure, set at page width: one panel per dataset, colour = radius.
RADIUS_COLORMAP = "viridis"  # sequential, and readable by colour-blind readers and in grey
RADIUS_SPAN = (0.0, 0.85)  # of the colormap: its yellow end is faint on white
ROBUST_ACCURACY = "robust accuracy\n(share of training points)"
PAGE_P_OVER_ND = "\n".join([P_OVER_ND.split("  ")[0], textwrap.fill(P_OVER_ND.split("  ")[1], 20)])
TITLE_CHARACTERS = 30  # per line of a dataset's title in a third of the page
PAGE_LEGEND_COLUMN = 1.7  # inches per column of the legend


def joined(runs: pd.DataFrame, robustness: pd.DataFrame) -> pd.DataFrame:
    """Robustness rows with their model's size, fit and series, keyed like every other figure."""
    return with_keys(robustness.merge(runs[IDS + RUN_FIELDS], on=IDS, how="inner", validate="many_to_one"))


def size_references(axis: plt.Axes, part: pd.DataFrame) -> None:
    """p = n and p = nd, as in the Lipschitz figure; accuracy runs from 0 to 1."""
    d = int(part["d"].iloc[0])
    axis.axvline(1 / d, **AT_N, gid=REFERENCE)
    axis.axvline(1.0, **AT_ND, gid=REFERENCE)
    axis.set(xscale="log", ylim=(-0.03, 1.03), xlabel=P_OVER_ND, ylabel=ACCURACY)


def robust_table(runs: pd.DataFrame, robustness: pd.DataFrame) -> pd.DataFrame:
    """The rows the robust-accuracy figure draws: the fitted models, on their training points."""
    table = joined(runs, robustness)
    return table[(table["split"] == ROBUST_SPLIT) & table["fitted"]]


def radius_colours(radii: list[float]) -> dict[float, str]:
    """One colour per radius from RADIUS_COLORMAP, evenly spaced over RADIUS_SPAN, darkest for the smallest."""
    radii = sorted(set(radii))
    colormap = matplotlib.colormaps[RADIUS_COLORMAP]
    positions = np.linspace(*RADIUS_SPAN, len(radii)) if len(radii) > 1 else [RADIUS_SPAN[0]]
    return {radius: to_hex(colormap(position)) for radius, position in zip(radii, positions, strict=True)}


def curve_line_styles(style: Style, table: pd.DataFrame) -> dict[tuple[str, str], str | tuple]:
    """One line style (from LINE_STYLES, repeating past the last) per trainer or control and model series in
    `table`, in the Style's order: where colour is taken by the radius, the line style tells the curves apart."""
    keys, series = list(style.colours), list(style.line_styles)
    curves = sorted(
        set(zip(table["key"], table["series"], strict=True)), key=lambda c: (keys.index(c[0]), series.index(c[1]))
    )
    return {curve: LINE_STYLES[i % len(LINE_STYLES)] for i, curve in enumerate(curves)}


def curve_name(curve: tuple[str, str], curves: list[tuple[str, str]]) -> str:
    """A trainer or control by its name, with its series where it runs several."""
    key, series = curve
    return f"{key}, {series}" if sum(other == key for other, _ in curves) > 1 else key


def page_title(part: pd.DataFrame, columns: int) -> str:
    """A dataset's title, wrapped to its panel's share of the page."""
    return textwrap.fill(dataset_title(part), TITLE_CHARACTERS * MAX_COLUMNS // columns)


def robust_accuracy_figure(runs: pd.DataFrame, robustness: pd.DataFrame, style: Style) -> plt.Figure:
    """One panel per dataset: the robust accuracy of the fitted models on their training points against p/(nd),
    a band per trainer (or control) and radius from the median certified to the median attacked share over
    seeds; colour is the radius, line style the trainer or control, the marker the end of the band."""
    table = robust_table(runs, robustness)
    datasets = sorted(runs["dataset"].unique())
    colours = radius_colours(list(robustness["radius"]))
    line_styles = curve_line_styles(style, table)
    figure, axes = page_grid(len(datasets))
    for axis, name in zip(axes, datasets, strict=True):
        part = table[table["dataset"] == name]
        for (key, series, radius), group in part.groupby(["key", "series", "radius"], sort=True):
            median = group.groupby("p_over_nd", sort=True)[["certified_accuracy", "attacked_accuracy"]].median()
            colour, line_style = colours[radius], line_styles[(key, series)]
            axis.fill_between(
                median.index, median["certified_accuracy"], median["attacked_accuracy"], color=colour, alpha=0.12, lw=0
            )
            for side, column in (("upper", "attacked_accuracy"), ("lower", "certified_accuracy")):
                width = 1.3 if side == "upper" else 0.8
                axis.plot(
                    median.index, median[column], color=colour, ls=line_style, lw=width, marker=SIDE_MARKERS[side]
                )
        size_references(axis, runs[runs["dataset"] == name])
        axis.set_title(page_title(runs[runs["dataset"] == name], min(len(datasets), MAX_COLUMNS)))
        axis.set_xlabel(PAGE_P_OVER_ND)
        if axis.get_subplotspec().is_first_col():
            axis.set_ylabel(ROBUST_ACCURACY)
        else:
            axis.set_ylabel("")
    curves = list(line_styles)
    handles = [Line2D([], [], color=colour, lw=3, label=f"r = {radius:g}") for radius, colour in colours.items()]
    handles += [
        Line2D([], [], color="0.3", ls=line_style, label=curve_name(curve, curves))
        for curve, line_style in line_styles.items()
    ]
    handles += [
        Line2D([], [], color="0.3", marker=SIDE_MARKERS["upper"], label="attacked: upper bound"),
        Line2D([], [], color="0.3", marker=SIDE_MARKERS["lower"], lw=0.8, label="certified: lower bound"),
        Patch(color="0.3", alpha=0.2, label="robust accuracy lies between"),
        Line2D([], [], **AT_N, label="p = n"),
        Line2D([], [], **AT_ND, label="p = n d"),
    ]
    shared_legend(figure, handles, fontsize=PAGE_FONT, width=PAGE_LEGEND_COLUMN)
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
