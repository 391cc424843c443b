"""Lower bounds on the global Lipschitz constant: ||grad f(x)|| at points we find.

Any point where f is differentiable gives ||grad f(x)|| <= Lip(f). The search proceeds in rounds,
each feeding the next: gradient norms at data and random points; softplus-surrogate ascent
(ReLU's gradient norm is piecewise constant, so ascent on it stalls); exact line search along
grad f into neighbouring regions; and, for two-layer nets, local search over activation patterns
realised by least squares (k <= d) or a greedy walk across single hyperplanes (k > d). The best
point's gradient norm is certified with its rounding accounted for (certified_gradient).
Two-layer nets with k > d also get a pattern pursuit from the search's best points (its own column).
"""

from dataclasses import dataclass

import numpy as np
import scipy.optimize
import torch
import torch.nn.functional as F

from robustlaw.lipschitz.exact import pattern_gram
from robustlaw.lipschitz.rounding import certified_norm, gamma, inflate, mlp_layer_errors, round_up
from robustlaw.training.models import MLP, input_gradients
from robustlaw.training.optimizers import Adam

# Adam's step size in the surrogate ascent: inputs have norm about 1, so steps of 0.01 resolve a region.
ASCENT_LEARNING_RATE = 0.01
# Hinge margins of the pursuit's linear programs, in units of distance to a hyperplane (data have
# norm about 1), and the multiples of each LP solution tried: the margin fixes the solution's scale
# only loosely, and the regions met along the ray through it differ.
PURSUIT_MARGINS = (0.01, 0.1)
PURSUIT_SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)


@dataclass(frozen=True)
class LowerSearchSpec:
    """The search's settings: config key `lipschitz` (defaults in schemas/config.schema.yaml)."""

    random_points: int
    scales: tuple[float, ...]
    ascent_starts: int
    ascent_steps: int
    sharpness: tuple[float, ...]
    line_search_rounds: int
    pattern_starts: int
    walk_rounds: int
    walk_candidates: int
    pursuit_starts: int
    pursuit_rounds: int


@dataclass(frozen=True)
class LowerBound:
    sampled: float
    certified: float
    # The search's final points, best gradient norm first: starts for the pattern pursuit.
    leaders: torch.Tensor


def forward(model: MLP, x: torch.Tensor, sharpness: float | None = None) -> torch.Tensor:
    """f(x) with ReLU, or with softplus(beta z) / beta in its place when sharpness = beta."""
    for layer in model.layers[:-1]:
        z = F.linear(x, layer.weight, layer.bias)
        x = F.relu(z) if sharpness is None else F.softplus(z, beta=sharpness)
    return F.linear(x, model.layers[-1].weight, model.layers[-1].bias).squeeze(-1)


