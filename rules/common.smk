# Config validation, the grid of named configurations, and input functions. No numerics here.
import ast
import math
import re
import sys
from pathlib import Path, PurePosixPath

import yaml
from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.exceptions import best_match
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# This workflow's own folder: rules/.. (workflow.basedir is the importing workflow's when this one is
# used as a Snakemake module).
ROOT = Path(str(workflow.current_basedir)).parent
PACKAGE = ROOT / "scripts" / "robustlaw"
# The grid is built by the package's standard-library-only modules, so Snakemake's own environment
# (under --sdm conda) needs neither numpy nor an installed package.
sys.path.insert(0, str(PACKAGE.parent))
from robustlaw import catalogue, grid
from robustlaw.data import sources
from robustlaw.results import paths
from robustlaw.grid import ConfigError


def key_text(path):
    """['datasets', 0, 'n'] -> 'datasets[0].n', the way a user finds the key in config.yaml."""
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(".")
    return text or "(top level)"


def config_error(error):
    return ConfigError(f"config key '{key_text(error.absolute_path)}': {error.message}")


# JSON Schema counts 16.0 as an integer and NaN or infinity as numbers, which would reach the jobs
# (an id 'n16.0', a NaN learning rate); these types refuse them.
STRICT_TYPES = Draft202012Validator.TYPE_CHECKER.redefine_many(
    {
        "integer": lambda checker, value: isinstance(value, int) and not isinstance(value, bool),
        "number": lambda checker, value: (
            isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        ),
    }
)
StrictValidator = validators.extend(Draft202012Validator, type_checker=STRICT_TYPES)


def validate_config(config):
    """Snakemake's schema validation (which fills in defaults), its error shortened to key + reason,
    then the same schema with integers and finite numbers strictly typed."""
    try:
        validate(config, "../schemas/config.schema.yaml")
    except WorkflowError as error:
        cause = error.__context__
        if not isinstance(cause, ValidationError):
            raise
        raise config_error(cause) from None
    schema = yaml.safe_load((ROOT / "schemas" / "config.schema.yaml").read_text())
    error = best_match(StrictValidator(schema).iter_errors(config))
    if error is not None:
        raise config_error(error)


# Snakemake 9 evaluates a templated config file as it reads it, before this code: refusing one here
# stops it before any job, and `robustlaw check-config FILE` refuses it before Snakemake reads it.
for path in workflow.configfiles:
    grid.check_plain_config(path)
validate_config(config)


GRID = grid.build_grid(config)
DATASETS, TRAINERS, MODELS = GRID.datasets, GRID.trainers, GRID.models
CONFIGURATIONS = GRID.configurations
SEEDS = {(entry["dataset"], entry["model"], entry["trainer"]): entry["seeds"] for entry in CONFIGURATIONS}
CLOSED_FORM, FIGURE_NAMES = paths.CLOSED_FORM, list(catalogue.FIGURES)


def result_tables(names):
    """Tables by name (catalogue.TABLES), as a rule's named files under results/."""
    return {name: f"results/{catalogue.table_file(name)}" for name in names}


TABLE_FILES = list(result_tables(catalogue.TABLES).values())


def dataset_files(wildcards):
    """The files a real dataset is read from: inputs of generate_data, so a changed file reruns it. They
    are listed here, not read: the generate_data job reads and checks them."""
    spec = DATASETS[wildcards.dataset]
    return [str(path) for path in sources.source_files(spec["path"])] if "path" in spec else []


def exact_pattern(names):
    """A regular expression that matches exactly these names, written as a trie ('relu2-k1|relu2-k16|relu2-k2'
    -> 'relu2\\-k(?:1(?:6|)|2)'): Snakemake copies a wildcard constraint into the rule's file patterns and
    rescans it for every job, so a plain alternation of thousands of model ids slows the DAG down."""
    trie = {}
    for name in names:
        node = trie
        for char in name:
            node = node.setdefault(char, {})
        node[""] = {}  # a name ends here

    def pattern(node):
        branches = [re.escape(char) + pattern(child) for char, child in sorted(node.items()) if char]
        branches += [""] if "" in node else []
        return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"

    return pattern(trie) if trie else "(?!)"


NETWORK_IDS = exact_pattern(name for name, spec in MODELS.items() if spec["family"] == "mlp")
TRAINER_IDS = "|".join(TRAINERS) or "(?!)"
SWEEP_IDS = "|".join([*TRAINERS, CLOSED_FORM])


wildcard_constraints:
    dataset="[A-Za-z0-9_.-]+",
    model="[A-Za-z0-9_.-]+",
    trainer="[A-Za-z0-9_]+",
    seed="[0-9]+",


