"""Datasets and model checkpoints on disk (safetensors, no pickle), written atomically."""

import json
import os
from collections.abc import Callable

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.numpy import load_file as load_numpy
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import load_file as load_torch
from safetensors.torch import save_file as save_torch

from robustlaw.files import atomic_path
from robustlaw.training.models import ACTIVATIONS, MLP, GatedLinearModel, QuadraticModel

CHECKPOINT_FORMAT = "robustlaw-mlp/1"
QUADRATIC_FORMAT = "robustlaw-quadratic/1"
GATED_FORMAT = "robustlaw-gated-linear/1"
GATED_TENSORS = ("gates", "coefficients")
DATASET_FORMAT = "robustlaw-dataset/1"
DATASET_ARRAYS = ("x_train", "y_train", "x_test", "y_test")
# safetensors keeps a file's metadata in a hash map and writes its keys in an order that changes from
# process to process; one key holding the entries as sorted JSON gives the same header bytes every run.
METADATA_KEY = "robustlaw"


class CheckpointError(ValueError):
    """A checkpoint or dataset file that is missing, truncated or not in the documented format."""


def _write_with(save: Callable[[str], None], path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        save(str(tmp))


def _packed(metadata: dict[str, str]) -> dict[str, str]:
    """The metadata as written: one entry, METADATA_KEY, holding the entries as JSON with sorted keys."""
    return {METADATA_KEY: json.dumps(metadata, sort_keys=True)}


def _unpacked(path: str | os.PathLike, stored: dict[str, str]) -> dict[str, str]:
    """The metadata entries of a file in either layout: packed under METADATA_KEY, or one key per entry
    (files written before the packed layout, or by other code following the documented format)."""
    if METADATA_KEY not in stored:
        return stored
    try:
        entries = json.loads(stored[METADATA_KEY])
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path}: metadata '{METADATA_KEY}' is not JSON ({error})") from None
    if not isinstance(entries, dict) or not all(isinstance(value, str) for value in entries.values()):
        raise CheckpointError(f"{path}: metadata '{METADATA_KEY}' is not a JSON object of strings")
    return entries


def _read_safetensors(path: str | os.PathLike, framework: str, expected_format: tuple[str, ...]):
    """(metadata, tensors) of a safetensors file whose metadata 'format' is one of expected_format."""
    try:
        with safe_open(str(path), framework=framework) as handle:
            stored = handle.metadata() or {}
        tensors = (load_numpy if framework == "numpy" else load_torch)(str(path))
    except (OSError, SafetensorError) as error:
        raise CheckpointError(f"{path}: not a readable safetensors file ({error})") from error
    metadata = _unpacked(path, stored)
    if metadata.get("format") not in expected_format:
        raise CheckpointError(
            f"{path}: metadata 'format' is {metadata.get('format')!r}, expected one of {list(expected_format)}"
        )
    return metadata, tensors


def save_dataset(path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict) -> None:
    tensors = {name: np.ascontiguousarray(arrays[name]) for name in DATASET_ARRAYS}
    metadata = {"format": DATASET_FORMAT, "meta": json.dumps(meta, sort_keys=True)}
    _write_with(lambda tmp: save_numpy(tensors, tmp, metadata=_packed(metadata)), path)


def load_dataset(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays, meta) of a dataset file whose points are n x d rows with one finite label each."""
    metadata, arrays = _read_safetensors(path, "numpy", (DATASET_FORMAT,))
    if set(arrays) != set(DATASET_ARRAYS):
        raise CheckpointError(f"{path}: arrays {sorted(arrays)}, expected {sorted(DATASET_ARRAYS)}")
    for split in ("train", "test"):
        check_split(path, arrays[f"x_{split}"], arrays[f"y_{split}"], split)
    if arrays["x_train"].shape[1] != arrays["x_test"].shape[1]:
        raise CheckpointError(
            f"{path}: x_train has d = {arrays['x_train'].shape[1]}, x_test d = {arrays['x_test'].shape[1]}"
        )
    try:
        meta = json.loads(metadata.get("meta", ""))
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path}: metadata 'meta' is not JSON ({error})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: metadata 'meta' is not a JSON object")
    return arrays, meta


def load_dataset_tensors(
    path: str | os.PathLike, to: torch.device | torch.dtype | str = "cpu"
) -> tuple[dict[str, torch.Tensor], dict]:
    """(tensors, meta) of a dataset file: load_dataset's arrays as torch tensors moved `to` a device or dtype."""
    arrays, meta = load_dataset(path)
    return {name: torch.from_numpy(arrays[name]).to(to) for name in DATASET_ARRAYS}, meta


