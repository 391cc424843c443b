"""The work of rule lipschitz: the certified bracket lower <= Lip(f) <= upper of one trained model."""

import torch

from ..io import load_checkpoint, load_dataset, write_json
from ..lipschitz import BracketSpec, lipschitz_bracket
from ..lipschitz_lower import LowerSearchSpec
from ..runtime import configure_torch, file_logger
from ..seeding import stable_seed
from . import RuleJob


def run(job: RuleJob) -> None:
    configure_torch(job.threads)
    log = file_logger(job.log[0], "lipschitz")
    ids = dict(job.wildcards.items())
    settings = dict(job.params.settings)
    bracket_keys = ("lipsdp_steps", "exact_max_width")
    spec = BracketSpec(
        lower=LowerSearchSpec(**{key: value for key, value in settings.items() if key not in bracket_keys}),
        seed=stable_seed("lipschitz", *ids.values()),
        **{key: settings[key] for key in bracket_keys},
    )
    model = load_checkpoint(job.input.model)
    arrays, _ = load_dataset(job.input.data)
    result = lipschitz_bracket(model, spec, torch.from_numpy(arrays["x_train"]), torch.from_numpy(arrays["x_test"]))
    write_json(job.output[0], {**ids, "seed": int(ids["seed"]), **result})
    log.info(f"{ids}: {result['bracket']}")
    log.info(f"seconds: {result['seconds']}")