def gradient_norms(model: MLP, x: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(input_gradients(model, x), dim=1)


def random_probe_points(d: int, count: int, scales: tuple[float, ...], generator: torch.Generator) -> torch.Tensor:
    """`count` N(0, I/d) points at each radius: the data scale and beyond it, where regions are unbounded."""
    blocks = [torch.randn(count, d, generator=generator, dtype=torch.float64) * (scale / d**0.5) for scale in scales]
    return torch.cat(blocks)


def surrogate_ascent(model: MLP, starts: torch.Tensor, spec: LowerSearchSpec) -> torch.Tensor:
    """Ascend ||grad f_beta|| for increasing beta; return each start's best point for the true f."""
    x = starts.detach().clone().requires_grad_(True)
    best_points = starts.detach().clone()
    best_norms = gradient_norms(model, best_points)
    for sharpness in spec.sharpness:
        optimizer = Adam([x], ASCENT_LEARNING_RATE)
        for _ in range(spec.ascent_steps):
            optimizer.zero_grad()
            gradient = input_gradients_graph(model, x, sharpness)
            loss = -torch.sum(gradient * gradient)
            loss.backward()
            optimizer.step()
            norms = gradient_norms(model, x.detach())
            better = norms > best_norms
            best_norms = torch.where(better, norms, best_norms)
            best_points[better] = x.detach()[better]
    return best_points


def input_gradients_graph(model: MLP, x: torch.Tensor, sharpness: float) -> torch.Tensor:
    """grad_x of the softplus surrogate, differentiable with respect to x itself (for ascent)."""
    (gradient,) = torch.autograd.grad(forward(model, x, sharpness).sum(), x, create_graph=True)
    return gradient


def line_search(model: MLP, points: torch.Tensor, rounds: int) -> torch.Tensor:
    """Move each point along +-grad f to the step (on a log grid) with the largest gradient norm."""
    steps = torch.logspace(-3, 0.5, 12, dtype=torch.float64)
    steps = torch.cat([-steps.flip(0), steps])
    for _ in range(rounds):
        gradient = input_gradients(model, points)
        direction = gradient / torch.linalg.vector_norm(gradient, dim=1, keepdim=True).clamp_min(1e-300)
        trial = points[:, None, :] + steps[None, :, None] * direction[:, None, :]
        norms = gradient_norms(model, trial.reshape(-1, points.shape[1])).reshape(len(points), len(steps))
        current = gradient_norms(model, points)
        best = torch.argmax(norms, dim=1)
        improved = norms[torch.arange(len(points)), best] > current
        points = torch.where(improved[:, None], trial[torch.arange(len(points)), best], points)
    return points


def local_pattern_search(gram: torch.Tensor, patterns: torch.Tensor) -> torch.Tensor:
    """1-flip hill climbing on s^T M s from each starting pattern (rows), all in parallel."""
    patterns = patterns.clone()
    diagonal = torch.diagonal(gram)
    # field = patterns @ gram, updated by one row of gram per flip instead of recomputed (k^2 -> k).
    field = patterns @ gram
    for _ in range(4 * gram.shape[0]):
        flip = 1 - 2 * patterns
        gains = 2 * flip * field + diagonal[None, :]
        best_gain, index = torch.max(gains, dim=1)
        moving = best_gain > 1e-12 * diagonal.abs().max()
        if not torch.any(moving):
            break
        rows = torch.nonzero(moving).squeeze(1)
        columns = index[rows]
        change = flip[rows, columns]
        patterns[rows, columns] += change
        field[rows] += change[:, None] * gram[columns]
    return patterns


def realise_patterns(model: MLP, patterns: torch.Tensor) -> torch.Tensor:
    """Least-squares x with W x + b = +-1 following each pattern; exact when W has full row rank."""
    weight, bias = model.layers[0].weight.detach(), model.layers[0].bias.detach()
    targets = (2 * patterns - 1) - bias[None, :]
    return torch.linalg.lstsq(weight, targets.T).solution.T


def pattern_candidates(
    model: MLP, points: torch.Tensor, extra_patterns: torch.Tensor | None, count: int, generator: torch.Generator
) -> torch.Tensor:
    hidden, output = model.layers[0].weight.detach(), model.layers[1].weight.detach()
    gram = pattern_gram(hidden, output)
    seen = (F.linear(points, hidden, model.layers[0].bias.detach()) > 0).to(torch.float64)
    random = (torch.rand(count, gram.shape[0], generator=generator, dtype=torch.float64) < 0.5).to(torch.float64)
    starts = [seen, random] + ([extra_patterns] if extra_patterns is not None else [])
    return realise_patterns(model, local_pattern_search(gram, torch.cat(starts)))


def region_walk(model: MLP, points: torch.Tensor, rounds: int, candidates: int) -> torch.Tensor:
    """Greedy walk across single hyperplanes of a two-layer net into regions with a larger gradient.

    Past k = d most patterns the pattern search likes are unrealisable; this stays on realised ones.
    At x with gradient g, crossing hyperplane j changes g by +-a_j w_j, a gain of 2 g . delta_j +
    ||delta_j||^2. Each point tries its `candidates` best gains by stepping just past the hyperplane
    along its normal and keeps the trial with the largest true gradient norm, if larger.
    """
    hidden, bias = model.layers[0].weight.detach(), model.layers[0].bias.detach()
    weighted = model.layers[1].weight.detach().reshape(-1, 1) * hidden
    count = min(candidates, hidden.shape[0])
    squared_norms = torch.sum(hidden * hidden, dim=1)
    for _ in range(rounds):
        preactivations = F.linear(points, hidden, bias)
        gradient = (preactivations > 0).to(torch.float64) @ weighted
        sign = torch.where(preactivations > 0, -1.0, 1.0).to(torch.float64)
        gains = 2 * sign * (gradient @ weighted.T) + torch.sum(weighted * weighted, dim=1)
        chosen = torch.topk(gains, count, dim=1).indices
        # Step 1% past the hyperplane (and at least 1e-9 of the point's scale) so the pattern really flips.
        distance = torch.gather(preactivations, 1, chosen) / squared_norms[chosen]
        overshoot = 1.01 * distance + torch.sign(distance) * 1e-9 * (1 + points.abs().max(dim=1, keepdim=True).values)
        trial = points[:, None, :] - overshoot[..., None] * hidden[chosen]
        norms = gradient_norms(model, trial.reshape(-1, points.shape[1])).reshape(len(points), count)
        best = torch.argmax(norms, dim=1)
        rows = torch.arange(len(points))
        improved = norms[rows, best] > torch.linalg.vector_norm(gradient, dim=1) * (1 + 1e-12)
        if not torch.any(improved):
            break
        points = torch.where(improved[:, None], trial[rows, best], points)
    return points


def hinge_realisation(
    normals: np.ndarray, offsets: np.ndarray, weights: np.ndarray, margin: float
) -> np.ndarray | None:
    """x minimising sum_j |c_j| max(0, margin - y_j dist_j(x)) with y_j = sign(c_j): a linear program.

    dist_j(x) = normals_j . x + offsets_j is the signed distance to hyperplane j. Realising as much
    of the pattern s_j = [c_j > 0] as possible, weighted by |c_j|, is a max-feasible-subsystem
    problem (a weighted linear classification of the hyperplanes); the hinge is its convex
    relaxation. HiGHS solves its dual, max sum_j l_j (margin - y_j offsets_j) subject to
    sum_j l_j y_j normals_j = 0 and 0 <= l_j <= |c_j|, whose basis has d rows instead of k (half
    the time at k = 512, d = 128); x is minus the multipliers of its d equalities. HiGHS is
    deterministic, so reruns give the same point. None where HiGHS reports no optimum (or a non-finite
    one): the pursuit is a search, and a failed LP only ends its round; no bound rests on the LP.
    """
    labels = np.where(weights > 0, 1.0, -1.0)
    solution = scipy.optimize.linprog(
        labels * offsets - margin,
        A_eq=(labels[:, None] * normals).T,
        b_eq=np.zeros(normals.shape[1]),
        bounds=np.stack([np.zeros_like(weights), np.abs(weights)], axis=1),
        method="highs",
    )
    if solution.status != 0 or not np.all(np.isfinite(solution.eqlin.marginals)):
        return None
    return -solution.eqlin.marginals


def pattern_pursuit(model: MLP, points: torch.Tensor, rounds: int) -> torch.Tensor:
    """Alternate a direction and the realisable pattern that best serves it (two-layer nets, k > d).

    For a unit direction v, v . grad f(x) = sum_j c_j [w_j . x + b_j > 0] with c_j = a_j (v . w_j),
    so the best pattern for v has s_j = [c_j > 0]; past k = d most such patterns are unrealisable.
    Each round takes v = grad f(x) / ||grad f(x)||, finds the point realising as much of that
    pattern as it can (`hinge_realisation`, one LP per margin), and moves to the best true gradient
    norm among multiples of the LP solutions, if larger. Were the relaxation exact, ||grad f(x')|| >=
    v . grad f(x') >= ||grad f(x)||: an ascent in the norm that jumps across many hyperplanes at once,
    where the region walk crosses one. Returns each start's best point.
    """
    hidden, bias = model.layers[0].weight.detach(), model.layers[0].bias.detach()
    weighted = model.layers[1].weight.detach().reshape(-1, 1) * hidden
    lengths = torch.linalg.vector_norm(hidden, dim=1)
    # A zero row has no hyperplane (its neuron is constant): it takes no part in the LP.
    planes = lengths > 0
    normals, offsets = (hidden[planes] / lengths[planes, None]).numpy(), (bias[planes] / lengths[planes]).numpy()
    scales = torch.tensor(PURSUIT_SCALES, dtype=torch.float64)
    best = []
    for x in points if torch.any(planes) else []:
        current = float(gradient_norms(model, x[None])[0])
        for _ in range(rounds):
            gradient = (F.linear(x, hidden, bias) > 0).to(torch.float64) @ weighted
            weights = (weighted[planes] @ gradient).numpy()
            found = [hinge_realisation(normals, offsets, weights, margin) for margin in PURSUIT_MARGINS]
            found = [solution for solution in found if solution is not None]
            if not found:
                break
            solutions = torch.from_numpy(np.stack(found))
            trials = (solutions[:, None, :] * scales[None, :, None]).reshape(-1, x.shape[0])
            norms = gradient_norms(model, trials)
            index = int(torch.argmax(norms))
            if float(norms[index]) <= current * (1 + 1e-12):
                break
            x, current = trials[index], float(norms[index])
        best.append(x)
    return torch.stack(best) if best else points


def distinct_regions(model: MLP, points: torch.Tensor, count: int) -> torch.Tensor:
    """The first `count` points (in order) that lie in different activation regions."""
    patterns = torch.cat([z > 0 for z in hidden_preactivations(model, points)], dim=1).numpy()
    seen, kept = set(), []
    for index, pattern in enumerate(patterns):
        key = np.packbits(pattern).tobytes()
        if key not in seen and len(kept) < count:
            seen.add(key)
            kept.append(index)
    return points[kept]


def best_certified(model: MLP, candidates: torch.Tensor) -> float:
    """The certified gradient norm of the candidate with the largest gradient norm that has one (else 0)."""
    for index in torch.argsort(gradient_norms(model, candidates), descending=True):
        certified = certified_gradient(model, candidates[index])
        if certified is not None:
            return certified
    return 0.0


def hidden_preactivations(model: MLP, x: torch.Tensor) -> list[torch.Tensor]:
    values = []
    for layer in model.layers[:-1]:
        z = F.linear(x, layer.weight, layer.bias)
        values.append(z)
        x = F.relu(z)
    return values


def certified_gradient(model: MLP, x: torch.Tensor) -> float | None:
    """A certified lower bound of ||grad f(x)||, hence of Lip(f), at a point strictly inside its linear region.

    Every hidden pre-activation's computed value must exceed its rounding bound in size
    (robustlaw.lipschitz.rounding.mlp_layer_errors), so the exact activation pattern is the computed one and, no
    pre-activation being 0, holds on a neighbourhood of x: f is affine there with gradient
    g = W_1^T S_1 ... W_{D-1}^T S_{D-1} a. g is computed from the output back with the pattern fixed,
    beside a componentwise bound of its rounding (the forward error analysis of the transposed product:
    e' = |W|^T (gamma_n S |v| + S e), n the layer's fan-out); then ||g|| >= fl(||g||) / (1 + gamma_{d+2})
    - ||e||_1, each step rounded down (robustlaw.lipschitz.rounding.certified_norm). Unlike a secant through x, the
    allowance does not grow as the region narrows. None when x is within rounding of a ReLU switch.
    """
    with torch.no_grad():
        layers = mlp_layer_errors(model, x.to(torch.float64).reshape(1, -1))
        hidden = [(z[0], error[0]) for z, error in layers[:-1]]
        # Written so that a NaN (an overflowed evaluation) also fails the test.
        if any(bool(torch.any(~(z.abs() > error))) for z, error in hidden):
            return None
        vector = model.layers[-1].weight.detach().to(torch.float64).reshape(-1)
        error = torch.zeros_like(vector)
        for layer, (z, _) in zip(reversed(model.layers[:-1]), reversed(hidden), strict=True):
            weight = layer.weight.detach().to(torch.float64)
            fan_out = weight.shape[0]
            active = (z > 0).to(torch.float64)
            masked, masked_error = active * vector, active * error
            spread = weight.abs().T @ (gamma(fan_out) * masked.abs() + masked_error)
            vector, error = weight.T @ masked, round_up(inflate(spread, fan_out + 2))
        return certified_norm(vector, error)


def lower_bound(
    model: MLP,
    data_points: torch.Tensor,
    spec: LowerSearchSpec,
    generator: torch.Generator,
    extra_patterns: torch.Tensor | None = None,
) -> LowerBound:
    """Best certified ||grad f|| found by sampling, surrogate ascent, line and pattern search."""
    model = model.to(torch.float64)
    d = model.input_dim
    samples = torch.cat(
        [data_points.to(torch.float64), random_probe_points(d, spec.random_points, spec.scales, generator)]
    )
    sample_norms = gradient_norms(model, samples)
    sampled = float(sample_norms.max())

    top = samples[torch.argsort(sample_norms, descending=True)[: spec.ascent_starts // 2]]
    spread = random_probe_points(d, spec.ascent_starts - len(top), (1.0,), generator)
    candidates = surrogate_ascent(model, torch.cat([top, spread]), spec)
    # Pattern search pays where every pattern is realisable (k <= d); for k > d the patterns it
    # prefers are mostly unrealisable, and on trained nets it found nothing the other searches missed.
    if len(model.layers) == 2 and model.width <= model.input_dim:
        patterns = pattern_candidates(
            model, torch.cat([top, candidates]), extra_patterns, spec.pattern_starts, generator
        )
        candidates = torch.cat([candidates, patterns])
    elif len(model.layers) == 2:
        walked = region_walk(model, torch.cat([candidates, top]), spec.walk_rounds, spec.walk_candidates)
        candidates = torch.cat([candidates, walked])
    candidates = line_search(model, torch.cat([candidates, top]), spec.line_search_rounds)
    leaders = candidates[torch.argsort(gradient_norms(model, candidates), descending=True)]
    return LowerBound(sampled=sampled, certified=best_certified(model, leaders), leaders=leaders)
