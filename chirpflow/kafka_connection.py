"""Where the Kafka cluster is and how to reach it: one value for every client.

``KAFKA_BOOTSTRAP_SERVERS`` names the brokers. Any librdkafka property
(``security.protocol``, ``sasl.mechanism``, ``ssl.ca.location``,
``client.id``, ...) comes from the ``[kafka]`` table of the configuration;
the ``KAFKA_*`` variables of :data:`ENV_PROPERTIES` (for secrets) override
it. Each property remembers where it came from, so an error can name the
setting to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# environment variable -> librdkafka property
ENV_PROPERTIES = {
    "KAFKA_SECURITY_PROTOCOL": "security.protocol",
    "KAFKA_SASL_MECHANISM": "sasl.mechanism",
    "KAFKA_SASL_USERNAME": "sasl.username",
    "KAFKA_SASL_PASSWORD": "sasl.password",
    "KAFKA_SSL_CA_LOCATION": "ssl.ca.location",
    "KAFKA_SSL_CERTIFICATE_LOCATION": "ssl.certificate.location",
    "KAFKA_SSL_KEY_LOCATION": "ssl.key.location",
    "KAFKA_SSL_KEY_PASSWORD": "ssl.key.password",
    "KAFKA_CLIENT_ID": "client.id",
}
SECRET_PROPERTIES = frozenset(
    {"sasl.password", "ssl.key.password", "ssl.keystore.password", "sasl.oauthbearer.client.secret"}
)
_ALIASES = {"sasl.mechanisms": "sasl.mechanism"}


def flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """TOML dotted keys ``{"sasl": {"mechanism": "PLAIN"}}`` -> ``{"sasl.mechanism": "PLAIN"}``."""
    out: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = str(value)
    return out


def env_properties(env: Mapping[str, str]) -> dict[str, str]:
    """The librdkafka properties set by ``KAFKA_*`` variables (empty ones ignored)."""
    return {prop: env[var] for var, prop in ENV_PROPERTIES.items() if env.get(var)}


@dataclass(frozen=True, slots=True)
class KafkaConnection:
    """``bootstrap`` plus librdkafka ``properties``; ``origins`` names each one's setting."""

    bootstrap: str
    properties: Mapping[str, str] = field(default_factory=dict)
    origins: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls, bootstrap: str, configured: Mapping[str, str], from_env: Mapping[str, str]
    ) -> KafkaConnection:
        """``[kafka]`` settings, overridden by the ``KAFKA_*`` variables."""
        props: dict[str, str] = {}
        origins: dict[str, str] = {}
        for key, value in configured.items():
            prop = _ALIASES.get(key, key)
            props[prop], origins[prop] = value, f"kafka.{key}"
        by_prop = {prop: var for var, prop in ENV_PROPERTIES.items()}
        for prop, value in from_env.items():
            props[prop], origins[prop] = value, by_prop[prop]
        return cls(bootstrap, props, origins)

    def config(self) -> dict[str, str]:
        """The librdkafka configuration (bootstrap.servers and the properties)."""
        return {"bootstrap.servers": self.bootstrap, **self.properties}

    def origin(self, prop: str) -> str:
        """The setting that sets ``prop`` (or where it would be set)."""
        if prop in self.origins:
            return self.origins[prop]
        var = next((v for v, p in ENV_PROPERTIES.items() if p == prop), None)
        return f"kafka.{prop}" + (f" / {var}" if var else "")

    @property
    def secured(self) -> bool:
        return self.properties.get("security.protocol", "plaintext").lower() != "plaintext"

    def redacted(self) -> dict[str, str]:
        """The properties as shown to people: secrets masked."""
        return {k: "****" if k in SECRET_PROPERTIES else v for k, v in self.properties.items()}


def as_connection(value: KafkaConnection | str) -> KafkaConnection:
    """A bare ``host:port[,...]`` is a plaintext connection without properties."""
    return value if isinstance(value, KafkaConnection) else KafkaConnection(value)
