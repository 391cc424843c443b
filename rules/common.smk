# Config validation, the grid of named configurations, and input functions. No numerics here.
import importlib.util
import re
import sys
from pathlib import Path

from jsonschema import ValidationError
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

PACKAGE = Path(workflow.basedir) / "scripts" / "robustlaw"


class ConfigError(ValueError):
    """A config mistake, reported with the key it concerns before any job starts."""


def key_text(path):
    """['datasets', 0, 'n'] -> 'datasets[0].n', the way a user finds the key in config.yaml."""
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(".")
    return text or "(top level)"


def validate_config(config):
    """Snakemake's schema validation (which fills in defaults), its error shortened to key + reason."""
    try:
        validate(config, "../schemas/config.schema.yaml")
    except WorkflowError as error:
        cause = error.__context__
        if not isinstance(cause, ValidationError):
            raise
        raise ConfigError(f"config key '{key_text(cause.absolute_path)}': {cause.message}") from None


validate_config(config)


def number_text(value):
    """Shortest text of a number for ids: 1.0 -> '1', 0.25 -> '0.25'."""
    return f"{value:g}"


def load_sources():
    """robustlaw.sources, loaded from its file: it needs only the standard library, and Snakemake's
    own environment (under --sdm conda) need not have numpy or the package on its path."""
    spec = importlib.util.spec_from_file_location("robustlaw_sources", PACKAGE / "sources.py")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = loaded  # dataclasses look their module up there
    spec.loader.exec_module(loaded)
    return loaded


SOURCES = load_sources()
# A real dataset's default test size, as for the synthetic ones, capped at the points left over.
REAL_TEST_POINTS = 1000
# A real dataset's default fit margin: training MSE <= 1% of sigma^2, as eps = 0.99 is for sigma = 1.
REAL_EPS_FRACTION = 0.99


def is_real(spec):
    return spec["distribution"] in SOURCES.REAL_DISTRIBUTIONS


def dataset_id(spec):
    if is_real(spec):
        labels = f"{spec['labels'].replace('_', '')}-q{number_text(spec['label_noise'])}"
        return f"{spec['distribution']}-n{spec['n']}-d{spec['d']}-{labels}-s{spec['seed']}"
    mixture = f"x{spec['components']}" if spec["components"] > 1 else ""
    labels = "sign" if spec["labels"] == "random_sign" else f"teacher{number_text(spec['sigma'])}"
    return f"{spec['distribution']}{mixture}-n{spec['n']}-d{spec['d']}-{labels}-s{spec['seed']}"


def noise_variance(spec):
    if is_real(spec):
        return SOURCES.label_noise_variance(spec["label_noise"])
    return 1.0 if spec["labels"] == "random_sign" else spec["sigma"] ** 2


def real_source_sizes(spec, key):
    """(d, training images, test images) of a real dataset's source; an mnist file is read and
    checked here, so a missing or malformed one stops the workflow before any job starts."""
    if spec["distribution"] == "digits":
        if "path" in spec:
            raise ConfigError(
                f"config key '{key}.path': digits ship with scikit-learn and read no file (path is for mnist)"
            )
        return SOURCES.DIGITS_D, SOURCES.DIGITS_COUNT, 0
    try:
        source = SOURCES.read_source(spec["path"])
    except SOURCES.SourceError as error:
        raise ConfigError(f"config key '{key}.path': {error}") from None
    return source.d, source.train_count, source.test_count


def complete_real_dataset(spec, key):
    """Fill in what a real dataset takes from its data (d, n_test) and the keys every dataset has
    (components, sigma, eps), so the rules and the table treat it like a synthetic one."""
    d, train_count, test_count = real_source_sizes(spec, key)
    source = spec.get("path", "scikit-learn's digits")
    if spec.setdefault("d", d) != d:
        raise ConfigError(f"config key '{key}.d': {spec['d']}, but the images of {source} have d = {d}")
    if spec["n"] > train_count:
        raise ConfigError(f"config key '{key}.n': {spec['n']} training points asked for, {source} has {train_count}")
    left = test_count or train_count - spec["n"]
    if left == 0:
        raise ConfigError(
            f"config key '{key}.n': {spec['n']} takes every image of {source}, which has no test split, "
            "and leaves none for the test set"
        )
    if spec.setdefault("n_test", min(REAL_TEST_POINTS, left)) > left:
        raise ConfigError(
            f"config key '{key}.n_test': {spec['n_test']} test points asked for, {source} has {left} left"
        )
    spec["components"] = 1
    spec["sigma"] = noise_variance(spec) ** 0.5
    spec.setdefault("eps", REAL_EPS_FRACTION * noise_variance(spec))


def complete_real_datasets(datasets):
    for index, spec in enumerate(datasets):
        if is_real(spec):
            complete_real_dataset(spec, f"datasets[{index}]")


