"""The alert ingest engine: every alert, from every channel, takes this one path.

    webhook / TheHive API / demo       sweep (every minute)      ingest loop (worker, socdesk ingest)
              │                                 │                          │
     receive: delivery_receive                  │                          │
     (body stored and committed:                │                          │
      the 2xx means "will be a ticket")         │                          │
              └────────────► claim (conditional UPDATE / SKIP LOCKED, leases, turns) ◄┘
                                                │                     deliveries.py
                             prepare: adapter → normalised alerts, de-dup keys, observables
                             (no writes, outside every lock)           prepare.py
                                                │
                             plan: for each alert in order — new ticket, repeat, joins a
                             grouped ticket, resolved notice, ignored (the one place that
                             de-duplicates; in memory)                 plan.py, rows.py
                                                │
                             apply: one writer, a few statements per table; ticket changes
                             (severity, auto-resolve) through the tickets services   write.py
                                                │
                             seal: the audit trail's hash chain, by the loop every second (loop.py)

A single alert is a batch of one: the same code decides and writes it. Database-specific SQL (COPY,
`UPDATE ... FROM unnest(arrays)`, advisory locks, SKIP LOCKED) is behind socdesk.core.sql.

Public surface: `delivery_receive`, `delivery_receive_and_process`, `deliveries_drain`,
`deliveries_process`, `deliveries_requeue`, `delivery_rejected_by`, `deliveries_sweep`,
`integration_settings`, `kept_headers`; the loop is in socdesk.alerts.ingest.loop.
"""

from socdesk.alerts.ingest.deliveries import (
    deliveries_drain,
    deliveries_process,
    deliveries_requeue,
    deliveries_sweep,
    delivery_claim,
    delivery_process,
    delivery_receive,
    delivery_receive_and_process,
    delivery_rejected_by,
    kept_headers,
)
from socdesk.alerts.ingest.prepare import integration_settings

__all__ = [
    "deliveries_drain",
    "deliveries_process",
    "deliveries_requeue",
    "deliveries_sweep",
    "delivery_claim",
    "delivery_process",
    "delivery_receive",
    "delivery_receive_and_process",
    "delivery_rejected_by",
    "integration_settings",
    "kept_headers",
]
