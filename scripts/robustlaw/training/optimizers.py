"""torch's Adam and SGD, stepped through their functional forms (torch.optim.adam.adam, torch.optim.sgd.sgd).

The classes torch.optim.Adam and torch.optim.SGD wrap every step in a function that imports
torch._dynamo on its first call: about 1.2 s of CPU in every job that trains or ascends, more than
most of the default run's trainings take. The functional forms are the same arithmetic (the
classes call them with these arguments), so the numbers are the same to the bit
(tests/test_optimizers.py); only torch.optim's defaults are used (no momentum, weight decay or amsgrad).
"""

from dataclasses import dataclass, field

import torch
from torch.optim.adam import adam
from torch.optim.sgd import sgd

BETAS = (0.9, 0.999)
EPS = 1e-8


@dataclass
class FunctionalOptimizer:
    """What Adam and SGD share: the parameters (a list, as the functional forms take them), the step size,
    foreach (None: torch's default for the device), and zero_grad's set-to-None."""

    parameters: list[torch.Tensor]
    learning_rate: float
    foreach: bool | None = None

    def __post_init__(self) -> None:
        self.parameters = list(self.parameters)

    def zero_grad(self) -> None:
        for parameter in self.parameters:
            parameter.grad = None

    def gradients(self) -> list[torch.Tensor]:
        return [parameter.grad for parameter in self.parameters]


@dataclass
class Adam(FunctionalOptimizer):
    """torch.optim.Adam(parameters, lr=learning_rate, foreach=foreach) with its other defaults."""

    first_moments: list[torch.Tensor] = field(init=False)
    second_moments: list[torch.Tensor] = field(init=False)
    step_counts: list[torch.Tensor] = field(init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.first_moments = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.parameters]
        self.second_moments = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.parameters]
        # Where the class keeps its step counts: on the CPU whatever the parameters' device, in float64
        # only under a float64 default type.
        count_type = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
        self.step_counts = [torch.tensor(0.0, dtype=count_type) for _ in self.parameters]

    def step(self) -> None:
        with torch.no_grad():
            adam(
                self.parameters,
                self.gradients(),
                self.first_moments,
                self.second_moments,
                [],
                self.step_counts,
                foreach=self.foreach,
                amsgrad=False,
                beta1=BETAS[0],
                beta2=BETAS[1],
                lr=self.learning_rate,
                weight_decay=0.0,
                eps=EPS,
                maximize=False,
            )


@dataclass
class SGD(FunctionalOptimizer):
    """torch.optim.SGD(parameters, lr=learning_rate, foreach=foreach) with its other defaults (no momentum)."""

    def step(self) -> None:
        with torch.no_grad():
            sgd(
                self.parameters,
                self.gradients(),
                [None] * len(self.parameters),
                foreach=self.foreach,
                weight_decay=0.0,
                momentum=0.0,
                lr=self.learning_rate,
                dampening=0.0,
                nesterov=False,
                maximize=False,
            )


OPTIMIZERS = {"adam": Adam, "sgd": SGD}
