"""The directory where SOCdesk's processes write their Prometheus values (multiprocess mode).

Used by the supervisor (`socdesk serve`, `socdesk run`), which imports nothing of Django and
nothing of prometheus-client until a child has exited: it sets PROMETHEUS_MULTIPROC_DIR before it
starts its children, so that each of them writes its counters there and `/metrics`, served by any
web worker, adds them all up (socdesk/core/metrics.py).
"""

from __future__ import annotations

import os
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def metrics_dir_prepare(data_dir: Path) -> Path:
    """Point this process's children at an empty metrics directory and return it.

    An operator's own PROMETHEUS_MULTIPROC_DIR is kept; else `<data dir>/metrics`. Its value files are
    removed first: they are the previous run's, whose processes are gone, and counters restart at 0
    with a new run as with any restarted exporter (Prometheus' rate() handles the reset).
    """
    directory = Path(os.environ.get(MULTIPROC_ENV) or data_dir / "metrics")
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    return directory


def metrics_process_exited(pid: int) -> None:
    """Forget the live gauges of a child that exited (its counters keep counting in the totals)."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return
    from prometheus_client.multiprocess import mark_process_dead

    mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
