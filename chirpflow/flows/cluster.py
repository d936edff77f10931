"""Where this process sits in a Bytewax cluster, from the environment.

- Kubernetes (the StatefulSet in ``k8s/``): ``BYTEWAX_POD_NAME`` (``chirpflow-2``
  -> process 2), ``BYTEWAX_REPLICAS``, ``BYTEWAX_STATEFULSET_NAME``,
  ``BYTEWAX_PEERS_SERVICE`` and ``BYTEWAX_PORT`` give every peer's address
  ``<statefulset>-<i>.<service>:<port>``.
- Anywhere else: ``CHIRPFLOW_PROCESS_ID`` and ``CHIRPFLOW_ADDRESSES``
  (``host:port;host:port``, the same list, in order, on every process).

No variables: a single process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chirpflow.errors import ConfigError


@dataclass(frozen=True)
class ClusterPlace:
    process_id: int | None = None
    addresses: list[str] | None = None

    @property
    def size(self) -> int:
        return len(self.addresses) if self.addresses else 1


def cluster_place(env: Mapping[str, str]) -> ClusterPlace:
    if env.get("CHIRPFLOW_ADDRESSES"):
        addresses = [a.strip() for a in env["CHIRPFLOW_ADDRESSES"].split(";") if a.strip()]
        raw = env.get("CHIRPFLOW_PROCESS_ID", "")
        if not raw.isdigit() or int(raw) >= len(addresses):
            raise ConfigError(
                f"CHIRPFLOW_PROCESS_ID must be 0..{len(addresses) - 1} with CHIRPFLOW_ADDRESSES,"
                f" got {raw!r}"
            )
        return ClusterPlace(int(raw), addresses)
    pod = env.get("BYTEWAX_POD_NAME")
    if pod:
        name = env.get("BYTEWAX_STATEFULSET_NAME", pod.rsplit("-", 1)[0])
        ordinal = pod.rsplit("-", 1)[-1]
        replicas = env.get("BYTEWAX_REPLICAS", "1")
        if not ordinal.isdigit() or not replicas.isdigit():
            raise ConfigError(
                f"BYTEWAX_POD_NAME {pod!r} / BYTEWAX_REPLICAS {replicas!r}: bad value"
            )
        service = env.get("BYTEWAX_PEERS_SERVICE", name)
        port = env.get("BYTEWAX_PORT", "9999")
        addresses = [f"{name}-{i}.{service}:{port}" for i in range(int(replicas))]
        return ClusterPlace(int(ordinal), addresses if int(replicas) > 1 else None)
    return ClusterPlace()
