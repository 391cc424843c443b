"""Config defaults as schemas/config.schema.yaml sets them: the one place defaults live.

Snakemake fills them into the config it validates; code run without Snakemake (the evaluate
command, tests, benchmarks) takes them from here, so the two cannot drift apart.
"""

from functools import cache
from pathlib import Path

import yaml

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"


@cache
def schema() -> dict:
    return yaml.safe_load(SCHEMA.read_text())


def schema_defaults(section: str) -> dict:
    """The default of every key of a config section (of its entries, for a list such as trainers)."""
    node = schema()["properties"][section]
    properties = node.get("items", node)["properties"]
    return {key: value["default"] for key, value in properties.items() if "default" in value}


def trainer_settings(**given) -> dict:
    """A trainer entry as validation completes it: the keys given, the schema's defaults for the rest."""
    return schema_defaults("trainers") | given


def lipschitz_settings(**given) -> dict:
    """The estimators' settings as validation completes them."""
    return schema_defaults("lipschitz") | given


def robustness_settings(**given) -> dict:
    """The robust-accuracy settings (radii, attack) as validation completes them."""
    return schema_defaults("robustness") | given
