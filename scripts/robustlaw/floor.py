"""Pairwise secant maxima: the data floor L_sep and its analogue for a model's predictions."""

import torch


def max_pairwise_secant(x: torch.Tensor, values: torch.Tensor, chunk_rows: int = 512) -> float:
    """max over pairs i != j with x_i != x_j of |v_i - v_j| / ||x_i - x_j||, in float64.

    O(n^2 d) time in row chunks, so memory stays O(chunk_rows * n). Differences are taken
    directly (no ||a||^2 + ||b||^2 - 2ab expansion), which loses no precision for close pairs.
    """
    x = x.to(torch.float64)
    values = values.to(torch.float64)
    best = 0.0
    for start in range(0, len(x), chunk_rows):
        rows = slice(start, start + chunk_rows)
        distances = torch.cdist(x[rows], x, compute_mode="donot_use_mm_for_euclid_dist")
        gaps = (values[rows, None] - values[None, :]).abs()
        ratios = torch.where(distances > 0, gaps / distances.clamp_min(torch.finfo(torch.float64).tiny), 0.0)
        best = max(best, float(ratios.max()))
    return best


def data_floor(x: torch.Tensor, y: torch.Tensor, chunk_rows: int = 512) -> float:
    """L_sep: the smallest Lipschitz constant of any function interpolating (x, y) exactly.

    Pairs with equal labels contribute 0, so this equals the max over y_i != y_j of the ratio.
    """
    return max_pairwise_secant(x, y, chunk_rows)
