"""Exact Lipschitz constants where they are computable.

For f(x) = a^T relu(W x + b) the gradient on the region with activation pattern s in {0,1}^k is
W^T diag(s) a, so Lip(f) = max over realisable patterns of ||W^T diag(s) a||. When W (k x d) has
full row rank k <= d, W x + b takes every value in R^k, so every pattern is realisable and the
maximum over all 2^k patterns is exact. Past k = d, in low d, the vertices of the hyperplane
arrangement give the realisable patterns (exact_two_layer_relu_vertices: the tests' oracle).
"""

from collections.abc import Iterator

import torch


def pattern_gram(hidden: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
    """M = diag(a) W W^T diag(a), so that ||W^T diag(s) a||^2 = s^T M s."""
    w = hidden.to(torch.float64)
    a = output.reshape(-1).to(torch.float64)
    return a[:, None] * (w @ w.T) * a[None, :]


def all_patterns_realisable(hidden: torch.Tensor) -> bool:
    k, d = hidden.shape
    return k <= d and int(torch.linalg.matrix_rank(hidden.to(torch.float64))) == k


def best_pattern_exhaustive(
    hidden: torch.Tensor, output: torch.Tensor, chunk: int = 1 << 16
) -> tuple[float, torch.Tensor]:
    """max over all s in {0,1}^k of ||W^T diag(s) a|| and a maximising s (2^k work)."""
    gram = pattern_gram(hidden, output)
    k = gram.shape[0]
    bits = 2 ** torch.arange(k, dtype=torch.int64)
    best_value, best_code = -1.0, 0
    for start in range(0, 1 << k, chunk):
        codes = torch.arange(start, min(start + chunk, 1 << k), dtype=torch.int64)
        patterns = ((codes[:, None] & bits) != 0).to(torch.float64)
        values = torch.sum((patterns @ gram) * patterns, dim=1)
        index = int(torch.argmax(values))
        if float(values[index]) > best_value:
            best_value, best_code = float(values[index]), int(codes[index])
    pattern = ((torch.tensor(best_code) & bits) != 0).to(torch.float64)
    return max(best_value, 0.0) ** 0.5, pattern


def exact_two_layer_relu(hidden: torch.Tensor, output: torch.Tensor, max_width: int) -> float | None:
    """The exact Lip of a two-layer ReLU net when k <= max_width and every pattern is realisable."""
    if hidden.shape[0] > max_width or not all_patterns_realisable(hidden):
        return None
    return best_pattern_exhaustive(hidden, output)[0]


def arrangement_vertices(
    hidden: torch.Tensor, bias: torch.Tensor, max_condition: float = 1e12
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """(subsets, vertices, condition bounds) of every d-subset S of the k hyperplanes w_j . x + b_j = 0
    and the point where they meet, x = -W_S^-1 b_S; one block per smallest index in S.

    Near-dependent subsets (a bound on the condition number above max_condition) raise: their
    intersection is not computed reliably, and dropping them could drop a region's vertex.
    """
    w, b = hidden.to(torch.float64), bias.to(torch.float64)
    k, d = w.shape
    for first in range(k - d + 1):
        rest = torch.combinations(torch.arange(first + 1, k), d - 1) if d > 1 else torch.empty(1, 0, dtype=torch.int64)
        subsets = torch.cat([torch.full((len(rest), 1), first, dtype=torch.int64), rest], dim=1)
        matrices = w[subsets]
        # cond(W_S) <= ||W_S||_F^d / |det W_S|: a cheap bound that errs on the side of raising.
        condition = torch.sum(matrices * matrices, dim=(1, 2)) ** (d / 2) / torch.linalg.det(matrices).abs()
        if bool(torch.any(~(condition <= max_condition))):
            worst = subsets[int(torch.argmax(torch.nan_to_num(condition, nan=float("inf"))))].tolist()
            raise ValueError(f"hyperplanes {worst} are (nearly) linearly dependent: the arrangement is not generic")
        vertices = torch.linalg.solve(matrices, -b[subsets])
        yield subsets, vertices, condition


def exact_two_layer_relu_vertices(hidden: torch.Tensor, bias: torch.Tensor, output: torch.Tensor) -> float:
    """Exact Lip of f(x) = a^T relu(W x + b) for a generic arrangement of k >= d hyperplanes in R^d.

    W of rank d makes every activation region a pointed polyhedron, so its closure has a vertex
    where d hyperplanes meet. In a generic arrangement no other hyperplane passes through that
    vertex, so the region's pattern is the other neurons' signs at the vertex plus one of the 2^d
    patterns on the d meeting ones, and each of those 2^d is realised in a region around the vertex.
    Lip is the largest ||W^T diag(s) a|| over these C(k, d) 2^d patterns: a test oracle for low d.
    Raises where a neuron other than the d sits on a vertex (non-generic), as the count would be wrong.
    """
    w, b = hidden.to(torch.float64), bias.to(torch.float64)
    a = output.reshape(-1).to(torch.float64)
    k, d = w.shape
    if k < d or int(torch.linalg.matrix_rank(w)) < d:
        raise ValueError(f"the vertex enumeration needs k >= d and rank(W) = d; got k = {k}, d = {d}")
    corners = torch.cartesian_prod(*[torch.tensor([0.0, 1.0], dtype=torch.float64)] * d).reshape(-1, d)
    weighted = a[:, None] * w
    best = 0.0
    for subsets, vertices, condition in arrangement_vertices(w, b):
        preactivations = vertices @ w.T + b
        # A solve's relative error is about cond * 1e-16; a neuron this close may pass through the vertex.
        tolerance = torch.clamp(1e-13 * condition, min=1e-12)[:, None]
        scale = tolerance * (torch.abs(vertices) @ torch.abs(w).T + torch.abs(b))
        on_vertex = torch.zeros_like(preactivations, dtype=torch.bool)
        on_vertex.scatter_(1, subsets, True)
        if bool(torch.any((torch.abs(preactivations) <= scale) & ~on_vertex)):
            raise ValueError("more than d hyperplanes meet at a vertex: the arrangement is not generic")
        fixed = ((preactivations > 0) & ~on_vertex).to(torch.float64) @ weighted
        gradients = fixed[:, None, :] + torch.einsum("pi,sid->spd", corners, weighted[subsets])
        best = max(best, float(torch.linalg.vector_norm(gradients, dim=2).max()))
    return best
