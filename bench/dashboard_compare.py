"""Benchmark: the SOC metrics' period read of an earlier revision against this one, call by call.

    git show 2e6345b:socdesk/reports/selectors.py > /tmp/selectors_before.py
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/socdesk_bench_rollups \
        nice python bench/dashboard_compare.py /tmp/selectors_before.py --runs 30

On a shared machine two runs minutes apart see different loads, so `bench/dashboard.py` cannot tell a
change of 20 % from the noise. This script loads the earlier `reports/selectors.py` next to the current
one and alternates them call by call (`scope_for_agent` + `now_figures` + `period_figures`, as
bench/dashboard.py times them) on the benchmark database bench/dashboard.py seeded, so both see the
same load: p50/p95 wall time, client CPU per call and queries per call. The earlier module runs against
today's models and figures, so it must not need anything they no longer have.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import configure, percentile


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("before", help="an earlier revision's socdesk/reports/selectors.py")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    configure("postgres")  # BENCH_DATABASE_URL: the database bench/dashboard.py seeded
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from socdesk.accounts.models import Agent
    from socdesk.reports import selectors as after
    from socdesk.reports.figures import Period

    spec = importlib.util.spec_from_file_location("selectors_before", args.before)
    assert spec is not None and spec.loader is not None
    before = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(before)
    today = timezone.localdate()
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    print("| agent | period | code | runs | p50 ms | p95 ms | client CPU ms | queries |")
    print("|---|---|---|---|---|---|---|---|")
    for who, name in (("admin (6 departments)", "bench-admin"), ("analyst (SOC)", "bench-0-1")):
        agent = Agent.objects.get(user__username=name)
        for label, days in (("24 h", 1), ("7 d", 7), ("30 d", 30)):
            period = Period(today - timedelta(days=days - 1), today)
            wall: dict[str, list[float]] = {"before": [], "after": []}
            cpu = {"before": 0.0, "after": 0.0}
            queries = {"before": 0, "after": 0}
            for i in range(args.runs + 2):  # two warm-up rounds
                order = (("before", before), ("after", after))
                for key, module in order if i % 2 else reversed(order):
                    fresh = Agent.objects.select_related("user").get(pk=agent.pk)  # no cached permissions
                    connection.queries_log.clear()  # past 9,000 logged queries the capture counts none
                    with CaptureQueriesContext(connection) as captured:
                        started, used = time.perf_counter(), time.process_time()
                        scope = module.scope_for_agent(fresh)
                        module.now_figures(scope)
                        module.period_figures(period, scope)
                        elapsed, used = time.perf_counter() - started, time.process_time() - used
                    if i >= 2:
                        wall[key].append(elapsed * 1000)
                        cpu[key] += used * 1000
                        queries[key] = len(captured)
            for key in ("before", "after"):
                print(
                    f"| {who} | {label} | {key} | {args.runs} | {percentile(wall[key], 50):.1f} | "
                    f"{percentile(wall[key], 95):.1f} | {cpu[key] / args.runs:.1f} | {queries[key]} |"
                )
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
