"""herzstadt — a people-first smart city platform."""

__version__ = "0.1.0"
