"""Operational background jobs."""

from __future__ import annotations

import os
import socket
from typing import Any

from huey.contrib.djhuey import task


@task()
def ping(token: str) -> dict[str, Any]:
    """Answer from a worker: proves a consumer is reading this queue (`socdesk ping_worker`)."""
    return {"token": token, "host": socket.gethostname(), "pid": os.getpid()}
