"""The report's figure captions, written from the run's own tables (which carry the resolved config):
what was run on which data, and what every colour, marker and reference line means. Text in
reStructuredText, as Snakemake's report reads it.
"""

import numpy as np
import pandas as pd

from robustlaw.report.law_figures import (
    AT_N,
    AT_ND,
    AT_OTHER,
    CRITERION,
    FLOOR,
    LAW,
    LINE_STYLE_NAMES,
    MARKER_NAMES,
    NOT_FITTED,
    SIDE_MARKERS,
    Style,
    labels_text,
    with_keys,
)
from robustlaw.report.robustness_figures import (
    RADIUS_COLORMAP,
    curve_line_styles,
    curve_name,
    radius_colours,
    robust_table,
)

# The greys and black the drawing gives reference lines and models that did not fit, by name.
COLOUR_NAMES = {"black": "black", "0.55": "grey", "0.45": "grey"}


def line_words(line: dict) -> str:
    """How a caption names a reference line the drawing styles with `line`: 'black line', 'grey dashed'."""
    colour = COLOUR_NAMES[line["color"]]
    return f"{colour} line" if line["ls"] == "-" else f"{colour} {LINE_STYLE_NAMES[line['ls']]}"


def sentence_start(text: str) -> str:
    return text[:1].upper() + text[1:]


