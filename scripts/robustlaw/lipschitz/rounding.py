"""Rigorous allowances for float64 rounding: how far a computed f(x) can be from the exact one, and
secants and products rounded the safe way.

Standard forward error analysis (Higham, "Accuracy and Stability of Numerical Algorithms", ch. 3):
a sum of n products computed in float64 in any order (BLAS blocking and FMA included) differs from
the exact sum by at most gamma_n times the sum of the absolute products, gamma_n = n u / (1 - n u),
u = 2^-53, plus, where results fall below the normal range, an absolute n 2^-1074. Every basic
operation (+, -, *, /, sqrt) is correctly rounded, so the exact result of one lies within one ulp
of the computed one: stepping to the neighbouring float (torch.nextafter) rounds it up or down.
docs/estimators.md ("Rounding allowances") states each bound as an inequality.
"""

import math
import sys

import torch
import torch.nn.functional as F

from robustlaw.training.models import MLP, GatedLinearModel, QuadraticModel

UNIT_ROUNDOFF = 2.0**-53
# The spacing of the subnormal floats: the absolute error of one product that underflows.
SUBNORMAL_SPACING = math.ulp(0.0)
# Secants over distances below this are skipped: a difference whose squares underflow has no
# relative error bound, and such a pair carries no usable slope anyway.
SMALLEST_DISTANCE = 2.0**-500


def gamma(n: int) -> float:
    """gamma_n = n u / (1 - n u), rounded up (two ulps cover the two roundings that compute it)."""
    if n * UNIT_ROUNDOFF >= 0.25:
        raise ValueError(f"no rounding bound for sums of {n} terms in float64")
    value = n * UNIT_ROUNDOFF / (1 - n * UNIT_ROUNDOFF)
    return math.nextafter(math.nextafter(value, math.inf), math.inf)


def round_up(values: torch.Tensor) -> torch.Tensor:
    return torch.nextafter(values, torch.full_like(values, math.inf))


def round_down(values: torch.Tensor) -> torch.Tensor:
    return torch.nextafter(values, torch.full_like(values, -math.inf))


def inflate(computed: torch.Tensor, terms: int) -> torch.Tensor:
    """An upper bound of the exact value of a sum of at most `terms` non-negative products, from its float64 value.

    computed >= exact (1 - gamma_n) - n 2^-1074, so exact <= (computed + n 2^-1074)(1 + 2 gamma_n) for
    gamma_n <= 1/2; the two operations that apply this are rounded up too.
    """
    factor = math.nextafter(1 + 2 * gamma(terms), math.inf)
    return round_up(round_up(computed + terms * SUBNORMAL_SPACING) * factor)


