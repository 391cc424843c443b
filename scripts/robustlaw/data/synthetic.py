"""Synthetic datasets: isoperimetric inputs with ||x|| of order 1 and labels in [-1, 1].

Normalisation (the law is stated for it; see docs/methods.md, "Datasets"):
- sphere: uniform on the unit sphere S^{d-1}, ||x|| = 1 exactly;
- gaussian: N(0, I_d / d), E||x||^2 = 1;
- hypercube: uniform on the solid cube [-1/(2 sqrt d), 1/(2 sqrt d)]^d, of diameter 1
  (E||x||^2 = 1/12);
- a mixture of `components` > 1 copies of one of these: x = (mu_c + z) / sqrt(2) with mu_c drawn
  once per dataset on the sphere whose radius is the base's root-mean-square norm, so the mixture
  keeps the base's scale;
- subspace: uniform on the unit sphere of a random m-dimensional subspace of R^d (m =
  intrinsic_dim), ||x|| = 1; the subspace (an orthonormal basis from the QR decomposition of a
  Gaussian d x m matrix, a uniformly random rotation) is drawn once per data seed, from a stream
  of its own. A mixture's centres lie in the subspace too, so the data stay m-dimensional.
Labels:
- random_sign: y = +-1 with probability 1/2 each, independent of x (sigma^2 = 1);
- teacher: y = (1 - sigma) * tanh(sqrt(d) u.x) + sigma * xi, u a fixed unit vector and xi = +-1,
  so |y| <= 1 and Var(y | x) = sigma^2. The noise is bounded, as the theorem requires.
Real datasets (digits, mnist) are made in real.py; make_dataset picks the right one.
Every dataset's metadata carries d_intrinsic (m for subspace, d for the other synthetic data, the
maximum-likelihood estimate for real data) and the estimates of data/intrinsic.py.
"""

from dataclasses import asdict, dataclass, fields

import numpy as np

from robustlaw.data.intrinsic import intrinsic_estimates
from robustlaw.data.real import generate_real_dataset, real_dataset_spec
from robustlaw.data.sources import REAL_DISTRIBUTIONS
from robustlaw.seeding import numpy_rng

DISTRIBUTIONS = ("sphere", "gaussian", "hypercube", "subspace")
LABELS = ("random_sign", "teacher")


@dataclass(frozen=True)
class DatasetSpec:
    distribution: str
    n: int
    d: int
    n_test: int
    labels: str
    sigma: float
    components: int
    seed: int
    intrinsic_dim: int | None = None

    @property
    def noise_variance(self) -> float:
        return 1.0 if self.labels == "random_sign" else self.sigma**2

    @property
    def base(self) -> str:
        """The distribution drawn in coordinates: subspace points are sphere points of the subspace."""
        return "sphere" if self.distribution == "subspace" else self.distribution

    @property
    def coordinates(self) -> int:
        """The dimension points are drawn in before they are placed in R^d."""
        return self.intrinsic_dim if self.distribution == "subspace" else self.d

    @property
    def d_intrinsic(self) -> int:
        return self.coordinates


def base_rms_norm(distribution: str, d: int) -> float:
    return {"sphere": 1.0, "gaussian": 1.0, "hypercube": (1.0 / 12.0) ** 0.5}[distribution]


def sample_base(distribution: str, count: int, d: int, rng: np.random.Generator) -> np.ndarray:
    if distribution == "sphere":
        z = rng.standard_normal((count, d))
        return z / np.linalg.norm(z, axis=1, keepdims=True)
    if distribution == "gaussian":
        return rng.standard_normal((count, d)) / np.sqrt(d)
    if distribution == "hypercube":
        half_side = 0.5 / np.sqrt(d)
        return rng.uniform(-half_side, half_side, (count, d))
    raise ValueError(f"unknown distribution {distribution!r}; expected one of {DISTRIBUTIONS}")


