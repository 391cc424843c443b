"""Rule lipschitz: the certified bracket lower <= Lip(f) <= upper of one trained model."""

import torch

from robustlaw.io import load_checkpoint, load_dataset, write_json
from robustlaw.lipschitz import BracketSpec, lipschitz_bracket
from robustlaw.lipschitz_lower import LowerSearchSpec
from robustlaw.runtime import configure_torch, file_logger
from robustlaw.seeding import stable_seed

configure_torch(snakemake.threads)
log = file_logger(snakemake.log[0], "lipschitz")
ids = dict(snakemake.wildcards.items())
settings = dict(snakemake.params.settings)
bracket_keys = ("lipsdp_steps", "exact_max_width")
spec = BracketSpec(
    lower=LowerSearchSpec(**{key: value for key, value in settings.items() if key not in bracket_keys}),
    seed=stable_seed("lipschitz", *ids.values()),
    **{key: settings[key] for key in bracket_keys},
)
model = load_checkpoint(snakemake.input.model)
arrays, _ = load_dataset(snakemake.input.data)
result = lipschitz_bracket(model, spec, torch.from_numpy(arrays["x_train"]), torch.from_numpy(arrays["x_test"]))
write_json(snakemake.output[0], {**ids, "seed": int(ids["seed"]), **result})
log.info(f"{ids}: {result['bracket']}")
log.info(f"seconds: {result['seconds']}")
