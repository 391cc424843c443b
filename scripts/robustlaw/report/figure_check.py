"""What a journal's figure editor checks, on a drawn matplotlib Figure: text inside the canvas,
readable font sizes, no text on text, legends that neither repeat an entry nor hide data, every
axis labelled with its unit, no empty panel.

Reference artists (gid 'reference') do not count as data; a panel with no data must carry a
text with gid 'note' that says why.
"""

import re

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import Collection, LineCollection
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.transforms import Bbox

REFERENCE, NOTE = "reference", "note"
MIN_FONT_POINTS = 6.0
TOLERANCE_PIXELS = 1.0
# A unit in parentheses or brackets at the end of the label, after a space or line break:
# 'p / n  (parameters per training point)', not 'Lip(f)'.
UNIT = re.compile(r"\s[(\[][^()\[\]]+[)\]]\s*$")


def figure_problems(figure: Figure) -> list[str]:
    """Every problem found, as a sentence naming the panel and the artist; empty when the figure passes."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    problems: list[str] = []
    for axis in figure.axes:
        if axis.get_visible():
            problems += axes_problems(axis, renderer, figure)
    for legend in figure.legends:
        problems += legend_problems(legend, "figure legend")
    problems += outside_problems(figure, renderer)
    problems += overlap_problems(figure, renderer)
    return problems


def panel_name(axis: Axes) -> str:
    return f"panel '{axis.get_title() or axis.get_label() or 'untitled'}'"


def drawn_texts(figure: Figure) -> list[Text]:
    return [text for text in figure.findobj(Text) if text.get_visible() and text.get_text().strip()]


def tick_labels(scale, shown: bool = True) -> list[Text]:
    """The tick labels of an x or y axis that matplotlib draws (at ticks inside the view limits), or
    with shown=False those it keeps but does not draw."""
    low, high = sorted(scale.get_view_interval())
    margin = 1e-9 * max(abs(low), abs(high))
    labels = []
    for tick in scale.get_major_ticks() + scale.get_minor_ticks():
        if (low - margin <= tick.get_loc() <= high + margin) == shown:
            labels += [text for text in (tick.label1, tick.label2) if text.get_visible() and text.get_text()]
    return labels


def shown_texts(figure: Figure) -> list[Text]:
    """Every text drawn on the canvas, tick labels at ticks outside the view limits left out."""
    hidden = {
        id(text) for axis in figure.axes for scale in (axis.xaxis, axis.yaxis) for text in tick_labels(scale, False)
    }
    return [text for text in drawn_texts(figure) if id(text) not in hidden]


def axes_problems(axis: Axes, renderer, figure: Figure) -> list[str]:
    name, problems = panel_name(axis), []
    for letter, scale in (("x", axis.xaxis), ("y", axis.yaxis)):
        label = scale.get_label_text()
        if tick_labels(scale) and not UNIT.search(label):
            problems.append(f"{name}: {letter} axis label {label!r} gives no unit in parentheses or brackets")
    if not has_data(axis):
        problems.append(f"{name}: no data drawn and no note saying why")
    legend = axis.get_legend()
    if legend is not None:
        problems += legend_problems(legend, f"{name} legend")
        problems += hidden_data(axis, legend, renderer, name)
    return problems


def has_data(axis: Axes) -> bool:
    for artist in [*axis.lines, *axis.collections, *axis.patches, *axis.images]:
        if artist.get_gid() == REFERENCE or not artist.get_visible():
            continue
        if isinstance(artist, Line2D) and np.isfinite(np.asarray(artist.get_xydata(), float)).all(axis=1).any():
            return True
        if isinstance(artist, LineCollection) and len(artist.get_segments()):
            return True
        if isinstance(artist, Collection) and not isinstance(artist, LineCollection) and len(artist.get_offsets()):
            return True
    return any(text.get_gid() == NOTE and text.get_visible() for text in axis.texts)


def legend_problems(legend: Legend, where: str) -> list[str]:
    labels = [text.get_text() for text in legend.get_texts()]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    return [f"{where}: entry {label!r} appears {labels.count(label)} times" for label in repeated]


def data_points(axis: Axes) -> np.ndarray:
    """Display coordinates of every data vertex and marker in the panel (reference lines left out)."""
    points = [np.empty((0, 2))]
    for line in axis.lines:
        if line.get_gid() != REFERENCE and line.get_visible() and line.get_transform() == axis.transData:
            points.append(np.asarray(line.get_xydata(), float))
    for collection in axis.collections:
        if collection.get_gid() == REFERENCE or not collection.get_visible():
            continue
        if isinstance(collection, LineCollection):
            points += [np.asarray(segment, float) for segment in collection.get_segments()]
        else:
            points.append(np.asarray(collection.get_offsets(), float))
    data = np.concatenate(points)
    data = data[np.isfinite(data).all(axis=1)]
    return axis.transData.transform(data) if len(data) else data


def covered_points(axis: Axes, legend: Legend, renderer) -> int:
    """How many of the panel's data points lie under `legend`."""
    box = legend.get_window_extent(renderer)
    points = data_points(axis)
    inside = (box.x0 < points[:, 0]) & (points[:, 0] < box.x1) & (box.y0 < points[:, 1]) & (points[:, 1] < box.y1)
    return int(inside.sum())


