"""Every figure, drawn from the tiny run's tables and from tables shaped like the example configs'
runs, passes the figure editor's checks (robustlaw.report.figure_check); the checks themselves catch the
faults they name; colours, markers and captions agree across figures."""

import io
import math
from pathlib import Path

import docutils.core
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import ROOT
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D
from snakemake.utils import validate

from robustlaw.catalogue import FIGURES
from robustlaw.grid import build_grid, noise_variance
from robustlaw.report.captions import LAW_LINES, SIZE_LINES, figure_captions, line_words, robustness_captions
from robustlaw.report.figure_check import REFERENCE, figure_problems, shown_texts
from robustlaw.report.law_figures import (
    AT_N,
    AT_ND,
    FLOOR,
    LAW,
    LINE_STYLE_NAMES,
    LINE_STYLES,
    PAGE_FONT,
    PAGE_WIDTH,
    PALETTE,
    figure_style,
    with_keys,
)
from robustlaw.report.law_fit import frontier, law_fits
from robustlaw.report.robustness_figures import (
    RADIUS_COLORMAP,
    curve_line_styles,
    curve_name,
    every_figure,
    radius_colours,
    robust_table,
)
from robustlaw.results.columns import ROBUSTNESS_COLUMNS
from robustlaw.results.paths import CLOSED_FORM
from robustlaw.results.tables import COLUMNS
from robustlaw.training.controls import control_parameter_count, effective_parameter_count
from robustlaw.training.models import parameter_count

EXAMPLE_CONFIGS = ("config.yaml", "config/digits.yaml", "config/intrinsic.yaml", "config/mnist.yaml")
# Every trainer method, control kind and label model, two depths, seven colours, five datasets (two rows
# of panels): the most a figure draws.
EVERY_KIND = {
    "datasets": [
        {"distribution": "gaussian", "n": 200, "d": 50, "labels": "teacher", "sigma": 0.5, "eps": 0.2},
        {"distribution": "hypercube", "n": 100, "d": 20, "labels": "random_sign"},
        {"distribution": "sphere", "n": 64, "d": 16, "labels": "random_sign"},
        {"distribution": "sphere", "n": 300, "d": 30, "labels": "random_sign", "components": 2},
        {"distribution": "subspace", "intrinsic_dim": 4, "n": 100, "d": 20, "labels": "random_sign"},
    ],
    "models": [{"depth": 2, "widths": [1, 4, 16, 64, 256]}, {"depth": 3, "widths": [2, 8, 32]}],
    "trainers": [
        {"name": method, "method": method} for method in ("plain", "weight_decay", "gradient_penalty", "adversarial")
    ],
    "controls": [{"kind": kind, "widths": [4, 16, 64]} for kind in ("even_ntk", "relu_ntk", "random_features")],
    "seeds": [0, 1, 2],
}


