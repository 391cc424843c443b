"""Full-batch training to the fit criterion (training MSE <= sigma^2 - eps), plain or smoothness-seeking.

Methods (each minimises MSE + lam * R):
- plain: R = 0; training stops at the first step that fits.
- weight_decay: R = sum of squared weights (biases excluded).
- gradient_penalty: R = mean ||grad_x f||^2 over the training points and fixed random probes.
- adversarial: R = mean over training points of max_{||delta|| <= r} (f(x + delta) - f(x))^2 / r^2,
  the inner maximum found by PGD in L2 (a TRADES-style smoothness term, so the clean fit stays
  reachable).
For the smoothness-seeking methods training goes on for `smooth_steps` after the first fit, lam
rising while the fit holds and falling while it does not; the fitted iterate with the smallest R
is returned. Every run must still meet the fit criterion; one that never does is flagged.

Before the first fit a stall rule ends runs that have stopped making progress: every `stall_steps`
steps the best training MSE so far must have fallen by at least the fraction `stall_improvement` of
its value at the previous check, or training stops with status `stalled` (never fitted: the rule is
off once a fit occurred; `stall_steps` = 0 turns it off).
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, fields

import torch

from robustlaw.training.models import MLP, input_gradients
from robustlaw.training.optimizers import OPTIMIZERS

METHODS = ("plain", "weight_decay", "gradient_penalty", "adversarial")
# Multiplicative step of the penalty weight per training step (a simple dual ascent on the fit).
LAMBDA_RATE = 0.02


@dataclass(frozen=True)
class TrainSpec:
    """A trainer's settings (no defaults here: schemas/config.schema.yaml sets them) and the fit criterion."""

    optimizer: str
    learning_rate: float
    max_steps: int
    target_mse: float
    log_every: int
    method: str
    strength: float
    smooth_steps: int
    radius: float
    attack_steps: int
    probe_points: int
    stall_steps: int
    stall_improvement: float

    @classmethod
    def from_trainer(cls, trainer: dict, target_mse: float) -> "TrainSpec":
        """The spec of a validated trainer entry (every key filled in) and a fit criterion."""
        names = [field.name for field in fields(cls) if field.name != "target_mse"]
        return cls(target_mse=target_mse, **{name: trainer[name] for name in names})


@dataclass(frozen=True)
class TrainResult:
    status: str  # fitted | diverged | stalled | max_steps
    steps: int
    selected_step: int
    train_mse: float
    penalty: float
    fitted: bool
    diverged: bool
    wall_time_s: float


