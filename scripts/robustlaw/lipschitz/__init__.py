"""Lipschitz brackets: certified upper bounds with their rounding allowances, lower bounds, exact cases."""