def subspace_basis(spec: DatasetSpec) -> np.ndarray | None:
    """A (d, m) orthonormal basis of a uniformly random m-dimensional subspace; None for the other data.

    Signs fixed by R's diagonal make Q Haar-distributed (Mezzadri 2007), not just orthonormal.
    """
    if spec.distribution != "subspace":
        return None
    if not 1 <= spec.intrinsic_dim <= spec.d:
        raise ValueError(f"subspace: intrinsic_dim = {spec.intrinsic_dim} must lie in 1..d = {spec.d}")
    gaussian = numpy_rng("dataset", "subspace", spec.seed).standard_normal((spec.d, spec.intrinsic_dim))
    q, r = np.linalg.qr(gaussian)
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)


def sample_inputs(
    spec: DatasetSpec,
    count: int,
    rng: np.random.Generator,
    centres: np.ndarray | None,
    basis: np.ndarray | None = None,
) -> np.ndarray:
    z = sample_base(spec.base, count, spec.coordinates, rng)
    if centres is not None:
        component = rng.integers(0, len(centres), count)
        z = (centres[component] + z) / np.sqrt(2.0)
    return z if basis is None else z @ basis.T


def mixture_centres(spec: DatasetSpec, rng: np.random.Generator) -> np.ndarray | None:
    if spec.components == 1:
        return None
    directions = sample_base("sphere", spec.components, spec.coordinates, rng)
    return directions * base_rms_norm(spec.base, spec.coordinates)


def teacher_direction(spec: DatasetSpec, rng: np.random.Generator) -> np.ndarray:
    return sample_base("sphere", 1, spec.d, rng)[0]


def make_labels(spec: DatasetSpec, x: np.ndarray, direction: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    signs = rng.choice(np.array([-1.0, 1.0]), size=len(x))
    if spec.labels == "random_sign":
        return signs
    if spec.labels == "teacher":
        signal = np.tanh(np.sqrt(spec.d) * (x @ direction))
        return (1.0 - spec.sigma) * signal + spec.sigma * signs
    raise ValueError(f"unknown labels {spec.labels!r}; expected one of {LABELS}")


def generate_dataset(spec: DatasetSpec) -> dict[str, np.ndarray]:
    """Training and held-out test sets from one seeded stream (float32 inputs, float32 labels)."""
    rng = numpy_rng("dataset", spec.seed)
    basis = subspace_basis(spec)
    centres = mixture_centres(spec, rng)
    direction = teacher_direction(spec, rng)
    x_train = sample_inputs(spec, spec.n, rng, centres, basis)
    y_train = make_labels(spec, x_train, direction, rng)
    x_test = sample_inputs(spec, spec.n_test, rng, centres, basis)
    y_test = make_labels(spec, x_test, direction, rng)
    return {
        "x_train": x_train.astype(np.float32),
        "y_train": y_train.astype(np.float32),
        "x_test": x_test.astype(np.float32),
        "y_test": y_test.astype(np.float32),
    }


def dataset_spec(entry: dict) -> DatasetSpec:
    """The DatasetSpec of one validated config entry (other keys, such as eps, are ignored)."""
    return DatasetSpec(
        **{field.name: entry[field.name] for field in fields(DatasetSpec) if field.name != "intrinsic_dim"},
        intrinsic_dim=entry.get("intrinsic_dim"),
    )


def make_dataset(entry: dict) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays and metadata (with noise_variance, d_intrinsic and the intrinsic-dimension estimates of
    the training inputs) of one validated config entry, synthetic or real."""
    if entry["distribution"] in REAL_DISTRIBUTIONS:
        arrays, meta = generate_real_dataset(real_dataset_spec(entry))
        estimates = intrinsic_estimates(arrays["x_train"])
        # Real data have no known m: the local (maximum-likelihood) estimate stands in for it.
        return arrays, meta | estimates | {"d_intrinsic": estimates["d_mle"]}
    spec = dataset_spec(entry)
    arrays = generate_dataset(spec)
    meta = dict(asdict(spec), noise_variance=spec.noise_variance, d_intrinsic=spec.d_intrinsic)
    return arrays, meta | intrinsic_estimates(arrays["x_train"])
