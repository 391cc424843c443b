"""Figures of the measured tradeoff, drawn with seaborn/matplotlib, saved with reproducible bytes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .files import atomic_path  # noqa: E402
from .lawfit import series_name  # noqa: E402

# Fixed SVG ids and no dates in file metadata: same table, same bytes.
matplotlib.rcParams["svg.hashsalt"] = "robustlaw"
SAVE_METADATA = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}
PANEL_SIZE = (10.0, 5.5)


def curve_label(series: str, trainer: str) -> str:
    """'mlp depth 2, plain' for trained nets, 'even_ntk' for closed-form controls."""
    return series if trainer == "closed_form" else f"{series}, {trainer}"


def with_labels(runs: pd.DataFrame) -> pd.DataFrame:
    series = [series_name(f, d) for f, d in zip(runs["family"], runs["depth"], strict=True)]
    labels = [curve_label(s, t) for s, t in zip(series, runs["trainer"], strict=True)]
    return runs.assign(series=series, curve=labels)


def dataset_title(part: pd.DataFrame) -> str:
    first = part.iloc[0]
    return f"{first['distribution']}, n = {first['n']}, d = {first['d']}, {first['labels']} labels"


def panels(count: int) -> tuple[plt.Figure, list[plt.Axes]]:
    sns.set_theme(style="whitegrid", context="notebook")
    figure, axes = plt.subplots(1, count, figsize=(PANEL_SIZE[0] * count, PANEL_SIZE[1]), squeeze=False)
    return figure, list(axes[0])


def reference_lines(axis: plt.Axes, part: pd.DataFrame) -> None:
    """sqrt(nd/p), the data floor and the two thresholds, on log-log axes of p/(nd)."""
    d = int(part["d"].iloc[0])
    ratios = np.geomspace(part["p_over_nd"].min() / 1.5, part["p_over_nd"].max() * 1.5, 50)
    axis.plot(ratios, 1 / np.sqrt(ratios), color="black", lw=1.2, label=r"law's scaling $\sqrt{nd/p}$ (C = 1)")
    axis.axhline(part["l_sep"].iloc[0], color="tab:red", lw=1.2, ls=":", label=r"data floor $L_{sep}$")
    axis.axvline(1 / d, color="tab:purple", lw=1, ls="-.", label="p = n (interpolation)")
    axis.axvline(1.0, color="tab:green", lw=1, ls="-.", label="p = nd (smooth interpolation)")
    axis.set(
        xscale="log",
        yscale="log",
        title=dataset_title(part),
        xlabel="p / (n d)   (trained parameters per training coordinate)",
    )
    axis.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))


def lipschitz_figure(runs: pd.DataFrame, fits: pd.DataFrame) -> plt.Figure:
    """Bracket [lip_lower, lip_upper] against p/(nd) per dataset, with the fitted laws and references."""
    runs = with_labels(runs)
    datasets = sorted(runs["dataset"].unique())
    figure, axes = panels(len(datasets))
    for axis, name in zip(axes, datasets, strict=True):
        part = runs[runs["dataset"] == name]
        curves = sorted(part["curve"].unique())
        palette = dict(zip(curves, sns.color_palette("deep", n_colors=len(curves)), strict=True))
        # Discontinuous models (relu_ntk) have Lip = inf: in the table, not on a log axis.
        fitted = part[part["fitted"] & np.isfinite(part["lip_upper"])]
        for curve, group in fitted.groupby("curve", sort=True):
            color = palette[curve]
            axis.vlines(group["p_over_nd"], group["lip_lower"], group["lip_upper"], color=color, alpha=0.35, lw=2)
            upper = group.groupby("p_over_nd", sort=True)["lip_upper"].median()
            lower = group.groupby("p_over_nd", sort=True)["lip_lower"].median()
            axis.plot(upper.index, upper, marker="^", color=color, label=f"{curve}: certified upper (median)")
            axis.plot(lower.index, lower, marker="v", color=color, ls="--", label=f"{curve}: lower (median)")
        for fit in fits[(fits["dataset"] == name) & (fits["side"] == "upper")].itertuples():
            if np.isfinite(fit.slope):
                curve = curve_label(fit.series, fit.trainer)
                ratios = np.geomspace(fit.span_low, fit.span_high, 20)
                interval = f" [{fit.slope_low:.2f}, {fit.slope_high:.2f}]" if np.isfinite(fit.slope_low) else ""
                axis.plot(
                    ratios,
                    fit.prefactor * ratios**fit.slope,
                    color=palette[curve],
                    lw=4,
                    alpha=0.3,
                    label=f"{curve}: fit slope {fit.slope:.2f}{interval}",
                )
        unfitted = part[~part["fitted"]]
        if len(unfitted):
            axis.scatter(unfitted["p_over_nd"], unfitted["lip_upper"], marker="x", color="grey", label="did not fit")
        axis.set_ylabel("Lip(f): certified bracket  (label units per unit input norm)")
        reference_lines(axis, part)
    figure.tight_layout()
    return figure


def frontier_figure(frontier: pd.DataFrame) -> plt.Figure:
    """The smallest certified upper bound at each p among fitted models, against the law and the floor."""
    frontier = frontier.assign(
        curve=[curve_label(s, t) for s, t in zip(frontier["series"], frontier["trainer"], strict=True)]
    )
    datasets = sorted(frontier["dataset"].unique())
    figure, axes = panels(len(datasets))
    for axis, name in zip(axes, datasets, strict=True):
        part = frontier[frontier["dataset"] == name].sort_values("p_over_nd")
        axis.plot(
            part["p_over_nd"], part["lip_upper"], color="tab:blue", lw=1.5, label="frontier: best certified upper"
        )
        sns.scatterplot(data=part, x="p_over_nd", y="lip_upper", hue="curve", style="curve", s=70, ax=axis)
        axis.set_ylabel("smallest certified upper bound of Lip(f)  (label units per unit input norm)")
        reference_lines(axis, part)
    figure.tight_layout()
    return figure


def training_mse_figure(runs: pd.DataFrame) -> plt.Figure:
    """Training MSE against p: the interpolation threshold near p = n."""
    finite = with_labels(runs[np.isfinite(runs["train_mse"])])
    finite = finite.assign(data=[f"n = {n}, d = {d}" for n, d in zip(finite["n"], finite["d"], strict=True)])
    # Exact interpolators have MSE ~ 0: show them at a visible floor on the log axis.
    floor = 1e-12
    finite = finite.assign(train_mse=finite["train_mse"].clip(lower=floor))
    sns.set_theme(style="whitegrid", context="notebook")
    figure, axis = plt.subplots(figsize=PANEL_SIZE)
    sns.lineplot(
        data=finite,
        x="p",
        y="train_mse",
        hue="curve",
        style="data",
        estimator="median",
        errorbar=None,
        marker="o",
        ax=axis,
    )
    for (n, target), _ in finite.groupby(["n", "target_mse"], sort=True):
        axis.axhline(target, color="tab:red", lw=1, ls=":", label=f"fit criterion MSE = {target:g}")
        axis.axvline(n, color="tab:purple", lw=1, ls="-.", label=f"p = n = {n}")
    axis.set(
        xscale="log",
        yscale="log",
        xlabel="p (trainable parameters)",
        ylabel=f"training MSE, label units squared (median of seeds, floored at {floor:g})",
        title="Interpolation threshold",
    )
    axis.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    return figure


def save_figure(figure: plt.Figure, path: str) -> None:
    extension = path.rsplit(".", 1)[-1]
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format=extension, dpi=150, metadata=SAVE_METADATA[extension])
