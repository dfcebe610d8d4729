"""`socdesk ingest`: the alert ingest loop alone, in a process of its own."""

from __future__ import annotations

import os
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection

from socdesk.alerts import observables
from socdesk.alerts.ingest_loop import run_ingest_loop


class Command(BaseCommand):
    help = (
        "Turn waiting webhook deliveries into alerts and tickets until SIGINT/SIGTERM (the loop that "
        "every `socdesk worker` also runs, without the job queue). On PostgreSQL, run more of them to "
        "use more cores: each reads and normalises its next batch while another writes. "
        "`socdesk serve` starts SOCDESK_INGEST_PROCESSES of them."
    )

    def handle(self, *args, **options):
        stop = threading.Event()

        def on_signal(signum, _frame):
            stop.set()  # after the current batch commits; a killed one's deliveries wait for their lease

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, on_signal)
        # Below the web server's priority: in a flood, the replies senders wait for come first and the
        # loop takes the CPU left over (the worker's own loop keeps normal priority, so it never stops).
        os.nice(max(0, settings.SOCDESK_INGEST_NICE))
        observables.warm_up()  # before saying it is ready (the benchmark waits for that line)
        where = "PostgreSQL" if settings.DATABASE_URL else "SQLite"
        self.stdout.write(f"SOCdesk ingest loop: processing webhook deliveries ({where}).")
        self.stdout.flush()
        try:
            run_ingest_loop(stop)
        finally:
            connection.close()
        self.stdout.write("SOCdesk ingest loop stopped.")
