"""Seeds derived from config values only, stable across processes and machines."""

import hashlib
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch


def stable_seed(*parts: object) -> int:
    """A 63-bit seed from the parts' text; Python's hash() is salted per process."""
    text = "\x1f".join(str(part) for part in parts)
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def numpy_rng(*parts: object) -> np.random.Generator:
    return np.random.default_rng(stable_seed(*parts))


def torch_generator(*parts: object) -> "torch.Generator":
    # Imported here: the table steps seed numpy only and need not pay torch's import (about 2 s).
    import torch

    return torch.Generator().manual_seed(stable_seed(*parts))
