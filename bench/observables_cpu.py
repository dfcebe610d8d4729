"""Benchmark: CPU to find the observables in one ticket's or alert's text, with and without the pre-check.

    python bench/observables_cpu.py              # 300 distinct texts of each kind (no cache hits)
    python bench/observables_cpu.py --texts 1000 --no-append

Every ticket opened through the osTicket-compatible API, the console or the REST API, and every new
alert, has its subject and message searched for observables (socdesk.alerts.observables.from_text:
ioc-finder plus the internal-FQDN fallback). This measures that step alone, in one process, on
realistic texts made distinct (so the results cache never answers): the SOC lab's Kibana XML message
with a source address, the alert fixtures' titles and descriptions, and tickets that name no observable
(prose). "parser" is ioc-finder on every text; "with pre-check" is what runs: `may_hold_observables`
first, the parser only when the text may hold something. Figures are appended to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import ROOT, append_results, configure

SAMPLES = Path("/work/shared/samples/alerts")
FIXTURES = ROOT / "tests" / "alerts" / "fixtures"
PROSE = [
    "The printer on floor {n} is jammed again. Please send someone, thanks!",
    "Password reset for my account please\nI am locked out since this morning (ticket {n}).",
    "New starter on Monday: laptop, badge and the usual accounts, please. Ref {n}",
    "Meeting room {n} screen does not turn on; it worked yesterday.",
]


def kibana_texts(count: int) -> list[str]:
    """The osTicket XML body a Kibana Webhook connector sends (subject and message, as extracted)."""
    template = (
        "Potential SSH Brute Force Detected\nPlease investigate Potential SSH Brute Force Detected\n"
        "Rule URL: https://kibana.lab.local:5601/app/security/rules/id/8e2f-11ee?x=1&y=2\n"
        "Alert ID: {id}\nSource IP: 192.168.{a}.{b}"
    )
    return [template.format(id=uuid.uuid4(), a=n % 250, b=(n * 7) % 250) for n in range(count)]


def alert_texts(count: int) -> list[str]:
    """Titles and descriptions of the adapters' fixtures, normalised as the ingest engine reads them."""
    from socdesk.alerts import adapters
    from socdesk.alerts.adapters import AdapterSettings

    base = []
    for path in sorted(FIXTURES.glob("*.json")):
        adapter = {
            "alertmanager": "alertmanager",
            "grafana": "grafana",
            "splunk": "splunk",
            "wazuh": "wazuh",
            "azure": "azure-monitor",
            "thehive": "thehive",
            "suricata": "suricata",
        }.get(path.stem.split("_")[0])
        if adapter is None:
            continue
        try:
            alerts = adapters.normalise(adapter, path.read_bytes(), AdapterSettings())
        except Exception:  # a fixture of another shape (a template, a second format): not needed here
            continue
        base += [f"{a.title}\n{a.description}" for a in alerts]
    return [f"{base[n % len(base)]}\nref {n}" for n in range(count)]


def prose_texts(count: int) -> list[str]:
    return [PROSE[n % len(PROSE)].format(n=n) for n in range(count)]


def per_text_ms(texts: list[str], find) -> float:
    start = time.process_time()
    for text in texts:
        find(text)
    return (time.process_time() - start) / len(texts) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--texts", type=int, default=300, help="distinct texts of each kind (default 300)")
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()
    configure("sqlite")
    from socdesk.alerts import observables as obs

    obs.warm_up()
    kinds = {
        "Kibana XML via the osTicket API": kibana_texts(args.texts),
        "alert fixtures (title + description)": alert_texts(args.texts),
        "tickets naming no observable": prose_texts(args.texts),
    }
    rows = []
    for name, texts in kinds.items():
        skipped = sum(not obs.may_hold_observables(t) for t in texts)
        parser_ms = per_text_ms(texts, obs._from_text_parsed)
        obs._from_text.cache_clear()
        with_check_ms = per_text_ms(texts, obs._from_text.__wrapped__)
        rows.append((name, parser_ms, with_check_ms, skipped, len(texts)))
    lines = [
        "| text | parser on every text | with pre-check | texts skipped |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {parser_ms:.3f} ms | {check_ms:.3f} ms | {skipped}/{total} |"
        for name, parser_ms, check_ms, skipped, total in rows
    ]
    table = "\n".join(lines)
    print(table)
    print(json.dumps({"rows": rows}))
    if not args.no_append:
        append_results(
            "Observables in a ticket's text: CPU per text",
            f"python bench/observables_cpu.py --texts {args.texts}",
            "none (CPU only)",
            table,
        )


if __name__ == "__main__":
    main()