def hidden_data(axis: Axes, legend: Legend, renderer, name: str) -> list[str]:
    covered = covered_points(axis, legend, renderer)
    return [f"{name}: the legend hides {covered} data points"] if covered else []


def outside_problems(figure: Figure, renderer) -> list[str]:
    """Texts (and tick labels, and legends) whose box leaves the canvas."""
    canvas = figure.bbox
    boxes: list[tuple[str, Bbox]] = []
    boxes = [(f"text {text.get_text()!r}", text.get_window_extent(renderer)) for text in shown_texts(figure)]
    legends = [*figure.legends, *(axis.get_legend() for axis in figure.axes if axis.get_legend())]
    boxes += [("legend", legend.get_window_extent(renderer)) for legend in legends]
    problems = []
    for what, box in boxes:
        beyond = {
            "left": canvas.x0 - box.x0,
            "right": box.x1 - canvas.x1,
            "bottom": canvas.y0 - box.y0,
            "top": box.y1 - canvas.y1,
        }
        for side, pixels in beyond.items():
            if pixels > TOLERANCE_PIXELS:
                problems.append(f"{what} runs {pixels:.0f} px off the {side} edge of the canvas")
    small = [text for text in shown_texts(figure) if text.get_fontsize() < MIN_FONT_POINTS]
    problems += [f"text {text.get_text()!r} is set in {text.get_fontsize():.1f} pt" for text in small]
    return problems


def overlap_problems(figure: Figure, renderer) -> list[str]:
    """Titles, axis labels, notes and legends that overlap one another or another panel's tick labels."""
    blocks: list[tuple[str, Bbox]] = []
    for axis in figure.axes:
        name = panel_name(axis)
        for text in (axis.title, axis.xaxis.label, axis.yaxis.label, *axis.texts):
            if text.get_visible() and text.get_text().strip():
                blocks.append((f"{name}: {text.get_text()!r}", text.get_window_extent(renderer)))
        for letter, scale in (("x", axis.xaxis), ("y", axis.yaxis)):
            labels = tick_labels(scale)
            if labels:
                box = Bbox.union([text.get_window_extent(renderer) for text in labels])
                blocks.append((f"{name}: {letter} tick labels", box))
        if axis.get_legend():
            blocks.append((f"{name}: legend", axis.get_legend().get_window_extent(renderer)))
    blocks += [("figure legend", legend.get_window_extent(renderer)) for legend in figure.legends]
    problems = []
    for i, (first, one) in enumerate(blocks):
        for second, other in blocks[i + 1 :]:
            if tick_block(first) and tick_block(second):
                continue
            if one.overlaps(other) and overlap_area(one, other) > 4:
                problems.append(f"{first} overlaps {second}")
    return problems


def tick_block(name: str) -> bool:
    return name.endswith("tick labels")


def overlap_area(one: Bbox, other: Bbox) -> float:
    width = min(one.x1, other.x1) - max(one.x0, other.x0)
    height = min(one.y1, other.y1) - max(one.y0, other.y0)
    return max(width, 0.0) * max(height, 0.0)
