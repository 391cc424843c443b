"""The fit record every model leaves beside its checkpoint (one JSON per run, read by aggregation)."""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class FitOutcome:
    p: int
    p_eff: int
    target_mse: float
    train_mse: float
    test_mse: float
    fitted: bool
    status: str
    diverged: bool
    steps: int
    selected_step: int
    penalty: float | None
    device: str


def fit_record(
    ids: dict, dataset: dict, model: dict, trainer: dict, data_meta: dict, outcome: FitOutcome, compute: dict
) -> dict:
    """`compute`: provenance.compute_environment of the process that fitted the model."""
    return {
        **ids,
        "seed": int(ids["seed"]),
        "dataset_config": dataset,
        "model_config": model,
        "trainer_config": trainer,
        # Index lists of subsampled real data stay in the dataset file; a record needs the scalars.
        "data_meta": {key: value for key, value in data_meta.items() if not key.endswith("_indices")},
        **asdict(outcome),
        "compute": compute,
    }
