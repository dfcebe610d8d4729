"""`socdesk worker`: the Huey consumer that runs background and periodic jobs."""

from __future__ import annotations

from django.conf import settings
from huey.contrib.djhuey.management.commands.run_huey import Command as RunHuey

from socdesk.alerts.ingest.loop import start_ingest_thread
from socdesk.mail.spool_drain import start_spool_thread


class Command(RunHuey):
    help = (
        "Run the background worker: the alert ingest loop and the mail spool (`mail pipe --queue`), "
        "plus the Huey consumer for queued jobs and "
        "periodic ones such as audit sealing. "
        "Run any number of them on any number of machines when REDIS_URL points them at one queue."
    )

    def handle(self, *args, **options):
        queue = f"Redis {settings.REDIS_URL}" if settings.REDIS_URL else f"SQLite {settings.HUEY['filename']}"
        threads = options.get("workers") or settings.HUEY.get("consumer", {}).get("workers")
        self.stdout.write(
            f"SOCdesk worker: queue on {queue}, {threads} thread(s), "
            "plus the alert ingest loop and the mail spool."
        )
        self.stdout.flush()
        ingest, stop_ingest = start_ingest_thread()
        spool, stop_spool = start_spool_thread()
        try:
            super().handle(*args, **options)
        except KeyboardInterrupt:
            # Ctrl-C while the consumer was still starting, before it installed its own signal
            # handlers (which turn SIGINT into a graceful stop): its threads are daemons, so just leave.
            self.stdout.write("SOCdesk worker stopped during start-up.")
        finally:
            # Let the current batch commit (or roll back: its deliveries stay pending, nothing is lost).
            stop_ingest.set()
            stop_spool.set()
            ingest.join(timeout=30)
            spool.join(timeout=30)
