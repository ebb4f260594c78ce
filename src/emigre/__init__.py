"""emigre: reconstruct, explain and forecast emigration waves with a fast agent-based simulator."""

__version__ = "0.1.0"
