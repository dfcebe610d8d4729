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
