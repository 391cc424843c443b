"""Certified upper bounds on the global Lipschitz constant (L2 -> scalar, all of R^d).

Every function takes float64 weights. All bounds hold for activations with slopes in [0, 1]
(ReLU). Each returned value carries a relative safety margin UPPER_MARGIN that covers the
rounding of the float64 linear algebra that produced it. Each layer is first divided by a power of
two near its largest entry (exact), the bound computed on the normalised layers and multiplied back
by the product of those powers (exact, or rounded up where it leaves the normal range): so weights
of 1e-40 or 1e+30 give the same relative accuracy as weights of 1, and never an underflow to 0.
"""

import torch

from robustlaw.lipschitz.rounding import product_upper_bound, scale_up, scaled_to_unit
from robustlaw.training.optimizers import Adam

UPPER_MARGIN = 1e-9


def spectral_norm(matrix: torch.Tensor) -> float:
    """Largest singular value by a float64 SVD (not torch.linalg.norm, which is Frobenius), with the margin."""
    scaled, exponent = scaled_to_unit(matrix)
    return scale_up(float(torch.linalg.matrix_norm(scaled, ord=2)) * (1 + UPPER_MARGIN), exponent)


def spectral_product(weights: list[torch.Tensor]) -> float:
    """prod_l ||W_l||_2: valid for any depth with 1-Lipschitz activations."""
    return product_upper_bound([spectral_norm(weight) for weight in weights])


def liplt_two_layer(hidden: torch.Tensor, output: torch.Tensor) -> float:
    """LipLT for slopes in [0, 1]: (1/2)||W^T a|| + (1/2)||W||_2 ||a|| (never above the product)."""
    w, w_exponent = scaled_to_unit(hidden)
    a, a_exponent = scaled_to_unit(output.reshape(-1))
    norm = float(torch.linalg.matrix_norm(w, ord=2))
    bound = 0.5 * float(torch.linalg.vector_norm(w.T @ a)) + 0.5 * norm * float(torch.linalg.vector_norm(a))
    return scale_up(bound * (1 + UPPER_MARGIN), w_exponent + a_exponent)


def _lipsdp_squared(w: torch.Tensor, a: torch.Tensor, log_tau: torch.Tensor, rho: torch.Tensor) -> torch.Tensor:
    """lambda_max((1/2) W^T T W + u u^T / (4 - 2 a^T T^-1 a)) with u = W^T a, for a feasible T.

    T = lam * diag(exp(log_tau)) with lam = (s / 2)(1 + e^rho), s = a^T diag(tau)^-1 a, which
    makes a^T T^-1 a = 2 / (1 + e^rho) < 2 for every (log_tau, rho): the search is
    unconstrained and every iterate certifies a bound. The matrix is B^T B with
    B = [sqrt(T / 2) W ; c a^T W], c^2 = 1 / (4 sigmoid(rho)); its top eigenvalue is that of the
    smaller of B B^T and B^T B.
    """
    tau = torch.exp(log_tau)
    s = torch.sum(a * a / tau)
    lam = 0.5 * s * (1 + torch.exp(rho))
    rows = torch.sqrt(0.5 * lam * tau)[:, None] * w
    last = (a @ w)[None, :] / torch.sqrt(4 * torch.sigmoid(rho))
    b = torch.cat([rows, last], dim=0)
    gram = b @ b.T if b.shape[0] <= b.shape[1] else b.T @ b
    return torch.linalg.eigvalsh(gram)[-1]


def lipsdp_two_layer(
    hidden: torch.Tensor, output: torch.Tensor, steps: int = 300, learning_rate: float = 0.05
) -> float:
    """Reduced LipSDP-Neuron bound for f(x) = a^T relu(W x + b), optimised over diagonal T.

    Starts from T = ||a||^2 I (already <= the spectral product) and runs Adam on log T; the
    best iterate is re-evaluated in float64 and returned with the safety margin.
    """
    w, w_exponent = scaled_to_unit(hidden)
    a, a_exponent = scaled_to_unit(output.reshape(-1))
    if not torch.any(a != 0):
        return 0.0
    # Neurons with a_j = 0 contribute nothing to f; dropping them keeps T^-1 a well defined.
    active = a != 0
    w, a = w[active], a[active]
    log_tau = torch.zeros(len(a), dtype=torch.float64, requires_grad=True)
    rho = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = Adam([log_tau, rho], learning_rate)
    best_value = float("inf")
    best = (log_tau.detach().clone(), rho.detach().clone())
    for _ in range(steps + 1):
        optimizer.zero_grad()
        value = _lipsdp_squared(w, a, log_tau, rho)
        if float(value.detach()) < best_value:
            best_value = float(value.detach())
            best = (log_tau.detach().clone(), rho.detach().clone())
        value.backward()
        optimizer.step()
    with torch.no_grad():
        certified = float(_lipsdp_squared(w, a, *best))
    return scale_up(max(certified, 0.0) ** 0.5 * (1 + UPPER_MARGIN), w_exponent + a_exponent)


