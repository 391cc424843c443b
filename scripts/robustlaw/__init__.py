"""robustlaw: measuring the universal law of robustness on trained networks.

Plain functions on tensors and arrays; nothing here imports Snakemake, so every
stage can be called from tests, notebooks or the standalone evaluator.
"""
