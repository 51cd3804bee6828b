"""Version of the pmp-intel distribution."""

__version__ = "0.1.0"
