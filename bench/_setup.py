"""Shared start-up for benchmarks: point Django at a dedicated benchmark database, never the user's own."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/socdesk_bench"


def configure(db: str) -> str:
    """Set the environment for a benchmark database and start Django; returns a description of it."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("SOCDESK_DATA_DIR", str(ROOT / "var" / "bench"))
    Path(os.environ["SOCDESK_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "socdesk.settings"
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-not-for-production-use-000000000000")
    if db == "postgres":
        url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
        _ensure_pg_database(url)
        os.environ["DATABASE_URL"] = url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    return f"{connection.vendor} {connection.settings_dict['NAME']}"


def _ensure_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def machine() -> str:
    """One line describing this machine, for the benchmarks page."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GiB RAM, {platform.system()} {platform.release()}"


def git_revision() -> str:
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def append_results(title: str, command: str, db: str, body: str) -> Path:
    """Append one run's figures to docs/benchmarks.md with machine, date and command."""
    path = ROOT / "docs" / "benchmarks.md"
    path.parent.mkdir(exist_ok=True)
    if not path.exists():
        path.write_text(
            "# Benchmarks\n\nFigures appended by the scripts in `bench/` (`make bench`). Each run states its"
            " machine, date and command. Benchmarks are not tests: nothing here is asserted by the suite.\n"
        )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with path.open("a") as f:
        f.write(
            f"\n## {title} — {stamp}\n\n- Machine: {machine()}\n- Database: {db}\n"
            f"- Revision: {git_revision()}\n- Command: `{command}`\n\n{body.rstrip()}\n"
        )
    return path


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)
