"""chirpflow kernel: the domain model, settings, serialization and metrics shared by
connectors, operators and flows. Nothing here imports bytewax."""

__version__ = "0.1.0"
