"""Figures of the measured tradeoff, drawn with seaborn/matplotlib, saved with reproducible bytes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .io import atomic_path  # noqa: E402

# Fixed SVG ids and no dates in file metadata: same table, same bytes.
matplotlib.rcParams["svg.hashsalt"] = "robustlaw"
SAVE_METADATA = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}


def series_label(row: pd.Series) -> str:
    return f"{row['trainer']}, depth {row['depth']}"


def dataset_title(part: pd.DataFrame) -> str:
    first = part.iloc[0]
    return f"{first['distribution']}, n = {first['n']}, d = {first['d']}, {first['labels']}"


def lipschitz_figure(runs: pd.DataFrame) -> plt.Figure:
    """Bracket [lip_lower, lip_upper] against p/(nd), one panel per dataset, with reference lines."""
    sns.set_theme(style="whitegrid", context="notebook")
    datasets = sorted(runs["dataset"].unique())
    figure, axes = plt.subplots(1, len(datasets), figsize=(10 * len(datasets), 5.5), squeeze=False)
    for axis, name in zip(axes[0], datasets, strict=True):
        part = runs[runs["dataset"] == name].assign(series=lambda frame: frame.apply(series_label, axis=1))
        d = int(part["d"].iloc[0])
        names = sorted(part["series"].unique())
        palette = dict(zip(names, sns.color_palette("deep", n_colors=len(names)), strict=True))
        fitted = part[part["fitted"]]
        for series, group in fitted.groupby("series", sort=True):
            axis.vlines(
                group["p_over_nd"], group["lip_lower"], group["lip_upper"], color=palette[series], alpha=0.35, lw=2
            )
        for column, marker, dashes, side in (
            ("lip_upper", "^", "", "certified upper"),
            ("lip_lower", "v", (4, 2), "lower"),
        ):
            medians = fitted.groupby(["series", "p_over_nd"], sort=True)[column].median().reset_index()
            for series, group in medians.groupby("series", sort=True):
                axis.plot(
                    group["p_over_nd"],
                    group[column],
                    marker=marker,
                    color=palette[series],
                    dashes=dashes or (None, None),
                    label=f"{series}: {side} (median of seeds)",
                )
        unfitted = part[~part["fitted"]]
        if len(unfitted):
            axis.scatter(
                unfitted["p_over_nd"], unfitted["lip_upper"], marker="x", color="grey", label="did not fit (upper)"
            )
        ratios = np.geomspace(part["p_over_nd"].min() / 1.5, part["p_over_nd"].max() * 1.5, 50)
        axis.plot(ratios, 1 / np.sqrt(ratios), color="black", lw=1.2, label=r"law's scaling $\sqrt{nd/p}$ (C = 1)")
        axis.axhline(part["l_sep"].iloc[0], color="tab:red", lw=1.2, ls=":", label=r"data floor $L_{sep}$")
        axis.axvline(1 / d, color="tab:purple", lw=1, ls="-.", label="p = n (interpolation)")
        axis.axvline(1.0, color="tab:green", lw=1, ls="-.", label="p = nd (smooth interpolation)")
        axis.set(
            xscale="log",
            yscale="log",
            title=dataset_title(part),
            xlabel="p / (n d)   (parameters per data coordinate)",
            ylabel="Lipschitz constant of f (bracket)",
        )
        axis.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    return figure


def training_mse_figure(runs: pd.DataFrame) -> plt.Figure:
    """Training MSE against p: the interpolation threshold near p = n."""
    sns.set_theme(style="whitegrid", context="notebook")
    finite = runs[np.isfinite(runs["train_mse"])].assign(
        data=lambda frame: frame.apply(lambda row: f"n = {row['n']}, d = {row['d']} ({row['dataset']})", axis=1),
        series=lambda frame: frame.apply(series_label, axis=1),
    )
    figure, axis = plt.subplots(figsize=(10, 5.5))
    sns.lineplot(
        data=finite,
        x="p",
        y="train_mse",
        hue="data",
        style="series",
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
        ylabel="training MSE (median of seeds)",
        title="Interpolation threshold",
    )
    axis.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    return figure


def save_figure(figure: plt.Figure, path: str) -> None:
    extension = path.rsplit(".", 1)[-1]
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format=extension, dpi=150, metadata=SAVE_METADATA[extension])
