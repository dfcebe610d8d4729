"""Keep the database and queue client libraries a process will not use out of its memory."""

from __future__ import annotations

import sys

from socdesk.core.env import env_str

# The setting that, left unset, means no code of this process talks to that service.
CLIENT_FOR_SETTING = {"DATABASE_URL": "psycopg", "REDIS_URL": "redis"}


def skip_unconfigured_clients() -> None:
    """Before Django starts: make the PostgreSQL / Redis client unimportable when it is not configured.

    huey.storage imports both clients whenever they are installed, in case a queue is kept there; on the
    embedded default (SQLite, no Redis) nothing else loads them, and together they are a sizeable share
    of a long-running process's memory. Called by the web server's entry point and the worker and
    ingest commands only; a library already imported is left alone.
    """
    for setting, module in CLIENT_FOR_SETTING.items():
        if not env_str(setting) and module not in sys.modules:
            # `import` now raises ImportError, which huey handles; typeshed types sys.modules without None.
            sys.modules[module] = None  # type: ignore[assignment]
