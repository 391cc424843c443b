"""Figures of the measured tradeoff, drawn with matplotlib, saved with reproducible bytes.

Every figure reads the same way: one colour per trainer or closed-form control (Okabe-Ito, safe
for colour-blind readers), one marker per end of the Lipschitz bracket, one line style per
network depth, reference lines in black and grey, and one legend per figure below the panels
(inside a panel only for what differs between panels, the fitted slopes).
"""

from collections.abc import Callable
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import LogFormatter  # noqa: E402
from matplotlib.transforms import offset_copy  # noqa: E402

from robustlaw.files import atomic_path  # noqa: E402
from robustlaw.report.figure_check import NOTE, REFERENCE, covered_points  # noqa: E402
from robustlaw.report.law_fit import series_name  # noqa: E402
from robustlaw.results.paths import CLOSED_FORM  # noqa: E402

# Fixed SVG ids and no dates in file metadata: same table, same bytes.
matplotlib.rcParams["svg.hashsalt"] = "robustlaw"
SAVE_METADATA = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}
DPI = 300
PANEL_SIZE = (4.2, 3.4)  # inches per panel, the width of a journal column
MIN_WIDTH = 5.0  # inches: a one-panel figure still leaves the shared legend its room
MAX_COLUMNS = 3  # panels to a row: wider does not fit a journal page
# A figure set at the full text width of a page: printed at its own size, so its smallest text is PAGE_FONT.
PAGE_WIDTH = 7.0  # inches
PAGE_ROW = 2.8  # inches per row of panels
PAGE_FONT = 8.0  # points
LEGEND_ROW = 0.17  # inches per row of the legend below the panels
BELOW_AXIS = 34  # points from a panel's lower edge past its tick labels and axis label
RC = {
    "font.size": 8.5,
    "axes.titlesize": 8.5,
    "axes.labelsize": 8.5,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "axes.grid": True,
    "grid.color": "0.9",
    "grid.linewidth": 0.6,
    "axes.edgecolor": "0.3",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.4,
    "lines.markersize": 4.5,
}
matplotlib.rcParams.update(RC)
# Okabe & Ito's palette without black (kept for reference lines), yellow last: it is faint on white.
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "bluish green": "#009E73",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
    "sky blue": "#56B4E9",
    "yellow": "#F0E442",
}
SIDE_MARKERS = {"upper": "^", "lower": "v"}
SIDE_TEXT = {"upper": "certified upper bound", "lower": "certified lower bound"}
MARKER_NAMES = {"^": "up-triangles", "v": "down-triangles"}
# Matplotlib's line styles in the order figures hand them out, with their names in the captions.
LINE_STYLE_NAMES = {
    "-": "solid",
    "--": "dashed",
    ":": "dotted",
    "-.": "dash-dotted",
    (0, (7, 2)): "long-dashed",
    (0, (4, 1.5, 1, 1.5, 1, 1.5)): "dash-dot-dotted",
    (0, (1, 3)): "sparsely dotted",
}
LINE_STYLES = tuple(LINE_STYLE_NAMES)
NOT_FITTED = {"marker": "x", "color": "0.45"}
# Reference lines: black and grey, so they never read as one of the data colours.
LAW = {"color": "black", "lw": 1.0, "ls": "-"}
FLOOR = {"color": "black", "lw": 1.0, "ls": ":"}
AT_N = {"color": "0.55", "lw": 1.0, "ls": "-."}
AT_ND = {"color": "0.55", "lw": 1.0, "ls": "--"}
CRITERION = {"color": "black", "lw": 1.0, "ls": ":"}
LIP_UNIT = "label / input norm"
P_OVER_ND = "p / (n d)  (parameters per training coordinate)"
LABELS = {"random_sign": "random ±1 labels", "teacher": "teacher labels", "even_odd": "even/odd digit labels"}
MISSED = "training MSE of runs that did not fit\n" r"(label$^2$)"