def mse(model: MLP, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float(torch.mean((model(x) - y) ** 2))


def weight_norm_penalty(model: MLP) -> torch.Tensor:
    return sum(torch.sum(layer.weight**2) for layer in model.layers)


def gradient_penalty(model: MLP, points: torch.Tensor) -> torch.Tensor:
    gradient = input_gradients(model, points, create_graph=True)
    return torch.mean(torch.sum(gradient**2, dim=1))


def worst_perturbation(model: MLP, x: torch.Tensor, radius: float, steps: int) -> torch.Tensor:
    """PGD in the L2 ball of the given radius, maximising (f(x + delta) - f(x))^2 per point."""
    with torch.no_grad():
        reference = model(x)
    # Start from a fixed small offset along each point: at delta = 0 the objective's gradient vanishes.
    delta = 0.1 * radius * x / torch.linalg.vector_norm(x, dim=1, keepdim=True).clamp_min(1e-12)
    step_size = 2.5 * radius / steps
    for _ in range(steps):
        with torch.enable_grad():
            delta = delta.detach().requires_grad_(True)
            gap = torch.sum((model(x + delta) - reference) ** 2)
            (direction,) = torch.autograd.grad(gap, delta)
        direction = direction / torch.linalg.vector_norm(direction, dim=1, keepdim=True).clamp_min(1e-12)
        delta = delta.detach() + step_size * direction
        norms = torch.linalg.vector_norm(delta, dim=1, keepdim=True)
        delta = delta * torch.clamp(radius / norms.clamp_min(1e-12), max=1.0)
    return delta.detach()


def adversarial_penalty(model: MLP, x: torch.Tensor, radius: float, steps: int) -> torch.Tensor:
    delta = worst_perturbation(model, x, radius, steps)
    return torch.mean((model(x + delta) - model(x)) ** 2) / radius**2


def make_penalty(spec: TrainSpec, x: torch.Tensor, generator: torch.Generator) -> Callable[[MLP], torch.Tensor] | None:
    """The method's penalty R as a function of the model; None for plain training, which has none to compute."""
    if spec.method == "plain":
        return None
    if spec.method == "weight_decay":
        return weight_norm_penalty
    if spec.method == "gradient_penalty":
        # Probes at the data's scale, drawn once, so every step penalises the same points.
        probes = torch.randn(spec.probe_points, x.shape[1], generator=generator) / x.shape[1] ** 0.5
        points = torch.cat([x, probes.to(x.device, x.dtype)])
        return lambda model: gradient_penalty(model, points)
    if spec.method == "adversarial":
        return lambda model: adversarial_penalty(model, x, spec.radius, spec.attack_steps)
    raise ValueError(f"unknown training method {spec.method!r}; expected one of {METHODS}")


@dataclass
class StallWatch:
    """The stall rule before the first fit: every `window` steps the best training MSE so far must be
    at most (1 - improvement) times its value at the previous check (window 0: never stalls)."""

    window: int
    improvement: float
    best: float = math.inf
    reference: float = math.inf

    def check(self, step: int, fit_value: float) -> str | None:
        """Why training stalled at this step, or None while it is still making progress."""
        self.best = min(self.best, fit_value)
        if self.window == 0 or step % self.window:
            return None
        previous, self.reference = self.reference, self.best
        if step == 0 or self.best <= (1 - self.improvement) * previous:
            return None
        return (
            f"stalled: the best train MSE fell from {previous:.6g} to {self.best:.6g} over the last"
            f" {self.window} steps, less than the relative {self.improvement:g} the stall rule asks for"
        )


def copy_state(model: MLP, into: dict[str, torch.Tensor] | None) -> dict[str, torch.Tensor]:
    """The model's tensors copied into `into`, allocated on the first call only (not on every improving step)."""
    state = model.state_dict()
    if into is None:
        return {name: tensor.detach().clone() for name, tensor in state.items()}
    for name, tensor in state.items():
        into[name].copy_(tensor)
    return into


def train_full_batch(
    model: MLP,
    x: torch.Tensor,
    y: torch.Tensor,
    spec: TrainSpec,
    log: Callable[[str], None] = lambda line: None,
    generator: torch.Generator | None = None,
) -> TrainResult:
    """Train until the fit criterion holds (plus spec.smooth_steps), spec.max_steps pass or progress stalls.

    The loss is checked before each step, so the model returned is a fitted iterate whenever one
    occurred. A non-finite loss stops training and is reported as diverged.
    """
    # foreach: the optimizer's update in a few calls over all tensors rather than a Python loop over
    # each (the same arithmetic, so the same numbers; the default on CUDA already).
    optimizer = OPTIMIZERS[spec.optimizer](model.parameters(), spec.learning_rate, foreach=True)
    penalty_of = make_penalty(spec, x, generator or torch.Generator().manual_seed(0))
    stall = StallWatch(spec.stall_steps, spec.stall_improvement)
    strength = spec.strength
    start = time.perf_counter()
    step, first_fit, diverged, stall_reason = 0, None, False, None
    best_penalty, best_step, best_state = math.inf, step, None
    while True:
        optimizer.zero_grad()
        fit_loss = torch.mean((model(x) - y) ** 2)
        objective, penalty_value = fit_loss, 0.0
        if penalty_of is not None:
            penalty = penalty_of(model)
            objective, penalty_value = fit_loss + strength * penalty, float(penalty.detach())
        fit_value = float(fit_loss.detach())
        if not (math.isfinite(fit_value) and math.isfinite(penalty_value)):
            diverged = True
        fitted_now = fit_value <= spec.target_mse
        if fitted_now and not diverged:
            first_fit = step if first_fit is None else first_fit
            if penalty_value < best_penalty:
                best_penalty, best_step, best_state = penalty_value, step, copy_state(model, best_state)
        if first_fit is None and not diverged:
            stall_reason = stall.check(step, fit_value)
        finished = first_fit is not None and (spec.method == "plain" or step - first_fit >= spec.smooth_steps)
        stopping = finished or diverged or stall_reason is not None or step == spec.max_steps
        if step % spec.log_every == 0 or stopping:
            values = f"train_mse {fit_value:.6g} penalty {penalty_value:.6g} lambda {strength:.3g}"
            log(f"step {step} {values} fitted {fitted_now}")
        if stall_reason is not None:
            log(f"{stall_reason} (target {spec.target_mse:.6g})")
        if stopping:
            break
        objective.backward()
        optimizer.step()
        if penalty_of is not None:
            strength *= (1 + LAMBDA_RATE) if fitted_now else (1 - LAMBDA_RATE)
        step += 1
    if best_state is not None:
        model.load_state_dict(best_state)
    train_mse = mse(model, x, y)
    fitted = math.isfinite(train_mse) and train_mse <= spec.target_mse
    return TrainResult(
        status=training_status(fitted, diverged, stall_reason is not None),
        steps=step,
        selected_step=best_step if best_state is not None else step,
        train_mse=train_mse,
        penalty=best_penalty if best_state is not None else penalty_value,
        fitted=fitted,
        diverged=diverged,
        wall_time_s=time.perf_counter() - start,
    )


def training_status(fitted: bool, diverged: bool, stalled: bool) -> str:
    if fitted:
        return "fitted"
    if diverged:
        return "diverged"
    return "stalled" if stalled else "max_steps"
