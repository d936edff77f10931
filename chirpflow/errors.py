"""Errors the kernel raises. Per-item problems never raise: they become dead letters."""


class ChirpflowError(Exception):
    """Base class for errors a user should see as one clear line."""

    exit_code = 2  # usage or configuration


class ConfigError(ChirpflowError):
    """A setting is missing or has a bad value; the message names the setting."""


class ServiceError(ChirpflowError):
    """A service (database, broker, cache) could not be reached or started."""

    exit_code = 3  # service unavailable
