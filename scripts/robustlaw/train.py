"""Full-batch training to the fit criterion: training MSE <= sigma^2 - eps."""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .models import MLP


@dataclass(frozen=True)
class TrainSpec:
    optimizer: str
    learning_rate: float
    max_steps: int
    target_mse: float
    log_every: int


@dataclass(frozen=True)
class TrainResult:
    steps: int
    train_mse: float
    fitted: bool
    diverged: bool
    wall_time_s: float


OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}


def mse(model: MLP, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float(torch.mean((model(x) - y) ** 2))


def train_full_batch(
    model: MLP, x: torch.Tensor, y: torch.Tensor, spec: TrainSpec, log: Callable[[str], None] = lambda line: None
) -> TrainResult:
    """Train until the training MSE reaches spec.target_mse or spec.max_steps pass.

    The loss is checked before each step, so the model returned is the first one that meets the
    criterion (or the last one). A non-finite loss stops training and is reported as diverged.
    """
    optimizer = OPTIMIZERS[spec.optimizer](model.parameters(), lr=spec.learning_rate)
    start = time.perf_counter()
    step = 0
    diverged = False
    while True:
        optimizer.zero_grad(set_to_none=True)
        loss = torch.mean((model(x) - y) ** 2)
        value = float(loss.detach())
        reached = value <= spec.target_mse
        if not math.isfinite(value):
            diverged = True
        if step % spec.log_every == 0 or reached or diverged or step == spec.max_steps:
            log(f"step {step} train_mse {value:.6g} fitted {reached}")
        if reached or diverged or step == spec.max_steps:
            break
        loss.backward()
        optimizer.step()
        step += 1
    train_mse = mse(model, x, y)
    return TrainResult(
        steps=step,
        train_mse=train_mse,
        fitted=math.isfinite(train_mse) and train_mse <= spec.target_mse,
        diverged=diverged,
        wall_time_s=time.perf_counter() - start,
    )
