"""Datasets: synthetic draws, real sources (MNIST, digits), their intrinsic dimension and noise floor."""
