"""Exact Lipschitz constants where they are computable.

For f(x) = a^T relu(W x + b) the gradient on the region with activation pattern s in {0,1}^k is
W^T diag(s) a, so Lip(f) = max over realisable patterns of ||W^T diag(s) a||. When W (k x d) has
full row rank k <= d, W x + b takes every value in R^k, so every pattern is realisable and the
maximum over all 2^k patterns is exact.
"""

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
