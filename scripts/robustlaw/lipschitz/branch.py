"""Input-space branch-and-bound for two-layer ReLU nets of low input dimension: both ends of the bracket.

Why it is sound. For f(x) = a^T relu(W x + b) with W (k x d) of rank d, every activation region is a
pointed polyhedron, so its closure has a vertex where d linearly independent hyperplanes
w_j . x + b_j = 0 meet. A box whose interior holds every such vertex therefore meets every region,
and Lip(f) over R^d is the largest gradient norm over the box. The box is cut in halves; on each
closed sub-box a neuron whose pre-activation keeps one sign (|w_j . c + b_j| > sum_i |w_ji| h_i for
centre c and half-widths h) is fixed at that sign, the others are free. The gradient on that box
is g = g_fixed + sum_free s_j a_j w_j for some s in {0, 1}^free. The `exact_free` free neurons with
the largest ||a_j w_j|| are enumerated (all 2^e patterns); for each, the remaining free ones are
relaxed by writing s_j = (1 + t_j) / 2, t in [-1, 1]^m, so g = c + V t with c the enumerated part
plus (1/2) sum_rest a_j w_j and V's columns v_j = a_j w_j / 2, and
||c + V t||^2 <= ||c||^2 + 2 sum_j |v_j . c| + min((sum_j ||v_j||)^2, m lambda_max(V V^T)).
With no neuron left to relax this is the exact maximum over the box's patterns. The certified
upper end is the largest of these over the boxes still open (and of the best gradient found);
every box is a closed set, so the cover has no gaps.

The search is deterministic (a fixed number of boxes, not a clock), so reruns give the same bytes.
"""

import heapq
import itertools
import math
from dataclasses import dataclass

import torch

from robustlaw.lipschitz.exact import arrangement_vertices
from robustlaw.lipschitz.rounding import gamma
from robustlaw.lipschitz.upper import UPPER_MARGIN


@dataclass(frozen=True)
class BranchResult:
    upper: float
    best_point: torch.Tensor
    best_gradient_norm: float
    boxes: int
    converged: bool