def per_attempt(amount):
    """A resource that grows with each attempt: a job killed for exceeding its memory (MB) or time
    (minutes) is retried with twice, then three times as much (`retries` in the SLURM profile). The
    rules hold every job's resources; profiles hold none, so the two cannot disagree."""
    return lambda wildcards, attempt: amount * attempt


def submission_group(name):
    """A rule's `group:` for jobs that share one cluster submission: `name` where jobs are submitted
    (a cluster executor such as SLURM), none elsewhere. Local runs ignore groups anyway; a dry run
    builds them, and Snakemake 9.27 checks whether a group is ready by counting, at every finished
    job, the dependencies of all the group's jobs: quadratic in the grid for the final steps, which
    read every model (100 of the 120 s of a 10,000-job dry run). A dry run lists them one by one."""
    return lambda wildcards: None if workflow.local_exec else name


def package_modules(rule):
    """The package modules that rule `rule`'s job code (scripts/<rule>.py) imports, followed through
    the package (`from robustlaw.a.b import c`, `from robustlaw.a import b`, `import robustlaw.a.b`,
    inside functions too), with the sub-packages' __init__ files that importing them runs.

    Snakemake does not track modules imported by scripts; listing them as inputs makes an edit
    to any of them rerun exactly the rules that use it.
    """

    def module(parts):
        """A module's file in the package: a/b.py, or a/b/__init__.py for the package a/b; None for
        neither (a name that `from robustlaw.a import b` takes from inside a/__init__.py)."""
        path = PACKAGE.joinpath(*parts)
        if path.with_suffix(".py").is_file():
            return path.with_suffix(".py")
        return path / "__init__.py" if path.is_dir() else None

    def imported(tree):
        """Each module path ('robustlaw', 'a', 'b') a parsed file names, as name parts below robustlaw."""
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name.split(".") for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                base = node.module.split(".")
                names = [base, *([*base, alias.name] for alias in node.names)]
            yield from (parts[1:] for parts in names if parts[0] == "robustlaw")

    pending, found = [ROOT / "scripts" / f"{rule}.py"], set()
    while pending:
        path = pending.pop()
        if path in found:
            continue
        found.add(path)
        for parts in imported(ast.parse(path.read_text())):
            # Importing robustlaw.a.b runs robustlaw/__init__.py and robustlaw/a/__init__.py first.
            for length in range(len(parts) + 1):
                pending += [found_at for found_at in [module(parts[:length])] if found_at is not None]
    return sorted(str(path) for path in found if path.is_relative_to(PACKAGE))


def beside_output(key, pattern, files):
    """A param of result paths (`files`, a path or a list, named as this workflow names them, with the
    job's wildcards) where the job's own files are. Snakemake rewrites every input and output path of a
    workflow imported as a module with `prefix:` (and of a default storage) but not params: the rewrite
    is read off output `key`, which this workflow names `pattern`."""

    def located(wildcards, output):
        written, named = str(output[key]), pattern.format(**wildcards)
        if not written.endswith(named):
            raise WorkflowError(f"output {key} is {written}, which does not end in {named}")
        prefix = written.removesuffix(named)
        if isinstance(files, str):
            return prefix + files.format(**wildcards)
        return [prefix + path for path in files]

    return located


def data_settings(dataset):
    return grid.data_settings(GRID, dataset)


def training_priority(wildcards):
    """Wider nets train first: their jobs take longest (a step's cost grows with p), and a sweep's brackets
    wait for its last training, so one started last would hold them up while the other core idles."""
    return MODELS[wildcards.model]["width"]


# A sweep's jobs (the controls' fit, every sweep's brackets and robustness) run as soon as their inputs
# exist, ahead of trainings still waiting: each is one long single-threaded job on the way to the
# final tables.
SWEEP_PRIORITY = 1_000_000


def configuration_seeds(wildcards):
    """The seeds of the configuration (dataset, trainer, model) that a training job fits."""
    return SEEDS[wildcards.dataset, wildcards.model, wildcards.trainer]


def sweep_configurations(wildcards):
    """The models of a (dataset, trainer) sweep, each with its seeds and spec, for the job that fits
    (closed-form controls) or brackets the whole sweep."""
    trainer = wildcards.get("trainer", CLOSED_FORM)
    entries = paths.sweep_configurations(CONFIGURATIONS, wildcards.dataset, trainer)
    return [dict(model=entry["model"], seeds=entry["seeds"], spec=MODELS[entry["model"]]) for entry in entries]


def sweep_model_folders(wildcards):
    """What a sweep's bracketing job reads: each trained model's folder, or the controls' one folder."""
    if wildcards.trainer == CLOSED_FORM:
        return [paths.SWEEP_MODEL_FOLDER.format(**wildcards)]
    entries = paths.sweep_configurations(CONFIGURATIONS, wildcards.dataset, wildcards.trainer)
    return paths.configuration_folders(entries, paths.MODEL_FOLDER)
