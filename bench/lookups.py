"""Benchmark: what the webhook path pays for its key, integration and department lookups.

    python bench/lookups.py                          # PostgreSQL (socdesk_bench), database cache
    REDIS_URL=redis://127.0.0.1:6379/15 python bench/lookups.py --db sqlite

In-process, no HTTP: times the lookups one webhook or osTicket request makes (`authenticate_key`,
`integration_for_token`, `api_department`) when each process remembers them (the usual case) and
when it reads them from the database (what a process does once per SOCDESK_LOOKUP_CACHE_SECONDS per
key), and one read of a shared value from Django's cache (what a "has anything changed?" check costs
on the configured cache: the database cache, or Redis when REDIS_URL is set). These are the figures
behind the choice of how long a process may remember a key (docs/api-keys.md). Figures are appended
to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import append_results, configure, percentile


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--requests", type=int, default=5000, help="timed repetitions per row")
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    return parser.parse_args()


def fixtures():
    """A department, an ingest key and an integration, made through the services (once per database)."""
    from socdesk.accounts.models import Department
    from socdesk.accounts.services import apikey_create, department_create
    from socdesk.alerts.integrations import integration_create
    from socdesk.alerts.models import Integration
    from socdesk.core.actor import Actor

    actor = Actor.system("bench")
    department = Department.objects.filter(slug="bench-lookups").first()
    if department is None:
        department = department_create(actor=actor, name="bench-lookups")
    _key, raw = apikey_create(
        actor=actor, name="bench-lookups", scopes=["alerts:ingest"], department=department
    )
    integration = Integration.objects.filter(name="bench-lookups").first()
    if integration is None:
        integration = integration_create(
            actor=actor, adapter="alertmanager", name="bench-lookups", department=department
        )
    return raw, integration


def time_each(count: int, call) -> list[float]:
    """Microseconds per call, for `count` calls after a few untimed ones."""
    for _ in range(20):
        call()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


def main() -> None:
    args = parse_args()
    db = configure(args.db)
    from django.conf import settings
    from django.core.cache import cache
    from django.test import RequestFactory

    from socdesk.accounts.keyauth import authenticate_key
    from socdesk.accounts.selectors import api_department
    from socdesk.alerts.selectors import integration_for_token
    from socdesk.core.recent import RecentLookups

    raw, integration = fixtures()
    request = RequestFactory().post(
        "/api/v1/hooks/alertmanager/x", HTTP_X_API_KEY=raw, REMOTE_ADDR="127.0.0.1"
    )

    def lookups():
        key, _actor = authenticate_key(request, raw, scope="alerts:ingest")
        integration_for_token("alertmanager", integration.token)
        api_department(key)

    cache.set("socdesk:bench:generation", "x", timeout=None)
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[1]
    rows = []
    settings.SOCDESK_LOOKUP_CACHE_SECONDS = 3600
    RecentLookups.forget_everything()
    rows.append(("remembered (every request while the memory is fresh)", time_each(args.requests, lookups)))
    settings.SOCDESK_LOOKUP_CACHE_SECONDS = 0
    rows.append(
        ("read from the database (once per key per memory period)", time_each(args.requests, lookups))
    )
    rows.append(
        (
            f"one cache read, {backend} (a shared change check)",
            time_each(args.requests, lambda: cache.get("socdesk:bench:generation")),
        )
    )

    body = (
        "| lookups of one webhook request | requests | p50 µs | p95 µs | mean µs |\n|---|---|---|---|---|\n"
    )
    for name, samples in rows:
        mean = sum(samples) / len(samples)
        body += (
            f"| {name} | {len(samples):,} | {percentile(samples, 50):.0f} | {percentile(samples, 95):.0f} "
            f"| {mean:.0f} |\n"
        )
    print(body)
    if not args.no_append:
        command = ("python bench/lookups.py " + " ".join(sys.argv[1:])).strip()
        if os.environ.get("REDIS_URL"):
            command = f"REDIS_URL={os.environ['REDIS_URL']} {command}"
        path = append_results("Key and integration lookups, per request", command, db, body)
        print(f"Appended to {path}")


if __name__ == "__main__":
    main()