def evaluation_error_bound(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Per row of x, an upper bound of |fl(f(x)) - f(x)|: f evaluated by the model's forward() in float64
    (its parameters and x converted to float64, which is exact for floating-point inputs) against exact
    arithmetic on the same numbers. Infinite where the evaluation overflows (a non-finite value or bound).
    """
    if not x.dtype.is_floating_point:
        raise TypeError(f"points must be floating point (converted to float64 exactly), got {x.dtype}")
    x64 = x.to(torch.float64)
    with torch.no_grad():
        if isinstance(model, MLP):
            value, bound = mlp_layer_errors(model, x64)[-1]
            value, bound = value.squeeze(-1), bound.squeeze(-1)
        elif isinstance(model, QuadraticModel):
            value, bound = quadratic_error(model, x64)
        elif isinstance(model, GatedLinearModel):
            value, bound = gated_error(model, x64)
        else:
            raise TypeError(f"no rounding bound for a {type(model).__name__}")
    return torch.where(torch.isfinite(value) & torch.isfinite(bound), bound, math.inf)


def secant_values(model: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(f(x) - c computed in float64, a bound of its rounding error) per row, with c a network's output bias.

    Secants of f and of f - c are equal, and leaving c out spares them its rounding: a large output
    bias (|c| >> the variation of f) would otherwise swamp every difference of values.
    """
    if isinstance(model, MLP):
        with torch.no_grad():
            value, bound = mlp_layer_errors(model, x.to(torch.float64), output_bias=False)[-1]
        value, bound = value.squeeze(-1), bound.squeeze(-1)
        return value, torch.where(torch.isfinite(value) & torch.isfinite(bound), bound, math.inf)
    with torch.no_grad():
        return model(x.to(torch.float64)), evaluation_error_bound(model, x)


def mlp_layer_errors(model: MLP, x: torch.Tensor, output_bias: bool = True) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(computed pre-activation z_l, bound of |z_l computed - z_l exact|) of every layer, as forward() computes
    them (without the last layer's bias if not output_bias).

    With h the computed input of a layer and e a bound of its error, fl(W h + b) is within
    gamma_{n+1} (|W| |h| + |b|) of W h + b, and W h + b within |W| e of the exact pre-activation, so
    e' = |W| (gamma_{n+1} |h| + e) + gamma_{n+1} |b| (+ n 2^-1074 for underflow); ReLU is 1-Lipschitz in
    each coordinate, so the next layer's input error is e' again.
    """
    h = x.to(torch.float64)
    error = torch.zeros_like(h)
    layers = []
    for index, layer in enumerate(model.layers):
        weight, bias = layer.weight.detach().to(torch.float64), layer.bias.detach().to(torch.float64)
        if index == len(model.layers) - 1 and not output_bias:
            bias = torch.zeros_like(bias)
        fan_in = weight.shape[1]
        growth = gamma(fan_in + 1)
        z = F.linear(h, weight, bias)
        spread = F.linear(growth * h.abs() + error, weight.abs(), growth * bias.abs())
        # fan_in products, their sum and the bias, plus the two operations forming each term.
        error = round_up(inflate(spread, fan_in + 3) + (fan_in + 1) * SUBNORMAL_SPACING)
        layers.append((z, error))
        if index < len(model.layers) - 1:
            h = F.relu(z)
    return layers


def quadratic_error(model: QuadraticModel, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """f(z) = sum_i (z Q)_i z_i: each of its d^2 terms passes through at most 2d + 1 roundings (d in
    the product z Q, one in the product with z_i, d - 1 in the sum), so |error| <= gamma_{2d+1} |z|^T |Q| |z|."""
    quadratic = model.quadratic.detach().to(torch.float64)
    d = quadratic.shape[0]
    value = torch.sum((z @ quadratic) * z, dim=-1)
    magnitude = inflate(torch.sum((z.abs() @ quadratic.abs()) * z.abs(), dim=-1), 2 * d + 1)
    return value, round_up(gamma(2 * d + 1) * magnitude)


def gated_error(model: GatedLinearModel, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """f(z) = sum_j [w_j . z > 0] theta_j . z, a sum of k gated d-term dot products.

    A gate whose computed w_j . z lies within its rounding bound gamma_d |w_j| |z| of zero may be open
    in one arithmetic and shut in the other: that term can be wrong by all of |theta_j . z| <=
    |theta_j| |z|. The others (gates exact) are a sum of k d-term dot products: within gamma_{d+k}
    sum_j |theta_j| |z|.
    """
    gates, coefficients = model.gates.detach().to(torch.float64), model.coefficients.detach().to(torch.float64)
    k, d = gates.shape
    gate_values = z @ gates.T
    gate_errors = round_up(gamma(d) * inflate(z.abs() @ gates.abs().T, d))
    uncertain = gate_values.abs() <= gate_errors
    value = torch.sum((gate_values > 0) * (z @ coefficients.T), dim=-1)
    term_sizes = inflate(z.abs() @ coefficients.abs().T, d)
    shared = round_up(gamma(d + k) * inflate(term_sizes.sum(dim=-1), k))
    switched = inflate(torch.where(uncertain, term_sizes, 0.0).sum(dim=-1), k)
    return value, round_up(shared + switched)


def distance_upper_bound(computed: torch.Tensor, dim: int) -> torch.Tensor:
    """An upper bound of ||x - y||, from its float64 value computed from x and y as d differences, d
    squares, a sum and a square root (relative error <= gamma_{d+3}); valid above SMALLEST_DISTANCE,
    where the squares' underflow (at most d 2^-1074 in all) is far below u ||x - y||^2."""
    return round_up(computed * math.nextafter(1 + gamma(dim + 4), math.inf))


def secant_lower_bound(
    difference: torch.Tensor, errors: torch.Tensor, distance: torch.Tensor, dim: int
) -> torch.Tensor:
    """A lower bound of |f(x) - f(y)| / ||x - y|| for the exact f, 0 where nothing is certified.

    `difference` is the float64 f(x) - f(y) of the computed values, `errors` an upper bound of
    err(x) + err(y) (evaluation_error_bound), `distance` the float64 ||x - y|| of `dim` coordinates.
    |f(x) - f(y)| >= |computed difference| - err(x) - err(y), each operation rounded down.
    """
    gap = round_down(round_down(difference.abs()) - round_up(errors))
    usable = distance > SMALLEST_DISTANCE
    secant = round_down(gap / distance_upper_bound(torch.where(usable, distance, 1.0), dim))
    # Comparisons are false for NaN: an overflowed value certifies nothing.
    return torch.where(usable & (secant > 0) & (secant < math.inf), secant, 0.0)


def scaled_to_unit(values: torch.Tensor) -> tuple[torch.Tensor, int]:
    """(values / 2^e, e) with 2^e within a factor 2 of the largest |entry|: exact in floating point."""
    values = values.to(torch.float64)
    exponent = power_of_two_near(float(values.abs().max())) if values.numel() else 0
    # Two factors, each a normal float even where 2^-e alone is not (subnormal entries).
    half = -exponent // 2
    return values * 2.0**half * 2.0 ** (-exponent - half), exponent


def certified_norm(computed: torch.Tensor, error: torch.Tensor) -> float:
    """A lower bound of ||g|| for the exact vector g, from a computed one with |computed - g| <= error per entry.

    ||g|| >= ||computed|| - ||error||_2 >= fl(||computed / 2^e||) 2^e / (1 + gamma_{n+2}) - ||error||_1, each
    step rounded down; the scaling by 2^e keeps the squares of the norm from over- or underflowing.
    Non-finite input certifies nothing (0).
    """
    if not bool(torch.all(torch.isfinite(computed))):
        return 0.0
    scaled, exponent = scaled_to_unit(computed)
    reduced = math.nextafter(float(torch.linalg.vector_norm(scaled)) / (1 + gamma(len(computed) + 2)), 0.0)
    try:
        norm = math.nextafter(math.ldexp(reduced, exponent), 0.0)
    except OverflowError:
        norm = sys.float_info.max
    certified = math.nextafter(norm - float(inflate(error.sum(), len(error))), -math.inf)
    return certified if certified > 0 else 0.0


def product_upper_bound(factors: list[float]) -> float:
    """The product of non-negative floats, rounded up, without intermediate over- or underflow: the
    mantissas and the exponents are multiplied and added apart (math.frexp is exact)."""
    mantissa, exponent = 1.0, 0
    for factor in factors:
        if factor == 0.0:
            return 0.0
        scaled, shift = math.frexp(factor)
        mantissa, carry = math.frexp(math.nextafter(mantissa * scaled, math.inf))
        exponent += shift + carry
    return scale_up(mantissa, exponent)


def scale_up(value: float, exponent: int) -> float:
    """value * 2^exponent rounded up: exact in the normal range; a result that underflows is replaced by the
    next float above it (never 0 for a positive value), one that overflows by inf."""
    try:
        scaled = math.ldexp(value, exponent)
    except OverflowError:
        return math.inf
    return math.nextafter(scaled, math.inf) if scaled < 2.0**-1022 and value > 0 else scaled


def power_of_two_near(size: float) -> int:
    """An exponent e with 2^e within a factor 2 of a positive finite `size` (dividing by 2^e is exact)."""
    return math.frexp(size)[1]
