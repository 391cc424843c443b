"""Where a run's files live under results/ (one folder per (dataset, trainer) sweep, holding one folder
per model, one file per seed) and the names a sweep and a split go by there. The layout alone, standard
library only, apart from the config layer (robustlaw.grid): the jobs that read or write these files depend
on this module, not on the config's checks, ids or figure list, so an edit there reruns no training.
"""

# The sweep (and series) name of the closed-form controls, fitted without a trainer.
CLOSED_FORM = "closed_form"
# A dataset's splits (x_<split>, y_<split> in its file), in table order: robust accuracy is measured on both.
SPLITS = ("train", "test")

# Where each configuration's files live: one folder per (dataset, trainer) sweep, holding one folder
# per model. A sweep is what one job brackets (and, for the closed-form controls, fits): cheap work
# next to training, so a whole sweep shares one process instead of paying torch's import per model.
MODEL_JOB = "{dataset}/{trainer}/{model}"
TIMING_FILE = "results/timings/{stage}/{job}.tsv"
SWEEP_MODEL_FOLDER = "results/models/{dataset}/{trainer}"
SWEEP_BRACKET_FOLDER = "results/lipschitz/{dataset}/{trainer}"
SWEEP_ROBUSTNESS_FOLDER = "results/robustness/{dataset}/{trainer}"
ROBUSTNESS_FOLDER = SWEEP_ROBUSTNESS_FOLDER + "/{model}"
MODEL_FOLDER = SWEEP_MODEL_FOLDER + "/{model}"
BRACKET_FOLDER = SWEEP_BRACKET_FOLDER + "/{model}"


def sweep_configurations(configurations: list[dict], dataset: str, trainer: str) -> list[dict]:
    """The configurations of one (dataset, trainer) sweep, in grid order."""
    return [entry for entry in configurations if (entry["dataset"], entry["trainer"]) == (dataset, trainer)]


def sweeps(configurations: list[dict]) -> list[tuple[str, str]]:
    """Every (dataset, trainer) sweep of the grid, in the order of its first configuration."""
    return list(dict.fromkeys((entry["dataset"], entry["trainer"]) for entry in configurations))


def job_folders(configurations: list[dict]) -> tuple[list[str], list[str]]:
    """The folders the fitting and the bracketing jobs write: a trained configuration's folder, a
    dataset's folder of closed-form controls, a sweep's folder of brackets."""
    trained = [entry for entry in configurations if entry["trainer"] != CLOSED_FORM]
    controls = [(dataset, trainer) for dataset, trainer in sweeps(configurations) if trainer == CLOSED_FORM]
    models = configuration_folders(trained, MODEL_FOLDER)
    models += [SWEEP_MODEL_FOLDER.format(dataset=dataset, trainer=trainer) for dataset, trainer in controls]
    brackets = [
        SWEEP_BRACKET_FOLDER.format(dataset=dataset, trainer=trainer) for dataset, trainer in sweeps(configurations)
    ]
    return models, brackets


def run_file(folder: str, seed: int, suffix: str) -> str:
    """The file of one seed's run in its configuration's folder: seed<seed><suffix>."""
    return f"{folder}/seed{seed}{suffix}"


def configuration_folders(configurations: list[dict], pattern: str) -> list[str]:
    """One folder per configuration: `pattern` filled in with its dataset, model and trainer."""
    return [pattern.format(**entry) for entry in configurations]


def run_files(configurations: list[dict], pattern: str, suffix: str) -> list[str]:
    """The file of every run in the configuration folders `pattern`, one per seed."""
    return [run_file(pattern.format(**entry), seed, suffix) for entry in configurations for seed in entry["seeds"]]


def timing_files(configurations: list[dict]) -> list[str]:
    """The timing file of every fitting, bracketing and robustness job: a trained configuration's, a
    dataset's controls', a sweep's brackets' and robust accuracies' (robustlaw.results.timings)."""
    trained = [entry for entry in configurations if entry["trainer"] != CLOSED_FORM]
    files = [TIMING_FILE.format(stage="train", job=MODEL_JOB.format(**entry)) for entry in trained]
    for dataset, trainer in sweeps(configurations):
        if trainer == CLOSED_FORM:
            files.append(TIMING_FILE.format(stage="fit_control", job=dataset))
        files.append(TIMING_FILE.format(stage="lipschitz", job=f"{dataset}/{trainer}"))
        files.append(TIMING_FILE.format(stage="robustness", job=f"{dataset}/{trainer}"))
    return files


def robustness_folders(configurations: list[dict]) -> list[str]:
    """The folder of every sweep's robustness records, one JSON per run (robustlaw.robustness.attack)."""
    return [
        SWEEP_ROBUSTNESS_FOLDER.format(dataset=dataset, trainer=trainer) for dataset, trainer in sweeps(configurations)
    ]
