"""Benchmark: knowledge base search and a ticket's suggested articles on a large knowledge base.

    python bench/kb_search.py                          # PostgreSQL, 20,000 articles (seeded once, reused)
    python bench/kb_search.py --db sqlite --articles 20000

Seeds N articles (a few paragraphs each, a rare word in 10 of them) into a dedicated benchmark database
(never your own), then times the knowledge base's search (`article_search`: a rare word, a common word,
a phrase, a word left out) and the suggestions' ranked query for a ticket's subject and observables
(`ranked_ids(any_of=True)`, the query `articles_suggested_for` runs). Prints p50/p95 and, on PostgreSQL,
EXPLAIN ANALYZE of the search and suggestion queries (which must use the GIN index), and
appends the figures to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import append_results, configure, percentile

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/socdesk_bench_kb"
RARE = "quetzalcoatl"
WORDS = tuple(
    " ".join(
        [
            "phishing credential reset mailbox forward quarantine endpoint isolate memory triage sender",
            "domain spf dkim dmarc header attachment macro powershell beacon proxy firewall block allow",
            "vpn token password account lockout escalate ticket verdict benign malicious report user",
            "laptop server log search recipients campaign invoice payload sandbox detonate hash ioc",
            "indicator rule alert siem",
        ]
    ).split(" ")
)


def seed(count: int) -> None:
    from django.utils import timezone

    from socdesk.kb.models import Article, Category

    have = Article.objects.count()
    if have >= count:
        return
    rng = random.Random(42)
    # Each article is about two of the security words (so a common one such as "phishing" is in about
    # one article in thirty), padded with filler from a larger vocabulary drawn Zipf-like.
    filler = [f"w{n}" for n in range(5000)]
    weights = [1 / (rank + 1) for rank in range(len(filler))]
    category, _ = Category.objects.get_or_create(name="Bench", defaults={"order": 0})
    now = timezone.now()
    batch = []
    for n in range(have, count):
        topic = rng.sample(WORDS, 2)
        paragraphs = [
            " ".join(rng.choices(filler, weights, k=50) + topic + rng.choices(topic, k=3)) + "."
            for _ in range(4)
        ]
        if n % (count // 10) == 0:
            paragraphs.append(f"Sample named {RARE}.exe seen once.")
        batch.append(
            Article(
                title=f"{topic[0].capitalize()} and {topic[1]}: note {n}",
                body="\n\n".join(paragraphs),
                visibility="public" if n % 4 == 0 else "internal",
                category=category,
                created_at=now,
                updated_at=now,
            )
        )
        if len(batch) == 2000:
            Article.objects.bulk_create(batch)
            batch = []
    Article.objects.bulk_create(batch)


def timed(fn, repeat: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return percentile(times, 50), percentile(times, 95), result


def explain(sql_texts: list[str], any_of: bool) -> str:
    """EXPLAIN ANALYZE of the ranked query, as `ranked_ids` builds it (PostgreSQL)."""
    from django.db import connection

    from socdesk.kb.search import CONFIG, DOCUMENT, TABLE

    joiner = " || " if any_of else " && "
    query = "(" + joiner.join(f"phraseto_tsquery('{CONFIG}', %s)" for _ in sql_texts) + ")"
    sql = (
        f"EXPLAIN ANALYZE SELECT id FROM {TABLE} WHERE {DOCUMENT} @@ {query} "
        f"ORDER BY ts_rank('{{0.1, 0.2, 0.4, 1.0}}', {DOCUMENT}, {query}) DESC, id LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*sql_texts, *sql_texts, 500])
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    import os

    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_PG)
    db = configure(args.db)
    seed(args.articles)
    from django.db import connection

    from socdesk.kb.search import ranked_ids, suggestion_terms
    from socdesk.kb.selectors import article_search, articles_for_agents

    subject = "Phishing e-mail with a macro attachment reported by finance"
    observables = ["203.0.113.7", "evil.example", "invoice.docm"]
    terms = suggestion_terms(subject, observables)
    cases = [
        (f"search: rare word ({RARE})", lambda: article_search(articles_for_agents(), RARE)[0]),
        ("search: common word (phishing)", lambda: article_search(articles_for_agents(), "phishing")[0]),
        (
            'search: phrase ("phishing invoice")',
            lambda: article_search(articles_for_agents(), '"phishing invoice"')[0],
        ),
        (
            "search: two words, one left out",
            lambda: article_search(articles_for_agents(), "vpn token -macro")[0],
        ),
        (
            f"suggestions: {len(terms)} terms, any of them, top 5",
            lambda: ranked_ids(terms, any_of=True, limit=5),
        ),
    ]
    rows = ["| query | results | p50 ms | p95 ms |", "|---|---:|---:|---:|"]
    for label, fn in cases:
        p50, p95, result = timed(fn, args.repeat)
        rows.append(f"| {label} | {len(result)} | {p50:.1f} | {p95:.1f} |")
    body = f"{args.articles:,} articles, {args.repeat} runs each.\n\n" + "\n".join(rows) + "\n"
    if connection.vendor == "postgresql":
        body += "\nEXPLAIN ANALYZE, common word:\n\n```\n" + explain(["phishing"], False) + "\n```\n"
        body += "\nEXPLAIN ANALYZE, suggestions:\n\n```\n" + explain(terms, True) + "\n```\n"
    print(db)
    print(body)
    command = f"python bench/kb_search.py --db {args.db} --articles {args.articles}"
    append_results("Knowledge base search", command, db, body)


if __name__ == "__main__":
    main()