def dataset_files(wildcards):
    """The files a real dataset is read from: inputs of generate_data, so a changed file reruns it."""
    spec = DATASETS[wildcards.dataset]
    return [str(path) for path in SOURCES.source_files(spec["path"])] if "path" in spec else []


def model_id(spec, width):
    return f"{spec['activation']}{spec['depth']}-k{width}"


def unique_by_id(entries, make_id, key):
    """{id: entry}, refusing two entries that name the same configuration."""
    named = {}
    for index, entry in enumerate(entries):
        name = make_id(entry)
        if name in named:
            raise ConfigError(f"config key '{key}[{index}]' repeats configuration '{name}' (duplicate grid entry)")
        named[name] = entry
    return named


def check_datasets(datasets):
    for index, spec in datasets.items():
        if spec["eps"] >= noise_variance(spec):
            raise ConfigError(
                f"config key 'datasets[...].eps' = {spec['eps']} for dataset '{index}' must be below the noise "
                f"level sigma^2 = {noise_variance(spec)} (a fit means training MSE <= sigma^2 - eps)"
            )
        if spec["labels"] == "random_sign" and spec["sigma"] != 1.0:
            raise ConfigError(
                f"config key 'datasets[...].sigma' = {spec['sigma']} for dataset '{index}': random_sign labels "
                "always have sigma = 1; use labels: teacher for another noise level"
            )


complete_real_datasets(config["datasets"])
DATASETS = unique_by_id(config["datasets"], dataset_id, "datasets")
check_datasets(DATASETS)
TRAINERS = unique_by_id(config["trainers"], lambda spec: spec["name"], "trainers")
CLOSED_FORM = "closed_form"
CONTROL_PREFIX = {"even_ntk": "evenntk", "relu_ntk": "reluntk", "random_features": "rf"}


def control_id(kind, width):
    return f"{CONTROL_PREFIX[kind]}-k{width}"


def entry_datasets(entry, key):
    names = entry.get("datasets", list(DATASETS))
    unknown = [name for name in names if name not in DATASETS]
    if unknown:
        raise ConfigError(f"config key '{key}.datasets' names unknown datasets {unknown}; defined: {sorted(DATASETS)}")
    return names


def expand_grid():
    """Every run (dataset, model, trainer, seed) and the spec of every model id, duplicates refused."""
    models, runs, seen = {}, [], set()
    entries = [(f"models[{i}]", entry, None) for i, entry in enumerate(config["models"])]
    entries += [(f"controls[{i}]", entry, entry["kind"]) for i, entry in enumerate(config["controls"])]
    for key, entry, kind in entries:
        trainers = list(TRAINERS) if kind is None else [CLOSED_FORM]
        for width in entry["widths"]:
            if kind is None:
                spec = dict(family="mlp", activation=entry["activation"], depth=entry["depth"], width=width)
                name = model_id(spec, width)
            else:
                spec, name = dict(family=kind, width=width), control_id(kind, width)
            models[name] = spec
            for dataset in entry_datasets(entry, key):
                for trainer in trainers:
                    for seed in entry.get("seeds", config["seeds"]):
                        run = (dataset, name, trainer, seed)
                        if run in seen:
                            raise ConfigError(
                                f"config key '{key}' repeats run {'/'.join(map(str, run))} (duplicate grid entry)"
                            )
                        seen.add(run)
                        runs.append(dict(dataset=dataset, model=name, trainer=trainer, seed=seed))
    return models, runs


MODELS, RUNS = expand_grid()
NETWORK_IDS = "|".join(name for name, spec in MODELS.items() if spec["family"] == "mlp") or "(?!)"
CONTROL_IDS = "|".join(name for name, spec in MODELS.items() if spec["family"] != "mlp") or "(?!)"
TRAINER_IDS = "|".join(TRAINERS)


wildcard_constraints:
    dataset="[A-Za-z0-9_.-]+",
    model="[A-Za-z0-9_.-]+",
    trainer="[A-Za-z0-9_]+",
    seed="[0-9]+",


def package_modules(*entry_points):
    """The package files a script imports, followed through the package's relative imports.

    Snakemake does not track modules imported by scripts; listing them as inputs makes an edit
    to any of them rerun exactly the rules that use it.
    """
    pending, found = list(entry_points), {"__init__"}
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.add(name)
        source = (PACKAGE / f"{name}.py").read_text()
        pending.extend(re.findall(r"^from \.(\w+) import", source, flags=re.MULTILINE))
    return sorted(str(PACKAGE / f"{name}.py") for name in found)


def data_settings(dataset):
    """The keys that shape a dataset's draw; eps is a fit criterion and must not redraw the data."""
    return {key: value for key, value in DATASETS[dataset].items() if key != "eps"}


def run_files(pattern):
    return [pattern.format(**run) for run in RUNS]
