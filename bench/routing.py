"""Benchmark: ticket filter evaluation, 200 enabled filters per ticket (target: <= 200 µs per ticket).

    python bench/routing.py                 # 200 filters, 2,000 tickets
    python bench/routing.py --filters 50 --no-append

Pure and in-process (no database, no HTTP): builds a realistic mix of filters (about half target alerts,
the rest email, web, API or any channel; one to three conditions each on subject, requester domain,
severity, tags, custom fields, alert fields, source IPs in CIDR lists, time of day, and one condition
in ten a regex), compiles them once with `compile_ruleset`, then evaluates a mix of alert, email, web
and API tickets against the whole ruleset. Prints µs per ticket and appends the figures to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import append_results, percentile  # noqa: E402

from socdesk.routing.matching import compile_ruleset  # noqa: E402
from socdesk.routing.vocabulary import ActionSpec, ConditionSpec, FilterSpec, MatchSubject  # noqa: E402

WORDS = [
    "phishing",
    "malware",
    "ransomware",
    "brute force",
    "vpn",
    "password",
    "invoice",
    "powershell",
    "lateral",
    "exfiltration",
    "beacon",
    "scan",
    "login",
    "mfa",
    "usb",
    "dns",
    "tor",
    "crypto",
]
DOMAINS = ["example.test", "corp.test", "partner.test", "mail.test", "vendor.test", "bank.test"]
HOSTS = ["ws-042", "srv-db-01", "dc-01", "fw-edge", "vpn-gw", "mail-01", "web-03"]
SEVERITIES = ["info", "low", "medium", "high", "critical"]


def random_condition(rng: random.Random) -> ConditionSpec:
    kind = rng.randrange(10)
    if kind == 0:  # one condition in ten is a regex
        return ConditionSpec("subject", "matches", rf"\b{rng.choice(WORDS)}\b.*(ws|srv)-\d+")
    if kind == 1:
        return ConditionSpec("subject", "contains", rng.choice(WORDS))
    if kind == 2:
        return ConditionSpec("requester_domain", "in_list", rng.sample(DOMAINS, 2))
    if kind == 3:
        return ConditionSpec("severity", "greater_than", rng.choice(SEVERITIES[:4]))
    if kind == 4:
        return ConditionSpec("alert.raw.rule.level", "greater_than", rng.randrange(3, 14))
    if kind == 5:
        cidrs = [f"10.{rng.randrange(256)}.0.0/16" for _ in range(5)]
        return ConditionSpec("observable.ip", "in_cidr", cidrs)
    if kind == 6:
        return ConditionSpec("tags", "equals", rng.choice(WORDS))
    if kind == 7:
        return ConditionSpec("alert.labels.host", "starts_with", rng.choice(HOSTS)[:3])
    if kind == 8:
        return ConditionSpec("custom.asset_owner", "equals", rng.choice(["finance", "hr", "it", "sales"]))
    return ConditionSpec("time_of_day", "greater_than", f"{rng.randrange(24):02d}:00")


def random_filters(count: int, rng: random.Random) -> list[FilterSpec]:
    channels = ["alert"] * 5 + ["email"] * 2 + ["any"] * 2 + ["web", "api"]
    filters = []
    for i in range(count):
        actions = [ActionSpec("set_team", rng.randrange(1, 20)), ActionSpec("add_tags", [rng.choice(WORDS)])]
        if rng.random() < 0.2:
            actions.append(ActionSpec("set_severity", rng.choice(SEVERITIES)))
        filters.append(
            FilterSpec(
                id=i + 1,
                name=f"filter {i + 1}",
                order=i,
                channel=rng.choice(channels),
                match_all=rng.random() < 0.8,
                conditions=tuple(random_condition(rng) for _ in range(rng.randint(1, 3))),
                actions=tuple(actions),
                time_zone=rng.choice(["UTC", "Europe/Paris", "America/New_York"]),
            )
        )
    return filters


def random_subject(rng: random.Random, start: datetime) -> MatchSubject:
    channel = rng.choice(["alert"] * 6 + ["email"] * 2 + ["web", "api"])
    words = " ".join(rng.sample(WORDS, 3))
    subject = f"{words.capitalize()} on {rng.choice(HOSTS)}"
    alert = None
    observables: tuple[tuple[str, str], ...] = ()
    if channel == "alert":
        ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
        alert = {
            "title": subject,
            "severity": rng.choice(SEVERITIES),
            "labels": {"host": rng.choice(HOSTS), "env": rng.choice(["prod", "staging"])},
            "raw": {
                "rule": {"level": rng.randrange(1, 16), "id": rng.randrange(100000)},
                "agent": {"ip": ip},
            },
        }
        observables = (("ip", ip), ("hostname", rng.choice(HOSTS)))
    return MatchSubject(
        channel=channel,
        received_at=start + timedelta(minutes=rng.randrange(60 * 24 * 7)),
        requester_name="Dana Reyes",
        requester_email=f"dana@{rng.choice(DOMAINS)}",
        subject=subject,
        body=" ".join(rng.choice(WORDS) for _ in range(60)),
        severity=rng.choice(SEVERITIES),
        source=channel,
        tags=tuple(rng.sample(WORDS, 2)),
        custom_fields={"asset_owner": rng.choice(["finance", "hr", "it", "sales"])},
        alert=alert,
        observables=observables,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--filters", type=int, default=200)
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()

    rng = random.Random(11)
    specs = random_filters(args.filters, rng)
    started = time.perf_counter()
    ruleset = compile_ruleset(specs)
    compile_ms = (time.perf_counter() - started) * 1000
    subjects = [random_subject(rng, datetime(2026, 3, 2, tzinfo=UTC)) for _ in range(args.tickets)]
    for subject in subjects[:200]:  # warm up
        ruleset.evaluate(subject)
    samples = []
    matched = 0
    cpu_began = time.process_time()
    for subject in subjects:
        start = time.perf_counter()
        result = ruleset.evaluate(subject)
        samples.append((time.perf_counter() - start) * 1e6)
        matched += len(result.matched)
    # CPU time per ticket as well as wall time: on a shared machine the wall time includes the moments
    # the process waited for a core, which is not the cost of evaluating filters.
    cpu_us = (time.process_time() - cpu_began) / len(subjects) * 1e6
    # A fixed pure-Python loop, so a reader can tell a slow machine from a slow change.
    loop_start = time.process_time()
    sum(range(3 * 10**7))
    loop_seconds = time.process_time() - loop_start

    mean = sum(samples) / len(samples)
    body = (
        "| filters | tickets | matches per ticket | compile ms | CPU µs/ticket | wall mean µs | wall p50 µs "
        "| wall p95 µs | `sum(range(3e7))` CPU s |\n|---|---|---|---|---|---|---|---|---|\n"
        f"| {args.filters} | {len(subjects):,} | {matched / len(subjects):.1f} | {compile_ms:.1f} "
        f"| {cpu_us:.0f} | {mean:.0f} | {percentile(samples, 50):.0f} | {percentile(samples, 95):.0f} "
        f"| {loop_seconds:.2f} |\n"
    )
    print(body)
    if not args.no_append:
        command = ("python bench/routing.py " + " ".join(sys.argv[1:])).strip()
        path = append_results(
            "Ticket filter evaluation, per ticket", command, "none (pure evaluation in memory)", body
        )
        print(f"Appended to {path}")


if __name__ == "__main__":
    main()