def listed(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def number_list(values: list[int]) -> str:
    """'0, 1, 2' for a few values, '8 values from 1 to 512' for many."""
    values = sorted(set(values))
    if len(values) <= 4:
        return listed([f"{value:,}" for value in values])
    return f"{len(values)} values from {values[0]:,} to {values[-1]:,}"


def name(text: str) -> str:
    return f"``{text}``"


def dataset_sentence(part: pd.DataFrame, fits: pd.DataFrame, style: Style) -> str:
    """One dataset: its draw, the fit criterion, the floor, and every model series run on it."""
    first = part.iloc[0]
    text = (
        f"{name(first['dataset'])}: {first['distribution']} inputs, n = {first['n']:,} training points in "
        f"d = {first['d']:,} dimensions, {labels_text(first['labels'])} (noise level "
        f"sigma^2 = {first['sigma2']:.3g}); a model fits when its training MSE <= sigma^2 - eps = "
        f"{first['target_mse']:.3g}; data floor "
        f"L_sep = {first['l_sep']:.3g}."
    )
    # Series run alike (same widths and seeds) by several trainers are told once, trainers listed.
    alike: dict[tuple, list[str]] = {}
    order = list(style.colours)
    for (key, series), group in sorted(part.groupby(["key", "series"]), key=lambda item: order.index(item[0][0])):
        widths, seeds = number_list(list(group["width"])), number_list(list(group["seed"]))
        p_range = f"p = {group['p'].min():,} to {group['p'].max():,} parameters"
        alike.setdefault((series, key == series, widths, p_range, seeds), []).append(name(key))
    runs = [
        f"{'closed-form control ' + keys[0] if control else series + ' trained by ' + listed(keys)}, "
        f"widths {widths} ({p_range}), seeds {seeds}"
        for (series, control, widths, p_range, seeds), keys in alike.items()
    ]
    text += f" Models: {'; '.join(runs)}."
    window = fits[(fits["dataset"] == first["dataset"]) & (fits["side"] == "upper")]
    if len(window):
        low, high = window.iloc[0][["window_low", "window_high"]]
        text += (
            f" Law fits use p/(nd) from {low:.3g} to {high:.3g}."
            if low < high
            else f" The law-fit window, p/(nd) from {low:.3g} up to {high:.3g}, is empty: no slope is fitted."
        )
    return text


def setting(runs: pd.DataFrame, fits: pd.DataFrame, style: Style) -> str:
    datasets = [dataset_sentence(part, fits, style) for _, part in runs.groupby("dataset", sort=True)]
    return "\n".join(f"- {sentence}" for sentence in datasets)


def colour_key(style: Style, runs: pd.DataFrame) -> str:
    shown = set(runs["key"])
    colours = [f"{name(key)} {colour}" for key, colour in style.colours.items() if key in shown]
    text = f"Colours (Okabe-Ito, safe for colour-blind readers): {listed(colours)}."
    shown_series = set(runs["series"])
    depths = [
        f"{series} {LINE_STYLE_NAMES[ls]}"
        for series, ls in style.line_styles.items()
        if series.startswith("mlp") and series in shown_series
    ]
    if len(depths) > 1:
        text += f" Line styles: {listed(depths)}."
    return text


LAW_LINES = (
    f"{sentence_start(line_words(LAW))}: the law's scaling sqrt(nd/p) with prefactor 1 (the theorem fixes the "
    f"scaling, not the constant). {sentence_start(line_words(FLOOR))}: the data floor L_sep, the smallest "
    "Lipschitz constant of any function that interpolates the training data; no model can go below it. "
    f"{sentence_start(line_words(AT_N))}: p = n, where fitting the noisy labels becomes possible; "
    f"{line_words(AT_ND)}: p = nd, where the law allows an O(1)-Lipschitz fit."
)
NOT_FITTED_WORDS = f"{COLOUR_NAMES[NOT_FITTED['color']]} crosses"


def figure_captions(runs: pd.DataFrame, fits: pd.DataFrame, style: Style) -> dict[str, str]:
    """Caption text of every figure drawn by robustlaw.report.law_figures.draw_figures, by figure name."""
    runs = with_keys(runs)
    up, down = (MARKER_NAMES[SIDE_MARKERS[side]] for side in ("upper", "lower"))
    data = f"Data and models:\n\n{setting(runs, fits, style)}\n"
    key = colour_key(style, runs)
    capped = (
        " (for even_ntk only while p_eff < d(d+1)/2, its function-space cap)" if "even_ntk" in set(runs["key"]) else ""
    )
    discontinuous = sorted(runs.loc[np.isinf(runs["lip_upper"]), "key"].unique())
    infinite = (
        f" Models with an infinite Lipschitz constant ({listed([name(k) for k in discontinuous])}, discontinuous) "
        "are in results/runs.parquet but not drawn."
        if discontinuous
        else ""
    )
    lipschitz = (
        "Lipschitz bracket of every model that fits, against p/(nd), log-log, one panel per dataset. Each pale "
        "vertical bar spans one model's certified bracket lower <= Lip(f) <= upper; the lines join the medians "
        f"over seeds of the certified upper ends ({up}, thicker line) and lower ends ({down}). Wide pale "
        f"lines: the fitted law Lip = C (p/(nd))^b on the upper ends over the fit window{capped}, with the slope b and "
        f"its 95% bootstrap interval over seeds in the panel's legend (results/law_fit.parquet). "
        f"{sentence_start(NOT_FITTED_WORDS)}: "
        "certified upper bounds of models that did not reach the fit criterion (kept in the table, not "
        f"fitted).{infinite} {LAW_LINES} {key}\n\n{data}"
    )
    frontier = (
        "The frontier: at each parameter count p, the smallest certified upper bound of Lip(f) among all "
        f"models that fit (any trainer, and the closed-form controls), as {up} in the colour of the model that "
        f"achieved it, joined by a grey line; {down} mark that model's certified lower bound. The law says no "
        "fit can go below a constant times sqrt(nd/p): a frontier parallel to the black line shows the law "
        f"is tight. {LAW_LINES} {key}\n\n{data}"
    )
    threshold = (
        "The interpolation threshold, one pair of panels per dataset. Top: the share of seeds whose model met the fit "
        "criterion, against p/n (parameters per training point). Bottom: the final training MSE of the runs "
        "that did not meet it (pale dots: single seeds; lines: medians), against the criterion "
        f"sigma^2 - eps ({line_words(CRITERION)}). {sentence_start(line_words(AT_N))}: p = n, where a model has "
        "as many parameters as there are labels to fit; the law of robustness concerns the models that fit, to "
        f"the right of where the share reaches 1. {key}\n\n{data}"
    )
    dimensions = listed(
        [
            f"{name(dataset)} {part['d_intrinsic'].iloc[0]:.3g} ({intrinsic_source(part.iloc[0])})"
            for dataset, part in runs.groupby("dataset", sort=True)
        ]
    )
    law_ratio = (
        "How far above the law each fit is: Lip(f) / sqrt(nD/p) against p/(nD), log-log, for every trainer and "
        "control, one pair of panels per dataset: D = d above, D = d_intrinsic below (the dimension in which the "
        "data are isoperimetric; here "
        f"{dimensions}). Bands span the medians over seeds of the certified lower and upper ends; "
        f"{up} joined by a line mark the median upper end. A flat curve follows the law's scaling; a rising one "
        f"falls further behind it as p grows; the value at p = nD ({line_words(AT_ND)}, x = 1) is how far from "
        "O(1) the "
        "fit is where the law first allows it. "
        f"{sentence_start(line_words(LAW))}: the law with prefactor 1; {line_words(FLOOR)}: the data floor "
        f"L_sep in these units (no interpolant goes below it); {line_words(AT_N)}: p = n; {line_words(AT_OTHER)}: "
        "p = n D' for "
        "the other dimension D'. Where d_intrinsic = d the lower panel would repeat the upper one and says so "
        f"instead. {key}\n\n{data}"
    )
    return {
        "lipschitz_vs_p": lipschitz,
        "frontier": frontier,
        "interpolation_threshold": threshold,
        "law_ratio": law_ratio,
    }


def intrinsic_source(row: pd.Series) -> str:
    """Where a dataset's d_intrinsic comes from."""
    if row["distribution"] == "subspace":
        return "the subspace's dimension"
    if row["d_intrinsic"] == row["d"]:
        return "full-dimensional data"
    return f"maximum-likelihood estimate, k = {row['d_mle_neighbours']:.0f}; PCA for 90% variance: {row['d_pca90']:.0f}"


SIZE_LINES = (
    f"{sentence_start(line_words(AT_N))}: p = n, where fitting the noisy labels becomes possible; "
    f"{line_words(AT_ND)}: p = nd, where the law allows an O(1)-Lipschitz fit, and so a fit whose margins survive "
    "perturbations of size O(1)."
)


def chance_sentence(runs: pd.DataFrame) -> str:
    """Which datasets' test accuracy is chance by construction (random_sign test labels ignore the inputs)."""
    chance = sorted(runs.loc[runs["labels"] == "random_sign", "dataset"].unique())
    if not chance:
        return ""
    return (
        f" On {listed([name(dataset) for dataset in chance])} the labels are random signs independent of the "
        "inputs, so test accuracy is chance (0.5) by construction at any size: only the training points tell "
        "how robust the fit is there."
    )


def radius_key(robustness: pd.DataFrame) -> str:
    """What the colours of the robust-accuracy figure mean: the radius, from its colormap."""
    radii = listed([f"{radius:g}" for radius in radius_colours(list(robustness["radius"]))])
    return (
        f"Colour is the L2 radius r, from the sequential colormap {RADIUS_COLORMAP} (ordered in lightness, so "
        f"colour-blind readers and a grey print read it too), darkest for the smallest: r = {radii} (inputs have "
        "norm about 1)."
    )


def curve_key(runs: pd.DataFrame, robustness: pd.DataFrame, style: Style) -> str:
    """What the line styles of the robust-accuracy figure mean: the trainer or control (and series)."""
    line_styles = curve_line_styles(style, robust_table(runs, robustness))
    if not line_styles:
        return ""
    curves = list(line_styles)
    named = [f"{name(curve_name(curve, curves))} {LINE_STYLE_NAMES[ls]}" for curve, ls in line_styles.items()]
    return f" Line style is the trainer or control: {listed(named)}."


def robustness_captions(
    runs: pd.DataFrame, fits: pd.DataFrame, robustness: pd.DataFrame, style: Style
) -> dict[str, str]:
    """Captions of the robust-accuracy and test-accuracy figures (report.robustness_figures), by figure name."""
    keyed = with_keys(runs)
    data = f"Data and models:\n\n{setting(keyed, fits, style)}\n"
    key = colour_key(style, keyed)
    up, down = (MARKER_NAMES[SIDE_MARKERS[side]] for side in ("upper", "lower"))
    robust = (
        "Robust accuracy of the models that fit, on their own training points scored against the (noisy) labels "
        f"they were fitted to, against p/(nd), one panel per dataset. {radius_key(robustness)}"
        f"{curve_key(runs, robustness, style)} A point counts when sign(f) stays right under every "
        "perturbation of norm <= r. That share is bracketed: the lower edge of each band "
        f"({down}, thinner line) is "
        # Bars escaped: reStructuredText reads |name| as a substitution, an error in the report.
        "certified, the share with \\|f(x)\\| > r times the certified upper bound of Lip(f) (on the ball of radius "
        "\\|\\|x\\|\\| + r for brackets valid on the unit ball; an infinite bound certifies nothing); the upper edge "
        f"({up}) is the share that survives the attack of radius r (a minimum-norm boundary search, then "
        "PGD-L2; methods: robust accuracy). Medians over seeds. How to "
        "read it: the law says a fit of n noisy labels with p parameters has Lip >= sqrt(nd/p), so at small p "
        "margins of order 1 are broken by perturbations of order sqrt(p/(nd)); robustness at a fixed r should "
        "appear only as p grows towards nd. A band that stays low however large p gets means the trainer "
        "finds non-smooth fits even where the law allows smooth ones."
        f"{chance_sentence(runs)} {SIZE_LINES}\n\n{data}"
    )
    test = (
        "Clean accuracy on the held-out test points (sign(f) against the test labels' signs) of every model, "
        "against p/(nd), medians over seeds; grey crosses: models that did not reach the fit criterion. Black "
        "dotted: chance, 0.5. How to read it: beside the Lipschitz figure, it shows whether the size that "
        f"makes fits smoother also makes them generalise.{chance_sentence(runs)} {SIZE_LINES} {key}\n\n{data}"
    )
    return {"robust_accuracy_vs_p": robust, "test_accuracy_vs_p": test}