def vertex_box(hidden: torch.Tensor, bias: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(centre, half-widths) of a box whose interior holds every vertex of the arrangement.

    The widening (0.1% plus 1e-3 of the largest coordinate) is above the relative error of the
    vertices (about cond * 1e-16), whose subsets arrangement_vertices keeps at cond <= 1e12.
    """
    low = high = None
    for _, vertices, _ in arrangement_vertices(hidden, bias):
        block_low, block_high = vertices.min(dim=0).values, vertices.max(dim=0).values
        low = block_low if low is None else torch.minimum(low, block_low)
        high = block_high if high is None else torch.maximum(high, block_high)
    centre = (low + high) / 2
    reach = float(torch.maximum(low.abs(), high.abs()).max())
    return centre, (high - low) / 2 * (1 + 1e-3) + 1e-3 * (1 + reach)


def rounding_allowance(weighted: torch.Tensor) -> float:
    """An absolute bound of the float64 rounding in a box's squared bound, from the path norm P = sum_j ||a_j w_j||.

    Every term of it is at most a few P^2 (||c|| <= P, sum_j |v_j . c| <= P^2 / 2, the quadratic part
    <= P^2 / 4), and each is a sum of at most k + 2d + 8 rounded operations on those, so together they
    are off by at most 16 gamma_{k+2d+8} P^2; the top eigenvalue of the d x d Gram V V^T adds at most
    gamma_{4d} of its trace per neuron counted (m <= k), i.e. k gamma_{4d} P^2.
    """
    k, d = weighted.shape
    path = float(torch.linalg.vector_norm(weighted, dim=1).sum())
    return (16 * gamma(k + 2 * d + 8) + k * gamma(4 * d)) * path**2


def _box_bounds(
    centres: torch.Tensor,
    halves: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor,
    weighted: torch.Tensor,
    corners: torch.Tensor,
    exact_free: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(upper bound of ||grad f|| on each box, ||grad f|| at each centre; 0 where the centre sits on a hyperplane)."""
    preactivations = centres @ w.T + b
    radius = halves @ w.abs().T
    # Rounding of the two products is far below 1e-12 of the sums of absolute terms they are made of.
    slack = 1e-12 * (centres.abs() @ w.abs().T + b.abs() + radius)
    positive = preactivations - radius > slack
    free = ~positive & (preactivations + radius >= -slack)
    fixed = positive.to(torch.float64) @ weighted

    # Enumerate the patterns of the exact_free largest free neurons; relax the rest around each.
    norms = torch.linalg.vector_norm(weighted, dim=1)
    order = torch.argsort(free * (1 + norms), dim=1, descending=True, stable=True)[:, :exact_free]
    chosen = torch.gather(free, 1, order)
    rest = free.clone()
    rest.scatter_(1, order, False)
    columns = weighted[order] * chosen[..., None].to(torch.float64)
    rest_weights = rest.to(torch.float64)
    mid = (fixed + 0.5 * (rest_weights @ weighted))[:, None, :] + torch.einsum("pe,bed->bpd", corners, columns)
    spread = torch.einsum("bpj,bj->bp", (mid @ weighted.T).abs(), rest_weights)
    outer = torch.einsum("bj,jd,je->bde", rest_weights, weighted, weighted) / 4
    spectral = rest.sum(dim=1) * torch.linalg.eigvalsh(outer)[:, -1].clamp_min(0)
    quadratic = torch.minimum((rest_weights @ (0.5 * norms)) ** 2, spectral)
    squared = torch.sum(mid * mid, dim=2) + spread + quadratic[:, None] + rounding_allowance(weighted)
    upper = squared.max(dim=1).values.clamp_min(0).sqrt()

    at_centre = torch.linalg.vector_norm((preactivations > 0).to(torch.float64) @ weighted, dim=1)
    at_centre = torch.where(torch.all(preactivations != 0, dim=1), at_centre, torch.zeros_like(at_centre))
    return upper, at_centre


def branch_and_bound_two_layer(
    hidden: torch.Tensor,
    bias: torch.Tensor,
    output: torch.Tensor,
    max_boxes: int,
    target_gap: float,
    batch: int = 64,
    exact_free: int | None = None,
) -> BranchResult:
    """Best-first search over boxes until upper <= (1 + target_gap) * best gradient, or max_boxes boxes.

    Needs rank(W) = d (raises ValueError otherwise, or where the arrangement is not generic enough
    for arrangement_vertices). Cost: C(k, d) solves for the box, then about max_boxes * k * d.
    """
    w, b = hidden.to(torch.float64), bias.to(torch.float64)
    a = output.reshape(-1).to(torch.float64)
    k, d = w.shape
    if k < d or int(torch.linalg.matrix_rank(w)) < d:
        raise ValueError(f"input-space branch-and-bound needs rank(W) = d; got k = {k}, d = {d}")
    weighted = a[:, None] * w
    if exact_free is None:
        # 2^e patterns times k neurons per box: keep that product near 8192.
        exact_free = max(1, min(6, int(math.log2(8192 / k))))
    exact_free = min(exact_free, k)
    corners = torch.cartesian_prod(*[torch.tensor([0.0, 1.0], dtype=torch.float64)] * exact_free)
    corners = corners.reshape(-1, exact_free)
    centre, half = vertex_box(w, b)
    upper, at_centre = _box_bounds(centre[None], half[None], w, b, weighted, corners, exact_free)
    best_norm, best_point = float(at_centre[0]), centre
    counter = itertools.count()
    heap = [(-float(upper[0]), next(counter), centre, half)]
    boxes = 1
    while heap and boxes < max_boxes and -heap[0][0] > best_norm * (1 + target_gap):
        popped = [heapq.heappop(heap) for _ in range(min(batch, len(heap), max(1, (max_boxes - boxes) // 2)))]
        centres = torch.stack([item[2] for item in popped])
        halves = torch.stack([item[3] for item in popped])
        axis = torch.argmax(halves, dim=1)
        shift = torch.zeros_like(halves)
        shift[torch.arange(len(popped)), axis] = halves[torch.arange(len(popped)), axis] / 2
        halves = halves - shift
        children_centres = torch.cat([centres - shift, centres + shift])
        # Widened by a few ulps so that the rounded children still cover their parent with no gap.
        halves = halves + 4 * torch.finfo(torch.float64).eps * (centres.abs() + halves)
        children_halves = torch.cat([halves, halves])
        uppers, norms = _box_bounds(children_centres, children_halves, w, b, weighted, corners, exact_free)
        boxes += len(children_centres)
        index = int(torch.argmax(norms))
        if float(norms[index]) > best_norm:
            best_norm, best_point = float(norms[index]), children_centres[index]
        for bound, child_centre, child_half in zip(uppers.tolist(), children_centres, children_halves, strict=True):
            if bound > best_norm:
                heapq.heappush(heap, (-bound, next(counter), child_centre, child_half))
    open_upper = -heap[0][0] if heap else 0.0
    upper_bound = max(open_upper, best_norm) * (1 + UPPER_MARGIN)
    return BranchResult(
        upper=upper_bound,
        best_point=best_point,
        best_gradient_norm=best_norm,
        boxes=boxes,
        converged=upper_bound <= best_norm * (1 + target_gap),
    )
