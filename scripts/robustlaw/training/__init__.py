"""Models and their training: the networks, the full-batch fit, the optimisers, the closed-form controls."""
