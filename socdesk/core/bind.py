"""Bind addresses (host:port, [v6]:port, unix:PATH) as people type them, and what a browser opens."""

from __future__ import annotations


def url_for_bind(bind: str) -> str | None:
    """The browser URL for a bind address (None for a unix socket)."""
    if bind.startswith(("unix:", "fd://")):
        return None
    host, _, port = bind.rpartition(":")
    if not host:
        host, port = port, "8000"
    if host in ("0.0.0.0", "", "[::]"):
        host = "127.0.0.1"
    return f"http://{host}:{port}/"