@dataclass(frozen=True)
class Style:
    """The colour of each trainer or control and the line style of each model series, shared by
    every figure of a run (and named in the captions)."""

    colours: dict[str, str]  # curve key (trainer name, or control kind) -> colour name in PALETTE
    line_styles: dict[str, str | tuple]  # series ('mlp depth 2', 'even_ntk') -> matplotlib line style

    def colour(self, key: str) -> str:
        return PALETTE[self.colours[key]]


def with_keys(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with its series (from family and depth, unless it has one) and its curve key: trained
    models are coloured by trainer, closed-form controls by their kind (which is their series)."""
    if "series" not in table:
        table = table.assign(series=[series_name(f, d) for f, d in zip(table["family"], table["depth"], strict=True)])
    keys = [s if t == CLOSED_FORM else t for s, t in zip(table["series"], table["trainer"], strict=True)]
    return table.assign(key=keys)


def figure_style(runs: pd.DataFrame) -> Style:
    """Trainers first, then controls, each in name order; depths in increasing order. Colours
    repeat past the seventh trainer or control, and the captions then name the same colour twice."""
    keyed = with_keys(runs)
    trained = sorted(keyed.loc[keyed["trainer"] != CLOSED_FORM, "key"].unique())
    controls = sorted(keyed.loc[keyed["trainer"] == CLOSED_FORM, "key"].unique())
    names = list(PALETTE)
    colours = {key: names[i % len(names)] for i, key in enumerate([*trained, *controls])}
    depths = sorted(keyed.loc[keyed["trainer"] != CLOSED_FORM, "depth"].dropna().unique())
    series = [series_name("mlp", depth) for depth in depths]
    line_styles = {name: LINE_STYLES[i % len(LINE_STYLES)] for i, name in enumerate(series)}
    line_styles |= {key: "-" for key in controls}
    return Style(colours, line_styles)


def labels_text(labels: str) -> str:
    return LABELS.get(labels, f"{labels} labels")


def dataset_title(part: pd.DataFrame) -> str:
    first = part.iloc[0]
    return f"{first['distribution']}, n = {first['n']}, d = {first['d']}, {labels_text(first['labels'])}"


def new_figure(
    rows: int, columns: int, size: tuple[float, float] | None = None, **options
) -> tuple[plt.Figure, np.ndarray]:
    """A grid of panels with constrained layout, which keeps every label and the legend below the
    panels inside the canvas: journal-column panels unless `size` (inches, the panels' part) is given;
    `options` go to plt.subplots (sharey)."""
    width, height = size or (max(MIN_WIDTH, PANEL_SIZE[0] * columns), PANEL_SIZE[1] * (1 if rows == 1 else 0.8 * rows))
    figure, axes = plt.subplots(
        rows,
        columns,
        figsize=(width, height + 0.15),
        squeeze=False,
        layout="constrained",
        **options,
    )
    for axis in axes.flat:
        axis.set_axisbelow(True)
    return figure, axes


def first_panels(axes: np.ndarray, count: int) -> list[plt.Axes]:
    """The first `count` panels of a grid; its spare cells are hidden."""
    for spare in axes.flat[count:]:
        spare.set_visible(False)
    return list(axes.flat[:count])


def page_grid(count: int) -> tuple[plt.Figure, list[plt.Axes]]:
    """`count` panels at most MAX_COLUMNS to a row, PAGE_WIDTH wide in all (MIN_WIDTH for a lone panel, which
    leaves the legend its room), sharing their y axis: only the first column carries its label and ticks."""
    columns = min(count, MAX_COLUMNS)
    rows = -(-count // columns)
    width = max(MIN_WIDTH, min(PAGE_WIDTH, PANEL_SIZE[0] * columns))
    figure, axes = new_figure(rows, columns, (width, PAGE_ROW * rows), sharey=True)
    for axis in axes.flat:
        axis.tick_params(which="both", labelsize=PAGE_FONT)
    return figure, first_panels(axes, count)


def panel_pairs(count: int, share_x: bool = True) -> tuple[plt.Figure, list[tuple[plt.Axes, plt.Axes]]]:
    """`count` pairs of panels, one above the other (sharing their x axis unless share_x is False), at
    most MAX_COLUMNS pairs to a row; the grid's spare cells are hidden."""
    columns = min(count, MAX_COLUMNS)
    figure, axes = new_figure(2 * -(-count // columns), columns)
    pairs = [(axes[2 * (i // columns), i % columns], axes[2 * (i // columns) + 1, i % columns]) for i in range(count)]
    for top, bottom in pairs if share_x else []:
        top.sharex(bottom)
        top.tick_params(which="both", labelbottom=False)
    for spare in axes.flat:
        spare.set_visible(any(spare in pair for pair in pairs))
    return figure, pairs


def panel_grid(count: int) -> tuple[plt.Figure, list[plt.Axes]]:
    """`count` panels, at most MAX_COLUMNS to a row; the grid's spare cells are hidden."""
    columns = min(count, MAX_COLUMNS)
    figure, axes = new_figure(-(-count // columns), columns)
    return figure, first_panels(axes, count)


def key_handles(style: Style, keys: list[str]) -> list[Line2D]:
    """Legend entries for the trainers and controls in `keys`, in the style's order: colour only, as
    markers and line styles have meanings of their own."""
    ordered = [key for key in style.colours if key in set(keys)]
    return [Line2D([], [], color=style.colour(key), lw=3, label=key) for key in ordered]


def series_handles(style: Style, series: list[str]) -> list[Line2D]:
    """Line-style entries, only when a figure shows more than one network depth."""
    networks = [name for name in style.line_styles if name.startswith("mlp") and name in set(series)]
    if len(networks) < 2:
        return []
    return [Line2D([], [], color="0.3", ls=style.line_styles[name], label=name) for name in networks]


def side_handles() -> list[Line2D]:
    return [
        Line2D([], [], color="0.3", marker=SIDE_MARKERS[side], ls="none", label=SIDE_TEXT[side])
        for side in SIDE_MARKERS
    ]


def reference_handles() -> list[Line2D]:
    return [
        Line2D([], [], **LAW, label=r"law's scaling $\sqrt{nd/p}$ (prefactor 1)"),
        Line2D([], [], **FLOOR, label=r"data floor $L_{sep}$"),
        Line2D([], [], **AT_N, label="p = n (interpolation threshold)"),
        Line2D([], [], **AT_ND, label="p = n d (smooth interpolation)"),
    ]


def shared_legend(figure: plt.Figure, handles: list[Line2D], fontsize: float | None = None, width: float = 1.9) -> None:
    """One legend for the whole figure, below the panels, in as many columns of `width` inches as fit (fewer
    where long entries would take it past the canvas's edges)."""
    columns = max(1, min(len(handles), int(figure.get_figwidth() // width)))
    height, renderer = figure.get_figheight(), figure.canvas.get_renderer()
    while True:
        rows = -(-len(handles) // columns)
        # The panels keep their height: the canvas grows by the legend's rows.
        figure.set_figheight(height + LEGEND_ROW * rows)
        legend = figure.legend(
            handles=handles, loc="outside lower center", ncols=columns, frameon=False, fontsize=fontsize
        )
        if columns == 1 or legend.get_window_extent(renderer).width <= figure.bbox.width:
            break
        legend.remove()
        columns -= 1
    plain_log_ticks(figure)


class PlainLogFormatter(LogFormatter):
    """Matplotlib's choice of which log ticks to label, written as plain numbers."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:g}" if super().__call__(x, pos) else ""


def plain_log_ticks(figure: plt.Figure) -> None:
    """Log axes labelled '0.5, 1, 2' rather than '5 x 10^-1': read at a glance, and short enough
    that a narrow range's minor labels do not collide."""
    for axis in figure.axes:
        for scale in (axis.xaxis, axis.yaxis):
            if scale.get_scale() == "log":
                scale.set_major_formatter(PlainLogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.4)))
                scale.set_minor_formatter(PlainLogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.4)))


def note(axis: plt.Axes, text: str) -> None:
    """Say why a panel has no data, instead of leaving it blank."""
    axis.text(0.5, 0.5, text, transform=axis.transAxes, ha="center", va="center", color="0.35", gid=NOTE)


def law_references(axis: plt.Axes, part: pd.DataFrame, ratios: pd.Series) -> None:
    """sqrt(nd/p), the data floor and the two thresholds, on log-log axes of p/(nd)."""
    d = int(part["d"].iloc[0])
    span = np.geomspace(min(ratios.min(), 1 / d) / 1.5, max(ratios.max(), 1.0) * 1.5, 50)
    axis.plot(span, 1 / np.sqrt(span), **LAW, gid=REFERENCE)
    axis.axhline(part["l_sep"].iloc[0], **FLOOR, gid=REFERENCE)
    axis.axvline(1 / d, **AT_N, gid=REFERENCE)
    axis.axvline(1.0, **AT_ND, gid=REFERENCE)
    axis.set(xscale="log", yscale="log", title=dataset_title(part), xlabel=P_OVER_ND)


def bracket(axis: plt.Axes, group: pd.DataFrame, colour: str, line_style: str) -> None:
    """Each model's bracket as a pale bar, and the medians over seeds of both ends, joined."""
    axis.vlines(group["p_over_nd"], group["lip_lower"], group["lip_upper"], color=colour, alpha=0.3, lw=2)
    for side, column in (("upper", "lip_upper"), ("lower", "lip_lower")):
        median = group.groupby("p_over_nd", sort=True)[column].median()
        width = 1.4 if side == "upper" else 0.9
        axis.plot(median.index, median, color=colour, ls=line_style, lw=width, marker=SIDE_MARKERS[side])


def fit_lines(axis: plt.Axes, fits: pd.DataFrame, style: Style) -> None:
    """The fitted laws on the upper ends, drawn wide and pale; their slopes in a legend inside the panel."""
    handles = []
    drawn = with_keys(fits[(fits["side"] == "upper") & np.isfinite(fits["slope"])])
    for fit in drawn.itertuples():
        ratios = np.geomspace(fit.span_low, fit.span_high, 20)
        colour = style.colour(fit.key)
        axis.plot(ratios, fit.prefactor * ratios**fit.slope, color=colour, lw=5, alpha=0.3, solid_capstyle="butt")
        interval = f" [{fit.slope_low:.2f}, {fit.slope_high:.2f}]" if np.isfinite(fit.slope_low) else ""
        several = (drawn["key"] == fit.key).sum() > 1
        name = f"{fit.key}, {fit.series}" if several else fit.key
        handles.append(Line2D([], [], color=colour, lw=5, alpha=0.3, label=f"{name}: slope {fit.slope:.2f}{interval}"))
    if handles:
        axis.legend(handles=handles, title="fitted slope of upper ends", loc="best", framealpha=0.9, fontsize=7)


def legends_off_data(figure: plt.Figure) -> None:
    """A panel's legend stays inside where matplotlib found room free of data; otherwise it moves
    below the panel, and the canvas grows by its height so the panels keep theirs."""
    figure.canvas.draw()
    renderer, grown = figure.canvas.get_renderer(), 0.0
    for axis in figure.axes:
        legend = axis.get_legend()
        if legend is None or not covered_points(axis, legend, renderer):
            continue
        handles, title = legend.legend_handles, legend.get_title().get_text()
        legend.remove()
        below = offset_copy(axis.transAxes, figure, y=-BELOW_AXIS, units="points")
        moved = axis.legend(
            handles=handles, title=title, loc="upper center", bbox_to_anchor=(0.5, 0), bbox_transform=below, fontsize=7
        )
        grown = max(grown, moved.get_window_extent(renderer).height / figure.dpi + BELOW_AXIS / 72)
    figure.set_figheight(figure.get_figheight() + grown)


def lipschitz_figure(runs: pd.DataFrame, fits: pd.DataFrame, style: Style) -> plt.Figure:
    """Bracket [lip_lower, lip_upper] against p/(nd) per dataset, with the fitted laws and references."""
    runs = with_keys(runs)
    datasets = sorted(runs["dataset"].unique())
    figure, axes = panel_grid(len(datasets))
    for axis, name in zip(axes, datasets, strict=True):
        part = runs[runs["dataset"] == name]
        # Discontinuous models (relu_ntk) have Lip = inf: in the table, not on a log axis.
        fitted = part[part["fitted"] & np.isfinite(part["lip_upper"])]
        for (key, series), group in fitted.groupby(["key", "series"], sort=True):
            bracket(axis, group, style.colour(key), style.line_styles[series])
        fit_lines(axis, fits[fits["dataset"] == name], style)
        unfitted = part[~part["fitted"] & np.isfinite(part["lip_upper"])]
        axis.scatter(unfitted["p_over_nd"], unfitted["lip_upper"], **NOT_FITTED)
        law_references(axis, part, part["p_over_nd"])
        axis.set_ylabel(f"Lip(f), certified bracket\n({LIP_UNIT})")
    drawn = runs[runs["fitted"] & np.isfinite(runs["lip_upper"])]
    handles = key_handles(style, list(drawn["key"])) + series_handles(style, list(drawn["series"]))
    handles += side_handles()
    if (~runs["fitted"]).any():
        handles.append(Line2D([], [], ls="none", **NOT_FITTED, label="did not fit (upper bound)"))
    shared_legend(figure, handles + reference_handles())
    legends_off_data(figure)
    return figure


def frontier_figure(frontier: pd.DataFrame, runs: pd.DataFrame, style: Style) -> plt.Figure:
    """The smallest certified upper bound at each p among fitted models, against the law and the floor;
    a dataset where no model fitted gets a panel that says so."""
    frontier = with_keys(frontier)
    datasets = sorted(runs["dataset"].unique())
    figure, axes = panel_grid(len(datasets))
    for axis, name in zip(axes, datasets, strict=True):
        part = frontier[frontier["dataset"] == name].sort_values("p_over_nd")
        if part.empty:
            axis.set(title=dataset_title(runs[runs["dataset"] == name]), xlabel=P_OVER_ND, xticks=[], yticks=[])
            note(axis, "no model met the fit criterion")
            continue
        axis.plot(part["p_over_nd"], part["lip_upper"], color="0.3", lw=1.0, zorder=1)
        for key, group in part.groupby("key", sort=True):
            colour = style.colour(key)
            axis.vlines(group["p_over_nd"], group["lip_lower"], group["lip_upper"], color=colour, alpha=0.3, lw=2)
            for side, column in (("upper", "lip_upper"), ("lower", "lip_lower")):
                axis.scatter(group["p_over_nd"], group[column], color=colour, marker=SIDE_MARKERS[side], zorder=3)
        law_references(axis, part, part["p_over_nd"])
        axis.set_ylabel(f"Lip(f), frontier of upper bounds\n({LIP_UNIT})")
    handles = key_handles(style, list(frontier["key"]))
    handles.append(Line2D([], [], color="0.3", lw=1.0, marker="^", label="frontier (best upper bound at each p)"))
    handles.append(Line2D([], [], color="0.3", marker="v", ls="none", label="its certified lower bound"))
    shared_legend(figure, handles + reference_handles())
    return figure


def fit_shares(runs: pd.DataFrame) -> pd.DataFrame:
    """Per dataset, trainer or control, series and p: the share of seeds that fit."""
    keys = ["dataset", "key", "series", "p_over_n"]
    return runs.groupby(keys, sort=True)["fitted"].mean().rename("share").reset_index()


def threshold_figure(runs: pd.DataFrame, style: Style) -> plt.Figure:
    """Where fitting becomes possible: per dataset, the share of seeds that fit against p/n (top),
    and how far the runs that did not fit stayed from the criterion (bottom)."""
    runs = with_keys(runs).assign(p_over_n=runs["p"] / runs["n"])
    datasets = sorted(runs["dataset"].unique())
    figure, pairs = panel_pairs(len(datasets))
    shares = fit_shares(runs)
    for (top, bottom), name in zip(pairs, datasets, strict=True):
        part = runs[runs["dataset"] == name]
        curves = shares[shares["dataset"] == name].groupby(["key", "series"], sort=True)
        for order, ((key, series), group) in enumerate(curves):
            # Shares often coincide (all 0 or all 1): each curve drawn smaller than the one below it.
            size = max(2.0, 6.5 - 1.5 * order)
            line = {"color": style.colour(key), "ls": style.line_styles[series], "lw": size / 3.5}
            top.plot(group["p_over_n"], group["share"], marker="o", markersize=size, **line)
        top.axvline(1.0, **AT_N, gid=REFERENCE)
        top.set(xscale="log", ylim=(-0.05, 1.05), title=dataset_title(part), ylabel="seeds that fit\n(fraction)")
        missed = part[~part["fitted"] & np.isfinite(part["train_mse"])]
        for (key, series), group in missed.groupby(["key", "series"], sort=True):
            colour = style.colour(key)
            bottom.scatter(group["p_over_n"], group["train_mse"], color=colour, marker="o", alpha=0.35, s=10)
            median = group.groupby("p_over_n", sort=True)["train_mse"].median()
            bottom.plot(median.index, median, color=colour, ls=style.line_styles[series], marker="o")
        bottom.axvline(1.0, **AT_N, gid=REFERENCE)
        bottom.set(xlabel="p / n  (parameters per training point)", ylabel=MISSED)
        if missed.empty:
            bottom.set(yticks=[])
            note(bottom, "every run met the fit criterion")
            continue
        for target in sorted(part["target_mse"].unique()):
            bottom.axhline(target, **CRITERION, gid=REFERENCE)
        bottom.set(yscale="log")
    handles = key_handles(style, list(runs["key"])) + series_handles(style, list(runs["series"]))
    handles += [
        Line2D([], [], color="0.45", marker="o", ls="none", alpha=0.35, label="one seed"),
        Line2D([], [], **AT_N, label="p = n (interpolation threshold)"),
        Line2D([], [], **CRITERION, label=r"fit criterion: training MSE = $\sigma^2 - \epsilon$"),
    ]
    shared_legend(figure, handles)
    return figure


# The law-ratio figure: each panel's own dimension D (d above, d_intrinsic below) puts p = n D at
# x = 1; the other dimension's p = n D' is marked dotted.
AT_OTHER = {"color": "0.55", "lw": 1.0, "ls": ":"}
LAW_RATIO_SCALES = (
    ("d", "p_over_nd", "law_sqrt_nd_over_p", "p / (n d)  (parameters per training coordinate)"),
    (
        "d_intrinsic",
        "p_over_nd_intrinsic",
        "law_sqrt_nd_intrinsic_over_p",
        "p / (n d_intrinsic)  (parameters per intrinsic coordinate)",
    ),
)


def law_ratio_panel(axis: plt.Axes, part: pd.DataFrame, scale: tuple[str, str, str, str], style: Style) -> None:
    """Lip / sqrt(n D / p) against p / (n D): medians over seeds of both bracket ends as a band, the
    upper end as a line, with the law (1), the floor in the same units, p = n and p = n D."""
    dimension, ratio_column, law_column, label = scale
    fitted = part[part["fitted"] & np.isfinite(part["lip_upper"])]
    for (key, series), group in fitted.groupby(["key", "series"], sort=True):
        colour = style.colour(key)
        ratios = group.assign(
            upper=group["lip_upper"] / group[law_column], lower=group["lip_lower"] / group[law_column]
        )
        medians = ratios.groupby(ratio_column, sort=True)[["upper", "lower"]].median()
        axis.fill_between(medians.index, medians["lower"], medians["upper"], color=colour, alpha=0.25, lw=0)
        axis.plot(
            medians.index, medians["upper"], color=colour, ls=style.line_styles[series], marker=SIDE_MARKERS["upper"]
        )
    first = part.iloc[0]
    own, other = (first["d"], first["d_intrinsic"]) if dimension == "d" else (first["d_intrinsic"], first["d"])
    shown = fitted[ratio_column]
    span = np.geomspace(min(shown.min(), 1 / own) / 1.5, max(shown.max(), 1.0, other / own) * 1.5, 50)
    axis.axhline(1.0, **LAW, gid=REFERENCE)
    axis.plot(span, first["l_sep"] * np.sqrt(span), **FLOOR, gid=REFERENCE)
    axis.axvline(1 / own, **AT_N, gid=REFERENCE)
    axis.axvline(1.0, **AT_ND, gid=REFERENCE)
    if other != own:
        axis.axvline(other / own, **AT_OTHER, gid=REFERENCE)
    axis.set(xscale="log", yscale="log", xlabel=label, ylabel=f"Lip(f) / sqrt(n {dimension} / p)\n({LIP_UNIT})")


def law_ratio_figure(runs: pd.DataFrame, style: Style) -> plt.Figure:
    """Per dataset: Lip / sqrt(nd/p) against p/(nd) (top) and the same in d_intrinsic (bottom). Flat
    means the fits follow the law; rising means they fall further behind it as p grows."""
    runs = with_keys(runs)
    datasets = sorted(runs["dataset"].unique())
    figure, pairs = panel_pairs(len(datasets), share_x=False)
    for (top, bottom), name in zip(pairs, datasets, strict=True):
        part = runs[runs["dataset"] == name]
        for axis, scale in zip((top, bottom), LAW_RATIO_SCALES, strict=True):
            axis.set(title=f"{dataset_title(part)}\nd_intrinsic = {part['d_intrinsic'].iloc[0]:.3g}")
            fitted = part[part["fitted"] & np.isfinite(part["lip_upper"])]
            same = axis is bottom and part["d_intrinsic"].iloc[0] == part["d"].iloc[0]
            if fitted.empty or same or not np.isfinite(part[scale[1]]).all():
                axis.set(xlabel=scale[3], xticks=[], yticks=[])
                reason = "d_intrinsic = d: the panel above" if same else "d_intrinsic not estimated"
                note(axis, "no model met the fit criterion" if fitted.empty else reason)
                continue
            law_ratio_panel(axis, part, scale, style)
    drawn = runs[runs["fitted"] & np.isfinite(runs["lip_upper"])]
    handles = key_handles(style, list(drawn["key"])) + series_handles(style, list(drawn["series"]))
    handles += [
        Line2D([], [], color="0.45", lw=6, alpha=0.25, label="band: medians of the bracket"),
        Line2D([], [], color="0.3", marker=SIDE_MARKERS["upper"], label="median certified upper bound"),
        Line2D([], [], **LAW, label="the law with prefactor 1"),
        Line2D([], [], **FLOOR, label=r"data floor $L_{sep}$"),
        Line2D([], [], **AT_N, label="p = n (interpolation threshold)"),
        Line2D([], [], **AT_ND, label="p = n D, D = d or d_intrinsic (x = 1)"),
    ]
    if (runs["d_intrinsic"] != runs["d"]).any():
        handles.append(Line2D([], [], **AT_OTHER, label="p = n D', the other dimension"))
    shared_legend(figure, handles)
    return figure


def draw_figures(runs: pd.DataFrame, fits: pd.DataFrame, frontier: pd.DataFrame) -> dict[str, Callable[[], plt.Figure]]:
    """Every figure of a run (robustlaw.catalogue.FIGURES), as a function that draws it: one
    Style for all, so a trainer has the same colour everywhere."""
    style = figure_style(runs)
    return {
        "lipschitz_vs_p": lambda: lipschitz_figure(runs, fits, style),
        "frontier": lambda: frontier_figure(frontier, runs, style),
        "interpolation_threshold": lambda: threshold_figure(runs, style),
        "law_ratio": lambda: law_ratio_figure(runs, style),
    }


def save_figure(figure: plt.Figure, path: str) -> None:
    extension = path.rsplit(".", 1)[-1]
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format=extension, dpi=DPI, metadata=SAVE_METADATA[extension])
