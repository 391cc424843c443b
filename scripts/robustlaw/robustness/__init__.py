"""Robust accuracy: the L2 attack and its certificate."""
