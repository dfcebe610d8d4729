"""`socdesk mail fetch [NAME]`: one fetch of the mailboxes now, with progress and a summary per mailbox."""

from __future__ import annotations

from django.core.management.base import CommandError, OutputWrapper

from socdesk.core.errors import ServiceError
from socdesk.mail.fetching import mailbox_fetch
from socdesk.mail.models import Mailbox

PROGRESS_EVERY = 100  # messages between progress lines on a big mailbox


def fetch_now(out: OutputWrapper, *, name: str, drain: bool, processes: int = 1) -> None:
    """Fetch the named mailbox (any, enabled or not) or every enabled one; exit 1 when a fetch ended with an
    error or a message failed (a message refused by a ticket filter is not an error)."""
    if name:
        mailboxes = list(Mailbox.objects.select_related("department").filter(name=name))
        if not mailboxes:
            raise CommandError(f"There is no mailbox {name!r} (`socdesk mailbox list` shows them).")
    else:
        mailboxes = list(Mailbox.objects.select_related("department").filter(enabled=True))
        if not mailboxes:
            out.write("No enabled mailboxes: `socdesk mailbox add` adds one.")
            return
    errors = []
    for mailbox in mailboxes:

        def progress(done: int, found: int, mailbox: Mailbox = mailbox) -> None:
            if done % PROGRESS_EVERY == 0:
                out.write(f"{mailbox.name}: fetched {done}/{found} ...")

        try:
            summary = mailbox_fetch(mailbox, drain=drain, processes=processes, progress=progress)
        except ServiceError as exc:
            errors.append(exc.message)
            out.write(exc.message)
            continue
        out.write(summary.line())
        for problem in summary.problems:
            out.write(f"  {problem}")
        # A message a filter refused is the filter's decision; an error or a fault is worth an exit code.
        if summary.error or summary.failed:
            errors.append(summary.error or f"{summary.failed} message(s) failed")
    if errors:
        raise CommandError(
            f"{len(errors)} mailbox fetch(es) ended with an error or a failed message (above)."
        )
