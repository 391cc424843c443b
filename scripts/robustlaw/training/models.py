"""The model family: fully connected networks R^d -> R with one activation throughout.

f(x) = W_D act(... act(W_1 x + b_1) ...) + b_D, with W_1 of shape (k, d), hidden layers (k, k)
and W_D of shape (1, k). Depth D counts weight matrices, so a two-layer net has one hidden layer.
"""

import itertools

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU}


def parameter_count(input_dim: int, width: int, depth: int) -> int:
    """Exact number of trainable scalars: the p of the law."""
    if depth < 2:
        raise ValueError(f"depth must be >= 2, got {depth}")
    first = width * (input_dim + 1)
    hidden = (depth - 2) * width * (width + 1)
    last = width + 1
    return first + hidden + last


class MLP(nn.Module):
    def __init__(
        self,
        input_dim: int,
        width: int,
        depth: int,
        activation: str = "relu",
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; expected one of {sorted(ACTIVATIONS)}")
        if depth < 2 or width < 1 or input_dim < 1:
            raise ValueError(f"need depth >= 2, width >= 1, input_dim >= 1; got {depth}, {width}, {input_dim}")
        self.activation = activation
        sizes = [input_dim] + [width] * (depth - 1) + [1]
        self.layers = nn.ModuleList(
            nn.Linear(fan_in, fan_out, dtype=dtype) for fan_in, fan_out in itertools.pairwise(sizes)
        )
        self._act = ACTIVATIONS[activation]()
        for layer in self.layers:
            _init_linear(layer, generator)

    @classmethod
    def from_tensors(cls, weights: list[torch.Tensor], biases: list[torch.Tensor], activation: str) -> "MLP":
        """Build a model around given weights (shapes checked, values copied)."""
        if len(weights) < 2 or len(weights) != len(biases):
            raise ValueError(f"need >= 2 layers with one bias each; got {len(weights)} weights, {len(biases)} biases")
        width, input_dim = weights[0].shape
        model = cls(input_dim, width, len(weights), activation, dtype=weights[0].dtype)
        with torch.no_grad():
            for index, (layer, weight, bias) in enumerate(zip(model.layers, weights, biases, strict=True)):
                if weight.shape != layer.weight.shape or bias.shape != layer.bias.shape:
                    raise ValueError(
                        f"layer {index}: weight {tuple(weight.shape)} / bias {tuple(bias.shape)}, expected "
                        f"{tuple(layer.weight.shape)} / {tuple(layer.bias.shape)}"
                    )
                layer.weight.copy_(weight)
                layer.bias.copy_(bias)
        return model

    @property
    def input_dim(self) -> int:
        return self.layers[0].in_features

    @property
    def width(self) -> int:
        return self.layers[0].out_features

    def parameter_count(self) -> int:
        return sum(parameter.numel() for parameter in self.parameters())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers[:-1]:
            x = self._act(layer(x))
        return self.layers[-1](x).squeeze(-1)

    def weights(self) -> list[torch.Tensor]:
        return [layer.weight.detach() for layer in self.layers]

    def biases(self) -> list[torch.Tensor]:
        return [layer.bias.detach() for layer in self.layers]


class QuadraticModel(nn.Module):
    """f(z) = z^T Q z: the even-NTK control. Its gradient is 2 sym(Q) z."""

    def __init__(self, quadratic: torch.Tensor):
        super().__init__()
        if quadratic.ndim != 2 or quadratic.shape[0] != quadratic.shape[1]:
            raise ValueError(f"Q must be a square matrix, got shape {tuple(quadratic.shape)}")
        self.quadratic = nn.Parameter(quadratic, requires_grad=False)

    @property
    def input_dim(self) -> int:
        return self.quadratic.shape[0]

    def symmetric(self) -> torch.Tensor:
        return 0.5 * (self.quadratic + self.quadratic.T)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sum((z @ self.quadratic) * z, dim=-1)


class GatedLinearModel(nn.Module):
    """f(z) = sum_j 1[w_j . z > 0] theta_j . z: the ReLU-NTK control.

    Piecewise linear but not continuous: crossing the hyperplane w_j . z = 0 switches the term
    theta_j . z on or off, a jump wherever theta_j . z != 0 there.
    """

    def __init__(self, gates: torch.Tensor, coefficients: torch.Tensor):
        super().__init__()
        if gates.ndim != 2 or gates.shape != coefficients.shape:
            raise ValueError(f"gates {tuple(gates.shape)} and coefficients {tuple(coefficients.shape)} must be k x d")
        self.gates = nn.Parameter(gates, requires_grad=False)
        self.coefficients = nn.Parameter(coefficients, requires_grad=False)

    @property
    def input_dim(self) -> int:
        return self.gates.shape[1]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sum((z @ self.gates.T > 0) * (z @ self.coefficients.T), dim=-1)


def _init_linear(layer: nn.Linear, generator: torch.Generator | None) -> None:
    """PyTorch's default Linear init (uniform, bound 1/sqrt(fan_in)), drawn from our generator."""
    bound = 1.0 / layer.in_features**0.5
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=generator)
        layer.bias.uniform_(-bound, bound, generator=generator)


def input_gradients(model: torch.nn.Module, x: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
    """grad_x f at each row of x (rows are independent, so one backward gives all).

    With create_graph the result stays differentiable in the model's parameters (gradient penalty).
    """
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        (gradient,) = torch.autograd.grad(model(x).sum(), x, create_graph=create_graph)
    return gradient
