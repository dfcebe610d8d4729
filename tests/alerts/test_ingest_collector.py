"""The garbage collector waits while a batch is processed, and is back on after it, whatever happened."""

from __future__ import annotations

import gc
import threading

import pytest

from socdesk.alerts.ingest import deliveries_process, delivery_receive
from socdesk.alerts.ingest.collector import collection_paused

from .conftest import sample


@pytest.fixture(autouse=True)
def collector_on():
    assert gc.isenabled()
    yield
    gc.enable()


def test_the_collector_is_off_in_the_block_and_on_after_it():
    with collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_is_on_again_after_an_error():
    with pytest.raises(ValueError), collection_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    with collection_paused():
        pass
    assert not gc.isenabled()


def test_overlapping_blocks_in_two_threads_turn_it_on_once_the_last_ends():
    entered, release = threading.Event(), threading.Event()

    def other() -> None:
        with collection_paused():
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    with collection_paused():
        thread.start()
        assert entered.wait(10)
    assert not gc.isenabled()  # the other thread's batch is still running
    release.set()
    thread.join(10)
    assert gc.isenabled()


@pytest.mark.django_db
def test_processing_deliveries_pauses_the_collector(make_integration, monkeypatch):
    """Seen from inside: the adapter's observables are found with the collector off."""
    integration = make_integration("alertmanager")
    seen: list[bool] = []
    from socdesk.alerts.ingest import prepare

    real = prepare.observable_pairs

    def observing(alert):
        seen.append(gc.isenabled())
        return real(alert)

    monkeypatch.setattr(prepare, "observable_pairs", observing)
    delivery = delivery_receive(
        adapter="alertmanager", body=sample("alertmanager_v4.json"), integration=integration
    )
    assert deliveries_process(delivery_ids=[delivery.pk]) == {delivery.pk: "processed"}
    assert seen == [False] and gc.isenabled()
