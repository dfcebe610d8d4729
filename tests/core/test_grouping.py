"""GroupRunner: a leader waits for the callers it knows are arriving, and never for a lone caller."""

from __future__ import annotations

import threading
import time

from socdesk.core.grouping import GroupRunner


def _recording_runner(max_wait: float) -> tuple[GroupRunner[str, str], list[list[str]]]:
    groups: list[list[str]] = []

    def run_many(values: list[str]) -> list[str]:
        groups.append(list(values))
        return [value.upper() for value in values]

    return GroupRunner(run_many, max_wait=max_wait), groups


def _wait_until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert condition()


def test_a_lone_announced_caller_runs_at_once():
    runner, groups = _recording_runner(max_wait=3600)  # were it to wait, the test would hang
    with runner.arriving():
        assert runner.submit("a") == "A"
    assert groups == [["a"]]
    assert runner._arriving == 0


def test_the_leader_waits_for_a_caller_known_to_be_arriving():
    runner, groups = _recording_runner(max_wait=3600)
    late_may_submit, late_announced = threading.Event(), threading.Event()
    results: dict[str, str] = {}

    def late() -> None:
        with runner.arriving():
            late_announced.set()
            late_may_submit.wait(timeout=30)
            results["late"] = runner.submit("late")

    def early() -> None:
        with runner.arriving():
            results["early"] = runner.submit("early")

    late_thread = threading.Thread(target=late)
    late_thread.start()
    late_announced.wait(timeout=30)
    early_thread = threading.Thread(target=early)
    early_thread.start()
    _wait_until(lambda: len(runner._queue) == 1)  # the early caller leads and waits for the late one
    late_may_submit.set()
    for thread in (late_thread, early_thread):
        thread.join(timeout=30)
    assert groups == [["early", "late"]]  # one run for both, not a run each
    assert results == {"early": "EARLY", "late": "LATE"}


def test_a_caller_that_leaves_without_submitting_releases_the_leader():
    runner, groups = _recording_runner(max_wait=3600)
    refused_may_leave, refused_announced = threading.Event(), threading.Event()

    def refused() -> None:
        with runner.arriving():
            refused_announced.set()
            refused_may_leave.wait(timeout=30)

    refused_thread = threading.Thread(target=refused)
    refused_thread.start()
    refused_announced.wait(timeout=30)
    leader = threading.Thread(target=lambda: runner.submit("only"))
    leader.start()
    _wait_until(lambda: len(runner._queue) == 1)
    refused_may_leave.set()
    leader.join(timeout=30)
    refused_thread.join(timeout=30)
    assert not leader.is_alive() and groups == [["only"]]


def test_the_wait_is_bounded():
    runner, groups = _recording_runner(max_wait=0.05)
    stuck_may_leave, stuck_announced = threading.Event(), threading.Event()

    def stuck() -> None:
        with runner.arriving():
            stuck_announced.set()
            stuck_may_leave.wait(timeout=30)

    stuck_thread = threading.Thread(target=stuck)
    stuck_thread.start()
    stuck_announced.wait(timeout=30)
    assert runner.submit("alone") == "ALONE"  # ran after max_wait although the other never came
    stuck_may_leave.set()
    stuck_thread.join(timeout=30)
    assert groups == [["alone"]]


def _serve_two_together(runner: GroupRunner[str, str], first: str, second: str) -> None:
    """Two announced callers in one group: the second announces itself before the first submits."""
    second_announced, second_may_submit = threading.Event(), threading.Event()

    def later() -> None:
        with runner.arriving():
            second_announced.set()
            second_may_submit.wait(timeout=30)
            runner.submit(second)

    def sooner() -> None:
        with runner.arriving():
            runner.submit(first)

    later_thread = threading.Thread(target=later)
    later_thread.start()
    second_announced.wait(timeout=30)
    sooner_thread = threading.Thread(target=sooner)
    sooner_thread.start()
    _wait_until(lambda: len(runner._queue) == 1)
    second_may_submit.set()
    for thread in (later_thread, sooner_thread):
        thread.join(timeout=30)


