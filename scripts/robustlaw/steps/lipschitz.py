"""The work of rule lipschitz: the certified bracket lower <= Lip(f) <= upper of every seed's model of one
configuration."""

import torch

from ..grid import run_file
from ..io import load_checkpoint, load_dataset, write_json
from ..lipschitz import BracketSpec, lipschitz_bracket
from ..lipschitz_lower import LowerSearchSpec
from ..runtime import configure_torch, file_logger
from ..seeding import stable_seed
from . import RuleJob


def run(job: RuleJob) -> None:
    configure_torch(job.threads)
    log = file_logger(job.log[0], "lipschitz")
    settings = dict(job.params.settings)
    bracket_keys = (
        "lipsdp_steps", "exact_max_width", "branch_max_dim", "branch_max_vertices", "branch_max_boxes",
        "branch_target_gap",
    )  # fmt: skip
    lower = LowerSearchSpec(**{key: value for key, value in settings.items() if key not in bracket_keys})
    arrays, _ = load_dataset(job.input.data)
    x_train, x_test = torch.from_numpy(arrays["x_train"]), torch.from_numpy(arrays["x_test"])
    for seed in job.params.seeds:
        ids = {**dict(job.wildcards.items()), "seed": str(seed)}
        spec = BracketSpec(
            lower=lower,
            seed=stable_seed("lipschitz", *ids.values()),
            **{key: settings[key] for key in bracket_keys},
        )
        model = load_checkpoint(run_file(job.input.models, seed, ".safetensors"))
        result = lipschitz_bracket(model, spec, x_train, x_test)
        write_json(run_file(job.output.brackets, seed, ".json"), {**ids, "seed": seed, **result})
        log.info(f"{ids}: {result['bracket']}")
        log.info(f"seconds: {result['seconds']}")
