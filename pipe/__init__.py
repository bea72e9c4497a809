"""pipe: leakage-safe propensity models from a product analytics warehouse."""

__version__ = "0.1.0"
