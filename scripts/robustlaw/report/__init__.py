"""The law fit and the figures with their captions and checks."""