def test_a_leader_expects_the_callers_it_served_back():
    runner, groups = _recording_runner(max_wait=3600)  # were the second never awaited, it would hang
    runner.wait_for_returning = True
    _serve_two_together(runner, "a1", "b1")
    assert runner._inside == 0  # both callers are gone: neither is announced when the next group forms
    results: dict[str, str] = {}

    def comes_back(value: str) -> None:
        with runner.arriving():
            results[value] = runner.submit(value)

    first_back = threading.Thread(target=comes_back, args=("a2",))
    first_back.start()
    _wait_until(lambda: len(runner._queue) == 1)  # it leads, and waits for the other of its two clients
    second_back = threading.Thread(target=comes_back, args=("b2",))
    second_back.start()
    for thread in (first_back, second_back):
        thread.join(timeout=30)
    assert groups == [["a1", "b1"], ["a2", "b2"]]  # without the expectation: ["a2"], then ["b2"]
    assert results == {"a2": "A2", "b2": "B2"}


def test_without_the_expectation_a_returning_caller_runs_at_once():
    runner, groups = _recording_runner(max_wait=3600)  # were it to wait, the test would hang
    _serve_two_together(runner, "a1", "b1")
    with runner.arriving():
        assert runner.submit("a2") == "A2"
    assert groups == [["a1", "b1"], ["a2"]]


def test_the_expectation_follows_the_load_down():
    runner, groups = _recording_runner(max_wait=0.05)
    runner.wait_for_returning = True
    _serve_two_together(runner, "a1", "b1")
    with runner.arriving():  # its partner never comes back: it runs alone after max_wait
        assert runner.submit("a2") == "A2"
    runner.max_wait = 3600  # one caller was inside since: the next lone caller expects nobody
    with runner.arriving():
        assert runner.submit("a3") == "A3"
    assert groups == [["a1", "b1"], ["a2"], ["a3"]]


def test_a_lone_caller_expecting_returns_runs_at_once():
    runner, groups = _recording_runner(max_wait=3600)
    runner.wait_for_returning = True
    for value in ("a", "b"):
        with runner.arriving():
            assert runner.submit(value) == value.upper()
    assert groups == [["a"], ["b"]]


def test_a_waiting_leader_is_woken_once_its_group_is_complete_not_at_every_arrival():
    runner, groups = _recording_runner(max_wait=3600)
    wake_ups: list[int] = []
    notify = runner._arrived.notify

    def counted_notify(n: int = 1) -> None:
        wake_ups.append(len(runner._queue))
        notify(n)

    runner._arrived.notify = counted_notify  # type: ignore[method-assign]
    others = ("b", "c", "d")
    announced = {value: threading.Event() for value in others}
    may_submit = {value: threading.Event() for value in others}
    results: dict[str, str] = {}

    def arriving_caller(value: str) -> None:
        with runner.arriving():
            announced[value].set()
            may_submit[value].wait(timeout=30)
            results[value] = runner.submit(value)

    threads = [threading.Thread(target=arriving_caller, args=(value,)) for value in others]
    for thread in threads:
        thread.start()
    for value in others:
        announced[value].wait(timeout=30)
    leader = threading.Thread(target=lambda: results.update(a=runner.submit("a")))
    leader.start()
    _wait_until(lambda: len(runner._queue) == 1)  # the leader waits for the three announced callers
    for count, value in enumerate(others, start=2):
        may_submit[value].set()
        _wait_until(lambda count=count: len(runner._queue) == count or not runner._queue)
    for thread in (*threads, leader):
        thread.join(timeout=30)
    assert groups == [["a", "b", "c", "d"]]
    assert results == {"a": "A", "b": "B", "c": "C", "d": "D"}
    assert wake_ups == [4]  # one wake-up, when the last announced caller queued