def check_split(path: str | os.PathLike, x: np.ndarray, y: np.ndarray, split: str) -> None:
    """x_<split> of shape (n, d) with finite floats, y_<split> of shape (n,) with labels in [-1, 1]."""
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise CheckpointError(
            f"{path}: x_{split} of shape {x.shape} and y_{split} of shape {y.shape}, expected (n, d) and (n,)"
        )
    if not np.issubdtype(x.dtype, np.floating) or not np.isfinite(x).all():
        raise CheckpointError(f"{path}: x_{split} must hold finite floating-point numbers")
    if not np.issubdtype(y.dtype, np.floating) or not (np.abs(y) <= 1).all():
        raise CheckpointError(f"{path}: y_{split} must hold labels in [-1, 1]")


def save_checkpoint(path: str | os.PathLike, model: MLP | QuadraticModel | GatedLinearModel) -> None:
    """Write the documented format: an MLP as layers.{i}.weight / .bias in float32, a quadratic form
    z^T Q z as the float64 tensor 'quadratic', a gated linear model as float64 'gates' and 'coefficients'."""
    if isinstance(model, QuadraticModel):
        tensors = {"quadratic": model.quadratic.detach().to("cpu", torch.float64).contiguous()}
        metadata = {"format": QUADRATIC_FORMAT}
    elif isinstance(model, GatedLinearModel):
        tensors = {name: getattr(model, name).detach().to("cpu", torch.float64).contiguous() for name in GATED_TENSORS}
        metadata = {"format": GATED_FORMAT}
    else:
        tensors = {}
        for index, layer in enumerate(model.layers):
            tensors[f"layers.{index}.weight"] = layer.weight.detach().to("cpu", torch.float32).contiguous()
            tensors[f"layers.{index}.bias"] = layer.bias.detach().to("cpu", torch.float32).contiguous()
        metadata = {"format": CHECKPOINT_FORMAT, "activation": model.activation, "depth": str(len(model.layers))}
    _write_with(lambda tmp: save_torch(tensors, tmp, metadata=_packed(metadata)), path)


def load_checkpoint(
    path: str | os.PathLike, dtype: torch.dtype = torch.float64
) -> MLP | QuadraticModel | GatedLinearModel:
    """Load a checkpoint without executing any code; raise CheckpointError naming the file."""
    metadata, tensors = _read_safetensors(path, "pt", (CHECKPOINT_FORMAT, QUADRATIC_FORMAT, GATED_FORMAT))
    if metadata["format"] == GATED_FORMAT:
        if set(tensors) != set(GATED_TENSORS):
            raise CheckpointError(f"{path}: tensors {sorted(tensors)}, expected {sorted(GATED_TENSORS)}")
        try:
            return GatedLinearModel(*(tensors[name].to(torch.float64) for name in GATED_TENSORS))
        except ValueError as error:
            raise CheckpointError(f"{path}: {error}") from error
    if metadata["format"] == QUADRATIC_FORMAT:
        if set(tensors) != {"quadratic"}:
            raise CheckpointError(f"{path}: tensors {sorted(tensors)}, expected ['quadratic']")
        try:
            return QuadraticModel(tensors["quadratic"].to(torch.float64))
        except ValueError as error:
            raise CheckpointError(f"{path}: {error}") from error
    activation = metadata.get("activation")
    if activation not in ACTIVATIONS:
        raise CheckpointError(f"{path}: metadata 'activation' is {activation!r}, expected one of {sorted(ACTIVATIONS)}")
    try:
        depth = int(metadata.get("depth", ""))
    except ValueError:
        raise CheckpointError(f"{path}: metadata 'depth' is {metadata.get('depth')!r}, expected an integer") from None
    # A depth is checked against the tensors the file holds before any list of its layers is made:
    # a small file whose metadata claims a depth of 10^8 must not take minutes and gigabytes to refuse.
    if not 2 <= depth <= len(tensors) // 2:
        raise CheckpointError(
            f"{path}: its {len(tensors)} tensors do not match depth {depth} (metadata 'depth'): a net has "
            "a weight and a bias per layer, and at least 2 layers"
        )
    expected = {f"layers.{i}.{kind}" for i in range(depth) for kind in ("weight", "bias")}
    if set(tensors) != expected:
        raise CheckpointError(
            f"{path}: tensors {sorted(tensors)} do not match depth {depth}: expected {sorted(expected)}"
        )
    weights = [tensors[f"layers.{i}.weight"].to(dtype) for i in range(depth)]
    biases = [tensors[f"layers.{i}.bias"].to(dtype) for i in range(depth)]
    try:
        return MLP.from_tensors(weights, biases, activation)
    except ValueError as error:
        raise CheckpointError(f"{path}: {error}") from error