def _lipsdp_network_squared(
    weights: list[torch.Tensor], log_taus: list[torch.Tensor], rhos: torch.Tensor
) -> torch.Tensor:
    """rho with ||J||^2 <= rho for every Jacobian J of a ReLU net, from LipSDP-Neuron with diagonal T_l.

    For increments u_0 (input) and u_l (hidden outputs), ReLU gives u_l * (W_l u_{l-1} - u_l) >= 0
    neuron-wise, so rho ||u_0||^2 - (a . u_{L-1})^2 >= 0 follows if the block-tridiagonal form
    rho ||u_0||^2 - (a . u_{L-1})^2 - sum_l 2 u_l^T T_l (W_l u_{l-1} - u_l) is PSD. Eliminating
    u_{L-1}, ..., u_1 in turn (Schur complements with PD pivots M_l = 2 T_l - N_l) leaves
    rho I - N_0, where N_{L-1} = a a^T and N_{l-1} = W_l^T T_l M_l^-1 T_l W_l. Each T_l is
    mu_l (1 + e^rho_l) / 2 diag(tau_l) with mu_l = lambda_max(D^-1/2 N_l D^-1/2), which keeps
    M_l PD for every parameter value (lambda_min(2 I - T^-1/2 N T^-1/2) >= 2 e^rho / (1 + e^rho)).
    """
    *hidden, last = [weight.to(torch.float64) for weight in weights]
    a = last.reshape(-1)
    n = torch.outer(a, a)
    for weight, log_tau, rho in zip(reversed(hidden), reversed(log_taus), reversed(rhos), strict=True):
        root = torch.exp(-0.5 * log_tau)
        scaled = root[:, None] * n * root[None, :]
        # A zero N (dead layer) has mu = 0; any positive T is then valid.
        mu = torch.linalg.eigvalsh(scaled)[-1].clamp_min(torch.finfo(torch.float64).tiny)
        lam = 0.5 * mu * (1 + torch.exp(rho))
        # K = T^-1/2 N T^-1/2; N_{l-1} = (T^1/2 W)^T (2I - K)^-1 (T^1/2 W).
        kernel = scaled / lam
        pivot = 2 * torch.eye(len(log_tau), dtype=torch.float64) - kernel
        factor, info = torch.linalg.cholesky_ex(pivot)
        if int(info) != 0:
            raise FloatingPointError("LipSDP pivot lost positive definiteness in floating point")
        lifted = torch.sqrt(lam) * torch.exp(0.5 * log_tau)[:, None] * weight
        half = torch.linalg.solve_triangular(factor, lifted, upper=False)
        n = half.T @ half
    return torch.linalg.eigvalsh(n)[-1]


def lipsdp_network(weights: list[torch.Tensor], steps: int = 300, learning_rate: float = 0.05) -> float:
    """LipSDP-Neuron bound for a ReLU net of any depth, optimised over the diagonal T_l by Adam.

    The slack rho_l is kept >= -8, so every pivot keeps lambda_min >= 6.7e-4: far above float64
    rounding, and the Cholesky factorisation checks it. The best iterate is re-evaluated in float64
    and returned with the safety margin.
    """
    scaled = [scaled_to_unit(weight) for weight in weights]
    weights = [weight for weight, _ in scaled]
    widths = [weight.shape[0] for weight in weights[:-1]]
    log_taus = [torch.zeros(width, dtype=torch.float64, requires_grad=True) for width in widths]
    rhos = torch.zeros(len(widths), dtype=torch.float64, requires_grad=True)
    optimizer = Adam([*log_taus, rhos], learning_rate)
    best_value = float("inf")
    best = ([tau.detach().clone() for tau in log_taus], rhos.detach().clone())
    for _ in range(steps + 1):
        optimizer.zero_grad()
        value = _lipsdp_network_squared(weights, log_taus, rhos.clamp_min(-8.0))
        if float(value.detach()) < best_value:
            best_value = float(value.detach())
            best = ([tau.detach().clone() for tau in log_taus], rhos.detach().clamp_min(-8.0).clone())
        value.backward()
        optimizer.step()
    with torch.no_grad():
        certified = float(_lipsdp_network_squared(weights, *best))
    exponent = sum(exponent for _, exponent in scaled)
    return scale_up(max(certified, 0.0) ** 0.5 * (1 + UPPER_MARGIN), exponent)
