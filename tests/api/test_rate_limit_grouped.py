"""The API rate limit counts the requests of one moment in one counter addition, with the same limits."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socdesk.accounts import keyauth
from socdesk.accounts.keyauth import RateLimited, check_rate_limit
from socdesk.accounts.services import apikey_create
from socdesk.core.actor import Actor

SETUP = Actor.system("test")


@pytest.mark.django_db(transaction=True)
def test_requests_counted_together_share_one_addition_and_keep_the_limit(monkeypatch, settings):
    settings.SOCDESK_API_RATE_LIMIT = 5
    key, _ = apikey_create(actor=SETUP, name="k", scopes=["tickets:create"])
    real_run = keyauth._counts.run_many
    sizes, first_run = [], threading.Event()

    def hold_first_group(names):  # the first count waits until the others queued behind it
        sizes.append(len(names))
        if len(sizes) == 1:
            first_run.wait(timeout=30)
        return real_run(names)

    monkeypatch.setattr(keyauth._counts, "run_many", hold_first_group)
    outcomes: list[str] = []

    def hit() -> None:
        try:
            check_rate_limit(key)
            outcomes.append("ok")
        except RateLimited as exc:
            outcomes.append(f"429 {exc.retry_after > 0}")
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(8)]
    threads[0].start()
    deadline = time.monotonic() + 30
    while not sizes and time.monotonic() < deadline:
        time.sleep(0.01)
    for thread in threads[1:]:
        thread.start()
    while len(keyauth._counts._queue) < 7 and time.monotonic() < deadline:
        time.sleep(0.01)
    first_run.set()
    for thread in threads:
        thread.join(timeout=60)
    assert sizes == [1, 7]  # the seven that queued were counted in one addition
    assert sorted(outcomes) == ["429 True"] * 3 + ["ok"] * 5


@pytest.mark.django_db
def test_counts_of_a_group_are_those_one_by_one_additions_give():
    first = keyauth._count_many(["socdesk:ratelimit:a:1", "socdesk:ratelimit:b:1", "socdesk:ratelimit:a:1"])
    assert first == [1, 1, 2]
    with CaptureQueriesContext(connection) as queries:
        again = keyauth._count_many(["socdesk:ratelimit:a:1"] * 4)
    assert again == [3, 4, 5, 6]
    # One addition for the four (a select and an update of the counter, whatever else the backend adds).
    assert sum("socdesk_cache" in q["sql"] for q in queries.captured_queries) == 2
