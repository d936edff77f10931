"""Copy bytes from one socket to another until either side closes (for the proxy fakes)."""

from __future__ import annotations

import contextlib
import socket


def pump(src: socket.socket, dst: socket.socket) -> None:
    """Forward ``src`` to ``dst``; when the stream ends, shut both down."""
    with contextlib.suppress(OSError):
        while data := src.recv(65536):
            dst.sendall(data)
    for s in (src, dst):
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
