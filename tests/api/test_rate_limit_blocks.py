"""The API rate limit counted in blocks: each process reserves 1% of the limit at a time from the shared
counter and admits from memory, never more than the limit across processes, on both shared caches."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socdesk.accounts import keyauth
from socdesk.accounts.keyauth import RateAllowance, RateLimited, check_rate_limit
from socdesk.accounts.services import apikey_create
from socdesk.core.actor import Actor

SETUP = Actor.system("test")


@pytest.fixture
def shared_cache(shared_cache):
    """The shared cache (tests/conftest.py), with no slots this process reserved in an earlier test."""
    keyauth._allowance.forget()
    yield shared_cache
    keyauth._allowance.forget()


def _hammer(processes: list[RateAllowance], threads_each: int, tries: int, name: str, limit: int) -> int:
    """Every process's threads try `tries` admissions each, all at once; how many were admitted."""
    admitted: list[int] = []
    barrier = threading.Barrier(len(processes) * threads_each)

    def run(process: RateAllowance) -> None:
        got = 0
        try:
            barrier.wait(timeout=30)
            for _ in range(tries):
                got += process.admit(name, 1, limit, limit // keyauth.RESERVE_SHARE)
        finally:
            admitted.append(got)
            connection.close()

    threads = [threading.Thread(target=run, args=(p,)) for p in processes for _ in range(threads_each)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(admitted) == len(threads)
    return sum(admitted)


@pytest.mark.django_db(transaction=True)
def test_processes_and_threads_together_never_admit_more_than_the_limit(shared_cache):
    # Four processes of four threads, 1,600 tries each: far over the limit, so every slot reserved
    # within it is used, and exactly the limit is admitted.
    processes = [RateAllowance() for _ in range(4)]
    assert _hammer(processes, 4, 400, "socdesk:ratelimit:blocks:1", 1000) == 1000


@pytest.mark.django_db(transaction=True)
def test_a_request_is_refused_early_by_at_most_the_blocks_other_processes_hold(shared_cache):
    limit, name = 1000, "socdesk:ratelimit:early:1"
    holder, busy = RateAllowance(), RateAllowance()
    assert holder.admit(name, 1, limit, 10)  # reserves a block of 10, uses one
    # The other process gets everything but the holder's block...
    assert _hammer([busy], 2, 1000, name, limit) == limit - 10
    # ...and the holder still has its nine.
    assert sum(holder.admit(name, 1, limit, 10) for _ in range(20)) == 9


@pytest.mark.django_db(transaction=True)
def test_a_block_costs_one_counter_addition_and_a_full_window_none(settings):
    settings.SOCDESK_API_RATE_LIMIT = 200  # blocks of 2
    cache.clear()
    key, _ = apikey_create(actor=SETUP, name="k", scopes=["tickets:create"])
    check_rate_limit(key)  # creates the counter
    check_rate_limit(key)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(198):
            check_rate_limit(key)
    # 99 blocks of two: one read and one update of the counter each (and the transaction's own
    # statements, which SQLite's backend shows), not one addition per request.
    assert sum("socdesk_cache" in q["sql"] for q in queries.captured_queries) == 2 * 99
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            with pytest.raises(RateLimited) as refused:
                check_rate_limit(key)
            assert refused.value.retry_after >= 1 and "200 requests per minute" in refused.value.message
    # The block that reached the limit told the process the window is full: refusing costs nothing.
    assert queries.captured_queries == []
    cache.clear()


@pytest.mark.django_db(transaction=True)
def test_a_lower_limit_applies_at_once_to_slots_reserved_under_the_old_one(settings):
    cache.clear()
    key, _ = apikey_create(actor=SETUP, name="k", scopes=["tickets:create"])
    settings.SOCDESK_API_RATE_LIMIT = 6000
    check_rate_limit(key)  # the process now holds 59 more of a block of 60
    settings.SOCDESK_API_RATE_LIMIT = 50
    with pytest.raises(RateLimited):  # the shared count (60) is over the new limit
        check_rate_limit(key)
    settings.SOCDESK_API_RATE_LIMIT = 6000
    # Back under the old limit the process's remaining slots count again; nothing was lost.
    for _ in range(59):
        check_rate_limit(key)
    cache.clear()
