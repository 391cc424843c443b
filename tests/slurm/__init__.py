"""A real one-node SLURM for the tests, and running the workflow on it through the project's SLURM profile."""