def example_tables(config: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(runs, law fits, frontier, robustness) shaped like a run of `config`: its grid of datasets, models,
    trainers and seeds, with made-up outcomes: fitting from p ~ n on, Lip ~ 2 sqrt(nd/p) above the floor,
    infinite for the discontinuous relu_ntk control, robust accuracy falling with the radius."""
    validate(config, str(ROOT / "schemas" / "config.schema.yaml"))
    grid = build_grid(config)
    rng = np.random.default_rng(0)
    rows = []
    for run in grid.runs:
        data, model = grid.datasets[run["dataset"]], grid.models[run["model"]]
        n, d, width, family = data["n"], data["d"], model["width"], model["family"]
        m = data.get("intrinsic_dim") or (12 if data["distribution"] in ("digits", "mnist") else d)
        if family == "mlp":
            p = p_eff = parameter_count(d, width, model["depth"])
        else:
            p, p_eff = control_parameter_count(family, d, width), effective_parameter_count(family, d, width)
        sigma2, target = noise_variance(data), noise_variance(data) - data["eps"]
        fitted = bool(p >= n * rng.uniform(0.5, 2.0))
        train_mse = target * rng.uniform(0.2, 1.0) if fitted else min(sigma2, target * n / p * rng.uniform(1, 3))
        l_sep = 1.5
        upper = max(2 * math.sqrt(n * d / p) * rng.uniform(0.8, 1.25), 1.3 * l_sep)
        upper = math.inf if family == "relu_ntk" else upper
        rows.append(
            {
                **{column: None for column in COLUMNS},
                **run,
                "distribution": data["distribution"], "labels": data["labels"], "n": n, "d": d,
                "sigma2": sigma2, "eps": data["eps"], "family": family, "depth": model.get("depth"),
                "width": width, "p": p, "p_eff": p_eff, "target_mse": target, "train_mse": train_mse,
                "fitted": fitted, "lip_upper": upper, "lip_lower": max(upper * rng.uniform(0.3, 0.9), l_sep),
                "l_sep": l_sep,
                "p_over_nd": p / (n * d), "law_sqrt_nd_over_p": math.sqrt(n * d / p),
                "d_intrinsic": float(m), "d_pca90": m, "d_mle": m - 1.0, "d_mle_neighbours": 20,
                "p_over_nd_intrinsic": p / (n * m), "law_sqrt_nd_intrinsic_over_p": math.sqrt(n * m / p),
            }
        )  # fmt: skip
    runs = pd.DataFrame(rows, columns=list(COLUMNS))
    return runs, law_fits(runs, config["law_fit"]["min_p_over_n"], 20), frontier(runs), robustness(runs, config, rng)


def robustness(runs: pd.DataFrame, config: dict, rng: np.random.Generator) -> pd.DataFrame:
    """Made-up robust accuracies: certified <= attacked <= clean, both falling with the radius."""
    rows = []
    for run in runs.itertuples():
        for split in ("train", "test"):
            clean = rng.uniform(0.5, 1.0)
            for radius in config["robustness"]["radii"]:
                attacked = clean * np.exp(-radius * rng.uniform(1, 20))
                rows.append(
                    {
                        **{key: getattr(run, key) for key in ("dataset", "model", "trainer", "seed")},
                        "split": split, "radius": radius, "clean_accuracy": clean,
                        "certified_accuracy": attacked * rng.uniform(0, 1), "attacked_accuracy": attacked,
                    }
                )  # fmt: skip
    return pd.DataFrame(rows, columns=list(ROBUSTNESS_COLUMNS))


TABLE_NAMES = ("runs", "law_fit", "frontier", "robustness")


def tiny_tables(finished_run: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    results = finished_run / "results"
    return tuple(pd.read_parquet(results / f"{name}.parquet") for name in TABLE_NAMES)


@pytest.fixture(scope="module", params=["tiny run", *EXAMPLE_CONFIGS, "every kind"])
def tables(request) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    if request.param == "tiny run":
        return tiny_tables(request.getfixturevalue("finished_run"))
    if request.param == "every kind":
        return example_tables(yaml.safe_load(yaml.safe_dump(EVERY_KIND)))
    return example_tables(yaml.safe_load((ROOT / request.param).read_text()))


def test_every_named_figure_is_drawn_and_passes_the_checks(tables):
    figures = every_figure(*tables)
    assert list(figures) == list(FIGURES)
    for name, draw in figures.items():
        figure = draw()
        try:
            assert figure_problems(figure) == [], name
        finally:
            plt.close(figure)


# Figures whose colour is the radius: their trainers and controls are told apart by line style, in grey.
COLOURED_BY_RADIUS = ("robust_accuracy_vs_p",)


def legend_entries(figure: plt.Figure) -> dict[str, Line2D]:
    legend = figure.legends[0]
    return {text.get_text(): handle for text, handle in zip(legend.get_texts(), legend.legend_handles, strict=True)}


def test_a_trainer_or_control_has_one_colour_in_every_figure(tables):
    runs = tables[0]
    style = figure_style(runs)
    keys = set(with_keys(runs)["key"])
    assert set(style.colours) == keys and len(set(style.colours.values())) == len(keys)
    palette = {colour.lower() for colour in PALETTE.values()}
    for name, draw in every_figure(*tables).items():
        figure = draw()
        try:
            entries = legend_entries(figure)
            if name in COLOURED_BY_RADIUS:
                # No trainer's colour reads as a radius, nor a radius as a trainer.
                lines = [handle for handle in entries.values() if isinstance(handle, Line2D)]
                assert not {to_hex(handle.get_color()) for handle in lines} & palette, name
                continue
            shown = [key for key in keys if key in entries]
            assert shown, name
            for key in shown:
                assert to_hex(entries[key].get_color()) == PALETTE[style.colours[key]].lower(), (name, key)
        finally:
            plt.close(figure)


def test_the_robust_accuracy_figure_is_a_page_wide_panel_per_dataset_coloured_by_radius(tables):
    """One panel per dataset, at most a page wide with no text under PAGE_FONT; colour is the radius (one
    colour of RADIUS_COLORMAP per radius, named in the legend), line style the trainer or control."""
    runs, _, _, robust = tables
    figure = every_figure(*tables)["robust_accuracy_vs_p"]()
    try:
        datasets = sorted(runs["dataset"].unique())
        panels = [axis for axis in figure.axes if axis.get_visible()]
        assert len(panels) == len(datasets)
        assert figure.get_figwidth() <= PAGE_WIDTH
        assert min(text.get_fontsize() for text in shown_texts(figure)) >= PAGE_FONT
        colours = radius_colours(list(robust["radius"]))
        assert list(colours) == sorted(robust["radius"].unique()) and len(set(colours.values())) == len(colours)
        entries = legend_entries(figure)
        for radius, colour in colours.items():
            assert to_hex(entries[f"r = {radius:g}"].get_color()) == colour
        drawn = robust_table(runs, robust)
        line_styles = curve_line_styles(figure_style(runs), drawn)
        assert len(set(line_styles.values())) == min(len(line_styles), len(LINE_STYLES))
        for curve, line_style in line_styles.items():
            handle = entries[curve_name(curve, list(line_styles))]
            assert handle.get_linestyle() == Line2D([], [], ls=line_style).get_linestyle(), curve
            assert to_hex(handle.get_color()) not in colours.values(), curve
        for axis, name in zip(panels, datasets, strict=True):
            lines = [line for line in axis.lines if line.get_gid() != REFERENCE]
            expected = {colours[radius] for radius in drawn.loc[drawn["dataset"] == name, "radius"]}
            assert {to_hex(line.get_color()) for line in lines} == expected, name
    finally:
        plt.close(figure)


def test_the_threshold_figure_has_a_titled_panel_pair_per_dataset(tables):
    runs = tables[0]
    figure = every_figure(*tables)["interpolation_threshold"]()
    try:
        titles = [axis.get_title() for axis in figure.axes if axis.get_title()]
        assert len(titles) == runs["dataset"].nunique()
        for n in runs["n"].unique():
            assert any(f"n = {n}," in title for title in titles)
    finally:
        plt.close(figure)


def test_captions_state_data_models_seeds_and_reference_lines(tables):
    runs, fits, _, robust = tables
    style = figure_style(runs)
    captions = figure_captions(runs, fits, style) | robustness_captions(runs, fits, robust, style)
    assert sorted(captions) == sorted(FIGURES)
    for name, caption in captions.items():
        for dataset in runs.itertuples():
            assert f"``{dataset.dataset}``" in caption and f"n = {dataset.n:,} " in caption, name
            assert f"d = {dataset.d:,} " in caption, name
        for trainer in set(runs["trainer"]) - {CLOSED_FORM}:
            assert f"``{trainer}``" in caption, name
        assert "seeds" in caption and "colour-blind" in caption, name
    for name in ("lipschitz_vs_p", "frontier"):
        assert "sqrt(nd/p)" in captions[name] and "L_sep" in captions[name] and "p = nd" in captions[name]
    assert "p = n" in captions["interpolation_threshold"] and "sigma^2 - eps" in captions["interpolation_threshold"]
    robust_caption, test_caption = captions["robust_accuracy_vs_p"], captions["test_accuracy_vs_p"]
    assert "certified" in robust_caption and "boundary search" in robust_caption and "How to read it" in robust_caption
    for radius in robust["radius"].unique():
        assert f"{radius:g}" in robust_caption
    # The robust-accuracy caption names the drawing's own colormap and line styles.
    assert f"colormap {RADIUS_COLORMAP}" in robust_caption
    line_styles = curve_line_styles(style, robust_table(runs, robust))
    for curve, line_style in line_styles.items():
        assert f"``{curve_name(curve, list(line_styles))}`` {LINE_STYLE_NAMES[line_style]}" in robust_caption
    # Random-sign test labels ignore the inputs: both captions say that test accuracy is chance there, and
    # only there.
    chance = (runs["labels"] == "random_sign").any()
    for caption in (robust_caption, test_caption):
        assert ("chance (0.5) by construction" in caption) == chance


def test_every_caption_is_valid_restructured_text(tables):
    """The report renders the captions with docutils: a stray |...| is a substitution it cannot resolve."""
    runs, fits, _, robust = tables
    style = figure_style(runs)
    captions = figure_captions(runs, fits, style) | robustness_captions(runs, fits, robust, style)
    for name, caption in captions.items():
        warnings = io.StringIO()
        html = docutils.core.publish_string(
            caption, writer="html", settings_overrides={"warning_stream": warnings, "report_level": 2}
        ).decode()
        assert warnings.getvalue() == "", (name, warnings.getvalue())
        assert 'class="problematic"' not in html, name
    assert (
        "|f(x)| &gt; r"
        in docutils.core.publish_string(
            captions["robust_accuracy_vs_p"], writer="html", settings_overrides={"report_level": 5}
        ).decode()
    )


def faulty_figure() -> plt.Figure:
    """One of each fault the check names: a text off the canvas, a repeated legend entry, an axis
    without its unit, an empty panel, a legend over the data, text on text, small print."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(6, 3))
    left.plot([1, 2, 3], [1, 2, 3], label="plain")
    left.plot([1, 2, 3], [3, 2, 1], label="plain")
    left.set(xlabel="p / n  (parameters per point)", ylabel="Lip(f)")
    left.legend(loc="center")
    figure.text(0.5, 1.02, "a title above the canvas")
    right.set(xlabel="p (parameters)", ylabel="MSE (label^2)", title="nothing here")
    right.text(0.5, 1.0, "a note on the title", transform=right.transAxes, ha="center", va="bottom")
    figure.text(0.01, 0.01, "small print", fontsize=4)
    return figure


def test_the_check_names_each_fault():
    figure = faulty_figure()
    try:
        problems = figure_problems(figure)
    finally:
        plt.close(figure)
    expected = [
        "text 'a title above the canvas' runs",
        "legend: entry 'plain' appears 2 times",
        "y axis label 'Lip(f)' gives no unit",
        "panel 'nothing here': no data drawn",
        "the legend hides",
        "overlaps panel 'nothing here': 'a note on the title'",
        "text 'small print' is set in 4.0 pt",
    ]
    for start in expected:
        assert any(start in problem for problem in problems), (start, problems)


def test_the_check_passes_a_clean_figure():
    figure, axis = plt.subplots(figsize=(4, 3), layout="constrained")
    axis.plot([1, 2, 3], [1, 4, 9], label="plain")
    axis.set(xlabel="p (parameters)", ylabel="MSE  (label^2)", title="clean")
    axis.legend(loc="upper left")
    try:
        assert figure_problems(figure) == []
    finally:
        plt.close(figure)


def test_captions_name_each_reference_line_as_the_drawing_styles_it():
    """The captions' words for a line come from the style the drawing gives it, so a restyled line cannot
    keep its old name in the caption."""
    assert line_words({"color": "black", "ls": "-"}) == "black line"
    assert line_words({"color": "0.55", "ls": ":"}) == "grey dotted"
    for line in (LAW, FLOOR, AT_N, AT_ND):
        assert line_words(line) in LAW_LINES.lower()
    assert line_words(AT_N) in SIZE_LINES.lower() and line_words(AT_ND) in SIZE_LINES.lower()
