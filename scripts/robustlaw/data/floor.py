"""Pairwise secant maxima: the data floor L_sep and its analogue for a model's predictions."""

import torch

from robustlaw.lipschitz.rounding import secant_lower_bound


def max_pairwise_secant(
    x: torch.Tensor, values: torch.Tensor, errors: torch.Tensor | None = None, chunk_rows: int = 512
) -> float:
    """A lower bound of max over pairs i != j of |v_i - v_j| / ||x_i - x_j||, in float64.

    `errors` bounds how far each computed v_i may be from the exact one (robustlaw.lipschitz.rounding; none for
    labels): each secant is certified as (|v_i - v_j| - e_i - e_j) / ||x_i - x_j||, rounded down, and
    pairs closer than rounding.SMALLEST_DISTANCE (coincident points) give none. O(n^2 d) time in row
    chunks, so memory stays O(chunk_rows * n). Differences are taken directly (no ||a||^2 + ||b||^2 - 2ab
    expansion), which loses no precision for close pairs.
    """
    x = x.to(torch.float64)
    values = values.to(torch.float64)
    errors = torch.zeros_like(values) if errors is None else errors.to(torch.float64)
    best = 0.0
    for start in range(0, len(x), chunk_rows):
        rows = slice(start, start + chunk_rows)
        distances = torch.cdist(x[rows], x, compute_mode="donot_use_mm_for_euclid_dist")
        differences = values[rows, None] - values[None, :]
        allowances = errors[rows, None] + errors[None, :]
        secants = secant_lower_bound(differences, allowances, distances, x.shape[1])
        best = max(best, float(secants.max()))
    return best


def data_floor(x: torch.Tensor, y: torch.Tensor, chunk_rows: int = 512) -> float:
    """L_sep: the smallest Lipschitz constant of any function interpolating (x, y) exactly.

    Pairs with equal labels contribute 0, so this equals the max over y_i != y_j of the ratio.
    """
    return max_pairwise_secant(x, y, chunk_rows=chunk_rows)
