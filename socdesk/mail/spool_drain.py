"""The worker's side of the mail spool: import what `socdesk mail pipe --queue` stored (socdesk.mail.spool).

Each message is claimed by renaming it from new/ to cur/ (one rename: of two workers sharing the data dir,
one gets it, the other a FileNotFoundError), imported with `mail_receive_many` (a batch with one commit,
each message exactly as a synchronous pipe imports it), then removed once the batch has committed. A
message a worker held when it died is put back in new/ after STALE_SECONDS and imported again; its
Message-ID makes the second import a duplicate if the first had committed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

from socdesk.accounts.models import Department
from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.mail.inbound import Receipt, mail_receive_many
from socdesk.mail.spool import spool_department, spool_root

log = logging.getLogger(__name__)

PIPE_ACTOR = Actor.system("mail:pipe")
STALE_SECONDS = 300.0
POLL_SECONDS = 0.5
ERROR_BACKOFF_SECONDS = 5.0
BATCH = 20  # messages imported with one commit


@dataclass
class SpoolReport:
    """What one drain did: outcomes by name (created, added, duplicate...; refused, failed, waiting)."""

    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    @property
    def imported(self) -> int:
        return sum(n for name, n in self.outcomes.items() if name not in ("refused", "failed", "waiting"))


def spool_claim(root: Path, limit: int) -> list[Path]:
    """Take up to `limit` waiting messages, oldest first (names start with the time they were piped)."""
    claimed: list[Path] = []
    for name in sorted(os.listdir(root / "new"))[: limit * 2]:
        target = root / "cur" / name
        try:
            os.rename(root / "new" / name, target)
        except FileNotFoundError:
            continue  # another worker took it
        os.utime(target)  # the claim's time, for spool_requeue_stale
        claimed.append(target)
        if len(claimed) == limit:
            break
    return claimed


def spool_requeue_stale(root: Path, *, older_than: float = STALE_SECONDS) -> int:
    """Put back in new/ the messages claimed longer ago than `older_than` seconds (their worker died)."""
    limit, moved = time.time() - older_than, 0
    for entry in os.scandir(root / "cur"):
        try:
            if entry.stat().st_mtime < limit:
                os.rename(entry.path, root / "new" / entry.name)
                moved += 1
        except FileNotFoundError:
            continue
    return moved


def _root(base: Path | None) -> Path:
    return spool_root(base or Path(settings.DATA_DIR))


def _put(path: Path, state: str) -> None:
    os.rename(path, path.parent.parent / state / path.name)


def spool_drain(*, base: Path | None = None, limit: int = 100) -> SpoolReport:
    """Import up to `limit` spooled messages, BATCH at a time with one commit (each in its own
    savepoint; each batch claimed only when the previous one is done, so several workers share the
    spool), and remove each file once its batch has committed. A message a ticket filter refuses goes
    to refused/, one that crashes the import to failed/ (both logged); when the database cannot be
    reached, or a department is missing, the messages go back to new/ and the drain stops, to be tried
    again."""
    root, report = _root(base), SpoolReport()
    departments: dict[str, Department | None] = {}
    taken = 0
    while taken < limit:
        # A batch's worth at a time: what this worker has not begun stays in new/ for the other workers.
        claimed = spool_claim(root, min(BATCH, limit - taken))
        if not claimed:
            break
        taken += len(claimed)
        if not _import_claimed(claimed, departments, report):
            break
    return report


def _import_claimed(
    claimed: list[Path], departments: dict[str, Department | None], report: SpoolReport
) -> bool:
    """Import claimed messages, a batch per department; False when they had to be put back (the drain
    stops)."""
    batches: list[list[Path]] = []
    for path in claimed:  # consecutive messages for one department share a batch
        if (
            batches
            and len(batches[-1]) < BATCH
            and spool_department(batches[-1][0]) == spool_department(path)
        ):
            batches[-1].append(path)
        else:
            batches.append([path])
    for index, batch in enumerate(batches):
        slug = spool_department(batch[0])
        try:
            if slug and slug not in departments:
                departments[slug] = Department.objects.filter(slug=slug).first()
            if slug and departments[slug] is None:
                raise ServiceError(f"There is no department {slug!r}; fix --department in the pipe command.")
            results = mail_receive_many(
                [path.read_bytes() for path in batch],
                actor=PIPE_ACTOR,
                channel="pipe",
                department=departments.get(slug),
            )
            for result in results:
                if (
                    isinstance(result, ServiceError)
                    and not isinstance(result, PermissionDenied)
                    and "message" not in result.fields
                ):
                    raise result  # not the messages' fault (no department yet): they all wait
        except (OperationalError, InterfaceError, ServiceError) as exc:
            log.error("mail spool: %s waits: %s", batch[0].name, getattr(exc, "message", exc))
            waiting = [path for rest in batches[index:] for path in rest]
            for path in waiting:
                _put(path, "new")
            report.outcomes["waiting"] = len(waiting)
            if isinstance(exc, (OperationalError, InterfaceError)):
                connection.close()
            return False
        for path, result in zip(batch, results, strict=True):
            if isinstance(result, Receipt):
                path.unlink()
                report.count(result.outcome)
            elif isinstance(result, PermissionDenied):
                log.warning(
                    "mail spool: %s refused by a filter (%s); kept in refused/", path.name, result.message
                )
                _put(path, "refused")
                report.count("refused")
            else:
                log.error("mail spool: %s could not be imported; kept in failed/", path.name, exc_info=result)
                _put(path, "failed")
                report.count("failed")
    return True


def spool_retry(*, base: Path | None = None) -> int:
    """Put the refused and failed messages back in new/ (after fixing a filter or a fault)."""
    root, moved = _root(base), 0
    for state in ("refused", "failed"):
        for entry in os.scandir(root / state):
            os.rename(entry.path, root / "new" / entry.name)
            moved += 1
    return moved


def spool_counts(*, base: Path | None = None) -> dict[str, int]:
    """Messages in each folder (waiting in new/, being imported in cur/, refused, failed)."""
    root = _root(base)
    return {state: sum(1 for _ in os.scandir(root / state)) for state in ("new", "cur", "refused", "failed")}


def run_spool_loop(stop: threading.Event, *, base: Path | None = None) -> None:
    """Drain the spool until `stop` is set; never raises (errors are logged and retried)."""
    last_requeue = -float("inf")
    while not stop.is_set():
        try:
            root = _root(base)
            if time.monotonic() - last_requeue >= 60:
                spool_requeue_stale(root)
                last_requeue = time.monotonic()
            report = spool_drain(base=base)
        except Exception:
            log.exception("the mail spool loop failed; retrying in %s s", ERROR_BACKOFF_SECONDS)
            connection.close()
            stop.wait(ERROR_BACKOFF_SECONDS)
            continue
        if report.imported:
            log.info("imported %d spooled e-mail(s): %s", report.imported, report.outcomes)
        if report.outcomes.get("waiting"):
            stop.wait(ERROR_BACKOFF_SECONDS)
        elif not report.outcomes:
            stop.wait(POLL_SECONDS)


def start_spool_thread(*, base: Path | None = None) -> tuple[threading.Thread, threading.Event]:
    """Run the spool loop in a daemon thread; set the returned event to stop it after its current message."""
    stop = threading.Event()

    def run() -> None:
        try:
            run_spool_loop(stop, base=base)
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="socdesk-mail-spool", daemon=True)
    thread.start()
    return thread, stop
